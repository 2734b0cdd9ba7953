"""The invoice layout, painted with borb at computed positions.

borb's page layouts move an element that does not fit to the next page but cannot split
a table, so line items are paginated here: rows are measured, each page gets a table of
the rows that fit with the column header repeated, and, as the page count is then known,
every page its "Page i of n" footer.
"""

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from borb.pdf import PDF, Document, FixedColumnWidthTable, HexColor, Page, Paragraph, Table
from borb.pdf.layout_element.layout_element import LayoutElement
from borb.pdf.primitives import datestr, hexstr, name

from pdf.borb_setup import forget_layouts
from pdf.document import InvoiceDocument
from pdf.fonts import drawable, font_for
from pdf.formats import Formats

WIDTH, HEIGHT = 595, 842  # A4 in points
LEFT, RIGHT, TOP, BOTTOM = 50, 50, 50, 60
CONTENT = WIDTH - LEFT - RIGHT
COLUMNS = [215, 45, 85, 50, 100]  # description, quantity, unit price, tax, amount
PAD = 4
INK = HexColor("#1f2937")
MUTED = HexColor("#6b7280")
RULE = HexColor("#d1d5db")
BAND = HexColor("#f3f4f6")
LONGEST_WORD = 30
RIGHT_ALIGN = LayoutElement.TextAlignment.RIGHT
H_RIGHT = LayoutElement.HorizontalAlignment.RIGHT

_WORD = re.compile(rf"\S{{{LONGEST_WORD + 1},}}")


def _breakable(text: str) -> str:
    """Splits words longer than a column can hold (URLs, IBANs), which borb cannot wrap."""
    return _WORD.sub(lambda m: " ".join(m[0][i : i + LONGEST_WORD] for i in range(0, len(m[0]), LONGEST_WORD)), text)


@dataclass
class _Fonts:
    characters: frozenset[str]
    cache: dict[str, Any] = field(default_factory=dict)

    def __call__(self, weight: str) -> Any:
        if weight not in self.cache:
            self.cache[weight] = font_for(weight, self.characters)
        return self.cache[weight]


@dataclass
class _Placed:
    element: Any
    x: int
    top: float
    width: int


class _Builder:
    def __init__(self, source: InvoiceDocument, formats: Formats) -> None:
        self.source = source
        self.formats = formats
        self.labels = formats.labels
        self.texts: list[str] = []
        self.pages: list[list[_Placed]] = []

    # --- text -----------------------------------------------------------------------

    def text(self, value: str) -> str:
        clean = _breakable(drawable(value))
        self.texts.append(clean)
        return clean

    def fonts(self) -> _Fonts:
        return _Fonts(frozenset("".join(self.texts)))

    def para(self, value: str, size: float = 9, weight: str = "regular", color: Any = INK, **extra: Any) -> Any:
        if extra.get("text_alignment") is RIGHT_ALIGN:
            # text_alignment only aligns wrapped lines; the paragraph itself must sit right too
            extra.setdefault("horizontal_alignment", H_RIGHT)
        return ("para", self.text(value), size, weight, color, extra)

    # --- building ---------------------------------------------------------------------

    def build(self) -> bytes:
        invoice = self.source.invoice
        f = self.formats
        money = lambda amount: f.money(amount, invoice.currency)  # noqa: E731
        header_left = [
            self.para(line, 16 if i == 0 else 9, "bold" if i == 0 else "regular")
            for i, line in enumerate(self.source.seller_lines(self.labels["tax_id"]))
        ]
        header_right = [
            self.para(self.labels["invoice"], 20, "bold", text_alignment=RIGHT_ALIGN),
            self.para(f"{self.labels['number']}: {invoice.invoice_number}", 10, "bold", text_alignment=RIGHT_ALIGN),
            self.para(f"{self.labels['issue_date']}: {f.date(invoice.issue_date)}", text_alignment=RIGHT_ALIGN),
            self.para(f"{self.labels['due_date']}: {f.date(invoice.due_date)}", text_alignment=RIGHT_ALIGN),
            self.para(
                f"{self.labels['status']}: {self.labels.get(invoice.status, invoice.status)}",
                text_alignment=RIGHT_ALIGN,
            ),
        ]
        client_lines = self.source.client_lines(self.labels["tax_id"])
        bill_to = [self.para(self.labels["bill_to"].upper(), 8, "bold", MUTED)] + [
            self.para(line, 10 if i == 0 else 9, "bold" if i == 0 else "regular") for i, line in enumerate(client_lines)
        ]
        heads = [self.labels[k] for k in ("description", "quantity", "unit_price", "tax", "amount")]
        head_cells = [
            self.para(h, 8, "bold", MUTED, **({} if i == 0 else {"text_alignment": RIGHT_ALIGN}))
            for i, h in enumerate(heads)
        ]
        rows = [
            [
                self.para(line.description),
                self.para(f.number(line.quantity), text_alignment=RIGHT_ALIGN),
                self.para(money(line.unit_price), text_alignment=RIGHT_ALIGN),  # at the scale given
                self.para(f.percent(line.tax_rate), text_alignment=RIGHT_ALIGN),
                self.para(money(line.amount), text_alignment=RIGHT_ALIGN),
            ]
            for line in invoice.line_items
        ]
        totals = [
            (self.labels["subtotal"], money(invoice.subtotal), "regular"),
            (
                self.labels["discount"],
                money(-invoice.discount_total) if invoice.discount_total else money(invoice.discount_total),
                "regular",
            ),
            (self.labels["tax_total"], money(invoice.tax_total), "regular"),
            (self.labels["total"], money(invoice.total), "bold"),
        ]
        total_cells = [
            (
                self.para(label, 10 if weight == "bold" else 9, weight),
                self.para(value, 10 if weight == "bold" else 9, weight, text_alignment=RIGHT_ALIGN),
            )
            for label, value, weight in totals
        ]
        blocks: list[list[Any]] = []
        for key, value in ((("notes"), invoice.notes), ("terms", invoice.terms)):
            if value:
                blocks.append(
                    [self.para(self.labels[key].upper(), 8, "bold", MUTED)]
                    + [self.para(part) for part in value.splitlines() if part.strip()]
                )
        continued = self.para(
            f"{self.source.account.name} — {self.labels['invoice']} {invoice.invoice_number} "
            f"({self.labels['continued']})",
            9,
            "bold",
            MUTED,
        )
        footer_left = self.para(f"{invoice.invoice_number}", 8, color=MUTED)
        # The footer's page numbers are known only after pagination: register their characters now.
        self.text(self.labels["page"] + "0123456789")

        self.font = self.fonts()
        make = self.make
        # page 1 header
        page: list[_Placed] = []
        self.pages.append(page)
        top = HEIGHT - TOP
        left_bottom = self.stack(page, [make(p) for p in header_left], LEFT, top, 300)
        right_bottom = self.stack(page, [make(p) for p in header_right], LEFT + 300, top, CONTENT - 300)
        top = min(left_bottom, right_bottom) - 24
        top = self.stack(page, [make(p) for p in bill_to], LEFT, top, 300) - 18
        # line-item tables, paginated
        cells = [[make(p) for p in row] for row in rows]
        heights = [
            max(_height(c, w - 2 * PAD) for c, w in zip(row, COLUMNS, strict=True)) + 2 * PAD + 1 for row in cells
        ]
        head_height = max(_height(make(p), w - 2 * PAD) for p, w in zip(head_cells, COLUMNS, strict=True)) + 2 * PAD + 2
        index = 0
        while index < len(cells):
            room = top - BOTTOM - head_height
            take, used = 0, 0.0
            while index + take < len(cells) and used + heights[index + take] <= room:
                used += heights[index + take]
                take += 1
            if take == 0:
                page, top = self.new_page(make(continued))
                continue
            table = self.table([make(p) for p in head_cells], cells[index : index + take])
            while table.get_size(available_space=(CONTENT, 10_000))[1] > top - BOTTOM and take > 1:
                take -= 1
                table = self.table([make(p) for p in head_cells], cells[index : index + take])
            page.append(_Placed(table, LEFT, top, CONTENT))
            top -= table.get_size(available_space=(CONTENT, 10_000))[1] + 12
            index += take
            if index < len(cells):
                page, top = self.new_page(make(continued))
        # totals, notes and terms: each on this page if it fits, else the next
        totals_table = self.totals([(make(a), make(b)) for a, b in total_cells])
        for element, x, width in [(totals_table, LEFT + CONTENT - 250, 250)] + [
            (self.column([make(p) for p in block]), LEFT, CONTENT) for block in blocks
        ]:
            needed = element.get_size(available_space=(width, 10_000))[1]
            if needed > top - BOTTOM:
                page, top = self.new_page(make(continued))
            page.append(_Placed(element, x, top, width))
            top -= needed + 14
        return self.paint(footer_left)

    # --- pieces -----------------------------------------------------------------------

    def make(self, spec: Any) -> Any:
        _, text, size, weight, color, extra = spec
        return Paragraph(text, font=self.font(weight), font_size=size, font_color=color, **extra)

    def stack(self, page: list[_Placed], elements: Iterable[Any], x: int, top: float, width: int) -> float:
        for element in elements:
            page.append(_Placed(element, x, top, width))
            top -= element.get_size(available_space=(width, 10_000))[1] + 2
        return top

    def column(self, elements: list[Any]) -> Any:
        table = FixedColumnWidthTable(number_of_rows=len(elements), number_of_columns=1, column_widths=[CONTENT])
        for element in elements:
            table.append_layout_element(
                Table.TableCell(
                    element,
                    border_width_bottom=0,
                    border_width_left=0,
                    border_width_right=0,
                    border_width_top=0,
                    padding_bottom=2,
                )
            )
        return table

    def table(self, head: list[Any], rows: list[list[Any]]) -> Any:
        table = FixedColumnWidthTable(
            number_of_rows=len(rows) + 1, number_of_columns=len(COLUMNS), column_widths=COLUMNS
        )
        for cell in head:
            table.append_layout_element(self.cell(cell, BAND, bottom=1))
        for row in rows:
            for cell in row:
                table.append_layout_element(self.cell(cell, None, bottom=1))
        return table

    def cell(self, element: Any, background: Any, bottom: int) -> Any:
        return Table.TableCell(
            element,
            background_color=background,
            border_color=RULE,
            border_width_bottom=bottom,
            border_width_left=0,
            border_width_right=0,
            border_width_top=0,
            padding_bottom=PAD,
            padding_left=PAD,
            padding_right=PAD,
            padding_top=PAD,
        )

    def totals(self, rows: list[tuple[Any, Any]]) -> Any:
        table = FixedColumnWidthTable(number_of_rows=len(rows), number_of_columns=2, column_widths=[110, 140])
        for i, (label, value) in enumerate(rows):
            last = i == len(rows) - 1
            for element in (label, value):
                table.append_layout_element(
                    Table.TableCell(
                        element,
                        background_color=BAND if last else None,
                        border_color=RULE,
                        border_width_top=1 if last else 0,
                        border_width_bottom=0,
                        border_width_left=0,
                        border_width_right=0,
                        padding_bottom=3,
                        padding_left=PAD,
                        padding_right=PAD,
                        padding_top=3,
                    )
                )
        return table

    def new_page(self, heading: Any) -> tuple[list[_Placed], float]:
        page: list[_Placed] = []
        self.pages.append(page)
        top = HEIGHT - TOP
        page.append(_Placed(heading, LEFT, top, CONTENT))
        return page, top - heading.get_size(available_space=(CONTENT, 10_000))[1] - 14

    def paint(self, footer_left: Any) -> bytes:
        document = Document()
        info: dict[Any, Any] = {}
        document[name("Trailer")] = {name("Info"): info}
        info[name("Title")] = _text_string(self.source.title)
        info[name("Author")] = _text_string(self.source.account.name)
        info[name("Subject")] = _text_string(f"{self.source.title} — {self.source.invoice.client_name}")
        info[name("CreationDate")] = datestr(_pdf_date(datetime.now(UTC)))
        total = len(self.pages)
        for number, placed in enumerate(self.pages, start=1):
            page = Page(width_in_points=WIDTH, height_in_points=HEIGHT)
            document.append_page(page)
            for item in placed:
                item.element.paint(available_space=(item.x, BOTTOM, item.width, int(item.top - BOTTOM)), page=page)
            footer = self.make(
                self.para(
                    self.labels["page"].format(page=number, pages=total),
                    8,
                    color=MUTED,
                    text_alignment=RIGHT_ALIGN,
                    horizontal_alignment=H_RIGHT,
                )
            )
            footer.paint(available_space=(LEFT, 25, CONTENT, 15), page=page)
            self.make(footer_left).paint(available_space=(LEFT, 25, 200, 15), page=page)
        return _to_bytes(document)


def _height(element: Any, width: int) -> float:
    return float(element.get_size(available_space=(width, 10_000))[1])


def _text_string(text: str) -> Any:
    """A PDF text string as UTF-16BE hex: borb writes plain strings as unescaped latin-1."""
    return hexstr("FEFF" + text.encode("utf-16-be", "replace").hex().upper())


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%SZ")


def _to_bytes(document: Any) -> bytes:
    buffer = io.BytesIO()
    PDF.write(what=document, where_to=buffer)
    return buffer.getvalue()


def render(source: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes."""
    try:
        return _Builder(source, Formats(source.account.locale)).build()
    finally:
        forget_layouts()
