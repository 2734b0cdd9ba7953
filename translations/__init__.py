"""The product's one message catalog (GNU gettext, by Babel): what the dashboard, the share
page, the invoice PDF and the invoice email say, in each language the product speaks.

Catalogs are ``locales/<lang>/LC_MESSAGES/messages.po`` beside this module, shipped in the
package and compiled in memory when a language is first asked for (a few milliseconds), so
the ``.po`` a translator edits is the only file a message lives in: no ``.mo`` to keep in step.
English is the source language: a message id is its English text, so English needs no
translation (``catalog("en")`` shows the ids) except a plural's forms.

A string in Python is marked with ``N_`` (extracted; translated where it is shown), or with
``NP_`` and a context where one English word is several in another language (gettext's
``msgctxt``: "Tax" of a line is *Impuesto*, of the totals *Impuestos*). A count is told with
``ngettext``/``npgettext``, never one plural sentence for every number. Placeholders are
``%(name)s`` everywhere (Python's ``%`` and Jinja's new-style gettext format them).
How a string is added: README.md beside this module.

This package imports nothing of the product: the domain, the PDF, the followers and every
door may use it.
"""

import functools
import io
import re
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
SOURCE = "en"  # the language of the message ids
LANGUAGES = ("en", "es")  # a catalog for each (tests/unit/test_translations_catalog.py)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "translate later"
    """Marks a string for the catalog; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:  # noqa: N802 - N_ with a context (pybabel -k NP_:1c,2)
    """Marks a string said of something (its msgctxt) for the catalog; shown with pgettext."""
    return context, message


@functools.cache
def catalog(language: str) -> NullTranslations:
    """The messages in ``language``: the source language's ids as they are, and a language
    without a catalog the same (gettext's fallback)."""
    if language == SOURCE:
        return NullTranslations()
    source = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        messages = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)  # a fuzzy guess is never shown (pybabel compile's default)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def told(language: str, message: str | tuple[str, str]) -> str:
    """A message marked with ``N_`` or ``NP_``, in ``language``."""
    if isinstance(message, tuple):
        return catalog(language).pgettext(*message)
    return catalog(language).gettext(message)


def braced(message: str) -> str:
    """A message's ``%(name)s`` placeholders as ``{name}``, for ``str.format``."""
    return _PLACEHOLDER.sub(r"{\1}", message.replace("{", "{{").replace("}", "}}"))
