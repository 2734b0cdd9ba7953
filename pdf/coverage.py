"""Which characters of an invoice its PDF cannot draw, for the API to say so.

A character no shipped font has is drawn as U+FFFD; ``pdf_warnings`` names each one per
field, in the API's field names, so a client learns it before a customer sees a box.
It reads only the fonts' character maps (pdf/faces.py), never renders.
"""

from collections.abc import Callable
from functools import lru_cache

from domain.invoice import TEXTS
from pdf.shaping import shape
from projections.views import AccountView, ClientView, InvoiceDetail

MOST_LISTED = 10  # characters named per field; the rest are counted


@lru_cache(maxsize=16384)  # every GET of an invoice asks again for the same few texts
def undrawable(text: str) -> tuple[str, ...]:
    """The characters of ``text`` no font draws, in order of appearance, once each."""
    missing: dict[str, None] = {}
    for paragraph in text.splitlines():
        for ch in shape(paragraph, "regular").missing:
            missing[ch] = None
    return tuple(missing)


def _describe(field: str, missing: tuple[str, ...]) -> str:
    named = ", ".join(f"U+{ord(ch):04X} ({ch})" for ch in missing[:MOST_LISTED])
    more = f" and {len(missing) - MOST_LISTED} more" if len(missing) > MOST_LISTED else ""
    return f"{field}: no font draws {named}{more}"


def pdf_warnings(
    invoice: InvoiceDetail,
    client: ClientView | None = None,
    account: AccountView | None = None,
    named: Callable[[str], str] = str,
) -> list[str]:
    """One message per field whose text the PDF cannot fully draw; [] when it can. Fields
    are attribute paths (``line_items[0].description``), each said as ``named`` says it
    (a door passes its wire names).

    Bold text (names, the invoice number) falls back to the regular faces per character
    (pdf/faces.py), so what the regular faces draw decides for every field."""
    fields: list[tuple[str, str | None]] = [
        ("invoice_number", invoice.invoice_number),
        ("client.name", invoice.client_name),
        ("client.email", invoice.client_email),
    ]
    fields += [(f"line_items[{i}].description", line.description) for i, line in enumerate(invoice.line_items)]
    fields += [(text.name, getattr(invoice, text.name)) for text in TEXTS]
    if client is not None:
        fields += [
            ("client.address", client.address),
            ("client.email", client.email),
            ("client.phone", client.phone),
            ("client.tax_id", client.tax_id),
        ]
    if account is not None:
        fields += [
            ("account.name", account.name),
            ("account.address", account.address),
            ("account.email", account.email),
            ("account.phone", account.phone),
            ("account.tax_id", account.tax_id),
        ]
    warnings: list[str] = []
    seen: set[str] = set()
    for field, value in fields:
        missing = undrawable(value) if value else ()
        message = _describe(named(field), missing) if missing else None
        if message is not None and message not in seen:
            seen.add(message)
            warnings.append(message)
    return warnings
