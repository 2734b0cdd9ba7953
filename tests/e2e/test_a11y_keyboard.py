"""The keyboard on the invoice page and the focus everywhere, in Debian's Chromium (one browser
for the module) against the real app under uvicorn on loopback.

- "Send it by email" is a few Tab presses from the top of a draft's page: the actions come
  before the PDF preview (a PDF viewer holds a few dozen tab stops of its own);
- after a submit the page comes back with the focus on what happened (the notice), not on top;
- in Spanish at 1280 px the lines table fits its card, the Amount column whole;
- the focus ring has 3:1 against what surrounds it (WCAG 2.1 SC 1.4.11), on :focus-visible,
  on the dashboard and the share page.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from simplejson import RawJSON

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.a11y_support import BACKDROP, CHROMIUM, FOCUS_RING, chromium, contrast
from tests.conftest import Tenant, TestClient
from tests.dashboard_support import PASSWORD, Owner, make_owner
from tests.integration.test_share import Seller
from tests.serving import uvicorn_in_thread

__all__ = ["chromium"]
pytestmark = [
    pytest.mark.sqlite_only,  # where the focus goes does not depend on the store
    pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed"),
]
MOST_TABS = 15  # the skip link, the bar (brand, four sections, language, sign out), the toolbar...

LONG_LINES = [
    {
        "description": "Diseño y desarrollo de la tienda en línea",
        "quantity": RawJSON("12.5"),
        "unitPrice": RawJSON("1250.00"),
        "discountRate": 15,
        "taxRate": 21,
    },
    {"description": "Alojamiento", "quantity": 1, "unitPrice": RawJSON("99999.99"), "taxRate": 10},
]


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}"


def _seller(http: TestClient, services: Services, owner: Owner) -> Seller:
    key_id, key = services.execute(lambda: services.app.issue_api_key(owner.account_id, "shop"))
    return Seller(http, Tenant(owner.account_id, key_id, key), services)


def _signed_in(chromium: Any, served: str, owner: Owner, width: int = 1280, locale: str = "en-US") -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{served}/dashboard/sign-in")
    page.locator("#f-email").fill(owner.email)
    page.locator("#f-password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form button.primary").click()
    return page


def test_send_by_email_is_a_few_tabs_away_and_a_submit_focuses_its_result(
    chromium: Any, served: str, http: TestClient, services: Services
) -> None:
    owner = make_owner(services)
    seller = _seller(http, services, owner)
    client = seller.create_client(name="Acme Corp", email="billing@acme.test")
    draft = seller.create_invoice(client["id"], lineItems=LONG_LINES)["id"]
    page = _signed_in(chromium, served, owner)
    try:
        page.goto(f"{served}/dashboard/invoices/{draft}")
        presses = 0
        while page.evaluate("document.activeElement.id") != "f-email":
            where = page.evaluate("document.activeElement.outerHTML")[:200]
            assert presses < MOST_TABS, f"not reached in {MOST_TABS} presses: {where}"
            page.keyboard.press("Tab")
            presses += 1
        assert page.evaluate("document.activeElement.labels[0].textContent") == "Send it by email"
        # the preview comes after every action in the tab order
        after = page.evaluate(
            "() => !!(document.querySelector('#send-form')"
            ".compareDocumentPosition(document.querySelector('iframe.pdf')) & Node.DOCUMENT_POSITION_FOLLOWING)"
        )
        assert after

        # sent with the keyboard: the page comes back with the focus on what happened
        page.locator("#send-button").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.className") == "notice"
        assert page.evaluate("document.activeElement.textContent").strip()

        # a refused payment: the focus on the list of problems
        page.locator("#f-amount").fill("0")
        page.evaluate("document.querySelector('#payment-form').noValidate = true")
        with page.expect_navigation():
            page.locator("#pay-button").click()
        assert page.evaluate("document.activeElement.id") == "problems"
    finally:
        page.context.close()


def test_the_lines_fit_in_spanish_at_1280(chromium: Any, served: str, http: TestClient, services: Services) -> None:
    owner = make_owner(services, locale="es")
    seller = _seller(http, services, owner)
    client = seller.create_client(name="Acme Corp", email="billing@acme.test")
    draft = seller.create_invoice(client["id"], lineItems=LONG_LINES, currency="EUR")["id"]
    page = _signed_in(chromium, served, owner, locale="es-ES")
    try:
        page.goto(f"{served}/dashboard/invoices/{draft}")
        assert page.locator("#lines-title").text_content() == "Líneas"
        wrap = page.locator("section[aria-labelledby=lines-title] .table-wrap")
        sizes = wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], sizes  # no sideways scroll
        amount = page.locator("section[aria-labelledby=lines-title] tbody tr td:last-child").first
        inside = wrap.evaluate(
            "(wrap, cell) => cell.getBoundingClientRect().right <= wrap.getBoundingClientRect().right + 0.5",
            amount.element_handle(),
        )
        assert inside, "the Amount column is cut"
    finally:
        page.context.close()


def _ring_problems(page: Any, where: str) -> list[str]:
    """Tab through the page; each focused control's ring: solid, at least 2 px, 3:1 against the
    backdrop it is drawn on, and set apart from the control's own background by 3:1 (by the
    ring's colour itself, or by the backdrop showing through the ring's offset)."""
    problems = []
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: set[str] = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        # the end of the page, or the PDF viewer (its controls are the browser's, not the page's)
        if ring["tag"] in ("BODY", "IFRAME") or ring["path"] in seen:
            break
        seen.add(ring["path"])
        name = f"{where}: {ring['tag']}#{ring['id']}.{ring['cls']}"
        if not ring["visible"] or ring["outlineStyle"] in ("none", "hidden") or ring["outlineWidth"] < 2:
            problems.append(f"{name}: no ring ({ring})")
            continue
        backdrop = page.evaluate(f"() => ({BACKDROP})(document.activeElement)")
        if contrast(ring["outlineColor"], backdrop) < 3:
            ratio = contrast(ring["outlineColor"], backdrop)
            problems.append(f"{name}: ring {ring['outlineColor']} on {backdrop}: {ratio:.2f}")
        own = ring["background"]
        if own not in ("rgba(0, 0, 0, 0)", "transparent"):
            apart = max(contrast(ring["outlineColor"], own), contrast(backdrop, own) if ring["offset"] >= 1 else 0)
            if apart < 3:
                problems.append(f"{name}: ring {ring['outlineColor']} beside {own}: {apart:.2f}")
    return problems


def test_the_focus_ring_is_seen_on_every_control(
    chromium: Any, served: str, http: TestClient, services: Services
) -> None:
    owner = make_owner(services)
    seller = _seller(http, services, owner)
    client = seller.create_client(name="Acme Corp", email="billing@acme.test")
    draft = seller.create_invoice(client["id"], lineItems=LONG_LINES)["id"]
    _, token = seller.issued(client, lineItems=LONG_LINES)
    page = _signed_in(chromium, served, owner)
    problems: list[str] = []
    try:
        for path in ("/dashboard/invoices", f"/dashboard/invoices/{draft}", "/dashboard/settings", f"/i/{token}"):
            page.goto(f"{served}{path}")
            problems += _ring_problems(page, path)
    finally:
        page.context.close()
    assert problems == [], "\n".join(problems)


LOOK = "e => { const c = getComputedStyle(e); return [c.borderTopColor, c.borderTopWidth, c.backgroundColor]; }"


def test_reversing_a_payment_looks_like_a_button(
    chromium: Any, served: str, http: TestClient, services: Services
) -> None:
    """The Reverse control (a summary opening its warning) has the frame of every secondary
    button, not the page's white around a word."""
    owner = make_owner(services)
    seller = _seller(http, services, owner)
    invoice, _ = seller.issued(seller.create_client(name="Acme Corp"), lineItems=LONG_LINES)
    assert seller.post(f"/api/v1/invoices/{invoice}/payments", {"amount": RawJSON("10.00")}).status_code == 201
    page = _signed_in(chromium, served, owner)
    try:
        page.goto(f"{served}/dashboard/invoices/{invoice}")
        reverse = page.locator("details.confirm > summary.secondary").first.evaluate(LOOK)
        secondary = page.locator("#sign-out").evaluate(LOOK)
        assert reverse == secondary, (reverse, secondary)
        assert contrast(reverse[0], "rgb(255, 255, 255)") >= 3  # a control's edge (WCAG 2.1 SC 1.4.11)
    finally:
        page.context.close()
