"""The product's one catalog (translations/): every message the dashboard, the share page, the
PDF and the email show is translated into every language the product ships, keeps its
placeholders, and says what each of those said before they shared the catalog."""

import ast
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from domain.account import LOCALES
from followers.mail import BODY, SUBJECT
from pdf.formats import LABELS
from pdf.tax_labels import tax_id_label
from translations import LANGUAGES, LOCALE_DIR, SOURCE, braced, catalog, told

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}  # translations/README.md's pybabel extract
TRANSLATED = [language for language in LANGUAGES if language != SOURCE]
Key = tuple[str | None, str]


def po(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=language)


def ids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def forms(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string or ())


def extracted() -> set[Key]:
    with (ROOT / "translations" / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {(context, m if isinstance(m, str) else m[0]) for _f, _l, m, _c, context in found if m}


def test_the_catalog_speaks_every_language_an_account_may_choose() -> None:
    assert sorted(LANGUAGES) == sorted(LOCALES) and SOURCE in LANGUAGES
    for language in LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").is_file(), language


def test_the_pdf_and_the_email_take_their_words_from_the_catalog() -> None:
    """What once were dictionaries beside the code are messages the extraction finds."""
    messages = extracted()
    for needed in [
        (None, "INVOICE"),
        ("column", "Tax"),
        ("totals", "Tax"),
        ("invoice party", "Tax ID"),
        (None, "Invoice %(number)s from %(seller)s"),
        (None, "Page %(page)s of %(pages)s"),
    ]:
        assert needed in messages, needed


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_every_form_translated(language: str) -> None:
    messages = extracted()
    found = po(language)
    told_ones = {(m.context, ids(m)[0]) for m in found if m.id and all(forms(m)) and not m.fuzzy}
    assert sorted(messages - told_ones) == [], f"translate these in {language} (translations/README.md)"
    plurals = found.num_plurals
    assert all(len(forms(m)) == plurals for m in found if m.id and m.pluralizable)


def test_the_source_language_shows_its_ids_and_has_each_plural_form() -> None:
    for message in po(SOURCE):
        if not message.id:
            continue
        if message.pluralizable:
            assert forms(message) == ids(message), message.id
        else:
            assert message.string in ("", message.id), message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    for message in po(language):
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(ids(message)))))
        for form in forms(message):
            if message.id and form:
                assert sorted(set(PLACEHOLDER.findall(form))) == wanted, (message.id, form)
                assert "%" not in PLACEHOLDER.sub("", form) and "{" not in form, form


# What the PDF, the email and a tax id's label said before the catalog (pdf/formats.py's and
# followers/mail.py's dictionaries): the same words, the same "{name}" the layout formats.
BEFORE = {
    "en": {
        "labels": ("INVOICE", "Qty", "Tax", "Tax", "Page {page} of {pages}", "Tax {rate} on {base}", "Void"),
        "subject": "Invoice {number} from {seller}",
        "body": "Hello {client},\n\nPlease find invoice {number} for {total} attached, due on {due}.\n"
        "You can also view it online: {link}\n\n{message}Kind regards,\n{seller}\n",
        "tax id": "Tax ID",
    },
    "es": {
        "labels": (
            "FACTURA",
            "Cant.",
            "Impuesto",
            "Impuestos",
            "Página {page} de {pages}",
            "Impuesto {rate} sobre {base}",
        )
        + ("Anulada",),
        "subject": "Factura {number} de {seller}",
        "body": "Hola {client}:\n\nAdjuntamos la factura {number} por {total}, con vencimiento el {due}.\n"
        "También puede verla en línea: {link}\n\n{message}Saludos cordiales,\n{seller}\n",
        "tax id": "ID fiscal",
    },
}


@pytest.mark.parametrize("language", sorted(BEFORE))
def test_the_pdf_and_the_email_say_what_they_said(language: str) -> None:
    said = BEFORE[language]
    labels = LABELS[language]
    keys = ("invoice", "quantity", "tax", "tax_total", "page", "tax_on", "VOID")
    assert tuple(labels[key] for key in keys) == said["labels"]
    assert braced(told(language, SUBJECT)) == said["subject"]
    assert braced(told(language, BODY)) == said["body"]
    assert tax_id_label(None, language) == said["tax id"]
    assert tax_id_label("ES", language) == "NIF" and tax_id_label("DE", language) == "USt-IdNr."


def test_one_word_in_two_senses_takes_two_contexts() -> None:
    spanish = catalog("es")
    assert (spanish.pgettext("column", "Tax"), spanish.pgettext("totals", "Tax")) == ("Impuesto", "Impuestos")
    # a form's field and a label printed beside a party's tax id
    assert (spanish.gettext("Tax ID"), spanish.pgettext("invoice party", "Tax ID")) == (
        "Identificación fiscal",
        "ID fiscal",
    )
    one, many = "%(num)s active client (no limit)", "%(num)s active clients (no limit)"
    assert [spanish.ngettext(one, many, n) % {"num": n} for n in (1, 2)] == [
        "1 cliente activo (sin límite)",
        "2 clientes activos (sin límite)",
    ]


def test_the_catalog_imports_nothing_of_the_product() -> None:
    """So the domain, the PDF, the followers and every door may use it."""
    tree = ast.parse((ROOT / "translations" / "__init__.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in imported} <= {"functools", "gettext", "io", "pathlib", "re", "babel"}


def test_a_non_editable_install_ships_the_catalog() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    assert "translations*" in setuptools["packages"]["find"]["include"]
    shipped = setuptools["package-data"]["translations"]
    files = [path.relative_to(LOCALE_DIR.parent) for path in LOCALE_DIR.rglob("*") if path.suffix in (".po", ".mo")]
    assert len(files) == len(LANGUAGES)  # the .po alone: it is compiled in memory
    for path in files:
        assert any(path.match(pattern) for pattern in shipped), path
