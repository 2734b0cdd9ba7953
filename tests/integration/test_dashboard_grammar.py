"""Spanish that agrees with what it is said of: one item in the singular, a client's history
in the masculine (un cliente) and an invoice's in the feminine (una factura), and reversing
a payment told apart from voiding an invoice (gettext's plural forms and message contexts)."""

import re

import pytest

from gateway.services import Services
from tests.conftest import TestClient
from tests.dashboard_support import THREE_LINES, Browser, invoice_form, make_owner, text_of
from translations import catalog as translations

pytestmark = pytest.mark.sqlite_only  # words on a page do not depend on the store


def timeline_of(html: str) -> str:
    found = re.search(r'<ol class="timeline">.*?</ol>', html, re.S)
    assert found, "the page has no history"
    return text_of(found.group(0))


def signed_in(http: TestClient, services: Services, locale: str, plan: str = "pro") -> Browser:
    browser = Browser(http)
    response = browser.sign_in(make_owner(services, f"{locale}-{plan}@example.com", plan=plan, locale=locale))
    assert response.status_code == 200, text_of(response.text)[:300]
    return browser


def add_client(browser: Browser, name: str) -> str:
    browser.get("/dashboard/clients/new")
    response = browser.post("/dashboard/clients/new", {"name": name})
    assert response.status_code == 200, text_of(response.text)[:300]
    return response.url.path.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("locale", "one", "two"),
    [
        ("en", "1 active client (no limit on your plan)", "2 active clients (no limit on your plan)"),
        ("es", "1 cliente activo (su plan no tiene límite)", "2 clientes activos (su plan no tiene límite)"),
    ],
)
def test_one_client_is_counted_in_the_singular(
    http: TestClient, services: Services, locale: str, one: str, two: str
) -> None:
    browser = signed_in(http, services, locale, plan="business")
    add_client(browser, "Acme")
    assert one in text_of(browser.get("/dashboard/clients").text)
    settings = text_of(browser.get("/dashboard/settings").text)
    assert one.replace(" on your plan)", ")").replace(" (su plan no tiene límite)", " (sin límite)") in settings
    add_client(browser, "Bravo")
    assert two in text_of(browser.get("/dashboard/clients").text)


@pytest.mark.parametrize(
    ("locale", "invoices"),
    [("en", "1 of 5 active clients"), ("es", "1 de 5 clientes activos")],
)
def test_a_limit_counts_in_the_plural_of_the_limit(
    http: TestClient, services: Services, locale: str, invoices: str
) -> None:
    browser = signed_in(http, services, locale, plan="free")
    add_client(browser, "Acme")
    assert invoices in text_of(browser.get("/dashboard/clients").text)


def test_a_deactivated_client_is_one_and_its_history_is_a_clients(http: TestClient, services: Services) -> None:
    browser = signed_in(http, services, "es")
    client_id = add_client(browser, "Acme")
    page = browser.post(f"/dashboard/clients/{client_id}/deactivate", {})
    badge = re.search(r'<span class="badge status-void">([^<]*)</span>', page.text)
    assert badge and badge.group(1) == "Desactivado"  # one client
    history = timeline_of(page.text)
    assert history.startswith("Desactivado") and "Creado" in history and "Creada" not in history
    listing = browser.get("/dashboard/clients", state="deactivated").text
    chips = text_of(re.search(r'<nav class="chips".*?</nav>', listing, re.S).group(0))  # type: ignore[union-attr]
    assert chips == "Activos Desactivados"  # the clients shown: many


def test_an_invoices_history_is_feminine_and_reversing_a_payment_is_not_voiding(
    http: TestClient, services: Services
) -> None:
    browser = signed_in(http, services, "es")
    client_id = add_client(browser, "Acme")
    browser.get("/dashboard/invoices/new")
    draft = browser.post("/dashboard/invoices/new", invoice_form(client_id, THREE_LINES))
    invoice_id = draft.url.path.rsplit("/", 1)[1]
    assert "Creada" in timeline_of(draft.text)
    browser.post(f"/dashboard/invoices/{invoice_id}/send", {})
    paid = browser.post(f"/dashboard/invoices/{invoice_id}/payments", {"amount": "100"})
    page = text_of(paid.text)
    assert "Revertir" in page and "Anular esta factura…" in page
    payment = re.findall(r"/payments/([0-9a-f-]{36})/reverse", paid.text)[0]
    reversed_ = browser.post(f"/dashboard/invoices/{invoice_id}/payments/{payment}/reverse", {})
    assert "Pago revertido." in reversed_.text and "Pago revertido" in timeline_of(reversed_.text)
    assert "Revertido" in text_of(reversed_.text) and "Pago anulado" not in reversed_.text


def test_the_catalog_tells_the_homographs_apart_and_has_both_plural_forms() -> None:
    spanish = translations("es")
    said_of = {context: spanish.pgettext(context, "Created") for context in ("invoice", "client")}
    assert said_of == {"invoice": "Creada", "client": "Creado"}
    assert spanish.pgettext("one client", "Deactivated") == "Desactivado"
    assert spanish.pgettext("clients shown", "Deactivated") == "Desactivados"
    assert spanish.pgettext("payment", "Reverse") == "Revertir" != spanish.gettext("Void this invoice…")[:6]
    assert spanish.gettext("Void this invoice…") == "Anular esta factura…"
    message = "%(num)s invoice this month (no limit)", "%(num)s invoices this month (no limit)"
    assert spanish.ngettext(*message, 1) % {"num": 1} == "1 factura este mes (sin límite)"
    assert spanish.ngettext(*message, 3) % {"num": 3} == "3 facturas este mes (sin límite)"
    english = translations("en")
    assert english.ngettext(*message, 1) % {"num": 1} == "1 invoice this month (no limit)"
    assert english.pgettext("payment", "Reverse") == "Reverse"
