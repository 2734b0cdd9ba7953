"""borb fonts for a document: each face subset to the characters it draws there.

A whole embedded DejaVu font costs ~0.7 s and ~450 kB per document in borb, the CJK and
Korean faces are 4-5 MB each: a subset of just the document's characters is a few kB and
fast to measure. Subsets are cached by face and character set (bounded), so repeated
invoices reuse them.

The composite (Type 0) font is built here from the subset's own tables rather than by
borb's ``TrueTypeFont.from_file``, which keys everything on Adobe glyph names: it makes a
single-byte font unless some glyph above U+00FF has one (no glyph in Droid Sans Fallback
does, so no CJK character could be encoded), gives unnamed glyphs (Symbola's emoji,
``glyph08774``) no code at all and width 0, and writes characters beyond the BMP into
the ToUnicode map as invalid 5-digit codes. Here every glyph's code is its glyph index,
its width comes from ``hmtx``, and ToUnicode is UTF-16, so text extraction and copying
work for every script.
"""

import hashlib
import io
import threading
import zlib
from collections import OrderedDict
from typing import Any

from borb.pdf import CompositeFont  # type: ignore[import-untyped]
from borb.pdf.font.cmap import CMap  # type: ignore[import-untyped]
from borb.pdf.font.composite_font.cid_type_0_font import CIDType0Font  # type: ignore[import-untyped]
from borb.pdf.primitives import name, stream  # type: ignore[import-untyped]
from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

import pdf.borb_setup  # noqa: F401  (opt out of borb's telemetry before any font is made)
from pdf.faces import FACES, FILES

__all__ = ["FILES", "EmbeddedFont", "font_for"]

CACHE_SIZE = 128

_lock = threading.Lock()
_cache: "OrderedDict[tuple[str, frozenset[str]], EmbeddedFont]" = OrderedDict()


class EmbeddedFont(CompositeFont):  # type: ignore[misc]  # borb has no type hints
    """A composite font whose characters are encoded by the subset's own character map
    (borb reverses its ToUnicode map instead, which cannot hold every character)."""

    def __init__(self, codes: dict[str, int]) -> None:
        super().__init__()
        self.codes = codes

    def get_character_code(self, character: str) -> int:
        return self.codes.get(character, -1)


def _subset_bytes(face: str, characters: frozenset[str]) -> bytes:
    font = FACES[face].open()
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.glyph_names = True
    options.name_IDs = ["*"]
    # Viewers use none of these for a PDF font (placement is ours), and reading the
    # layout tables of the large fonts is a third of the subsetting time.
    options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF", "kern", "MATH", "vhea", "vmtx"]
    options.drop_tables += ["TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]  # Symbola's hinting sources
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(ch) for ch in characters))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _tag(face: str, characters: frozenset[str]) -> str:
    """The six capital letters a subset font's name starts with (ISO 32000 9.6.4)."""
    digest = hashlib.sha256(f"{face}\x1f{''.join(sorted(characters))}".encode()).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _postscript_name(font: TTFont) -> str:
    found = font["name"].getDebugName(6) or "Font"
    return "".join(ch for ch in found if ch.isascii() and ch.isalnum() or ch == "-")


def _stream(data: bytes, **entries: Any) -> dict[Any, Any]:
    made: dict[Any, Any] = stream()
    made[name("Bytes")] = zlib.compress(data, 9)
    made[name("Filter")] = name("FlateDecode")
    made[name("Length")] = len(made[name("Bytes")])
    for key, value in entries.items():
        made[name(key)] = value
    return made


def _to_unicode(glyph_characters: dict[int, str]) -> Any:
    pairs = [
        f"<{glyph:04X}> <{character.encode('utf-16-be').hex().upper()}>"
        for glyph, character in sorted(glyph_characters.items())
    ]
    body = "".join(
        f"{len(pairs[i : i + 100])} beginbfchar\n" + "\n".join(pairs[i : i + 100]) + "\nendbfchar\n"
        for i in range(0, len(pairs), 100)
    )
    text = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
    made = _stream(text)
    made[name("DecodedBytes")] = text
    return CMap(made)


def _subset(face: str, characters: frozenset[str]) -> EmbeddedFont:
    data = _subset_bytes(face, characters)
    font = TTFont(io.BytesIO(data))
    order = font.getGlyphOrder()
    index = {glyph: i for i, glyph in enumerate(order)}
    codes: dict[str, int] = {}
    glyph_characters: dict[int, str] = {}
    for code, glyph in sorted(font.getBestCmap().items()):
        ch, glyph_id = chr(code), index[glyph]
        codes[ch] = glyph_id
        # where characters share a glyph (space and no-break space), copying gives the asked-for one
        if glyph_id not in glyph_characters or (ch in characters and glyph_characters[glyph_id] not in characters):
            glyph_characters[glyph_id] = ch
    scale = 1000 / font["head"].unitsPerEm
    head, hhea, os2, post = font["head"], font["hhea"], font["OS/2"], font["post"]
    base = name(f"{_tag(face, characters)}+{_postscript_name(font)}")
    descriptor = {
        name("Type"): name("FontDescriptor"),
        name("FontName"): base,
        name("Flags"): 4,
        name("FontBBox"): [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        name("ItalicAngle"): post.italicAngle,
        name("Ascent"): round(hhea.ascent * scale),
        name("Descent"): round(hhea.descent * scale),
        name("CapHeight"): round((os2.sCapHeight if os2.version >= 2 else hhea.ascent) * scale),
        name("StemV"): 80,
        name("FontFile2"): _stream(data, Length1=len(data)),
    }
    descendant = CIDType0Font()
    descendant[name("Subtype")] = name("CIDFontType2")
    descendant[name("BaseFont")] = base
    descendant[name("CIDSystemInfo")] = {name("Registry"): "Adobe", name("Ordering"): "Identity", name("Supplement"): 0}
    descendant[name("FontDescriptor")] = descriptor
    descendant[name("CIDToGIDMap")] = name("Identity")
    descendant[name("DW")] = 1000
    advances = font["hmtx"].metrics
    descendant[name("W")] = [0, [round(advances[glyph][0] * scale, 2) for glyph in order]]
    made = EmbeddedFont(codes)
    made[name("Subtype")] = name("Type0")
    made[name("BaseFont")] = base
    made[name("Encoding")] = name("Identity-H")
    made[name("DescendantFonts")] = [descendant]
    made[name("ToUnicode")] = _to_unicode(glyph_characters)
    return made


def font_for(face: str, characters: frozenset[str]) -> EmbeddedFont:
    """A borb font of ``face`` (a key of pdf.faces.FACES: "regular", "bold", "cjk"...)
    that draws at least ``characters`` (all in the face), cached by character set."""
    key = (face, characters)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    made = _subset(face, characters | {" "})
    with _lock:
        _cache[key] = made
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return made
