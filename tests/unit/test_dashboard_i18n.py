"""The product's catalog (translations/), as the dashboard needs it: every message has its Spanish,
with the same placeholders, and the compiled catalogs shipped are those of the .po files beside them."""

import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gateway.dashboard.i18n import Formatter, negotiate
from gateway.dashboard.problems import explain
from translations import LOCALE_DIR
from translations import catalog as translations

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "gateway" / "dashboard"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


# The keywords of translations/README.md's pybabel extract: gettext's own, and NP_ (N_ with a context).
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
Key = tuple[str | None, str]  # (msgctxt, msgid): a message with a context is a message of its own


def key(context: str | None, message: str | tuple[str, ...] | list[str]) -> Key:
    """A message's key; a plural one by its singular."""
    return context, message if isinstance(message, str) else message[0]


def extracted() -> set[Key]:
    with (ROOT / "translations" / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        key(context, message)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
        if message
    }


def forms(message: Message) -> tuple[str, ...]:
    """Its translation, or each of its plural forms'."""
    told = message.string
    return (told,) if isinstance(told, str) else tuple(told or ())


def translated(message: Message) -> bool:
    """Every form of it has its translation, and it is not a fuzzy guess (never shown)."""
    return bool(message.id) and all(forms(message)) and not message.fuzzy


def catalog(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


def test_every_message_of_the_pages_has_its_spanish() -> None:
    messages = extracted()
    assert len(messages) > 250
    spanish = catalog("es")
    told = {key(m.context, m.id) for m in spanish if translated(m)}
    missing = sorted(messages - told)
    assert missing == [], "run pybabel extract/update (translations/README.md) and translate"
    stale = sorted(str(m.id) for m in spanish if m.id and key(m.context, m.id) not in messages)
    assert stale == [], "messages no page uses any more: pybabel update --ignore-obsolete"


def test_translations_keep_the_placeholders_and_no_stray_percent() -> None:
    for message in catalog("es"):
        if not message.id:
            continue
        sources = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(sources))))
        for told in forms(message):
            assert sorted(set(PLACEHOLDER.findall(told))) == wanted, (sources, told)
            # templates format every message (Jinja's new-style gettext): a lone % would break the page
            assert "%" not in PLACEHOLDER.sub("", told), told


# What the templates may show without a translation: names, and the curl line's own words.
UNTRANSLATED_WORDS = {"CleverInvo", "curl", '"Authorization:', "Bearer", "/clients"}


def test_no_template_or_script_shows_text_that_is_not_in_the_catalogs() -> None:
    for template in sorted((DASHBOARD / "templates").glob("*.html")):
        source = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", template.read_text(encoding="utf-8"), flags=re.S)
        shown = re.sub(r"<[^>]*>", " ", source)
        words = {word for word in shown.split() if re.search(r"[A-Za-z]{2}", word)} - UNTRANSLATED_WORDS
        assert words == set(), (template.name, sorted(words))
        named = re.findall(r'\b(?:title|alt|placeholder|aria-label|aria-description)="([^"]*[A-Za-z][^"]*)"', source)
        assert named == [], (template.name, named)
    script = re.sub(r"//.*", "", (DASHBOARD / "static" / "dashboard.js").read_text(encoding="utf-8"))
    english = [text for text in re.findall(r'"([^"]*)"', script) if re.fullmatch(r"[A-Z][a-z]+( [a-z]+)*[.!]?", text)]
    assert english == [], english  # what the script shows comes from the page (data-copied-text)


def messages_of(found: Catalog) -> dict[Key, str]:
    """A catalog's translations, without its header (which names the Babel that wrote it):
    what a compiled catalog holds."""
    told = (message for message in found if translated(message))
    return {key(message.context, message.id): repr(forms(message)) for message in told}


@pytest.mark.parametrize("lang", ["es"])
def test_what_is_shown_is_the_po_as_written(lang: str) -> None:
    """The catalog is compiled from the .po in memory: every translated message of the file
    is what the product shows, forms and contexts included."""
    shown = translations(lang)
    for message in catalog(lang):
        if not translated(message) or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            for n, form in ((1, message.string[0]), (2, message.string[1])):
                said = (
                    shown.npgettext(message.context, message.id[0], message.id[1], n)
                    if message.context
                    else shown.ngettext(message.id[0], message.id[1], n)
                )
                assert said == form, message.id
        else:
            said = shown.pgettext(message.context, message.id) if message.context else shown.gettext(message.id)
            assert said == message.string, message.id


def test_a_non_editable_install_ships_the_templates_and_assets() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = pyproject["tool"]["setuptools"]["package-data"]["gateway.dashboard"]
    files = [path.relative_to(DASHBOARD) for path in DASHBOARD.rglob("*") if path.is_file()]
    needed = [
        f for f in files if f.parts[0] in ("templates", "static") and f.suffix in (".html", ".css", ".js", ".svg")
    ]
    for path in needed:
        assert any(path.match(pattern) for pattern in shipped), path


def test_spanish_is_spoken_and_written_the_spanish_way() -> None:
    spanish = translations("es").gettext
    assert spanish("Invoices") == "Facturas" and translations("en").gettext("Invoices") == "Invoices"
    fmt = Formatter("es")
    assert fmt.money(Decimal("1234.5"), "EUR") == "1.234,50\xa0€"
    assert fmt.date(date(2024, 6, 1)) == "1 jun 2024"
    assert fmt.moment(datetime(2024, 6, 1, 14, 5)) == "1 jun 2024 14:05 UTC"
    assert Formatter("en").moment("2024-06-01T14:05:00.000Z") == "Jun 1, 2024 2:05\u202fPM UTC"
    told = explain("Field 'lineItems[2].unitPrice' must be between 0 and 1000000000000", spanish)
    assert (told.text, told.field) == (
        "Línea 3, precio unitario debe estar entre 0 y 1000000000000.",
        "lineItems[2].unitPrice",
    )
    told = explain("Cannot record a payment on a DRAFT invoice; send it first", spanish)
    assert told.text == "No se puede registrar un pago en una factura en estado borrador."
    assert explain("Something nobody foresaw", spanish).text == "Something nobody foresaw"  # as it is, never lost


# Every refusal a dashboard page can meet: the use cases' (domain.errors) and the request's own
# (gateway.http.problems), as they are raised, with sample values in their blanks.
REFUSALS = [
    "Account name must be 1 to 255 characters",
    "Account name must contain a visible character",
    "Account not found",
    "Cannot record a payment on a DRAFT invoice; send it first",
    "Cannot void a PAID invoice; a paid invoice stays in the books",
    "Client not found",
    "Each line is an object of strings",
    "Field 'amount' must be at most the balance due (10.00 USD)",
    "Field 'amount' must be greater than 0",
    "Field 'amount' must have at most 2 decimal places in USD",
    "Field 'clientId' must name an active client of this account",
    "Field 'currency' must be an ISO 4217 currency code, not 'XXX'",
    "Field 'dueDate' is required when 'issueDate' is this late",
    "Field 'dueDate' must be on or after 'issueDate'",
    "Field 'email' must be a valid email address",
    "Field 'invoiceNumber' must be at most 50 characters",
    "Field 'invoiceNumber' must not be empty",
    "Field 'invoiceNumber' must not contain control characters",
    "Field 'issueDate' must be a date",
    "Field 'issueDate' must be a date as YYYY-MM-DD",
    "Field 'lineItems' must hold at least one line item",
    "Field 'lineItems' must hold at most 500 line items",
    "Field 'lineItems[0].description' must be at most 1000 characters",
    "Field 'lineItems[0].description' must not be empty",
    "Field 'lineItems[0].discountRate' must be a percentage between 0 and 100",
    "Field 'lineItems[0].quantity' must be a finite number",
    "Field 'lineItems[0].quantity' must be greater than 0 and at most 1000000",
    "Field 'lineItems[0].quantity' must have at most 4 decimal places",
    "Field 'lineItems[0].unitPrice' must be between 0 and 1000000000",
    "Field 'name' must be at most 255 characters",
    "Field 'name' must contain a visible character",
    "Field 'name' must not be empty",
    "Field 'notes' is not valid Unicode text",
    "Field 'notes' must be a string",
    "Field 'notes' must not contain NUL characters",
    "Field 'password' must be at least 10 characters",
    "Field 'password' must be at most 256 characters",
    "Field 'password' must not be only spaces",
    "Field 'password' must not be the email address",
    "Field 'to' must hold at most 20 addresses",
    "Fields 'to' and 'cc' need \"email\": true",
    "Forms must be sent as application/x-www-form-urlencoded",
    "Invoice not found",
    "Invoice not found at version 9",
    "Invoice number already exists: INV-0001",
    "Key name must be at most 255 characters",
    "Missing required field: name",
    "No such API key",
    "Parameter 'page' must be an integer >= 1",
    "Parameter 'search' is not valid Unicode text",
    "Parameter 'search' must be at most 200 characters",
    "Parameter 'search' must not contain NUL characters",
    "Parameter 'version' must be an integer >= 1",
    "Payment not found",
    "Plan limit reached: at most 5 active clients",
    "Plan limit reached: at most 20 invoices per month",
    "Plan limit reached: this plan has no email sending",
    "Request body is larger than 1048576 bytes",
    "Request body is not valid JSON",
    "Request body must be a JSON object",
    "Request body must be sent as Content-Type: application/json, not text/plain",
    "Send {currency, lines}",
    "The client has no email address; give one in 'to'",
    "The form could not be read",
    "The lines of the form do not line up",
    "The request body was cut off",
    "This email already signs in to an account",
    "This email already signs in to another account",
    "This link has expired or was already used; ask for a new one",
    "Too many concurrent changes to this account; try again",
    "Unknown currency: XYZ",
    "Unsupported locale: fr (one of en, es)",
    "'x@' is not a valid email address",
]


@pytest.mark.parametrize("refusal", REFUSALS)
def test_every_refusal_a_page_can_meet_is_told_in_spanish(refusal: str) -> None:
    told = explain(refusal, translations("es").gettext, lambda amount, currency: f"{amount} {currency}")
    assert told.text != refusal and told.text == told.text.strip()
    english = {"must", "field", "request", "body", "invoice", "client", "not", "the", "found", "parameter"}
    assert not english & set(re.findall(r"[a-z]+", told.text.lower())), told.text


@pytest.mark.parametrize(
    ("header", "chosen"),
    [("es-ES,es;q=0.9", "es"), ("en-GB", "en"), ("fr-FR, es;q=0.5", "es"), ("", "en"), ("de", "en"), (";;q=x,", "en")],
)
def test_the_browsers_language_is_followed_before_signing_in(header: str, chosen: str) -> None:
    assert negotiate(header) == chosen
