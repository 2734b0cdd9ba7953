"""Narrow screens in a real browser (Debian's Chromium through Playwright, the app under
uvicorn on loopback): the share page fits a phone of 390 px and one of 320 px in English and
in Spanish, with every column of a discounted invoice, two tax rates and long words; and the
curl line shown with a new key wraps only at its spaces (a word broken in two reads as two).
One browser for the module."""

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from simplejson import RawJSON

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TestClient
from tests.dashboard_support import PASSWORD, make_owner
from tests.e2e.test_dashboard_browser import Watch, shoot
from tests.integration.test_share import open_seller
from tests.serving import uvicorn_in_thread
from usecases.accounts import AccountFields

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.sqlite_only,  # a page's width does not depend on the store
    pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed"),
]
PHONES = (390, 320)
# against the screen's width, not window.innerWidth: a mobile browser zooms out to show a page
# wider than the screen, and the window grows with it
FITS = "width => document.documentElement.scrollWidth <= width"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}"


def phone(chromium: Any, width: int, watch: Watch) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True)
    page = watch.attach(context.new_page())
    page.set_default_timeout(20_000)
    return page


LINES = [
    {
        "description": "Diseño y desarrollo de la tienda en línea (www.ferreteria-hermanos-gutierrez.example)",
        "quantity": RawJSON("12.5"),
        "unitPrice": RawJSON("1250.00"),
        "discountRate": 15,
        "taxRate": 21,
    },
    {"description": "Alojamiento", "quantity": 1, "unitPrice": RawJSON("99999.99"), "taxRate": 10},
    {"description": "Libros", "quantity": 3, "unitPrice": RawJSON("19.90"), "taxRate": 4},
]


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_share_page_fits_a_phone(
    chromium: Any, served: str, http: TestClient, services: Services, locale: str
) -> None:
    from playwright.sync_api import expect

    seller = open_seller(http, services, locale, "Ferretería Hermanos Gutiérrez Sociedad Limitada")
    assert seller.tenant is not None
    details = {"taxId": "ESB12345678", "address": "Calle de la Princesa Doña Mercedes 123, 4º izquierda\n28008 Madrid"}
    services.usecases.accounts.update(seller.tenant.account_id, AccountFields(details))
    client = seller.create_client(
        name="International Business Machines Corporation (Europe)",
        email="accounts.payable.department@international-business-machines.example",
        address="Unit 42, Very Long Industrial Estate Name\nLondon SW1A 2AA\nUnited Kingdom",
        taxId="GB123456789",
    )
    invoice_id, token = seller.issued(client, invoiceNumber="FACT-2024-000123", lineItems=LINES, notes="Gracias")
    seller.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": RawJSON("1000.00")})
    watch = Watch(served)
    for width in PHONES:
        page = phone(chromium, width, watch)
        page.goto(f"{served}/i/{token}")
        expect(page.get_by_role("heading", name="FACT-2024-000123")).to_be_visible()
        assert page.evaluate(FITS, width), (locale, width, page.evaluate("document.documentElement.scrollWidth"))
        if width == 390:
            shoot(page, f"share-phone-{locale}.png", full=True)
        page.context.close()
    assert watch.elsewhere == [] and watch.problems == [], (watch.elsewhere, watch.problems)


# Where each shown line of an element's text begins (its index in the text).
LINE_STARTS = """element => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT), range = document.createRange();
  const starts = [];
  let text = "", top = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.textContent.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rects = range.getClientRects(), character = node.textContent[i];
      if (rects.length && character !== " ") {
        const here = Math.round(rects[0].top);
        if (top !== null && here > top + 2) starts.push(text.length);
        top = here;
      }
      text += character;
    }
  }
  return {text, starts};
}"""


def test_the_curl_line_wraps_only_at_its_spaces(chromium: Any, served: str, services: Services) -> None:
    owner = make_owner(services)
    watch = Watch(served)
    for width in (*PHONES, 1280):
        page = phone(chromium, width, watch)
        page.goto(f"{served}/dashboard/sign-in")
        page.get_by_label("Email").fill(owner.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="API keys").click()
        page.get_by_label("Label").fill("online shop")
        page.get_by_role("button", name="Create key").click()
        found = page.locator("#curl-line").evaluate(LINE_STARTS)
        text, starts = found["text"], found["starts"]
        assert text.startswith("curl -H ")
        assert all(text[i - 1] == " " for i in starts), (width, [text[i - 5 : i + 5] for i in starts])
        if width < 1280:
            assert starts, "the line fits a phone only wrapped"
        assert page.evaluate(FITS, width), width
        page.context.close()
    assert watch.elsewhere == [] and watch.problems == [], (watch.elsewhere, watch.problems)
