"""Reading a weighted list header (``Accept``, ``Accept-Encoding``) into its weights."""


def qualities(header: str) -> dict[str, float]:
    """Each member of a comma-separated list with its weight ``q`` (RFC 9110 §12.4.2: 1 when
    absent; a weight that is not a number counts as 0), names lowercased; a name given twice
    keeps its higher weight."""
    found: dict[str, float] = {}
    for part in header.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if name:
            found[name.lower()] = max(weight, found.get(name.lower(), 0.0))
    return found
