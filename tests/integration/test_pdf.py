"""Invoice PDFs end to end: what the page shows. Real app, real SQLite, real borb, text read back with pypdf."""

import io
import random
import re
import shutil
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pypdf
import pytest
from arabic_reshaper import ArabicReshaper
from bidi import get_display
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from pdf import faces, fonts
from pdf.borb_setup import borb_get_width
from pdf.layout import BOTTOM, GUTTER, LEFT, PAD, render
from tests.pdf_support import (
    Api,
    Drawn,
    connections,
    description_right,
    drawn_text,
    is_loopback,
    make_document,
    make_invoice,
    no_space,
    page_gray,
    pdf_text,
    recording,
    seller_api,
)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    core = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path)}))
    yield core
    core.close()


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    yield from seller_api(services)


@pytest.fixture
def api_es(services: Services) -> Iterator[Api]:
    yield from seller_api(services, "es", "Vendedor SL")


def test_pdf_download_has_headers_metadata_and_the_invoice_text(api: Api) -> None:
    invoice = make_invoice(api)
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="INV-0042.pdf"'
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["etag"].startswith('"')
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in (
        "INV-0042",
        "Müller GmbH",
        "Web Development",
        "$5,500.00",
        "$5,000.00",
        "$500.00",
        "Seller Ltd",
        "Jun 1, 2024",
        "Jul 1, 2024",
        "Thank you for your business",
        "Payment due within 30 days",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    metadata = pypdf.PdfReader(io.BytesIO(response.content)).metadata
    assert metadata is not None
    assert metadata.title == "Invoice INV-0042"
    assert metadata.author == "Seller Ltd"
    assert metadata.creation_date is not None


def test_pdf_passes_a_structural_check(api: Api) -> None:
    invoice = make_invoice(api)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    with pikepdf.open(io.BytesIO(content)) as document:
        assert document.check_pdf_syntax() == []  # qpdf --check, through qpdf's own library


def test_two_hundred_lines_flow_onto_pages_with_header_and_page_numbers(api: Api) -> None:
    lines = [{"description": f"Item number {i:03d}", "quantity": 1, "unitPrice": 10, "taxRate": 0} for i in range(200)]
    invoice = make_invoice(api, lines=lines)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    reader = pypdf.PdfReader(io.BytesIO(content))
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert "Description" in text and "Amount" in text  # the column header, repeated
    text = pdf_text(content)
    assert all(f"Item number {i:03d}" in text for i in range(200))
    assert "$2,000.00" in text


def test_names_in_three_scripts_and_currency_signs_survive(api: Api) -> None:
    lines = [
        {"description": "Συμβουλευτικές υπηρεσίες — Ελλάδα", "quantity": 1, "unitPrice": 100, "taxRate": 0},
        {"description": "Поддержка, Москва", "quantity": 1, "unitPrice": 50, "taxRate": 0},
        {"description": "Fees in € and ₹ and ¥ – “quoted”", "quantity": 1, "unitPrice": 1, "taxRate": 0},
    ]
    invoice = make_invoice(api, client_name="Łódź Sp. z o.o.", lines=lines, currency="INR")
    text = pdf_text(api.get(f"/invoices/{invoice['id']}/pdf").content)
    for expected in (
        "Łódź Sp. z o.o.",
        "Συμβουλευτικές υπηρεσίες — Ελλάδα",
        "Поддержка, Москва",
        "Fees in € and ₹ and ¥ – “quoted”",
        "₹151.00",
    ):
        assert expected in text, expected


def test_chinese_and_a_snowman_are_drawn_by_the_fallback_fonts(api: Api) -> None:
    invoice = make_invoice(api, lines=[{"description": "Tea 茶 and ☃", "quantity": 1, "unitPrice": 5}])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert "Tea 茶 and ☃" in pdf_text(response.content)
    drawn = [piece for page in drawn_text(response.content) for piece in page]
    assert "\ufffd" not in "".join(piece.text for piece in drawn)
    assert all(0 not in piece.glyphs for piece in drawn)  # no .notdef box


def test_spanish_account_gets_spanish_labels_and_number_formats(api_es: Api) -> None:
    invoice = make_invoice(api_es, currency="EUR")
    text = pdf_text(api_es.get(f"/invoices/{invoice['id']}/pdf").content)
    for expected in ("FACTURA", "Facturar a".upper(), "5.500,00 €", "5.000,00 €", "Página 1 de 1", "1 jun 2024"):
        assert expected in text, expected


def test_yen_has_no_minor_unit_on_the_pdf(api: Api) -> None:
    invoice = make_invoice(
        api, currency="JPY", lines=[{"description": "Consulting", "quantity": 1, "unitPrice": 5000, "taxRate": 10}]
    )
    assert "¥5,500" in pdf_text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_rendering_opens_no_connection_beyond_this_machine(services: Services) -> None:
    document = make_document(services, "Offline work")
    connections.clear()
    recording[0] = True
    try:
        for _ in range(3):
            render(document)
    finally:
        recording[0] = False
    assert [address for address in connections if not is_loopback(address)] == []


def test_the_audit_hook_would_see_an_outbound_connection() -> None:
    # The event socket.connect raises, raised by hand: no packet leaves this machine.
    connections.clear()
    recording[0] = True
    try:
        with socket.socket() as probe:
            sys.audit("socket.connect", probe, ("192.0.2.1", 443))
            sys.audit("socket.connect", probe, ("127.0.0.1", 8000))
    finally:
        recording[0] = False
    assert [address for address in connections if not is_loopback(address)] == [("192.0.2.1", 443)]


def test_borbs_licence_reminder_never_reaches_our_output(services: Services, capfd: pytest.CaptureFixture[str]) -> None:
    document = make_document(services, "Reminder check")
    capfd.readouterr()
    for _ in range(70):  # borb prints its reminder every 64 documents
        render(document)
    out, _ = capfd.readouterr()
    assert out == ""


def test_indexed_width_lookup_equals_borbs_own() -> None:
    from borb.pdf.font.adobe_glyph_list import AdobeGlyphList

    text = "Müller — Ελλάδα ₹ 0123456789 Łódź"
    font = fonts.font_for("regular", frozenset(text))
    descendant = font["DescendantFonts"][0]
    for sample in (text, "M", "ü ü", "₹₹ 1"):
        codes = [
            (font.get_character_code(ch), AdobeGlyphList.ADOBE_CHARACTER_TO_CHARACTER_NAME.get(ch, ".notdef"))
            for ch in sample
        ]
        for spacing in (0, 1.5):
            assert descendant.get_width(text=codes, font_size=12, word_spacing=spacing) == borb_get_width(
                descendant, codes, font_size=12, word_spacing=spacing
            )


def test_seller_details_appear_on_the_invoice(services: Services) -> None:
    account = services.execute(
        lambda: services.app.open_account(
            "Taller Müller SL", "pro", "es", {"address": "Calle Mayor 1\n28013 Madrid", "tax_id": "ESB12345674"}
        )
    )
    _, key = services.execute(lambda: services.app.issue_api_key(account, "k"))
    with TestClient(create_app(services.settings, services), raise_server_exceptions=False) as client:
        invoice = make_invoice(Api(client, key), currency="EUR")
        before = Api(client, key).get(f"/invoices/{invoice['id']}/pdf")
        text = pdf_text(before.content)
        for expected in ("Taller Müller SL", "Calle Mayor 1", "28013 Madrid", "NIF: ESB12345674"):
            assert expected in text, expected
        services.execute(lambda: services.app.update_account(account, {"phone": "+34 600 000 000"}))
        after = Api(client, key).get(f"/invoices/{invoice['id']}/pdf")
        assert "+34 600 000 000" in pdf_text(after.content)
        assert after.headers["etag"] != before.headers["etag"]


def test_every_glyph_advances_by_its_width_in_the_font() -> None:
    # borb left glyphs without an Adobe name (₹ is 'uni20B9') at width 0: drawn on top of the next.
    from fontTools.ttLib import TTFont

    source = TTFont(str(fonts.FILES["regular"]))
    units, advances, cmap = source["head"].unitsPerEm, source["hmtx"].metrics, source.getBestCmap()
    for ch in "₹€Ελλάδα—Łódź":
        expected = advances[cmap[ord(ch)]][0] / units * 1000
        font = fonts.font_for("regular", frozenset(ch))
        assert font.get_width(ch, font_size=1000) == pytest.approx(expected, abs=1), ch


def test_rupee_sign_survives_on_an_otherwise_ascii_invoice(api: Api) -> None:
    invoice = make_invoice(
        api,
        client_name="Acme",
        currency="INR",
        lines=[{"description": "Consulting", "quantity": 1, "unitPrice": 1000, "taxRate": 0}],
    )
    assert "₹1,000.00" in pdf_text(api.get(f"/invoices/{invoice['id']}/pdf").content)


# --- text that continues, stays in its column, and is drawn in every script -------------

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (Debian package poppler-utils) is not installed"
)


def _words(seed: int, characters: int) -> str:
    """Prose-like text of words of 1 to 14 letters, exactly ``characters`` long."""
    rng = random.Random(seed)
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < characters:
        words.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyzäöü") for _ in range(rng.randint(1, 14))))
    return " ".join(words)[:characters].strip()


def _body(content: bytes) -> list[Drawn]:
    """Everything drawn above the footers, except the continuation headings."""
    return [
        piece for page in drawn_text(content) for piece in page if piece.y > BOTTOM and "(continued)" not in piece.text
    ]


def test_long_notes_and_terms_continue_on_the_next_page_with_every_character(api: Api) -> None:
    notes, terms = _words(1, 5000), _words(2, 5000)
    invoice = make_invoice(api, notes=notes, terms=terms)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    pages = drawn_text(content)
    assert len(pages) >= 3  # 10,000 characters at 9 pt do not fit on the first page and one more
    for number, page in enumerate(pages, start=1):
        footer = {piece.text for piece in page if piece.y < BOTTOM}
        assert footer == {f"Page {number} of {len(pages)}", "INV-0042"}
        assert all(piece.y - 0.25 * piece.size >= BOTTOM for piece in page if piece.y > BOTTOM)  # above the footer
    body = no_space("".join(piece.text for piece in _body(content)))
    assert no_space(notes) in body and no_space(terms) in body
    # and through pypdf's own extraction, once each page's footer and heading are taken out
    reader = pypdf.PdfReader(io.BytesIO(content))
    extracted = "".join(
        page.extract_text()
        .replace("Seller Ltd — INVOICE INV-0042 (continued)", "")
        .replace(f"Page {number} of {len(pages)}", "")
        .replace("INV-0042", "")
        for number, page in enumerate(reader.pages, start=1)
    )
    assert no_space(notes) in no_space(extracted) and no_space(terms) in no_space(extracted)


def test_wide_letters_stay_inside_the_description_column_and_all_are_drawn(api: Api, services: Services) -> None:
    description = ("W" * 29 + " ") * 20
    invoice = make_invoice(api, lines=[{"description": description, "quantity": 1, "unitPrice": 1, "taxRate": 0}])
    end_of_description = description_right(services, invoice["id"])
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    pieces = [piece for piece in drawn_text(content)[0] if piece.text and set(piece.text) == {"W"}]
    advance = faces.advance("W", "regular") * 9
    assert sum(len(piece.text) for piece in pieces) == description.count("W")
    assert all(
        piece.x >= LEFT + PAD and piece.x + len(piece.text) * advance <= end_of_description + 0.01 for piece in pieces
    )
    assert no_space(description) in no_space(pdf_text(content))
    if shutil.which("pdftoppm"):
        # no ink between the description column and the quantity, over the whole row
        gray = page_gray(content)
        top, bottom = max(piece.y for piece in pieces) + 9, min(piece.y for piece in pieces) - 3
        assert gray.ink(end_of_description + 1, bottom, end_of_description + PAD + GUTTER - 1, top) == 0
        assert gray.ink(LEFT + PAD, bottom, end_of_description, top) > 1000


def test_a_line_item_taller_than_a_page_continues_on_the_next_pages_under_the_column_header(api: Api) -> None:
    description = "\n".join(f"{i:03d}" for i in range(250))  # 999 characters, 250 lines: several pages tall
    lines = [
        {"description": "First", "quantity": 1, "unitPrice": 1, "taxRate": 0},
        {"description": description, "quantity": 3, "unitPrice": 7, "taxRate": 0},
        {"description": "Last", "quantity": 1, "unitPrice": 1, "taxRate": 0},
    ]
    content = api.get(f"/invoices/{make_invoice(api, lines=lines)['id']}/pdf").content
    pages = drawn_text(content)
    assert len(pages) >= 4
    for page in pages:
        texts = [piece.text for piece in page]
        assert "Description" in texts and "Amount" in texts  # the column header, on every page
        assert all(piece.y >= BOTTOM for piece in page if piece.y > 40)
    numbers = [piece.text for piece in _body(content) if re.fullmatch(r"[0-9]{3}", piece.text)]
    assert numbers == [f"{i:03d}" for i in range(250)]  # each line once, in order
    assert [piece.text for page in pages for piece in page].count("$21.00") == 1  # the row's numbers, once


SCRIPTS = {
    "arabic": "تطوير مواقع الويب",
    "hebrew": "פיתוח אתרים ואפליקציות",
    "chinese": "网站开发与设计服务",
    "japanese": "ウェブサイト開発とデザイン",
    "korean": "웹사이트 개발 및 디자인",
    "emoji": "Party 🎉 supplies 🎈 coffee ☕ 😀",
}
RIGHT_TO_LEFT = {"arabic", "hebrew"}


def _description_row(content: bytes) -> list[Drawn]:
    """What is drawn on the first page in the row under the column header (one line high)."""
    page = drawn_text(content)[0]
    header = next(piece for piece in page if piece.text == "Description")
    return [piece for piece in page if header.y - 25 < piece.y < header.y - 5]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_is_drawn_in_display_order(api: Api, services: Services, script: str) -> None:
    text = SCRIPTS[script]
    lines = [{"description": text, "quantity": 1, "unitPrice": 1, "taxRate": 0}]
    invoice = make_invoice(api, client_name="Acme", lines=lines)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    end_of_description = description_right(services, invoice["id"])
    # every character, NFKC-normalised (Arabic is drawn in presentation forms), with
    # whitespace ignored: pypdf turns each right-to-left run back into logical order
    extracted = Counter(no_space(pdf_text(content)))
    assert not Counter(no_space(text)) - extracted
    # the row as drawn, left to right: the text in display order, no .notdef, no U+FFFD
    row = sorted(
        (piece for piece in _description_row(content) if piece.x < end_of_description),
        key=lambda piece: piece.x,
    )
    visual = "".join(piece.text for piece in row)
    shaped = ArabicReshaper(configuration={"delete_harakat": False}).reshape(text)
    assert visual == (get_display(shaped, base_dir="R") if script in RIGHT_TO_LEFT else text)
    assert all(0 not in piece.glyphs for piece in row)
    # right-to-left text ends at the column's right edge
    drawn_end = row[-1].x + sum(faces.advance(ch, faces.face_for(ch) or "regular") for ch in row[-1].text) * 9
    assert (drawn_end == pytest.approx(end_of_description, abs=0.05)) == (script in RIGHT_TO_LEFT)


@needs_pdftoppm
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_puts_ink_where_its_text_is(api: Api, services: Services, script: str) -> None:
    lines = [{"description": SCRIPTS[script], "quantity": 1, "unitPrice": 1, "taxRate": 0}]
    invoice = make_invoice(api, client_name="Acme", lines=lines)
    content = api.get(f"/invoices/{invoice['id']}/pdf").content
    end_of_description = description_right(services, invoice["id"])
    row = [piece for piece in _description_row(content) if piece.x < end_of_description]
    baseline = row[0].y
    gray = page_gray(content)
    start = min(piece.x for piece in row)
    assert gray.ink(start, baseline - 3, end_of_description, baseline + 9) > 150
    assert gray.ink(LEFT + PAD, baseline - 3, start - 1, baseline + 9) == 0  # nothing before the text
    assert gray.ink(LEFT + PAD, baseline + 10, end_of_description, baseline + 14) == 0  # nor above it


def test_pdf_warnings_list_private_use_and_unassigned_characters(api: Api) -> None:
    lines = [
        {"description": "Logo \ue000 and \u0378", "quantity": 1, "unitPrice": 1},
        {"description": "Web Development 网站 웹 🎉", "quantity": 1, "unitPrice": 1},
    ]
    invoice = make_invoice(api, lines=lines)
    detail = api.get(f"/invoices/{invoice['id']}").json()["data"]
    assert detail["pdfWarnings"] == ["lineItems[0].description: no font draws U+E000 (\ue000), U+0378 (\u0378)"]
    drawn = "".join(piece.text for piece in drawn_text(api.get(f"/invoices/{invoice['id']}/pdf").content)[0])
    assert "Logo \ufffd and \ufffd" in drawn
    assert all("pdfWarnings" not in item for item in api.get("/invoices").json()["data"])


def test_pdf_warnings_are_empty_for_a_normal_invoice(api: Api) -> None:
    invoice = make_invoice(api)
    assert api.get(f"/invoices/{invoice['id']}").json()["data"]["pdfWarnings"] == []
