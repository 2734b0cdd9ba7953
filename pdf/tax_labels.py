"""What a tax id is called on an invoice: by the country of whoever it belongs to.

Neither an account nor a client has a country field, so the country is read from what
they wrote, most specific first:

1. the tax id itself, when it is a VAT number with its country prefix (the format the
   EU's VIES checks, Council Regulation 904/2010; ``EL`` is Greece, ``XI`` Northern
   Ireland; ``GB`` the United Kingdom's own VAT numbers);
2. the address: its last line (or the last comma-separated part of it) naming a country
   in English, Spanish or the country's own EU language, or its ISO 3166-1 code;
3. a Spanish NIF written without prefix (DNI, NIE or the former CIF, each with its check
   character verified, Orden EHA/451/2008), the one domestic format of the locales we
   print in.

A label is the country's own name for the number (Spain's NIF, Germany's USt-IdNr. ...),
the same on an English and a Spanish invoice; an EU country without its own entry gets
"VAT ID"; an unknown or non-EU country the generic label in the invoice's language.
"""

import re
import unicodedata
from functools import cache

from babel import Locale

from translations import NP_, told

# The VAT number after its prefix, per country (the formats VIES documents).
_VAT_NUMBER: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
# A VAT prefix that is not the country's ISO 3166-1 code.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
EU = frozenset(_VAT_NUMBER) - {"EL", "XI", "GB"} | {"GR"}  # the member states
# The country's own name for the number, whatever the invoice's language.
_OWN_LABEL = {
    "ES": "NIF",
    "PT": "NIF",
    "GB": "VAT",
    "DE": "USt-IdNr.",
    "FR": "N° TVA",
    "IT": "P.IVA",
}
EU_LABEL = "VAT ID"
# The generic label, in the invoice's language (the dashboard's "Tax ID" of a form is longer).
GENERIC_LABEL = NP_("invoice party", "Tax ID")
# Names of countries an address may end with, in these languages (the EU's and ours).
_NAME_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "it", "pt", "nl", "pl", "sv", "da", "fi", "el")
_NAME_LANGUAGES += ("cs", "hu", "ro", "bg", "hr", "sk", "sl", "et", "lv", "lt", "mt", "ga")
_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "inglaterra": "GB",
    "gran bretana": "GB",
    "usa": "US",
    "u s a": "US",
    "united states of america": "US",
    "eeuu": "US",
    "ee uu": "US",
    "estados unidos de america": "US",
}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _plain(text: str) -> str:
    """Lower case, without accents or punctuation, single spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.split())


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = dict(_ALIASES)
    for language in _NAME_LANGUAGES:
        for code, country in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(_plain(country), code)
    return names


def _from_vat_number(compact: str) -> str | None:
    prefix, number = compact[:2], compact[2:]
    pattern = _VAT_NUMBER.get(prefix)
    if pattern is None or not re.fullmatch(pattern, number):
        return None
    return _PREFIX_COUNTRY.get(prefix, prefix)


def _is_spanish_nif(compact: str) -> bool:
    """A DNI (8 digits and a letter), NIE (X, Y or Z, 7 digits, a letter) or a company's
    former CIF (a letter, 7 digits, a check digit or letter), with its check verified."""
    if re.fullmatch(r"[XYZ]?\d{7,8}[A-Z]", compact) and len(compact) == 9:
        number = int(str("XYZ".find(compact[0])) + compact[1:8] if compact[0] in "XYZ" else compact[:8])
        return _DNI_LETTERS[number % 23] == compact[8]
    match = re.fullmatch(r"([ABCDEFGHJNPQRSUVW])(\d{7})([0-9A-J])", compact)
    if match is None:
        return False
    digits = [int(d) for d in match.group(2)]
    even = sum(digits[1::2])
    odd = sum(sum(divmod(2 * d, 10)) for d in digits[0::2])
    check = (10 - (even + odd) % 10) % 10
    return match.group(3) in (str(check), "JABCDEFGHI"[check])


def _from_address(address: str) -> str | None:
    lines = [line.strip() for line in address.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    for candidate in (last, last.rsplit(",", 1)[-1]):
        candidate = candidate.strip()
        if re.fullmatch(r"[A-Z]{2}", candidate) and Locale.parse("en").territories.get(candidate):
            return candidate
        found = _country_names().get(_plain(candidate))
        if found is not None:
            return found
    return None


def country_of(tax_id: str | None, address: str | None) -> str | None:
    """The ISO 3166-1 country of a tax id's holder, if what they wrote tells it."""
    compact = re.sub(r"[\s.\-/]", "", (tax_id or "").upper())
    return (
        (_from_vat_number(compact) if compact else None)
        or _from_address(address or "")
        or ("ES" if compact and _is_spanish_nif(compact) else None)
    )


def tax_id_label(country: str | None, language: str) -> str:
    """What the tax id of someone in ``country`` is called on an invoice in ``language``."""
    if country in _OWN_LABEL:
        return _OWN_LABEL[country]
    if country in EU:
        return EU_LABEL
    return told(language, GENERIC_LABEL)


def label_for(tax_id: str | None, address: str | None, language: str) -> str:
    return tax_id_label(country_of(tax_id, address), language)
