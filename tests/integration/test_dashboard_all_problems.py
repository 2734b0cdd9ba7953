"""A refused form says everything that is wrong at once, each message beside its field and
tied to it (aria-invalid, and aria-describedby naming the message's id): the invoice form's
client and every cell of every line, a client's name and email, a new password's rules with
the two passwords that differ, and a refused sign-in's two fields."""

import re
from html import unescape
from typing import Any

import pytest

from gateway.services import Services
from tests.conftest import TestClient
from tests.dashboard_support import PASSWORD, Browser, errors_of, invoice_form, make_owner, summary_of

pytestmark = pytest.mark.sqlite_only  # the form's checks are the same on every store


def control(html: str, name: str) -> dict[str, str]:
    """The attributes of the input or select whose id is f-NAME."""
    found = re.search(r'<(?:input|select|textarea)\b([^>]*\bid="f-' + re.escape(name) + r'"[^>]*)>', html)
    assert found, f"no control f-{name}"
    return {k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', found.group(1))}


def tied(html: str, name: str) -> list[str]:
    """The error messages control f-NAME is described by (marked invalid as it is); each id it
    names must be on the page."""
    attributes = control(html, name)
    assert attributes.get("aria-invalid") == "true", (name, attributes)
    texts = []
    for ref in attributes["aria-describedby"].split():
        found = re.search(r'<p class="([^"]*)" id="' + re.escape(ref) + r'">([^<]*)</p>', html)
        assert found, f"f-{name} names {ref}, which is not on the page"
        if found.group(1) == "error":  # (a hint is named too)
            texts.append(unescape(found.group(2)))
    return texts


@pytest.fixture
def owner_browser(http: TestClient, services: Services) -> Browser:
    browser = Browser(http)
    browser.sign_in(make_owner(services))
    return browser


def test_a_draft_without_a_client_still_reports_every_bad_cell(owner_browser: Browser) -> None:
    owner_browser.get("/dashboard/invoices/new")
    lines = [
        {"description": "Design", "quantity": "0", "unitPrice": "abc"},
        {"description": "", "quantity": "1", "unitPrice": "10", "taxRate": "150"},
    ]
    response = owner_browser.post("/dashboard/invoices/new", invoice_form("", lines))
    assert response.status_code == 400
    page = response.text
    assert summary_of(page) == [
        "Choose an active client.",
        "Line 1, quantity must be greater than 0 and at most 1000000000.",
        "Line 1, unit price must be a number.",
        "Line 2, description must not be empty.",
        "Line 2, tax rate must be a percentage from 0 to 100.",
    ]
    assert tied(page, "clientId") == ["Choose an active client."]
    assert tied(page, "lineItems[0].quantity") == ["Line 1, quantity must be greater than 0 and at most 1000000000."]
    assert tied(page, "lineItems[0].unitPrice") == ["Line 1, unit price must be a number."]
    assert tied(page, "lineItems[1].description") == ["Line 2, description must not be empty."]
    assert tied(page, "lineItems[1].taxRate") == ["Line 2, tax rate must be a percentage from 0 to 100."]
    assert "aria-invalid" not in control(page, "lineItems[1].quantity")


def test_a_draft_refused_for_one_thing_says_that_one_thing(owner_browser: Browser, http: TestClient) -> None:
    owner_browser.get("/dashboard/clients/new")
    owner_browser.post("/dashboard/clients/new", {"name": "Acme"})
    client_id = re.search(r"/dashboard/clients/([0-9a-f-]{36})", owner_browser.page)
    assert client_id
    owner_browser.get("/dashboard/invoices/new")
    lines = [{"description": "Design", "quantity": "1", "unitPrice": "10"}]
    form = invoice_form(client_id.group(1), lines, issueDate="2025-02-01", dueDate="2025-01-01")
    response = owner_browser.post("/dashboard/invoices/new", form)
    assert response.status_code == 400
    assert summary_of(response.text) == ["The due date must be on or after the issue date."]


def test_a_client_form_reports_its_name_and_its_email_at_once(owner_browser: Browser) -> None:
    owner_browser.get("/dashboard/clients/new")
    response = owner_browser.post("/dashboard/clients/new", {"name": "  ", "email": "not an address"})
    assert response.status_code == 400
    page = response.text
    assert summary_of(page) == ["Name must not be empty.", "Email must be a valid email address."]
    assert tied(page, "name") == ["Name must not be empty."]
    assert tied(page, "email") == ["Email must be a valid email address."]


def test_a_new_password_reports_every_rule_and_the_second_typing(http: TestClient, services: Services) -> None:
    account = services.execute(lambda: services.app.open_account("Nuevo", "pro", "en"))
    link = services.usecases.owners.invite(account, "new@example.com")
    browser = Browser(http)
    browser.get(f"/dashboard/welcome/{link.token}")
    response = browser.post(f"/dashboard/welcome/{link.token}", {"password": "   ", "password_again": "x"})
    assert response.status_code == 400
    page = response.text
    expected = ["Password must be at least 10 characters.", "Password must not be only spaces."]
    assert errors_of(page) == [*expected, "The two passwords differ. Type the same password twice."]
    assert tied(page, "password") == expected
    assert control(page, "password")["aria-describedby"] == "h-password e-password e-password-2"

    same = browser.post(f"/dashboard/welcome/{link.token}", {"password": "   ", "password_again": "   "})
    assert same.status_code == 400 and errors_of(same.text) == expected


def test_changing_the_password_reports_the_current_one_and_the_rules(owner_browser: Browser) -> None:
    owner_browser.get("/dashboard/settings")
    sent = {"currentPassword": "wrong", "password": "ana@example.com", "password_again": "ana@example.com"}
    response = owner_browser.post("/dashboard/settings/password", sent)
    assert response.status_code in (400, 403)
    page = response.text
    assert set(summary_of(page)) == {"That is not your current password.", "Password must not be your email address."}
    assert tied(page, "password") == ["Password must not be your email address."]
    # nothing changed: the password still signs in
    owner_browser.post("/dashboard/sign-out", {})
    assert (
        owner_browser.post("/dashboard/sign-in", {"email": "ana@example.com", "password": PASSWORD}).status_code == 200
    )


def test_a_refused_sign_in_ties_both_fields_to_its_message(http: TestClient, services: Services) -> None:
    owner = make_owner(services)
    browser = Browser(http)
    browser.get("/dashboard/sign-in")
    response = browser.post("/dashboard/sign-in", {"email": owner.email, "password": "not it"})
    assert response.status_code == 401
    for name in ("email", "password"):
        attributes: dict[str, Any] = control(response.text, name)
        assert attributes["aria-invalid"] == "true" and attributes["aria-describedby"] == "sign-in-failed"
    assert 'id="sign-in-failed"' in response.text


@pytest.mark.parametrize(
    ("to", "cc", "field", "told"),
    [
        ("not an address", "", "to", "“not an address” is not a valid email address."),
        ("a@example.com b@", "", "to", "“b@” is not a valid email address."),  # which entry
        ("a@example.com", "nope, c@example.com", "cc", "“nope” is not a valid email address."),
    ],
)
def test_an_address_that_is_not_one_is_named_whole_beside_its_field(
    owner_browser: Browser, to: str, cc: str, field: str, told: str
) -> None:
    owner_browser.get("/dashboard/clients/new")
    owner_browser.post("/dashboard/clients/new", {"name": "Acme"})
    client_id = re.search(r"/dashboard/clients/([0-9a-f-]{36})", owner_browser.page)
    assert client_id
    owner_browser.get("/dashboard/invoices/new")
    lines = [{"description": "Design", "quantity": "1", "unitPrice": "10"}]
    owner_browser.post("/dashboard/invoices/new", invoice_form(client_id.group(1), lines))
    invoice = re.search(r"/dashboard/invoices/([0-9a-f-]{36})", owner_browser.page)
    assert invoice
    response = owner_browser.post(f"/dashboard/invoices/{invoice.group(1)}/send", {"email": "1", "to": to, "cc": cc})
    assert response.status_code == 400
    assert summary_of(response.text) == [told]
    assert tied(response.text, field) == [told]


def test_addresses_separated_by_spaces_are_still_several(owner_browser: Browser) -> None:
    from gateway.dashboard.invoice_detail import _addresses

    assert _addresses("a@x.test b@y.test; c@z.test,") == ("a@x.test", "b@y.test", "c@z.test")
    assert _addresses("  not an   address , d@x.test") == ("not an address", "d@x.test")
