"""What went wrong, in the reader's language.

The use cases refuse with the API's messages (English, naming fields by their wire names:
``Field 'lineItems[1].quantity' must be greater than 0 ...``). A page shows the same
refusal in the reader's words and points at the field: each known message shape is
matched here and told again through the catalog; any other message is shown as it is.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from domain.invoice import TEXTS
from gateway.dashboard.i18n import STATUS_NAMES
from translations import N_
from usecases.wire_names import wire_name

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Problem:
    text: str
    field: str | None = None  # the wire name of the form field at fault (lineItems[1].quantity)


FIELD_LABELS = {
    "name": N_("Name"),
    "email": N_("Email"),
    "address": N_("Address"),
    "taxId": N_("Tax ID"),
    "phone": N_("Phone"),
    **{wire_name(text.name): text.label for text in TEXTS},  # an invoice's texts
    "clientId": N_("Client"),
    "invoiceNumber": N_("Invoice number"),
    "currency": N_("Currency"),
    "issueDate": N_("Issue date"),
    "dueDate": N_("Due date"),
    "lineItems": N_("Lines"),
    "description": N_("Description"),
    "quantity": N_("Quantity"),
    "unitPrice": N_("Unit price"),
    "taxRate": N_("Tax rate"),
    "discountRate": N_("Discount rate"),
    "amount": N_("Amount"),
    "date": N_("Date"),
    "method": N_("Method"),
    "reference": N_("Reference"),
    "reason": N_("Reason"),
    "message": N_("Message"),
    "to": N_("To"),
    "cc": N_("Cc"),
    "password": N_("Password"),
    "currentPassword": N_("Current password"),
    "locale": N_("Language"),
    "search": N_("Search"),
    "label": N_("Label"),
}

ACTIONS = {
    "change": N_("change"),
    "delete": N_("delete"),
    "send": N_("send"),
    "record a payment on": N_("record a payment on"),
    "reverse a payment on": N_("reverse a payment on"),
    "void": N_("void"),
    "mark as overdue": N_("mark as overdue"),
    "view": N_("view"),
}

_LINE = re.compile(r"lineItems\[(\d+)\]\.(\w+)")


def field_label(wire: str, _: Gettext) -> str:
    line = _LINE.fullmatch(wire)
    if line:
        return _("Line %(number)s, %(field)s") % {
            "number": int(line.group(1)) + 1,
            "field": _(FIELD_LABELS.get(line.group(2), line.group(2))).lower(),
        }
    return _(FIELD_LABELS.get(wire, wire))


F = r"Field '(?P<field>[^']+)'"
# (pattern, message, the field it names when the pattern has no "field" group)
SHAPES: list[tuple[re.Pattern[str], str, str | None]] = [
    (re.compile(p), m, f)
    for p, m, f in (
        (F + r" must not be empty", N_("%(field)s must not be empty."), None),
        (F + r" must be a string", N_("%(field)s must not be empty."), None),
        (r"Missing required field: (?P<field>\w+)", N_("%(field)s must not be empty."), None),
        (F + r" must be at most (?P<n>\d+) characters", N_("%(field)s must be at most %(n)s characters."), None),
        (F + r" must be at least (?P<n>\d+) characters", N_("%(field)s must be at least %(n)s characters."), None),
        (F + r" must be a valid email address", N_("%(field)s must be a valid email address."), None),
        (F + r" must contain a visible character", N_("%(field)s must contain a visible character."), None),
        (F + r" must not contain NUL characters", N_("%(field)s contains characters that cannot be kept."), None),
        (F + r" is not valid Unicode text", N_("%(field)s contains characters that cannot be kept."), None),
        (F + r" must not contain control characters", N_("%(field)s contains characters that cannot be kept."), None),
        (F + r" must be a number", N_("%(field)s must be a number."), None),
        (F + r" must be a finite number", N_("%(field)s must be a number."), None),
        (F + r" must be a date.*", N_("%(field)s must be a date."), None),
        (
            F + r" must be greater than 0 and at most (?P<n>[\d.]+)",
            N_("%(field)s must be greater than 0 and at most %(n)s."),
            None,
        ),
        (F + r" must be greater than 0", N_("%(field)s must be greater than 0."), None),
        (F + r" must be between 0 and (?P<n>[\d.]+)", N_("%(field)s must be between 0 and %(n)s."), None),
        (F + r" must be a percentage between 0 and 100", N_("%(field)s must be a percentage from 0 to 100."), None),
        (
            F + r" must have at most (?P<n>\d+) decimal places.*",
            N_("%(field)s must have at most %(n)s decimal places."),
            None,
        ),
        (
            F + r" must be at most the balance due \((?P<balance>[^ )]+) (?P<currency>[A-Z]{3})\)",
            N_("%(field)s must be at most the balance due (%(balance)s)."),
            None,
        ),
        (F + r" must hold at most (?P<n>\d+) addresses", N_("%(field)s may hold at most %(n)s addresses."), None),
        (r"Field 'lineItems' must hold at least one line item", N_("Add at least one line."), "lineItems"),
        (
            r"Field 'lineItems' must hold at most (?P<n>\d+) line items",
            N_("An invoice holds at most %(n)s lines."),
            "lineItems",
        ),
        (r"Field 'clientId' must name an active client of this account", N_("Choose an active client."), "clientId"),
        (r"Field 'currency' must be an ISO 4217 currency code.*", N_("Choose a currency."), "currency"),
        (r"Unknown currency: .*", N_("Choose a currency."), "currency"),
        (
            r"Field 'dueDate' must be on or after 'issueDate'",
            N_("The due date must be on or after the issue date."),
            "dueDate",
        ),
        (r"Field 'dueDate' is required when 'issueDate' is this late", N_("Give a due date."), "dueDate"),
        (r"Fields 'to' and 'cc' need .*", N_("Tick “Send it by email” to give recipients."), "to"),
        # the value quoted whole: "not is not a valid email address." read as a sentence
        (r"'(?P<value>.*)' is not a valid email address", N_("“%(value)s” is not a valid email address."), "to"),
        (r"The client has no email address; .*", N_("The client has no email address: give one in “To”."), "to"),
        (r"Invoice number already exists: (?P<value>.*)", N_("Invoice number %(value)s is taken."), "invoiceNumber"),
        (
            r"Plan limit reached: at most (?P<n>\d+) active clients",
            N_("Your plan allows %(n)s active clients. Deactivate one, or change to a bigger plan."),
            None,
        ),
        (
            r"Plan limit reached: at most (?P<n>\d+) invoices per month",
            N_("Your plan allows %(n)s invoices a month; this month's are used up."),
            None,
        ),
        (
            r"Plan limit reached: this plan has no email sending",
            N_("Your plan does not send emails: untick “Send it by email” to mark it as sent."),
            "email",
        ),
        (
            r"Cannot (?P<action>.+?) an? (?P<status>[A-Z_]+) invoice; .*",
            N_("You cannot %(action)s an invoice that is %(status)s."),
            None,
        ),
        (r"Account name must be 1 to 255 characters", N_("The business name must be 1 to 255 characters."), "name"),
        (r"Account name must contain a visible character", N_("Name must contain a visible character."), "name"),
        (r"Unsupported locale: .*", N_("Choose English or Spanish."), "locale"),
        (r"Key name must be at most 255 characters", N_("Label must be at most 255 characters."), "label"),
        (r"This email already signs in to .*", N_("This email already signs in to an account."), "email"),
        (F + r" must not be only spaces", N_("%(field)s must not be only spaces."), None),
        (F + r" is not your password", N_("That is not your current password."), None),
        (F + r" must not be the email address", N_("%(field)s must not be your email address."), None),
        (r"This link has expired or was already used.*", N_("This link has expired or was already used."), None),
        (r"Invoice not found.*", N_("There is no such invoice."), None),
        (r"Client not found", N_("There is no such client."), None),
        (r"Payment not found", N_("There is no such payment."), None),
        (r"No such API key", N_("There is no such API key."), None),
        (r"Too many concurrent changes.*", N_("Too many changes at once; try again."), None),
        (
            r"The change was saved, but it cannot be read back yet.*",
            N_("Saved, but it does not show yet: reload the page in a moment."),
            None,
        ),
        (r"Parameter 'search' .*", N_("The search is too long."), "search"),
        (r"Parameter 'page' .*", N_("There is no such page."), None),
        (r"Parameter 'version' .*", N_("There is no such version of this invoice."), None),
        (r"Account not found", N_("There is no such account."), None),
        # what a page sent that could not be read (a browser cut off, a hand-made request)
        (
            r"Request body is larger than \d+ bytes",
            N_("What you sent is too long. Shorten the longest text and try again."),
            None,
        ),
        (r"The request body was cut off", N_("What you sent arrived cut off. Try again."), None),
        (
            r"The form could not be read|Forms must be sent as .*|The lines of the form do not line up"
            r"|Request body .*|Send \{currency, lines\}|Each line is an object of strings",
            N_("The form could not be read. Reload the page and try again."),
            None,
        ),
    )
]


def explain(message: str, _: Gettext, money: Callable[[str, str], str] | None = None) -> Problem:
    """The refusal ``message`` told in the reader's words, with the field it is about."""
    for pattern, told, named in SHAPES:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = dict(found.groupdict())
        field = values.pop("field", None) or named
        if "field" in found.groupdict():
            values["field"] = field_label(str(field), _)
        if "status" in values:
            values["status"] = _(STATUS_NAMES.get(values["status"], values["status"])).lower()
        if "action" in values:
            values["action"] = _(ACTIONS.get(values["action"], values["action"]))
        if "balance" in values and money is not None:
            values["balance"] = money(values["balance"], values.pop("currency"))
        values.pop("currency", None)
        text = _(told) % values if values else _(told)
        if "field" in values:  # a label starts the sentence ("Line 1, quantity ..."); a value keeps its case
            text = text[:1].upper() + text[1:]
        return Problem(text, field)
    return Problem(message)
