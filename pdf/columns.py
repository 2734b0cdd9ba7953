"""How wide each column of the line-item table is: measured from what it shows.

Fixed widths split "Impuesto" into "Impuest / o" in a 50-point column. Here every
column but the first (the description, which takes what is left) is at least as wide
as its widest header word and its widest value (amounts, quantities and rates are never
broken), and as wide as its whole header on one line when the row has room for that.
The description keeps at least ``DESCRIPTION_MIN`` points, or less, down to
``DESCRIPTION_LEAST``, rather than break a figure; only when the figures alone are wider
than the page (amounts in the trillions at six decimals) are their columns narrowed,
and their figures then break inside.
"""

from collections.abc import Sequence

from pdf.text import TextBox

DESCRIPTION_MIN = 150  # points: two or three words of a description per line
DESCRIPTION_LEAST = 80  # points, when the figures would otherwise break


def column_widths(
    heads: Sequence[TextBox], rows: Sequence[Sequence[TextBox]], total: float, pad: float, gutter: float = 0
) -> list[float]:
    """The width of each column (the first flexible), adding up to ``total``; ``pad`` is
    the space a cell keeps on each side of its text, ``gutter`` more before a column of
    figures."""
    values = [max((row[i].natural_width() for row in rows), default=0.0) for i in range(1, len(heads))]
    need = [max(head.widest_word(), value) + 2 * pad + gutter for head, value in zip(heads[1:], values, strict=True)]
    want = [max(head.natural_width(), value) + 2 * pad + gutter for head, value in zip(heads[1:], values, strict=True)]
    floor = max(DESCRIPTION_MIN, heads[0].widest_word() + 2 * pad)
    widths = list(need)
    spare = total - floor - sum(widths)
    # whole headers on one line where room allows, the cheapest first
    for i in sorted(range(len(widths)), key=lambda i: want[i] - need[i]):
        if want[i] - need[i] <= spare:
            spare -= want[i] - need[i]
            widths[i] = want[i]
    if spare < 0:  # the figures leave the description less than its floor: it narrows first
        least = max(DESCRIPTION_LEAST, heads[0].widest_word() + 2 * pad)
        if sum(widths) > total - least:  # figures wider than the page: they break, nothing overflows
            widths = [width * (total - least) / sum(widths) for width in widths]
    return [total - sum(widths), *widths]
