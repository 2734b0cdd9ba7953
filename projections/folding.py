"""Case- and form-insensitive text for search: the same folding for stored rows and terms."""

import unicodedata


def fold(text: str | None) -> str:
    """NFKC then case-fold, so "MÜLLER" (in either Unicode form) finds "Müller" and "STRASSE"
    finds "Straße". Folding can lengthen text ("ß" -> "ss"): folded columns are unbounded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text or "").casefold())
