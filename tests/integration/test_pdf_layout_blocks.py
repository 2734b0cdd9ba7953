"""The seller's and the client's blocks on invoice PDFs: each reads in one direction,
and a tax id is labelled by its holder's country. Invoices made by the application on a
real store, rendered by borb, read back with positions (pikepdf) and pypdf."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from pdf.layout import BLOCK, HALF, LEFT, render
from pdf.tax_labels import country_of, label_for, tax_id_label
from tests.pdf_support import Drawn, app_document, drawn_text, pdf_text

LINES = [LineItemDraft("Desarrollo web", Decimal(1), Decimal(100), Decimal(21))]
SPANISH_SELLER: dict[str, str | None] = {
    "address": "Calle Mayor 1\n28013 Madrid\nEspaña",
    "email": "info@vendedor.test",
    "tax_id": "ESB12345674",
    "phone": "+34 910 000 000",
}
ARABIC_CLIENT: dict[str, str | None] = {
    "name": "شركة الأفق للتجارة",
    "address": "شارع الملك فهد ١٢\nالرياض ١١٥٦٤",
    "email": "info@alofoq.test",
    "phone": "+966 11 000 0000",
    "tax_id": "300000000000003",
}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    core = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)}))
    yield core
    core.close()


def _block_lines(page: list[Drawn], first: str, last: str) -> list[tuple[float, float]]:
    """The (left, right) edges of each drawn line of a block in the left part of the page,
    from the line holding ``first`` to the line holding ``last`` (a line may be drawn in
    several pieces, one per font)."""
    rows: dict[float, list[Drawn]] = {}
    for piece in page:
        if piece.x >= LEFT + HALF:  # the invoice's number and dates, beside the seller
            continue
        rows.setdefault(round(piece.y, 2), []).append(piece)
    ordered = sorted(rows.items(), key=lambda row: -row[0])
    start = next(i for i, (_, pieces) in enumerate(ordered) if any(first in piece.text for piece in pieces))
    end = next(i for i, (_, pieces) in enumerate(ordered) if any(last in piece.text for piece in pieces))
    return [
        (min(piece.x for piece in pieces), max(piece.right for piece in pieces))
        for _, pieces in ordered[start : end + 1]
    ]


def test_an_arabic_client_block_reads_right_to_left_on_every_line(services: Services) -> None:
    source = app_document(services, LINES, locale="es", client=ARABIC_CLIENT, seller=SPANISH_SELLER)
    page = drawn_text(render(source))[0]
    # from the block's heading to its tax id: name, two address lines, email, phone
    block = _block_lines(page, "FACTURAR A", "300000000000003")
    assert len(block) == 7
    rights = [right for _, right in block]
    assert max(rights) - min(rights) < 0.05, block  # one alignment edge
    assert rights[0] == pytest.approx(LEFT + BLOCK, abs=0.05)  # the right edge of the block's part of the page
    assert all(left >= LEFT for left, _ in block)
    # the seller's block, Latin, shares its left edge
    seller = _block_lines(page, "Vendedor SL", "ESB12345674")
    assert len(seller) == 7  # name, three address lines, email, phone, tax id
    assert all(left == pytest.approx(LEFT, abs=0.05) for left, _ in seller), seller
    assert all(right <= LEFT + BLOCK for _, right in seller)


def test_an_arabic_line_in_a_latin_block_keeps_the_blocks_left_edge(services: Services) -> None:
    client: dict[str, str | None] = {"name": "Acme Ltd", "address": "1 High Street\nمكتب ٤"}
    page = drawn_text(render(app_document(services, LINES, client=client)))[0]
    block = _block_lines(page, "BILL TO", "1 High Street")
    block += _block_lines(page, "1 High Street", "٤")[1:]  # the Arabic line
    assert all(left == pytest.approx(LEFT, abs=0.05) for left, _ in block), block


def test_a_uk_clients_tax_id_is_vat_and_the_spanish_sellers_is_nif_on_a_spanish_pdf(services: Services) -> None:
    client: dict[str, str | None] = {
        "name": "Acme Ltd",
        "address": "1 High Street\nLondon SW1A 1AA\nUnited Kingdom",
        "tax_id": "GB123456789",
    }
    text = pdf_text(render(app_document(services, LINES, locale="es", client=client, seller=SPANISH_SELLER)))
    assert "VAT: GB123456789" in text
    assert "NIF: ESB12345674" in text
    assert "NIF: GB" not in text


@pytest.mark.parametrize(
    ("locale", "seller_tax", "client_address", "client_tax", "seller_label", "client_label"),
    [
        ("en", "ESB12345674", "Berlin\nGermany", "DE123456789", "NIF", "USt-IdNr."),
        ("es", "GB123456789", "Lyon\nFrancia", "FR12345678901", "VAT", "N° TVA"),
        ("en", "PT123456789", "Milano, Italia", "12345678901", "NIF", "P.IVA"),
        ("es", "B12345674", "Amsterdam\nNederland", "NL123456789B01", "NIF", "VAT ID"),
        ("es", "12345678Z", "Ciudad de México\nMéxico", "XAXX010101000", "NIF", "ID fiscal"),
        ("en", "123-45-6789", "Springfield\nUSA", "12-3456789", "Tax ID", "Tax ID"),
    ],
)
def test_each_tax_id_is_labelled_by_its_holders_country_on_the_pdf(
    services: Services,
    locale: str,
    seller_tax: str,
    client_address: str,
    client_tax: str,
    seller_label: str,
    client_label: str,
) -> None:
    client: dict[str, str | None] = {"name": "Client", "address": client_address, "tax_id": client_tax}
    seller: dict[str, str | None] = {"tax_id": seller_tax}
    text = pdf_text(render(app_document(services, LINES, locale=locale, client=client, seller=seller)))
    assert f"{seller_label}: {seller_tax}" in text
    assert f"{client_label}: {client_tax}" in text


def test_the_country_is_read_from_the_vat_prefix_then_the_address_then_a_spanish_nif() -> None:
    assert country_of("GB 123 456 789", None) == "GB"
    assert country_of("EL123456789", None) == "GR"  # Greece's VAT prefix is EL
    assert country_of("XI123456789", None) == "GB"  # Northern Ireland
    assert country_of("GB123456789", "Calle Mayor 1\nEspaña") == "GB"  # the number says whose it is
    assert country_of("123456789", "Calle Mayor 1\nEspaña") == "ES"
    assert country_of(None, "London, United Kingdom") == "GB"
    assert country_of(None, "Wien\nÖsterreich") == "AT"
    assert country_of(None, "Paris\nFR") == "FR"
    assert country_of("X1234567L", None) == "ES"  # a NIE with its check letter
    assert country_of("12345678Z", None) == "ES"  # a DNI
    assert country_of("12345678A", None) is None  # a DNI's wrong check letter: not recognised
    assert country_of("B12345678", None) is None  # nor a company's wrong check digit
    assert country_of("B12345674", None) == "ES"
    assert country_of("DE12345", None) is None  # too short for a German VAT number
    assert country_of(None, "Somewhere 1") is None
    assert tax_id_label("AT", "es") == "VAT ID"
    assert tax_id_label(None, "es") == "ID fiscal"
    assert tax_id_label("US", "en") == "Tax ID"
    assert label_for("ESB12345674", None, "en") == "NIF"
