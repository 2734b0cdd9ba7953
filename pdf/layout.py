"""The invoice layout, painted with borb at computed positions.

Everything is placed here, top-down, page by page: text is broken into lines by
pdf/text.py (measured with the fonts), so every block knows its lines before it is
placed and can continue on the next page line by line. A line-item row taller than the
space left is split between its lines, and the next page repeats the column header;
notes and terms flow on the same way. As the page count is then known, every page gets
its "Page i of n" footer. Rows are drawn as a band and a rule under cells of text (what
borb's tables drew, without their cost per cell).
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from borb.pdf import PDF, Document, HexColor, Page  # type: ignore[import-untyped]
from borb.pdf.layout_element.layout_element import LayoutElement  # type: ignore[import-untyped]
from borb.pdf.primitives import datestr, hexstr, name  # type: ignore[import-untyped]

from domain.invoice import TEXTS
from domain.money import tax_breakdown
from pdf.borb_setup import forget_layouts
from pdf.columns import column_widths
from pdf.document import InvoiceDocument
from pdf.formats import Formats
from pdf.text import Align, Fonts, Line, Style, TextBox, base_is_rtl, line_height

WIDTH, HEIGHT = 595, 842  # A4 in points
LEFT, RIGHT, TOP, BOTTOM = 50, 50, 50, 60
CONTENT = WIDTH - LEFT - RIGHT
HALF = 300  # the seller's and the client's blocks: the left part of the page
BLOCK = HALF - 16  # their width: a right-aligned block keeps clear of the invoice's number and dates
TOTALS = [170, 110]  # label and amount; the amount column widens for a wider amount
STAMPS = {"PAID": HexColor("#047857"), "VOID": HexColor("#b91c1c")}
PAD = 4
GUTTER = 6  # more space between two columns of figures than inside a cell
INK = HexColor("#1f2937")
MUTED = HexColor("#6b7280")
RULE = HexColor("#d1d5db")
BAND = HexColor("#f3f4f6")
KEEP = 2  # lines of a row or paragraph kept together at the foot and the head of a page


class _Band(LayoutElement):  # type: ignore[misc]  # borb has no type hints
    """A row's background and rules: what borb's table cells painted around our text."""

    def __init__(self, background: Any = None, rule_top: int = 0, rule_bottom: int = 0) -> None:
        super().__init__(
            background_color=background, border_color=RULE, border_width_top=rule_top, border_width_bottom=rule_bottom
        )

    def get_size(self, available_space: tuple[int, int]) -> tuple[int, int]:
        return available_space

    def paint(self, available_space: tuple[float, float, float, float], page: Any) -> None:
        self._paint_background_and_borders(page=page, rectangle=available_space)


@dataclass
class _Placed:
    element: Any
    x: float
    top: float
    width: float
    height: float


@dataclass
class _Cell:
    box: TextBox
    width: float


class _Builder:
    def __init__(self, source: InvoiceDocument, formats: Formats) -> None:
        self.source = source
        self.formats = formats
        self.labels = formats.labels
        self.fonts = Fonts()
        self.pages: list[list[_Placed]] = []
        self.top = 0.0
        self.fresh = False  # nothing but the continuation heading on this page yet

    # --- pieces ---------------------------------------------------------------------------

    def box(
        self, text: str, size: int = 9, weight: str = "regular", color: Any = INK, align: Align = "start"
    ) -> TextBox:
        return TextBox(text, Style(size, weight, color), self.fonts, align)

    def money(self, amount: Decimal) -> str:
        return self.formats.money(amount, self.source.invoice.currency)

    def place(self, element: Any, x: float, width: float, height: float, top: float | None = None) -> None:
        self.pages[-1].append(_Placed(element, x, self.top if top is None else top, width, height))

    def new_page(self) -> None:
        self.pages.append([])
        self.top = HEIGHT - TOP
        labels, invoice = self.labels, self.source.invoice
        heading = self.box(
            f"{self.source.account.name} — {labels['invoice']} {invoice.invoice_number} ({labels['continued']})",
            9,
            "bold",
            MUTED,
        )
        height = heading.get_size((CONTENT, HEIGHT))[1]
        self.place(heading, LEFT, CONTENT, height)
        self.top -= height + 14
        self.fresh = True

    def take(self, lines: int, room: float, height: int) -> int:
        """How many of ``lines`` (each ``height`` tall) go into ``room`` on this page: all if
        they fit; else at least KEEP here and KEEP on the next page, or none; on a fresh page
        as many as fit (at least one, so a block taller than a page always progresses)."""
        fit = max(0, int(room // height))
        if fit >= lines:
            return lines
        if self.fresh:
            return max(fit, 1)
        here = min(fit, lines - KEEP)
        return here if here >= KEEP else 0

    def stack(self, boxes: Sequence[TextBox], x: float, width: float, top: float) -> float:
        """Boxes one under another from ``top`` on the current page; returns the bottom."""
        for box in boxes:
            height = box.get_size((width, HEIGHT))[1]
            self.place(box, x, width, height, top)
            top -= height + 2
        return top

    def flow(self, box: TextBox, x: float, width: float, gap: int = 2) -> None:
        """A box's lines from the cursor on, continuing on new pages as needed."""
        lines = box.lines(width)
        while lines:
            count = self.take(len(lines), self.top - BOTTOM, box.line_height)
            if count == 0:
                self.new_page()
                continue
            self.place(box.part(lines[:count]), x, width, count * box.line_height)
            self.top -= count * box.line_height
            self.fresh = False
            lines = lines[count:]
            if lines:
                self.new_page()
        self.top -= gap

    def row(self, cells: Sequence[_Cell], x: float, pad_y: int, band: _Band) -> None:
        height = max(cell.box.get_size((cell.width - 2 * PAD, HEIGHT))[1] for cell in cells) + 2 * pad_y + 1
        self.place(band, x, sum(cell.width for cell in cells), height)
        for cell in cells:
            self.place(cell.box, x + PAD, cell.width - 2 * PAD, height - 2 * pad_y - 1, self.top - pad_y)
            x += cell.width
        self.top -= height
        self.fresh = False

    # --- the invoice ----------------------------------------------------------------------

    def build(self) -> bytes:
        labels, f = self.labels, self.formats
        invoice = self.source.invoice
        self.pages.append([])
        self.top = HEIGHT - TOP
        right = [
            self.box(labels["invoice"], 20, "bold", align="right"),
            self.box(f"{labels['number']}: {invoice.invoice_number}", 10, "bold", align="right"),
            self.box(f"{labels['issue_date']}: {f.date(invoice.issue_date)}", align="right"),
            self.box(f"{labels['due_date']}: {f.date(invoice.due_date)}", align="right"),
        ]
        for text in TEXTS:  # a reference (one line) stands beside the number and dates
            if text.one_line and getattr(invoice, text.name):
                right.append(self.box(f"{labels[text.name]}: {getattr(invoice, text.name)}", align="right"))
        if invoice.status == "DRAFT":  # the client never gets a draft; the seller must see it is one
            right.append(self.box(f"{labels['status']}: {labels['DRAFT']}", align="right"))
        if invoice.status in STAMPS:
            right.append(self.box(labels[invoice.status].upper(), 24, "bold", STAMPS[invoice.status], align="right"))
            if invoice.status == "VOID" and invoice.void_reason:
                right.append(self.box(f"{labels['void_reason']}: {invoice.void_reason}", align="right"))
        right_bottom = self.stack(right, LEFT + HALF, CONTENT - HALF, self.top)
        language = str(f.locale.language)
        seller = self.source.seller_lines(self.source.seller_tax_label(language))
        self.party(None, seller, 16)
        self.top = (min(self.top, right_bottom) if len(self.pages) == 1 else self.top) - 24
        self.party(labels["bill_to"].upper(), self.source.client_lines(self.source.client_tax_label(language)), 10)
        self.top -= 18
        self.items()
        self.top -= 12
        self.totals()
        for text in TEXTS:  # the other texts, labelled blocks under the lines
            value = getattr(invoice, text.name)
            if value and not text.one_line:
                paragraphs = [self.box(part) for part in value.splitlines() if part.strip()]
                self.block(self.box(labels[text.name].upper(), 8, "bold", MUTED), paragraphs)
        if self.source.share_url and invoice.status != "DRAFT":
            self.block(self.box(labels["view_online"].upper(), 8, "bold", MUTED), [self.box(self.source.share_url)])
        return self.paint()

    def party(self, heading: str | None, lines: Sequence[str], name_size: int) -> None:
        """The seller's or the client's block in the left part of the page: its name in
        bold, then address, email, phone and tax id. The block reads in one direction,
        the first strong character's of the whole block (UAX #9 P2-P3, applied to the
        block as HL1 allows): an Arabic name and address put every line, the heading
        and a Latin email or tax id included, against the right edge of the block's part
        of the page. Each line keeps its own direction inside (an email stays an email)."""
        side: Align = "right" if base_is_rtl("\n".join(lines)) else "left"
        if heading is not None:
            self.flow(self.box(heading, 8, "bold", MUTED, align=side), LEFT, BLOCK)
        for i, line in enumerate(lines):
            size, weight = (name_size, "bold") if i == 0 else (9, "regular")
            self.flow(self.box(line, size, weight, align=side), LEFT, BLOCK)

    def table(self) -> tuple[list[TextBox], list[list[TextBox]], list[float]]:
        """The column header, the rows' cells and the columns' widths, each column as wide
        as its header words and its values need (pdf/columns.py). The amount is what the
        line costs, after its discount: the amounts and the tax rows add up to the total."""
        invoice = self.source.invoice
        money, f = self.money, self.formats
        discounted = any(line.discount_rate for line in invoice.line_items)
        keys = ("description", "quantity", "unit_price", *(("discount_rate",) if discounted else ()), "tax", "amount")
        heads = [self.box(self.labels[k], 8, "bold", MUTED, "start" if i == 0 else "right") for i, k in enumerate(keys)]
        rows: list[list[TextBox]] = []
        for line in invoice.line_items:
            texts = [
                line.description,
                f.number(line.quantity),
                money(line.unit_price),  # at the currency's decimals, or finer as given
                *([f.percent(line.discount_rate) if line.discount_rate else ""] if discounted else []),
                f.percent(line.tax_rate),
                money(line.amount - line.discount),
            ]
            rows.append([self.box(text, align="start" if i == 0 else "right") for i, text in enumerate(texts)])
        return heads, rows, column_widths(heads, rows, CONTENT, PAD, GUTTER)

    def items(self) -> None:
        """The line items under a column header repeated on every page they reach."""
        head_boxes, rows, columns = self.table()
        head = [_Cell(box, width) for box, width in zip(head_boxes, columns, strict=True)]
        head_height = max(c.box.get_size((c.width - 2 * PAD, HEIGHT))[1] for c in head) + 2 * PAD + 1
        need_head = True
        for boxes in rows:
            parts: list[list[Line]] = [box.lines(width - 2 * PAD) for box, width in zip(boxes, columns, strict=True)]
            while any(parts):
                room = self.top - BOTTOM - 2 * PAD - 1 - (head_height if need_head else 0)
                count = self.take(max(len(p) for p in parts), room, line_height(9))
                if count == 0:
                    self.new_page()
                    need_head = True
                    continue
                if need_head:
                    self.row(head, LEFT, PAD, _Band(BAND, rule_bottom=1))
                    need_head = False
                cells = [_Cell(box.part(p[:count]), width) for box, p, width in zip(boxes, parts, columns, strict=True)]
                self.row(cells, LEFT, PAD, _Band(rule_bottom=1))
                parts = [p[count:] for p in parts]
                if any(parts):
                    self.new_page()
                    need_head = True

    def totals(self) -> None:
        """Subtotal, the discount if any, the tax of each rate on its base (as EU invoices
        must show it), the total, and once anything is paid, what was paid and what is due."""
        invoice, money, labels, f = self.source.invoice, self.money, self.labels, self.formats
        rows = [(labels["subtotal"], money(invoice.subtotal), "regular")]
        if invoice.discount_total:
            rows.append((labels["discount"], money(-invoice.discount_total), "regular"))
            # what the lines' amounts add up to, each after its discount
            rows.append((labels["net"], money(invoice.subtotal - invoice.discount_total), "regular"))
        rates = tax_breakdown(invoice.line_items, invoice.currency)
        for rate in rates:
            label = labels["tax_on"].format(rate=f.percent(rate.rate), base=money(rate.base))
            rows.append((label, money(rate.tax), "regular"))
        if len(rates) > 1:
            rows.append((labels["tax_total"], money(invoice.tax_total), "regular"))
        rows.append((labels["total"], money(invoice.total), "bold"))
        if invoice.amount_paid and invoice.status != "VOID":
            rows.append((labels["amount_paid"], money(-invoice.amount_paid), "regular"))
            rows.append((labels["balance_due"], money(invoice.balance_due), "bold"))
        boxes = [
            (
                self.box(label, 10 if weight == "bold" else 9, weight),
                self.box(value, 10 if weight == "bold" else 9, weight, align="right"),
            )
            for label, value, weight in rows
        ]
        # an amount is never broken: its column widens into the label's when it must
        amount = min(max(TOTALS[1], *(value.natural_width() + 2 * PAD for _, value in boxes)), sum(TOTALS) - 80)
        cells = [[_Cell(label, sum(TOTALS) - amount), _Cell(value, amount)] for label, value in boxes]
        needed = sum(max(c.box.get_size((c.width - 2 * PAD, HEIGHT))[1] for c in row) + 7 for row in cells)
        if needed > self.top - BOTTOM and not self.fresh:
            self.new_page()
        x = LEFT + CONTENT - sum(TOTALS)
        for row, (_, _, weight) in zip(cells, rows, strict=True):
            self.row(row, x, 3, _Band(BAND, rule_top=1) if weight == "bold" else _Band())
        self.top -= 14

    def block(self, label: TextBox, paragraphs: list[TextBox]) -> None:
        """A labelled block (notes, terms), flowing over pages; the label stays with text."""
        first = paragraphs[0].lines(CONTENT) if paragraphs else []
        needed = label.line_height + 2 + min(KEEP, len(first)) * (paragraphs[0].line_height if paragraphs else 0)
        if needed > self.top - BOTTOM and not self.fresh:
            self.new_page()
        self.flow(label, LEFT, CONTENT)
        for paragraph in paragraphs:
            self.flow(paragraph, LEFT, CONTENT)
        self.top -= 12

    # --- painting -------------------------------------------------------------------------

    def paint(self) -> bytes:
        document = Document()
        info: dict[Any, Any] = {}
        document[name("Trailer")] = {name("Info"): info}
        info[name("Title")] = _text_string(self.source.title)
        info[name("Author")] = _text_string(self.source.account.name)
        info[name("Subject")] = _text_string(f"{self.source.title} — {self.source.invoice.client_name}")
        info[name("CreationDate")] = datestr(_pdf_date(datetime.now(UTC)))
        total = len(self.pages)
        footers = [
            self.box(self.labels["page"].format(page=number, pages=total), 8, color=MUTED, align="right")
            for number in range(1, total + 1)
        ]
        number = self.box(self.source.invoice.invoice_number, 8, color=MUTED)
        for box in footers:
            box.lines(CONTENT)  # every character is known before the first font is made
        number.lines(200)
        for placed, footer in zip(self.pages, footers, strict=True):
            page = Page(width_in_points=WIDTH, height_in_points=HEIGHT)
            document.append_page(page)
            for item in placed:
                item.element.paint(available_space=(item.x, item.top - item.height, item.width, item.height), page=page)
            footer.paint(available_space=(LEFT, 25, CONTENT, 15), page=page)
            number.paint(available_space=(LEFT, 25, 200, 15), page=page)
        return _to_bytes(document)


def _text_string(text: str) -> Any:
    """A PDF text string as UTF-16BE hex: borb writes plain strings as unescaped latin-1."""
    return hexstr("FEFF" + text.encode("utf-16-be", "replace").hex().upper())


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%SZ")


def _to_bytes(document: Any) -> bytes:
    buffer = io.BytesIO()
    PDF.write(what=document, where_to=buffer)
    return buffer.getvalue()


def item_columns(source: InvoiceDocument) -> list[float]:
    """The widths of the line-item table's columns on this invoice's PDF, description first."""
    return _Builder(source, Formats(source.account.locale)).table()[2]


def render(source: InvoiceDocument) -> bytes:
    """The invoice as PDF bytes."""
    try:
        return _Builder(source, Formats(source.account.locale)).build()
    finally:
        forget_layouts()
