"""The share page for every reader, in Debian's Chromium (one browser for the module): at 320 px
it is no wider than the screen in English and Spanish, and every header and muted word on it
has 4.5:1 against what it is drawn on (WCAG 2.1 SC 1.4.3), at 320 and 1280 px."""

from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.a11y_support import CHROMIUM, TEXT_BACKDROP, chromium, contrast
from tests.conftest import TestClient
from tests.e2e.test_dashboard_narrow import LINES
from tests.integration.test_share import open_seller
from tests.serving import uvicorn_in_thread
from usecases.accounts import AccountFields

__all__ = ["chromium"]
pytestmark = [
    pytest.mark.sqlite_only,  # a page's width and colours do not depend on the store
    pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed"),
]

# the words drawn smaller or greyer than the body's
QUIET = """backdrop => Array.from(document.querySelectorAll("th, h2, .muted, .kind, .small"))
  .filter(e => e.offsetParent !== null && e.textContent.trim())
  .map(e => [e.textContent.trim().slice(0, 30), getComputedStyle(e).color, new Function("return " + backdrop)()(e)])"""


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_share_page_fits_320_px_and_its_quiet_words_read(
    chromium: Any, served: str, http: TestClient, services: Services, locale: str
) -> None:
    seller = open_seller(http, services, locale, "Ferretería Hermanos Gutiérrez Sociedad Limitada")
    assert seller.tenant is not None
    details = {"taxId": "ESB12345678", "address": "Calle de la Princesa Doña Mercedes 123, 4º izquierda\n28008 Madrid"}
    services.usecases.accounts.update(seller.tenant.account_id, AccountFields(details))
    client = seller.create_client(name="International Business Machines Corporation (Europe)", taxId="GB123456789")
    _, token = seller.issued(client, invoiceNumber="FACT-2024-000123", lineItems=LINES, notes="Gracias")
    problems = []
    for width in (320, 1280):
        context = chromium.new_context(viewport={"width": width, "height": 800}, is_mobile=width < 600)
        page = context.new_page()
        try:
            page.goto(f"{served}/i/{token}")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                problems.append(f"{width} px: the page is {wide} px wide")
            found = page.evaluate(QUIET, TEXT_BACKDROP)
            assert found
            for text, color, backdrop in found:
                if contrast(color, backdrop) < 4.5:
                    problems.append(f"{width} px: {text!r} {color} on {backdrop}: {contrast(color, backdrop):.2f}")
        finally:
            context.close()
    assert problems == [], "\n".join(problems)
