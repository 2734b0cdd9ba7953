"""Text on invoice PDFs, piece by piece: lines broken by measured width, display order of
right-to-left text, the fallback faces, the fonts embedded from them, and the
characters reported as undrawable. Real fonts throughout; no mocks."""

import gc
import unicodedata
import weakref
from datetime import date, datetime
from decimal import Decimal

import arabic_reshaper
import pytest
from bidi import get_display

from pdf import faces, fonts
from pdf.coverage import pdf_warnings, undrawable
from pdf.shaping import shape
from pdf.text import Fonts, Paragraph, Style, TextBox, bidi_levels, display_order, line_height
from projections.views import AccountView, ClientView, InvoiceDetail, LineView
from usecases.wire_names import wire_path

ARABIC = "فاتورة للعميل شركة الأمل للتجارة"
HEBREW = "פיתוח אתרים ואפליקציות"
JAPANESE = "ウェブサイト開発とデザインの作業です。これは長い説明文で、複数の行に折り返されるはずです。"
KOREAN = "웹사이트 개발 및 디자인 작업 한국어 설명입니다"


def width_of(text: str, size: float = 9, weight: str = "regular") -> float:
    """Advances straight from the font files' hmtx, per the face that draws each character."""
    return sum(faces.advance(ch, faces.face_for(ch, weight) or "regular") for ch in text) * size


# --- line breaking ----------------------------------------------------------------------


def test_a_word_wider_than_the_line_breaks_where_the_next_letter_would_not_fit() -> None:
    lines = Paragraph(("W" * 29 + " ") * 4, 9).lines(207)
    per_line = int(207 // (faces.advance("W", "regular") * 9))
    assert [len(line.text) for line in lines] == [per_line, 29 - per_line] * 4
    assert all(line.width <= 207 for line in lines)
    assert all(line.width + faces.advance("W", "regular") * 9 > 207 for line in lines[::2])


def test_lines_break_at_spaces_and_are_as_full_as_the_width_allows() -> None:
    text = "Hello world, this is a longer sentence that will need to wrap somewhere near the end"
    lines = Paragraph(text, 9).lines(100)
    assert " ".join(line.text for line in lines) == text
    for line, following in zip(lines, lines[1:], strict=False):
        assert line.width == pytest.approx(width_of(line.text))
        assert line.width <= 100
        assert line.width + width_of(" " + following.text.split()[0]) > 100  # the next word did not fit


def test_cjk_breaks_between_characters_but_never_before_closing_punctuation() -> None:
    for width in range(30, 220, 7):
        lines = Paragraph(JAPANESE, 9).lines(width)
        assert "".join(line.text for line in lines) == JAPANESE
        assert all(line.width <= width + 0.01 for line in lines)
        assert not any(line.text[0] in "、。" for line in lines[1:])


def test_hangul_comes_from_nanum_gothic_and_breaks_between_syllables() -> None:
    paragraph = Paragraph(KOREAN, 9)
    assert {face for face in paragraph.shaped.faces if face} == {"korean"}
    lines = paragraph.lines(50)
    assert len(lines) > 3 and all(line.width <= 50 for line in lines)
    assert "".join(line.text for line in lines).replace(" ", "") == KOREAN.replace(" ", "")


def test_a_hyphenated_word_breaks_after_a_hyphen() -> None:
    lines = Paragraph("state-of-the-art-engineering", 9).lines(60)
    assert [line.text for line in lines] == ["state-of-the-", "art-", "engineering"]


def test_measured_widths_are_the_widths_the_embedded_fonts_declare() -> None:
    for face, text in (
        ("regular", "Müller — Ελλάδα ₹ 0123456789 שלום"),
        ("bold", "Total €5,500.00"),
        ("cjk", "網站開發服務ウェブ"),
        ("korean", "웹사이트 개발"),
        ("symbols", "🀄🎈"),
    ):
        font = fonts.font_for(face, frozenset(text))
        measured = sum(faces.advance(ch, face) for ch in text) * 1000
        assert font.get_width(text, font_size=1000) == pytest.approx(measured, abs=1), face


# --- faces and fonts --------------------------------------------------------------------


def test_dejavu_draws_arabic_presentation_forms_and_hebrew_in_both_weights() -> None:
    for weight in ("regular", "bold"):
        face = faces.FACES[weight]
        assert all(face.has(ch) for ch in arabic_reshaper.reshape(ARABIC + " لا إلى")), weight
        assert all(face.has(chr(code)) for code in range(0x05D0, 0x05EB)), weight  # the Hebrew letters


def test_bold_falls_back_to_regular_per_character_then_to_the_other_faces() -> None:
    regular, bold = faces.FACES["regular"], faces.FACES["bold"]
    only_regular = [
        chr(code)
        for code in sorted(regular.cmap())
        if not bold.has(chr(code)) and not unicodedata.category(chr(code)).startswith("C")
    ]
    assert only_regular, "DejaVu Sans Bold has every glyph of the regular weight: test with another character"
    assert faces.face_for(only_regular[0], "bold") == "regular"
    assert faces.face_for("A", "bold") == "bold"
    assert [faces.face_for(ch) for ch in "A中ウ한🀄\ue000"] == ["regular", "cjk", "cjk", "korean", "symbols", None]


def test_every_face_embeds_with_a_code_and_a_unicode_value_for_each_character() -> None:
    for face, text in (("regular", "Ab₹ש"), ("cjk", "中文"), ("korean", "한글"), ("symbols", "🀄🎈")):
        font = fonts.font_for(face, frozenset(text))
        assert font["Subtype"] == "Type0" and font["Encoding"] == "Identity-H"
        descendant = font["DescendantFonts"][0]
        assert descendant["Subtype"] == "CIDFontType2"
        assert str(font["BaseFont"])[6] == "+"  # a subset tag
        cmap = font["ToUnicode"]["DecodedBytes"].decode("ascii")
        for ch in text:
            code = font.get_character_code(ch)
            assert code > 0, (face, ch)
            assert f"<{code:04X}> <{ch.encode('utf-16-be').hex().upper()}>" in cmap  # UTF-16, beyond the BMP too


# --- right-to-left ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HEBREW, ARABIC, "שלום abc 123 עולם", "abc שלום def", "مبلغ 1500 ريال", "Invoice שלום 15% done", "ab"],
)
def test_display_order_is_python_bidis_get_display(text: str) -> None:
    shaped = arabic_reshaper.reshape(text)
    for rtl in (False, True):
        levels = bidi_levels(shaped, rtl)
        order = display_order(levels, [False] * len(shaped))
        assert "".join(shaped[i] for i in order) == get_display(shaped, base_dir="R" if rtl else "L")


def test_arabic_is_reshaped_joined_and_laid_out_right_to_left() -> None:
    paragraph = Paragraph(ARABIC, 9)
    assert paragraph.rtl
    (line,) = paragraph.lines(500)
    visual = "".join(run.text for run in line.runs)
    assert visual == get_display(arabic_reshaper.reshape(ARABIC), base_dir="R")
    assert all(0xFE70 <= ord(ch) <= 0xFEFF or ch == " " for ch in visual)  # presentation forms: joined
    assert unicodedata.normalize("NFKC", visual[::-1]) == ARABIC


def test_brackets_are_mirrored_in_right_to_left_text() -> None:
    (line,) = Paragraph("שלום (abc) [עולם]", 9).lines(500)
    assert "".join(run.text for run in line.runs) == "[םלוע] (abc) םולש"


def test_harakat_are_kept_and_drawn_after_their_letter() -> None:
    text = "بِسْمِ"
    (line,) = Paragraph(text, 9).lines(500)
    visual = "".join(run.text for run in line.runs)
    marks = [unicodedata.category(ch) == "Mn" for ch in visual]
    assert sum(marks) == 3 and not marks[0]
    assert all(not (a and b) for a, b in zip(marks, marks[1:], strict=False))  # each mark right after a letter


def test_every_line_of_a_paragraph_takes_the_paragraphs_direction() -> None:
    lines = Paragraph(("שלום abc " * 20).strip(), 9).lines(80)
    assert len(lines) > 3 and all(line.rtl for line in lines)
    lines = Paragraph(("abc שלום " * 20).strip(), 9).lines(80)
    assert not any(line.rtl for line in lines)


def test_a_text_box_caches_on_the_instance_so_it_is_freed() -> None:
    box = TextBox("Some text to lay out " * 5, Style(9), Fonts())
    assert box.get_size((100, 1000)) == box.get_size((100, 1000))
    assert box.get_size((100, 1000))[1] == len(box.lines(100)) * line_height(9)
    ref = weakref.ref(box)
    del box
    gc.collect()
    assert ref() is None  # nothing (such as functools.cache on a method) holds it


# --- undrawable characters --------------------------------------------------------------


def test_undrawable_characters_become_replacements_and_are_reported_once() -> None:
    shaped = shape("a\ue000b\U0010fffd c\ue000")
    assert shaped.text == "a\ufffdb\ufffd c\ufffd"
    assert shaped.missing == ("\ue000", "\U0010fffd")
    # joiners, bidi marks and variation selectors are not drawn, and not missing either
    assert shape("👍\ufe0f a\u200db \u200fשלום").missing == ()
    assert undrawable("ok\nline two \u0378") == ("\u0378",)


NOW = datetime(2024, 6, 1)


def _detail(descriptions: list[str], notes: str | None = None, client_name: str = "Acme") -> InvoiceDetail:
    return InvoiceDetail(
        id="i",
        account_id="a",
        client_id="c",
        invoice_number="INV-1",
        currency="EUR",
        issue_date=date(2024, 6, 1),
        due_date=date(2024, 7, 1),
        subtotal=Decimal("1.00"),
        tax_total=Decimal("0.00"),
        discount_total=Decimal("0.00"),
        total=Decimal("1.00"),
        status="DRAFT",
        created_at=NOW,
        updated_at=NOW,
        client_name=client_name,
        client_email=None,
        line_items=[LineView(d, Decimal(1), Decimal(1), Decimal(0), Decimal(1)) for d in descriptions],
        notes=notes,
        terms=None,
        sent_via_email=False,
        sent_at=None,
        paid_at=None,
        version=1,
    )


def test_pdf_warnings_name_each_field_and_character() -> None:
    detail = _detail(["Fine", "Logo \ue000 here \ue000"], notes="Unassigned \u0378", client_name="中文 한국어 😀")
    assert pdf_warnings(detail, named=wire_path) == [
        "lineItems[1].description: no font draws U+E000 (\ue000)",
        "notes: no font draws U+0378 (\u0378)",
    ]
    client = ClientView("c", "Acme", None, "Street \ue001", None, None, None, True, NOW, NOW)
    account = AccountView("a", "Seller \U000f0000", "pro", "en", NOW, NOW)
    assert pdf_warnings(detail, client, account, wire_path)[2:] == [
        "client.address: no font draws U+E001 (\ue001)",
        "account.name: no font draws U+F0000 (\U000f0000)",
    ]
    assert (
        pdf_warnings(_detail(["Web Development", ARABIC, HEBREW, JAPANESE, KOREAN, "Party 🎉"]), named=wire_path) == []
    )


def test_pdf_warnings_count_what_they_do_not_list() -> None:
    many = "".join(chr(0xE000 + i) for i in range(15))
    (message,) = pdf_warnings(_detail([many]), named=wire_path)
    assert message.endswith("U+E009 (\ue009) and 5 more")
