"""Text for invoice PDFs: measured with the fonts' own advances, broken into lines that
fit, reordered for right-to-left scripts, painted as borb Chunks.

borb's paragraphs wrap only at spaces (a long word overflows its column), measure with
one font, and draw characters in logical order. Here:

1. ``shape`` (pdf/shaping.py) picks a face per character and reshapes Arabic.
2. Lines break at spaces, after a hyphen inside a word, and between CJK characters
   (ideographs, kana, hangul, fullwidth forms), except before closing punctuation and
   small kana or after opening punctuation. A word wider than the line breaks between
   characters (never inside a base + combining-mark cluster) where it stops fitting.
   Widths are the faces' ``hmtx`` advances, the very widths the embedded fonts declare.
3. Each line is put in display order with the embedding levels python-bidi resolves for
   the whole paragraph (its base direction is the first strong character's, so every
   line agrees): levels reversed (UAX #9 L2), combining marks kept after their base
   (L3), brackets mirrored in right-to-left runs (L4; python-bidi's get_display mirrors
   nothing).
4. ``TextBox`` paints each line as one Chunk per run of one face, at x positions summed
   from the advances; aligned at its start (a right-to-left paragraph's lines to the
   right), or all to one side when the box says so (a block that reads in one direction).
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bidi import get_display  # type: ignore[import-untyped]
from bidi.mirror import MIRRORED  # type: ignore[import-untyped]
from borb.pdf.layout_element.layout_element import LayoutElement  # type: ignore[import-untyped]
from borb.pdf.layout_element.text.chunk import Chunk  # type: ignore[import-untyped]

from pdf.faces import advance, face_for
from pdf.fonts import EmbeddedFont, font_for
from pdf.shaping import Shaped, is_ignorable, is_space, shape

Align = Literal["start", "left", "right"]  # start: by each line's paragraph direction
LEADING = 1.2  # line height over font size, as borb's paragraphs
_FIT = 0.01  # points of tolerance when a line fills its width exactly

# Kinsoku: no line starts with these, and none ends with the opening brackets.
_NO_START = set("、。，．・：；？！）］｝〉》」』】〕〗〙〟ー々〻ゝゞヽヾ‐゠–〜,.:;?!)]}") | set(
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
)
_NO_END = set("（［｛〈《「『【〔〖〘〝([{")
_HYPHENS = "-\u2010"
_RTL_CLASSES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})
_LEVEL = re.compile(r"Level\(\s*(\d+),?\s*\)")


def line_height(size: float) -> int:
    return math.ceil(size * LEADING)


def _wide(character: str) -> bool:
    """CJK-like: a line may break before or after it."""
    return unicodedata.east_asian_width(character) in ("W", "F") and not is_space(character)


def _clings(character: str) -> bool:
    """Belongs to the character before it: combining marks, the zero-width joiner,
    variation selectors (not bidi marks or the zero-width space, which may start a line)."""
    return unicodedata.category(character) in ("Mn", "Me", "Mc") or (
        is_ignorable(character)
        and character not in "\u200b\u200c\u200e\u200f\u061c"
        and not "\u202a" <= character <= "\u202e"
        and not "\u2066" <= character <= "\u2069"
    )


def base_is_rtl(text: str) -> bool:
    """The paragraph's base direction from its first strong character (UAX #9 P2-P3)."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


def bidi_levels(text: str, rtl: bool) -> list[int]:
    """python-bidi's resolved embedding level of every character of ``text``.

    get_display(debug=True) is python-bidi's documented way to get them; it reports one
    level per UTF-8 byte."""
    info = str(get_display(text, base_dir="R" if rtl else "L", debug=True))
    per_byte = [int(level) for level in _LEVEL.findall(info.split("levels:", 1)[-1].split("paragraphs:", 1)[0])]
    if len(per_byte) != len(text.encode()):
        raise RuntimeError("python-bidi's debug output changed; update pdf/text.py:bidi_levels")
    levels: list[int] = []
    offset = 0
    for ch in text:
        levels.append(per_byte[offset])
        offset += len(ch.encode())
    return levels


def display_order(levels: Sequence[int], marks: Sequence[bool]) -> list[int]:
    """Indices of one line's characters in display order, left to right (UAX #9 L2-L3)."""
    order = list(range(len(levels)))
    odd = [level for level in levels if level % 2]
    if not odd:
        return order
    for level in range(max(levels), min(odd) - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    i = 0
    while i < len(order):  # reversal put right-to-left marks before their base: back after it
        if not (marks[order[i]] and levels[order[i]] % 2):
            i += 1
            continue
        j = i
        while j < len(order) and marks[order[j]] and levels[order[j]] % 2:
            j += 1
        if j < len(order):
            order[i : j + 1] = [order[j], *order[i:j][::-1]]
        i = j + 1
    return order


@dataclass(frozen=True)
class Run:
    """Characters of one face, in display order, starting ``x`` points into the line."""

    face: str
    text: str
    x: float


@dataclass(frozen=True)
class Line:
    runs: tuple[Run, ...]
    width: float
    rtl: bool  # its paragraph's base direction
    text: str  # in logical order: for tests and debugging


class Paragraph:
    """One paragraph (no line breaks) shaped, measured and broken at one size and weight."""

    def __init__(self, text: str, size: float, weight: str = "regular") -> None:
        self.size = size
        self.weight = weight
        self.shaped: Shaped = shape(text, weight)
        drawn = self.shaped.text
        self.rtl = base_is_rtl(drawn)
        self.advances = [
            0.0 if face is None else advance(ch, face) * size for ch, face in zip(drawn, self.shaped.faces, strict=True)
        ]
        needs_bidi = self.rtl or any(unicodedata.bidirectional(ch) in _RTL_CLASSES for ch in drawn)
        self.levels = bidi_levels(drawn, self.rtl) if needs_bidi and drawn else None
        self._segments = self._segment()
        self._lines: dict[float, list[Line]] = {}

    # --- where lines may break ------------------------------------------------------------

    def _may_break_after(self, i: int) -> bool:
        text = self.shaped.text
        here, after = text[i], text[i + 1]
        if _clings(after) or here == "\u200d":
            return False
        if is_space(here):
            return not is_space(after)
        if here == "\u200b":
            return True
        if is_space(after):
            return False
        if here in _HYPHENS:
            return i > 0 and text[i - 1].isalpha() and after.isalpha()
        if _wide(here) or _wide(after):
            return here not in _NO_END and after not in _NO_START
        return False

    def _segment(self) -> list[tuple[int, int, int]]:
        """Unbreakable pieces as (start, end of the visible part, end with trailing spaces)."""
        text = self.shaped.text
        pieces: list[tuple[int, int, int]] = []
        start = 0
        for i in range(len(text)):
            if i == len(text) - 1 or self._may_break_after(i):
                visible = i + 1
                while visible > start and is_space(text[visible - 1]):
                    visible -= 1
                pieces.append((start, visible, i + 1))
                start = i + 1
        return pieces

    def _clusters(self, start: int, end: int) -> list[tuple[int, int]]:
        text = self.shaped.text
        found: list[tuple[int, int]] = []
        i = start
        while i < end:
            j = i + 1
            while j < end and (_clings(text[j]) or text[j - 1] == "\u200d"):
                j += 1
            found.append((i, j))
            i = j
        return found

    def _width(self, start: int, end: int) -> float:
        return sum(self.advances[start:end])

    def widest_word(self) -> float:
        """The widest piece between two break opportunities: a line at least this wide
        never splits a word."""
        return max((self._width(first, visible) for first, visible, _ in self._segments), default=0.0)

    def natural_width(self) -> float:
        """The paragraph's width on one line (trailing spaces left out)."""
        return self._width(0, self._segments[-1][1]) if self._segments else 0.0

    def words(self) -> list[tuple[int, int]]:
        """The pieces between break opportunities, as (start, end) in the shaped text."""
        return [(first, visible) for first, visible, _ in self._segments if visible > first]

    def width_of(self, start: int, end: int) -> float:
        return self._width(start, end)

    # --- lines ----------------------------------------------------------------------------

    def breaks(self, width: float) -> list[tuple[int, int]]:
        """Each line as (start, end) in the shaped text, trailing spaces left out."""
        lines: list[tuple[int, int]] = []
        start = -1  # no line open
        end, used, pending = 0, 0.0, 0.0
        for first, visible, last in self._segments:
            body = self._width(first, visible)
            if start >= 0 and used + pending + body <= width + _FIT:
                used, end, pending = used + pending + body, visible, self._width(visible, last)
                continue
            if start >= 0:
                lines.append((start, end))
            start, end, used = first, first, 0.0
            for cluster_start, cluster_end in self._clusters(first, visible):
                wide = self._width(cluster_start, cluster_end)
                if used + wide > width + _FIT and end > start:
                    lines.append((start, end))
                    start, used = cluster_start, 0.0
                used, end = used + wide, cluster_end
            pending = self._width(visible, last)
        if start >= 0:
            lines.append((start, end))
        return lines or [(0, 0)]

    def lines(self, width: float) -> list[Line]:
        found = self._lines.get(width)
        if found is None:
            found = [self._line(start, end) for start, end in self.breaks(width)]
            self._lines[width] = found
        return found

    def _line(self, start: int, end: int) -> Line:
        text, faces = self.shaped.text, self.shaped.faces
        order = list(range(start, end))
        levels = self.levels
        if levels is not None:
            marks = [unicodedata.category(text[i]) in ("Mn", "Me") for i in order]
            order = [start + i for i in display_order(levels[start:end], marks)]
        runs: list[Run] = []
        x = 0.0
        run_face: str | None = None
        run_text: list[str] = []
        run_x = 0.0
        for i in order:
            ch, face = text[i], faces[i]
            if levels is not None and levels[i] % 2 and ch in MIRRORED:
                mirrored = MIRRORED[ch]
                if face is not None and face_for(mirrored, self.weight) == face:
                    ch = mirrored
            if face is not None:
                if face != run_face:
                    if run_face is not None:
                        runs.append(Run(run_face, "".join(run_text), run_x))
                    run_face, run_text, run_x = face, [], x
                run_text.append(ch)
            x += self.advances[i]
        if run_face is not None:
            runs.append(Run(run_face, "".join(run_text), run_x))
        return Line(tuple(runs), x, self.rtl, text[start:end])


@dataclass(frozen=True)
class Style:
    size: int
    weight: str = "regular"
    color: Any = None  # a borb Color; None: black


class Fonts:
    """The borb fonts of one document: per face, a subset of the characters it draws."""

    def __init__(self) -> None:
        self.characters: dict[str, set[str]] = {}
        self._made: dict[str, EmbeddedFont] = {}

    def use(self, lines: Sequence[Line]) -> None:
        for line in lines:
            for run in line.runs:
                self.characters.setdefault(run.face, set()).update(run.text)

    def font(self, face: str, text: str) -> EmbeddedFont:
        made = self._made.get(face)
        if made is None or any(ch not in made.codes for ch in text):
            # normally every character was registered while laying out, before any painting
            self.characters.setdefault(face, set()).update(text)
            made = font_for(face, frozenset(self.characters[face]))
            self._made[face] = made
        return made


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a field, blank lines left out (as on the invoice since the start)."""
    return [part for part in text.splitlines() if part.strip()] or [""]


class TextBox(LayoutElement):  # type: ignore[misc]  # borb has no type hints
    """Text as a borb layout element: as wide as its longest line, one line height per
    line. Made from a string (one paragraph per line of it) or from lines broken before
    (part of a row or a note, split across pages). Aligned at the start of each line's
    paragraph (a right-to-left paragraph's lines to the right) unless ``align`` puts
    every line on one side."""

    def __init__(self, text: str | Sequence[Line], style: Style, fonts: Fonts, align: Align = "start") -> None:
        super().__init__()
        self.style = style
        self.fonts = fonts
        self.align = align
        if isinstance(text, str):
            self.paragraphs = [Paragraph(part, style.size, style.weight) for part in paragraphs(text)]
            self.fixed: list[Line] | None = None
        else:
            self.paragraphs = []
            self.fixed = list(text)
            fonts.use(self.fixed)
        self._lines: dict[float, list[Line]] = {}

    @property
    def line_height(self) -> int:
        return line_height(self.style.size)

    def lines(self, width: float) -> list[Line]:
        if self.fixed is not None:
            return self.fixed
        found = self._lines.get(width)
        if found is None:
            found = [line for paragraph in self.paragraphs for line in paragraph.lines(width)]
            self.fonts.use(found)
            self._lines[width] = found
        return found

    def part(self, lines: Sequence[Line]) -> "TextBox":
        """A box of the same style showing ``lines`` (some of this box's lines)."""
        return TextBox(lines, self.style, self.fonts, self.align)

    def widest_word(self) -> float:
        return max((paragraph.widest_word() for paragraph in self.paragraphs), default=0.0)

    def natural_width(self) -> float:
        """As wide as the box must be to show each paragraph on one line."""
        if self.fixed is not None:
            return max((line.width for line in self.fixed), default=0.0)
        return max((paragraph.natural_width() for paragraph in self.paragraphs), default=0.0)

    def get_size(self, available_space: tuple[float, float]) -> tuple[int, int]:
        lines = self.lines(available_space[0])
        return math.ceil(max((line.width for line in lines), default=0)), len(lines) * self.line_height

    def paint(self, available_space: tuple[float, float, float, float], page: Any) -> None:
        x, y, width, height = available_space
        size = self.style.size
        extra: dict[str, Any] = {} if self.style.color is None else {"font_color": self.style.color}
        for number, line in enumerate(self.lines(width)):
            baseline = y + height - number * self.line_height - size
            to_right = self.align == "right" or (self.align == "start" and line.rtl)
            left = x + (width - line.width if to_right else 0)
            for run in line.runs:
                chunk = Chunk(run.text, font=self.fonts.font(run.face, run.text), font_size=size, **extra)
                chunk.paint(available_space=(round(left + run.x, 3), round(baseline, 3), 10_000, size), page=page)
