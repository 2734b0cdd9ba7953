"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against the
real app under uvicorn on a loopback port.

One owner signs in (by keyboard), creates an API key and uses it against the API, adds a
client and an invoice with three lines while the totals follow the typing, sends it,
opens its share link, records a partial and a full payment, reads the history and an
earlier version, switches to Spanish, looks at it on a phone, and signs out; a second
account's owner sees none of it. No script error, no Content-Security-Policy violation,
nothing fetched from anywhere but the service.

Screenshots of the main pages are written to docs/screenshots/ (the README shows two);
what changes from run to run (keys, ids, times of day) is masked, so a run on the same
machine writes the same pictures. CLEVERINVO_SCREENSHOTS=DIR writes them elsewhere.
"""

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from PIL import Image, ImageChops

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock
from tests.dashboard_support import PASSWORD, make_owner
from tests.serving import uvicorn_in_thread

CHROMIUM = shutil.which("chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CLEVERINVO_SCREENSHOTS") or ROOT / "docs" / "screenshots")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed")


@pytest.fixture
def one_backend(backend: str) -> None:
    """One backend is enough for a browser (the HTTP tests run both): skipped before any
    store is made."""
    if backend != "sqlite":
        pytest.skip("the browser runs on SQLite; tests/integration/test_dashboard.py covers PostgreSQL")


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}"


class Watch:
    """What a page did that it should not: script errors, refused resources, other hosts."""

    def __init__(self, origin: str) -> None:
        self.origin = urlsplit(origin).netloc
        self.problems: list[str] = []
        self.elsewhere: list[str] = []

    def attach(self, page: Any) -> Any:
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("request", self._request)
        return page

    def _request(self, request: Any) -> None:
        """A request over the network to any host but the service's (the browser's own PDF
        viewer, a chrome-extension:// page, is the browser's, not a fetch)."""
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.origin:
            self.elsewhere.append(request.url)


def shoot(page: Any, name: str, *masked: str, full: bool = True) -> None:
    """A screenshot, re-encoded by Pillow so the same pixels are always the same bytes
    (Chromium's own PNG encoding is not), and left alone when no more than a few hundred
    pixels changed (Chromium's anti-aliasing wobbles by a pixel now and then)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name}: wider than the screen"
    masks = [page.locator(selector) for selector in masked]
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring caught mid-paint
    # the text a mask hides is made digits (all of one width) of its length, so the layout
    # around it is the same on every run (a random key prefix moved a column by a few pixels)
    page.evaluate(
        "selectors => selectors.forEach(s => document.querySelectorAll(s).forEach(e => {"
        " if (e.children.length === 0) { e.textContent = '0'.repeat(e.textContent.length); } }))",
        list(masked),
    )
    shot = Image.open(io.BytesIO(page.screenshot(full_page=full, mask=masks, mask_color="#e5e7eb"))).convert("RGB")
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / name
    if target.exists():
        kept = Image.open(target).convert("RGB")
        if kept.size == shot.size:
            changed = ImageChops.difference(kept, shot).convert("L").point(lambda v: 255 if v else 0).histogram()[255]
            if changed <= 300:
                return
    encoded = io.BytesIO()
    shot.save(encoded, format="PNG", optimize=True)
    target.write_bytes(encoded.getvalue())


def test_an_owner_runs_their_invoicing_in_the_browser(
    one_backend: None, served: str, services: Services, clock: FakeClock
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ana = make_owner(services, "ana@example.com", plan="pro", name="Ana's Studio")
    bob = make_owner(services, "bob@example.com", plan="pro", name="Bob's Bikes")
    services.usecases.accounts.update(
        ana.account_id, _fields(address="Calle Mayor 1\n28013 Madrid", email="hola@ana.test", taxId="ES-B12345678")
    )
    watch = Watch(served)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900},
                permissions=["clipboard-read", "clipboard-write"],
                locale="en-US",
            )
            page = watch.attach(context.new_page())
            page.set_default_timeout(20_000)

            # signed out: the dashboard asks to sign in, and it is done with the keyboard alone
            page.goto(f"{served}/dashboard")
            expect(page).to_have_url(f"{served}/dashboard/sign-in?next=%2Fdashboard%2Finvoices")
            expect(page.get_by_label("Email")).to_be_focused()
            page.keyboard.type(ana.email)
            page.keyboard.press("Tab")
            ring = "getComputedStyle(document.activeElement).outlineStyle"
            assert page.evaluate(ring) == "solid"  # where the keyboard is, is seen
            page.keyboard.type(PASSWORD)
            shoot(page, "sign-in.png", full=False)
            page.get_by_label("Password").focus()  # where the typing left it (the screenshot took the focus)
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Invoices", exact=True)).to_be_visible()

            # an API key, shown once, copied, and working against the API
            page.get_by_role("link", name="API keys").click()
            page.get_by_label("Label").fill("online shop")
            page.get_by_role("button", name="Create key").click()
            key = page.locator("#new-key").inner_text()
            assert key.startswith("cinv_")
            expect(page.locator("#curl-line")).to_contain_text(
                f'curl -H "Authorization: Bearer {key}" {served}/api/v1/clients'
            )
            page.get_by_role("button", name="Copy key").click()
            expect(page.locator(".copied")).to_have_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == key
            shoot(page, "api-keys.png", "#new-key", "#curl-line", "#curl-line span", "time", "td code")
            answer = httpx.get(f"{served}/api/v1/clients", headers={"Authorization": f"Bearer {key}"}, timeout=30)
            assert answer.status_code == 200 and answer.json()["data"] == []

            # a client
            page.get_by_role("link", name="Clients", exact=True).click()
            expect(page.locator("#client-usage")).to_contain_text("0 of 500 active clients")
            page.get_by_role("link", name="New client").click()
            page.get_by_label("Name").fill("Acme Corp")
            page.get_by_label("Email").fill("billing@acme.test")
            page.get_by_label("Address").fill("123 Main St\nNew York, NY 10001")
            page.get_by_role("button", name="Add client").click()
            expect(page.locator(".notice")).to_have_text("Client added.")

            # an invoice with three lines; the totals follow the typing
            page.get_by_role("link", name="New invoice for this client").click()
            expect(page.get_by_label("Client", exact=False).first).to_have_value(_selected(page))
            _fill_line(page, 0, "Website design", "10", "50", "10", "21")
            expect(page.locator("[data-total=total]")).to_have_text("$544.50")
            page.get_by_role("button", name="+ Add line").click()
            expect(page.locator("#f-lineItems\\[1\\]\\.description")).to_be_focused()
            _fill_line(page, 1, "Hosting (a year)", "1", "120", "", "21")
            page.get_by_role("button", name="+ Add line").click()
            _fill_line(page, 2, "Support hours", "2.5", "40", "", "10")
            expect(page.locator("[data-total=total]")).to_have_text("$799.70")
            expect(page.locator("[data-total=discount]")).to_have_text("-$50.00")
            expect(page.locator("[data-total=net]")).to_have_text("$670.00")  # the lines' amounts, after discounts
            expect(page.locator("[data-line-amount]").first).to_have_text("$450.00")
            tax = page.locator("[data-tax]", has_text="Tax 21%")  # a dt/dd group of the totals list itself
            expect(tax).to_have_text("Tax 21% on $570.00$119.70")
            page.get_by_role("button", name="+ Add line").click()  # a fourth line, then taken out again
            _fill_line(page, 3, "Mistake", "1", "1000", "", "")
            expect(page.locator("[data-total=total]")).to_have_text("$1,799.70")
            page.get_by_role("button", name="Remove line 4").click()
            expect(page.locator("[data-total=total]")).to_have_text("$799.70")
            page.get_by_label("Notes").fill("Thank you for your business!")
            page.get_by_label("Terms").fill("Payment within 30 days.")
            shoot(page, "invoice-form.png")
            with page.expect_response(lambda r: r.url.endswith("/pdf")) as preview:  # the PDF, in the page
                page.get_by_role("button", name="Save draft").last.click()
            expect(page.locator(".notice")).to_have_text("Draft saved.")
            assert preview.value.status == 200 and preview.value.headers["content-type"] == "application/pdf"
            assert preview.value.frame.parent_frame == page.main_frame  # framed by the invoice page itself
            expect(page.locator("#invoice-total")).to_have_text("$799.70")
            invoice_url = page.url.split("?")[0]

            # sent without email; the link copied for the client, who opens it in a browser of their own
            page.get_by_role("button", name="Send invoice").click()
            expect(page.locator(".notice")).to_have_text("Invoice sent.")
            page.get_by_role("button", name="Copy link").click()
            share = page.evaluate("navigator.clipboard.readText()")
            assert share == page.locator("#share-link").inner_text() and share.startswith(f"{served}/i/")
            client_browser = browser.new_context()
            shared = watch.attach(client_browser.new_page())
            shared.goto(share)
            expect(shared.get_by_role("heading", name="INV-0001")).to_be_visible()
            client_browser.close()
            page.reload()
            expect(page.get_by_role("heading", name="Invoice INV-0001 Viewed")).to_be_visible()

            # a partial payment, then the rest
            clock.advance(days=2)
            page.get_by_label("Amount").fill("300")
            page.get_by_label("Method").fill("Bank transfer")
            # a second click while the first is on its way (its answer held back here) sends nothing more
            held: list[Any] = []
            posted: list[str] = []
            page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and "/payments" in r.url else None)
            page.route("**/payments", lambda route: held.append(route))
            page.get_by_role("button", name="Record payment").evaluate(
                "button => { button.click(); setTimeout(() => button.click(), 300); }"
            )  # (a click of Playwright's would wait for the held answer)
            page.wait_for_timeout(800)
            assert len(posted) == 1 and len(held) == 1, posted
            held[0].continue_()
            page.unroute("**/payments")
            expect(page.get_by_role("heading", name="Invoice INV-0001 Partially paid")).to_be_visible()
            expect(page.locator("#balance-due")).to_have_text("$499.70")
            clock.advance(days=3)
            page.get_by_label("Amount").fill("499.70")
            page.get_by_role("button", name="Record payment").click()
            expect(page.get_by_role("heading", name="Invoice INV-0001 Paid")).to_be_visible()
            expect(page.locator("#balance-due")).to_have_text("$0.00")

            # the history, and the invoice as it was at version 2
            timeline = page.locator(".timeline li")
            expect(timeline).to_have_count(5)
            expect(timeline.first).to_contain_text("Payment recorded Partially paid → Paid")
            expect(timeline.nth(2)).to_contain_text("Opened by the client")
            expect(timeline.nth(3)).to_contain_text("ana@example.com")
            shoot(page, "invoice.png", ".timeline time", "iframe.pdf", "#share-link")
            page.get_by_role("link", name="View version 2").click()
            expect(page.get_by_role("note")).to_contain_text("You are looking at version 2 of 5")
            expect(page.get_by_role("heading", name="Invoice INV-0001 Sent")).to_be_visible()

            # the list, then the dashboard in Spanish
            page.get_by_role("link", name="Invoices", exact=True).click()
            page.get_by_role("link", name="Paid", exact=True).click()
            expect(page.locator("table.list tbody tr")).to_have_count(1)
            shoot(page, "invoices.png")
            page.get_by_label("Language").select_option("es")  # then "Change": picking alone changes nothing
            page.get_by_role("button", name="Change").click()
            expect(page.get_by_role("heading", name="Facturas", exact=True)).to_be_visible()
            expect(page.locator("table.list")).to_contain_text("799,70")
            shoot(page, "invoices-es.png")
            page.get_by_label("Idioma").select_option("en")
            page.get_by_role("button", name="Cambiar").click()
            expect(page.get_by_role("heading", name="Invoices", exact=True)).to_be_visible()
            page.get_by_role("link", name="Settings").click()
            shoot(page, "settings.png", "#ledger-digest", "code", ".facts dd")

            # on a phone (375 px): one column, nothing wider than the screen, on every page
            phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
            phone.add_cookies(context.cookies())
            mobile = watch.attach(phone.new_page())
            # (against the screen's 375 px: a mobile browser zooms out to a wider page, and its window grows)
            fits = "document.documentElement.scrollWidth <= 375"
            for path in ("/invoices", "/invoices/new", "/clients", "/clients/new", "/keys", "/settings"):
                mobile.goto(f"{served}/dashboard{path}")
                assert mobile.evaluate(fits), (path, mobile.evaluate("document.documentElement.scrollWidth"))
            mobile.goto(invoice_url)
            expect(mobile.get_by_role("heading", name="Invoice INV-0001 Paid")).to_be_visible()
            assert mobile.evaluate(fits), mobile.evaluate("document.documentElement.scrollWidth")
            shoot(mobile, "invoice-phone.png", ".timeline time", "iframe.pdf", "#share-link", full=False)
            phone.close()

            # signing out ends it
            page.get_by_role("button", name="Sign out").click()
            expect(page.locator(".notice")).to_have_text("You are signed out.")
            page.goto(invoice_url)
            expect(page).to_have_url(
                f"{served}/dashboard/sign-in?next={invoice_url.split(served)[1].replace('/', '%2F')}"
            )

            # another account's owner sees none of it
            other = watch.attach(browser.new_context().new_page())
            other.goto(f"{served}/dashboard/sign-in")
            other.get_by_label("Email").fill(bob.email)
            other.get_by_label("Password").fill(PASSWORD)
            other.get_by_role("button", name="Sign in").click()
            expect(other.locator(".empty")).to_have_text("No invoices yet. Create the first one.")
            other.get_by_role("link", name="Clients", exact=True).click()
            expect(other.locator(".empty")).to_have_text("No clients yet. Add the first one.")
            other.get_by_role("link", name="API keys").click()
            expect(other.locator(".empty")).to_have_text("No keys yet.")
            response = other.goto(invoice_url)
            assert response is not None and response.status == 404
            expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            assert "Acme" not in other.content() and "INV-0001" not in other.content()
        finally:
            browser.close()
    assert watch.elsewhere == [], watch.elsewhere
    assert [p for p in watch.problems if "404" not in p] == [], watch.problems


def _fields(**values: str) -> Any:
    from usecases.accounts import AccountFields

    return AccountFields(values)


def _selected(page: Any) -> str:
    return str(page.locator("#f-clientId").input_value())


def _fill_line(page: Any, index: int, description: str, quantity: str, price: str, discount: str, tax: str) -> None:
    for name, value in (
        ("description", description),
        ("quantity", quantity),
        ("unitPrice", price),
        ("discountRate", discount),
        ("taxRate", tax),
    ):
        page.locator(f"#f-lineItems\\[{index}\\]\\.{name}").fill(value)
