"""The line-item table of invoice PDFs: columns as wide as their header words and values
need, amounts after each line's discount that add up to the total. Real domain pricing,
real borb, text and positions read back from the PDF (pikepdf, poppler's pdftotext)."""

import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import parse_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.money import LineItemDraft, tax_breakdown
from gateway.services import Services
from gateway.settings import Settings
from pdf.document import InvoiceDocument
from pdf.formats import LABELS, Formats
from pdf.layout import BOTTOM, CONTENT, LEFT, PAD, RIGHT, WIDTH, item_columns, render
from pdf.text import Paragraph
from tests.pdf_support import Drawn, app_document, drawn_text, priced_document

TABLE_RIGHT = LEFT + CONTENT - PAD  # where figures in the table and the totals end


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    core = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)}))
    yield core
    core.close()


def _pdftotext(content: bytes) -> str:
    with tempfile.TemporaryDirectory(prefix="cleverinvo-text-") as folder:
        path = Path(folder) / "invoice.pdf"
        path.write_bytes(content)
        result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return result.stdout.decode()


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _header_pieces(source: InvoiceDocument, page: list[Drawn]) -> list[Drawn]:
    """The column header as drawn on a page: its 8-point text, less the block headings."""
    labels = Formats(source.account.locale).labels
    headings = {labels[key].upper() for key in ("bill_to", "notes", "terms", "view_online")}
    return [piece for piece in page if piece.size == 8 and piece.y > BOTTOM and piece.text not in headings]


def _header_keys(source: InvoiceDocument) -> list[str]:
    discounted = any(line.discount_rate for line in source.invoice.line_items)
    return ["description", "quantity", "unit_price", *(["discount_rate"] if discounted else []), "tax", "amount"]


def _cells(source: InvoiceDocument) -> list[list[str]]:
    """The figures of each row as the PDF must show them, each on one line."""
    f, invoice = Formats(source.account.locale), source.invoice
    discounted = any(line.discount_rate for line in invoice.line_items)
    return [
        [
            f.number(line.quantity),
            f.money(line.unit_price, invoice.currency),
            *([f.percent(line.discount_rate)] if discounted and line.discount_rate else []),
            f.percent(line.tax_rate),
            f.money(line.amount - line.discount, invoice.currency),
        ]
        for line in invoice.line_items
    ]


def _amount(text: str, locale: str) -> Decimal:
    """An amount as printed ("-€625.00", "4.599,99 €", "¥5,500") back to a number."""
    digits = re.sub(r"[^0-9.,\-]", "", _plain(text))
    return Decimal(str(parse_decimal(digits, locale=locale, strict=False)))


def _figures_at_the_right(source: InvoiceDocument, pages: list[list[Drawn]]) -> list[Decimal]:
    """Top to bottom, the amounts that end at the table's right edge: each line's amount,
    then the totals' values (the column header, the first, is left out)."""
    head = Formats(source.account.locale).labels["amount"]
    ends = [
        piece
        for page in pages
        for piece in sorted(page, key=lambda piece: -piece.y)
        if abs(piece.right - TABLE_RIGHT) < 0.05 and piece.y > BOTTOM
    ]
    assert ends[0].text == head
    return [_amount(piece.text, source.account.locale) for piece in ends if piece.text != head]


def check_adds_up(source: InvoiceDocument, pages: list[list[Drawn]]) -> None:
    """The lines' amounts, as printed, plus the tax rows, as printed, are the total."""
    invoice = source.invoice
    figures = _figures_at_the_right(source, pages)
    rates = len(tax_breakdown(invoice.line_items, invoice.currency))
    lines, totals = figures[: len(invoice.line_items)], figures[len(invoice.line_items) :]
    discounted = 2 if invoice.discount_total else 0
    taxes = totals[1 + discounted : 1 + discounted + rates]
    assert totals[0] == invoice.subtotal
    if discounted:
        assert totals[2] == sum(lines)  # "Subtotal after discount": the column's sum
    assert sum(lines) + sum(taxes) == totals[-1] == invoice.total


# --- the Spanish header -------------------------------------------------------------------


def test_the_spanish_tax_header_is_one_word_on_an_invoice_without_a_discount(services: Services) -> None:
    lines = [LineItemDraft("Desarrollo web", Decimal(40), Decimal("125.00"), Decimal(21))]
    source = app_document(services, lines, locale="es")
    content = render(source)
    header = [piece.text for piece in _header_pieces(source, drawn_text(content)[0])]
    assert header == ["Descripción", "Cant.", "Precio unitario", "Impuesto", "Importe"]
    text = _pdftotext(content)
    assert re.search(r"Descripción\s+Cant\.\s+Precio unitario\s+Impuesto\s+Importe", text), text
    assert "Impuest\n" not in text


# --- every column set, every language, random texts and figures ---------------------------

WORDS = {
    "latin": st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíñóúüçß", min_size=1, max_size=16),
    "greek": st.text(alphabet="αβγδεζηθικλμνξοπρστυφχψω", min_size=1, max_size=12),
    "cyrillic": st.text(alphabet="абвгдежзийклмнопрстуфхцчшщыэюя", min_size=1, max_size=12),
    "arabic": st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي", min_size=1, max_size=10),
    "hebrew": st.text(alphabet="אבגדהוזחטיכלמנסעפצקרשת", min_size=1, max_size=10),
    "cjk": st.text(alphabet="网站开发与设计服务年月日本語", min_size=1, max_size=12),
    "hangul": st.text(alphabet="웹사이트개발및디자인", min_size=1, max_size=8),
    "long": st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=30, max_size=60),
}
descriptions = st.lists(st.one_of(*WORDS.values()), min_size=1, max_size=8).map(" ".join)
rates = st.one_of(st.sampled_from([Decimal(0), Decimal(4), Decimal(10), Decimal(21)]), st.decimals(0, 100, places=2))
line_items = st.builds(
    LineItemDraft,
    description=descriptions,
    quantity=st.decimals(Decimal("0.001"), Decimal(1_000_000), places=3),
    unit_price=st.decimals(Decimal(0), Decimal(10_000_000), places=2),
    tax_rate=rates,
    discount_rate=st.one_of(st.just(Decimal(0)), rates),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line_items, min_size=1, max_size=4),
    locale=st.sampled_from(sorted(LABELS)),
    currency=st.sampled_from(["EUR", "USD", "GBP", "JPY"]),
)
def test_no_header_word_figure_or_fitting_word_is_ever_split(
    lines: list[LineItemDraft], locale: str, currency: str
) -> None:
    source = priced_document(lines, locale, currency)
    content = render(source)
    pages = drawn_text(content)
    labels = Formats(locale).labels
    # the header's words, each whole, on every page it is drawn on
    expected_words = Counter(word for key in _header_keys(source) for word in labels[key].split())
    for page in pages:
        header = _header_pieces(source, page)
        if header:
            assert Counter(word for piece in header for word in piece.text.split()) == expected_words
    # every figure of every row drawn whole, on one line
    drawn = Counter(_plain(piece.text) for page in pages for piece in page)
    for row in _cells(source):
        for figure in row:
            assert drawn[_plain(figure)] >= 1, (figure, row)
    # nothing leaves the page's margins
    for page in pages:
        for piece in page:
            assert piece.x >= LEFT - 0.01 and piece.right <= WIDTH - RIGHT + 0.01, piece
    # a description's word that fits its column is on one line
    width = item_columns(source)[0] - 2 * PAD
    for line in source.invoice.line_items:
        paragraph = Paragraph(line.description, 9)
        breaks = paragraph.breaks(width)
        for start, end in paragraph.words():
            if paragraph.width_of(start, end) <= width:
                assert any(first <= start and end <= last for first, last in breaks), (line.description, width)
    check_adds_up(source, pages)


@settings(max_examples=300, deadline=None)
@given(text=descriptions, width=st.floats(20, 500))
def test_the_line_breaker_splits_no_word_that_fits_a_line(text: str, width: float) -> None:
    for size, weight in ((9, "regular"), (8, "bold")):
        paragraph = Paragraph(text, size, weight)
        breaks = paragraph.breaks(width)
        for start, end in paragraph.words():
            if paragraph.width_of(start, end) <= width:
                assert any(first <= start and end <= last for first, last in breaks)
        for first, last in breaks:  # and no line is wider than the width, unless one character is
            assert paragraph.width_of(first, last) <= width + 0.01 or last - first == 1


def test_figures_wider_than_the_page_still_stay_on_it() -> None:
    """Amounts in the trillions at six decimals: the value columns narrow, nothing overflows."""
    top = LineItemDraft("Everything", Decimal("999999999.999999"), Decimal("999999999999.999999"), Decimal("99.9999"))
    source = priced_document([top, LineItemDraft("Más", Decimal(1), Decimal(1), Decimal(0), Decimal("12.5"))], "es")
    columns = item_columns(source)
    assert sum(columns) == pytest.approx(CONTENT) and columns[0] >= 80 - 0.01
    for page in drawn_text(render(source)):
        for piece in page:
            assert piece.x >= LEFT - 0.01 and piece.right <= WIDTH - RIGHT + 0.01, piece


# --- the amount column ---------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_amount_is_what_the_line_costs_and_the_columns_add_up(services: Services, locale: str) -> None:
    lines = [
        LineItemDraft("Desarrollo web", Decimal(40), Decimal("125.00"), Decimal(21), Decimal(10)),
        LineItemDraft("Hosting", Decimal(3), Decimal("33.33"), Decimal(10), Decimal("12.5")),
        LineItemDraft("Soporte", Decimal(1), Decimal("99.99"), Decimal(21)),
    ]
    source = app_document(services, lines, locale=locale)
    content = render(source)
    f, labels = Formats(locale), Formats(locale).labels
    pages = drawn_text(content)
    figures = _figures_at_the_right(source, pages)
    # 4,500.00 (5,000.00 less 10%), 87.49 (99.99 less 12.50), 99.99: never the amount before the discount
    assert figures[:3] == [Decimal("4500.00"), Decimal("87.49"), Decimal("99.99")]
    text = _plain(_pdftotext(content))
    assert _plain(f.money(Decimal("5000.00"), "EUR")) not in text
    assert labels["net"] in text
    check_adds_up(source, pages)
