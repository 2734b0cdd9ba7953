"""The font files an invoice is drawn with, and which of them draws each character.

No borb here: the layout measures text and the API reports undrawable characters from
these tables alone (fontTools ``cmap``/``hmtx``, in units per em), and only the painted
document needs borb fonts (pdf/fonts.py), made from the same files, so the advances the
layout measures are the advances a viewer draws.

Faces are tried in order for every character: DejaVu Sans (Latin, Greek, Cyrillic,
Arabic presentation forms, Hebrew, many symbols), then Droid Sans Fallback (CJK and
kana; it has only 3 of the 11,172 hangul syllables), then NanumGothic (hangul), then
Symbola (emoji and other symbols). Bold text falls back to the regular weight per
character before leaving DejaVu.
"""

import io
import threading
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

FONT_DIR = Path(__file__).parent / "fonts"
FILES: dict[str, Path] = {
    "regular": FONT_DIR / "DejaVuSans.ttf",
    "bold": FONT_DIR / "DejaVuSans-Bold.ttf",
    "cjk": FONT_DIR / "DroidSansFallbackFull.ttf",
    "korean": FONT_DIR / "NanumGothic.ttf",
    "symbols": FONT_DIR / "Symbola_hint.ttf",
}
CHAINS: dict[str, tuple[str, ...]] = {
    "regular": ("regular", "cjk", "korean", "symbols"),
    "bold": ("bold", "regular", "cjk", "korean", "symbols"),
}
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


class Face:
    """One font file's character map and advances, read on first use."""

    def __init__(self, key: str, path: Path) -> None:
        self.key = key
        self.path = path
        self._lock = threading.RLock()
        self._data: bytes | None = None
        self._font: TTFont | None = None
        self._cmap: dict[int, str] = {}
        self._advances: dict[str, float] = {}
        self._units = 1000

    def data(self) -> bytes:
        if self._data is None:
            with self._lock:
                if self._data is None:
                    self._data = self.path.read_bytes()
        return self._data

    def open(self) -> TTFont:
        """A fresh, lazily read copy of the font (fontTools' subsetter changes what it is given)."""
        font = TTFont(io.BytesIO(self.data()), lazy=True)
        if font["post"].formatType == 3:
            # The font stores no glyph names, and fontTools would spend ~90 ms inventing
            # 49,000 of them from the cmap on every load; plain names serve as well, since
            # a subset is written without names and the PDF addresses glyphs by index.
            font.setGlyphOrder([".notdef", *(f"glyph{i:05d}" for i in range(1, font["maxp"].numGlyphs))])
        return font

    def _load(self) -> TTFont:
        if self._font is None:
            with self._lock:
                if self._font is None:
                    font = self.open()
                    self._cmap = font.getBestCmap()
                    self._units = font["head"].unitsPerEm
                    self._font = font
        return self._font

    @property
    def units_per_em(self) -> int:
        self._load()
        return self._units

    def cmap(self) -> dict[int, str]:
        self._load()
        return self._cmap

    def has(self, character: str) -> bool:
        return ord(character) in self.cmap()

    def advance(self, character: str) -> float:
        """The character's advance in ems (0 for a character the face lacks)."""
        found = self._advances.get(character)
        if found is None:
            font = self._load()
            glyph = self._cmap.get(ord(character))
            found = font["hmtx"][glyph][0] / self._units if glyph is not None else 0.0
            self._advances[character] = found
        return found


FACES: dict[str, Face] = {key: Face(key, path) for key, path in FILES.items()}
_chosen: dict[str, dict[str, str | None]] = {weight: {} for weight in CHAINS}


def face_for(character: str, weight: str = "regular") -> str | None:
    """The first face of the weight's chain that draws ``character``, or None."""
    chosen = _chosen[weight]
    if character not in chosen:
        chosen[character] = next((key for key in CHAINS[weight] if FACES[key].has(character)), None)
    return chosen[character]


def advance(character: str, face: str) -> float:
    return FACES[face].advance(character)
