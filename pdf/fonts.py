"""Embedded DejaVu Sans, subset per document to the characters it uses.

borb's standard 14 fonts are latin-1 only; a whole DejaVu font embedded as-is costs
~0.7 s and ~450 kB per document, because borb measures text with a linear scan of the
font's width table. A subset of just the document's characters is a few kB and fast to
measure; subsets are cached by character set, so repeated invoices reuse them.
"""

import io
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from borb.pdf import TrueTypeFont
from borb.pdf.primitives import name
from fontTools import subset
from fontTools.ttLib import TTFont

import pdf.borb_setup  # noqa: F401  (opt out of borb's telemetry before any font is made)

FONT_DIR = Path(__file__).parent / "fonts"
FILES = {"regular": FONT_DIR / "DejaVuSans.ttf", "bold": FONT_DIR / "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
CACHE_SIZE = 128
# borb makes a simple (single-byte) font when every Adobe-named glyph is below U+0100, and
# then cannot encode glyphs like ₹ at all; an em dash (U+2014) keeps every subset composite.
ALWAYS = frozenset(" \u2014")

_lock = threading.Lock()
_cache: "OrderedDict[tuple[str, frozenset[str]], Any]" = OrderedDict()
_coverage: dict[str, frozenset[str]] = {}
_bytes: dict[str, bytes] = {}


def _font_bytes(weight: str) -> bytes:
    if weight not in _bytes:
        _bytes[weight] = FILES[weight].read_bytes()
    return _bytes[weight]


def coverage(weight: str = "regular") -> frozenset[str]:
    """Every character the font draws."""
    if weight not in _coverage:
        cmap = TTFont(io.BytesIO(_font_bytes(weight)), lazy=True).getBestCmap()
        _coverage[weight] = frozenset(chr(code) for code in cmap)
    return _coverage[weight]


def _drawable_set() -> frozenset[str]:
    if "both" not in _coverage:
        _coverage["both"] = coverage("regular") & coverage("bold")
    return _coverage["both"]


def drawable(text: str) -> str:
    """``text`` with characters the font lacks (none for Latin, Greek, Cyrillic...) replaced
    by U+FFFD, so nothing raises and nothing vanishes silently."""
    covered = _drawable_set()
    return "".join(ch if ch in covered or ch in "\n\t" else REPLACEMENT for ch in text)


def _subset(weight: str, characters: frozenset[str]) -> Any:
    font = TTFont(io.BytesIO(_font_bytes(weight)), lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.glyph_names = True
    options.name_IDs = ["*"]
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    # borb reads fonts from a named .ttf file only.
    with tempfile.TemporaryDirectory(prefix="cleverinvo-font-") as folder:
        path = Path(folder) / f"DejaVuSans-{weight}.ttf"
        font.save(str(path))
        made = TrueTypeFont.from_file(path)
    if "DescendantFonts" in made:
        # borb fills widths only for glyphs with Adobe names and leaves others (uni20B9, ₹)
        # at 0, so viewers would draw them with no advance: take every width from the font.
        units = font["head"].unitsPerEm
        advances = font["hmtx"].metrics
        widths = [round(advances[glyph][0] / units * 1000, 2) for glyph in font.getGlyphOrder()]
        made["DescendantFonts"][0][name("W")] = [0, widths]
    return made


def font_for(weight: str, characters: frozenset[str]) -> Any:
    """A borb font with at least ``characters`` (all drawable), cached by character set."""
    key = (weight, characters)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    made = _subset(weight, characters | ALWAYS)
    with _lock:
        _cache[key] = made
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return made
