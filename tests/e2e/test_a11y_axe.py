"""axe-core (WCAG 2.1 A and AA rules) on every dashboard page, its error states and the share
page, in English and Spanish, at 1280 and 320 px wide: no critical or serious violation.

The pages are the real app's under uvicorn on loopback, in Debian's Chromium driven by
Playwright (one browser for the module); axe-core is injected into each page as it stands,
after the page's own script ran (the CSP is bypassed for that script alone)."""

from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from simplejson import RawJSON

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.a11y_support import CHROMIUM, axe_source, chromium, grave_violations
from tests.conftest import Tenant, TestClient
from tests.dashboard_support import PASSWORD, make_owner
from tests.integration.test_share import Seller
from tests.serving import uvicorn_in_thread

__all__ = ["chromium"]
pytestmark = [
    pytest.mark.sqlite_only,  # what a page says to a reader does not depend on the store
    pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed"),
]

FOUR_LINES = [
    {"description": "Design", "quantity": 10, "unitPrice": 50, "discountRate": 10, "taxRate": 21},
    {"description": "Hosting", "quantity": 1, "unitPrice": RawJSON("120.00"), "taxRate": 21},
    {"description": "Support", "quantity": RawJSON("2.5"), "unitPrice": 40, "taxRate": 10},
    {"description": "Books", "quantity": 3, "unitPrice": RawJSON("19.90"), "taxRate": 4},
]


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}"


def _invoices(seller: Seller) -> dict[str, str]:
    """A draft of four lines, and invoices sent, paid (one payment reversed) and void: their ids,
    and the share token of the sent one."""
    client = seller.create_client(name="Acme Corp", email="billing@acme.test", address="1 Road\nTown")
    draft = seller.create_invoice(client["id"], lineItems=FOUR_LINES, notes="Thanks")["id"]
    sent, token = seller.issued(client, lineItems=FOUR_LINES)
    paid, _ = seller.issued(client, lineItems=FOUR_LINES[:1])
    first = seller.post(f"/api/v1/invoices/{paid}/payments", {"amount": RawJSON("10.00")})
    assert first.status_code == 201, first.text
    payment = first.json()["data"]["id"]
    assert seller.delete(f"/api/v1/invoices/{paid}/payments/{payment}").status_code == 200
    balance = seller.invoice(paid)["balanceDue"]
    assert seller.post(f"/api/v1/invoices/{paid}/payments", {"amount": balance}).status_code == 201
    void, _ = seller.issued(client, lineItems=FOUR_LINES[:2])
    assert seller.post(f"/api/v1/invoices/{void}/void", {"reason": "Wrong client"}).status_code == 200
    return {"client": client["id"], "draft": draft, "sent": sent, "paid": paid, "void": void, "token": token}


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("locale", ["en", "es"])
def test_no_page_has_a_grave_axe_violation(
    chromium: Any, served: str, http: TestClient, services: Services, locale: str, width: int
) -> None:
    source = axe_source()
    owner = make_owner(services, locale=locale)
    key_id, key = services.execute(lambda: services.app.issue_api_key(owner.account_id, "shop"))
    ids = _invoices(Seller(http, Tenant(owner.account_id, key_id, key), services))
    newcomer = services.execute(lambda: services.app.open_account("Nuevo", "pro", locale))
    link = services.usecases.owners.invite(newcomer, "new@example.com")

    context = chromium.new_context(
        viewport={"width": width, "height": 900}, locale="es-ES" if locale == "es" else "en-US", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    found: dict[str, list[str]] = {}

    def check(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(f"{served}{path}")
        problems = grave_violations(page, source)
        if problems:
            found[name] = problems

    def submit(button: str) -> None:
        # the server's refusals are what is looked at, not the browser's own checks
        page.evaluate("document.querySelectorAll('form').forEach(form => { form.noValidate = true; })")
        with page.expect_navigation():
            page.locator(button).click()

    try:
        # signed out: the first-run page and its refusal, the sign-in page and its refusal
        check("welcome", f"/dashboard/welcome/{link.token}")
        page.locator("#f-password").fill("short")
        page.locator("#f-password_again").fill("short")
        submit("form button[type=submit]")
        check("welcome refused")
        check("sign-in", "/dashboard/sign-in")
        page.locator("#f-email").fill(owner.email)
        page.locator("#f-password").fill("not the password")
        submit("form button.primary")
        check("sign-in refused")
        page.locator("#f-password").fill(PASSWORD)
        submit("form button.primary")

        for name, path in [
            ("invoices", "/dashboard/invoices"),
            ("invoice new", "/dashboard/invoices/new"),
            ("invoice edit", f"/dashboard/invoices/{ids['draft']}/edit"),
            ("invoice draft", f"/dashboard/invoices/{ids['draft']}"),
            ("invoice sent", f"/dashboard/invoices/{ids['sent']}"),
            ("invoice paid", f"/dashboard/invoices/{ids['paid']}"),
            ("invoice void", f"/dashboard/invoices/{ids['void']}"),
            ("clients", "/dashboard/clients"),
            ("client new", "/dashboard/clients/new"),
            ("client", f"/dashboard/clients/{ids['client']}"),
            ("keys", "/dashboard/keys"),
            ("settings", "/dashboard/settings"),
            ("share", f"/i/{ids['token']}"),
        ]:
            check(name, path)

        # refusals: an invoice form (no client, a bad line), a client form, the password form,
        # a send form with an address that is not one
        page.goto(f"{served}/dashboard/invoices/new")
        page.locator("[id='f-lineItems[0].description']").fill("Work")
        page.locator("[id='f-lineItems[0].quantity']").fill("0")
        submit("#save-draft")
        check("invoice new refused")
        page.goto(f"{served}/dashboard/clients/new")
        page.locator("#f-email").fill("not an address")
        submit("form.card button.primary")
        check("client new refused")
        page.goto(f"{served}/dashboard/settings")
        page.locator("#f-currentPassword").fill(PASSWORD)
        page.locator("[name=password]").fill("short")
        page.locator("#f-password_again").fill("short")
        submit("form[action='/dashboard/settings/password'] button")
        check("password refused")
        page.goto(f"{served}/dashboard/invoices/{ids['draft']}")
        page.locator("#f-email").check()
        page.locator("#f-to").fill("not an address")
        submit("#send-button")
        check("send refused")
    finally:
        context.close()
    assert found == {}, "\n".join(f"{name}: {problem}" for name, items in found.items() for problem in items)
