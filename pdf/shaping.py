"""What is drawn for a piece of text: characters in logical order, each with its face.

Shared by the layout (pdf/text.py) and the API's ``pdfWarnings`` (pdf/coverage.py), so
a warning names exactly the characters the PDF shows as U+FFFD. No borb here.

- NFC first, so a letter typed as base + combining accent uses the font's precomposed
  glyph (there is no mark positioning without OpenType layout).
- Arabic is reshaped into presentation forms (contextual forms and lam-alef ligatures)
  with ``arabic_reshaper``; a form no font has falls back to its base letters, unjoined.
  Harakat are kept (the reshaper deletes them by default).
- Controls and format characters (ZWJ, bidi marks, variation selectors...) are kept for
  bidi and shaping but are never drawn nor reported.
- Spaces no font has (U+3000 in a Latin-only face chain, say) are drawn as spaces.
- Anything else no face draws becomes U+FFFD and is reported.
"""

import unicodedata
from dataclasses import dataclass

from arabic_reshaper import ArabicReshaper  # type: ignore[import-untyped]

from pdf.faces import FACES, REPLACEMENT, face_for

_reshaper = ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})
_ARABIC = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF))
_PRESENTATION = ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_VARIATION = ((0x180B, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_NO_BREAK_SPACES = "\u00a0\u2007\u202f"


def _within(character: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(character)
    return any(low <= code <= high for low, high in ranges)


def is_ignorable(character: str) -> bool:
    """Never drawn: controls, format characters, variation selectors, the grapheme joiner."""
    return unicodedata.category(character) in ("Cc", "Cf") or character == "\u034f" or _within(character, _VARIATION)


def is_space(character: str) -> bool:
    """A space a line may break after (no-break spaces are not)."""
    return unicodedata.category(character) == "Zs" and character not in _NO_BREAK_SPACES


@dataclass(frozen=True)
class Shaped:
    text: str  # what is drawn, in logical order (may differ in length from the input)
    faces: tuple[str | None, ...]  # per character; None: not drawn
    missing: tuple[str, ...]  # characters of the input no face draws, in order, once each


def shape(text: str, weight: str = "regular") -> Shaped:
    """The characters drawn for ``text`` (one paragraph, no line breaks) and their faces."""
    text = unicodedata.normalize("NFC", text.replace("\t", " "))
    if any(_within(ch, _ARABIC) for ch in text):
        text = _reshaper.reshape(text)
    drawn: list[str] = []
    faces: list[str | None] = []
    missing: dict[str, None] = {}
    for ch in text:
        if is_ignorable(ch):
            drawn.append(ch)
            faces.append(None)
            continue
        face = face_for(ch, weight)
        if face is not None and is_space(ch) and faces and faces[-1] not in (None, face) and FACES[faces[-1]].has(ch):
            face = faces[-1]  # a space inside CJK or hangul text: one run, one Chunk, not three
        if face is not None:
            drawn.append(ch)
            faces.append(face)
            continue
        if unicodedata.category(ch) in ("Zs", "Zl", "Zp"):
            drawn.append(" ")
            faces.append(face_for(" ", weight))
            continue
        if _within(ch, _PRESENTATION):
            base = unicodedata.normalize("NFKC", ch)
            if all(face_for(b, weight) for b in base):
                drawn.extend(base)
                faces.extend(face_for(b, weight) for b in base)
                continue
            ch = base if len(base) == 1 else ch
        missing[ch] = None
        drawn.append(REPLACEMENT)
        faces.append(face_for(REPLACEMENT, weight))
    return Shaped("".join(drawn), tuple(faces), tuple(missing))
