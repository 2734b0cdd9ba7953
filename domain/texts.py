"""What text the domain keeps: no NUL character (a database's text cannot hold one) and
valid Unicode (a lone surrogate, which a JSON or GraphQL string can carry, cannot be
written as UTF-8). Each text field's check starts here, before its own rules."""

from domain.errors import ValidationError


def storable(value: str, field: str) -> str:
    """``value`` as it is, or the refusal naming ``field`` (an attribute path)."""
    if "\x00" in value:
        raise ValidationError.about("Field '{0}' must not contain NUL characters", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError.about("Field '{0}' is not valid Unicode text", field) from None
    return value
