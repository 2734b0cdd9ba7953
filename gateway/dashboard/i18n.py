"""Languages of the dashboard and the share page: the reader's language, the names the pages
give statuses, plans and email states, and dates, amounts and numbers written the way the
reader's locale writes them.

The messages are the product's one catalog (``translations``: how a string is added is in
translations/README.md); English is the source language. Strings in Python are marked with
``N_`` (extracted, translated when shown), or ``NP_`` with a context where one English word
is several Spanish ones (gender, number, sense).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_time

from domain.account import LOCALES
from pdf.formats import Formats
from translations import N_, SOURCE

DEFAULT = SOURCE

LANGUAGE_NAMES = {"en": "English", "es": "Español"}  # each in its own language

STATUS_NAMES = {
    "DRAFT": N_("Draft"),
    "SENT": N_("Sent"),
    "VIEWED": N_("Viewed"),
    "PARTIALLY_PAID": N_("Partially paid"),
    "PAID": N_("Paid"),
    "OVERDUE": N_("Overdue"),
    "VOID": N_("Void"),
}

PLAN_NAMES = {"free": N_("Free"), "pro": N_("Pro"), "business": N_("Business")}

EMAIL_STATES = {"queued": N_("queued"), "delivered": N_("delivered"), "failed": N_("not delivered")}


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header."""
    wanted = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((quality, tag.strip().replace("_", "-")))
    ordered = [tag for _, tag in sorted(wanted, key=lambda item: -item[0])]
    found = Locale.negotiate(ordered, list(LOCALES), sep="-") if ordered else None
    return str(found) if found is not None and str(found) in LOCALES else DEFAULT


class Formatter:
    """Amounts, numbers, dates and times in one locale (the PDF's rules for amounts)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._formats = Formats(locale)

    def money(self, amount: Decimal, currency: str) -> str:
        return self._formats.money(amount, currency)

    def number(self, value: Decimal) -> str:
        return self._formats.number(value)

    def percent(self, value: Decimal) -> str:
        return self._formats.percent(value)

    def date(self, value: date | None) -> str:
        return "" if value is None else self._formats.date(value)

    def moment(self, value: datetime | str | None) -> str:
        """A moment (naive UTC, aware, or ISO 8601 text) in UTC, e.g. "Jun 15, 2024 12:00 PM UTC"."""
        if value is None:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        day = format_date(moment, format="medium", locale=self.locale)
        return f"{day} {format_time(moment, format='short', tzinfo=UTC, locale=self.locale)} UTC"

    def iso(self, value: datetime | None) -> str:
        """For ``<time datetime=…>``."""
        if value is None:
            return ""
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat().replace("+00:00", "Z")
