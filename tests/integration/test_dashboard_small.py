"""Small things a person meets: a void invoice's page agrees with the list (nothing is due,
nothing to send), a textarea's line breaks are stored as the API stores them, and "the two
passwords differ" is said under the field to retype, tied to it."""

import re
from html.parser import HTMLParser

import pytest

from gateway.services import Services
from tests.conftest import TestClient
from tests.dashboard_support import PASSWORD, THREE_LINES, Browser, errors_of, invoice_form, make_owner, text_of

pytestmark = pytest.mark.sqlite_only  # what a page shows does not depend on the store


@pytest.fixture
def browser(http: TestClient, services: Services) -> Browser:
    browser = Browser(http)
    response = browser.sign_in(make_owner(services))
    assert response.status_code == 200, text_of(response.text)[:300]
    return browser


def add_client(browser: Browser, **fields: str) -> str:
    browser.get("/dashboard/clients/new")
    response = browser.post("/dashboard/clients/new", {"name": "Acme Corp", **fields})
    assert response.status_code == 200 and "Client added." in response.text, text_of(response.text)[:300]
    return response.url.path.rsplit("/", 1)[1]


def test_a_void_invoice_shows_nothing_due_as_the_list_does_and_no_call_to_send_it(browser: Browser) -> None:
    client_id = add_client(browser)
    browser.get("/dashboard/invoices/new")
    invoice_id = browser.post("/dashboard/invoices/new", invoice_form(client_id, THREE_LINES)).url.path.split("/")[-1]
    browser.post(f"/dashboard/invoices/{invoice_id}/send", {})
    page = browser.post(f"/dashboard/invoices/{invoice_id}/void", {"reason": "Issued twice"}).text
    assert "Invoice INV-0001 Void" in text_of(page)
    balance = re.search(r'<strong id="balance-due">([^<]*)</strong>', page)
    assert balance and balance.group(1) == "$0.00"
    listed = text_of(browser.get("/dashboard/invoices").text)
    assert "INV-0001 Acme Corp Jun 15, 2024 Jul 15, 2024 $799.70 $0.00 Void" in listed
    assert "Send it to your client" not in page
    assert "The invoice is void: whoever has the link sees it marked void" in text_of(page)
    assert 'id="share-link"' in page  # the link still works, and still shows it


def test_textarea_line_breaks_are_stored_as_newlines(browser: Browser, services: Services) -> None:
    # a browser sends every line break of a textarea as CRLF
    client_id = add_client(browser, address="1 Main St\r\nSpringfield\r\n", notes="a\rb")
    browser.get(f"/dashboard/clients/{client_id}")
    browser.post(f"/dashboard/clients/{client_id}", {"name": "Acme Corp", "address": "2 Side St\r\nShelbyville"})
    account = browser.get("/dashboard/settings")
    assert account.status_code == 200
    browser.get("/dashboard/invoices/new")
    draft = browser.post("/dashboard/invoices/new", invoice_form(client_id, THREE_LINES, notes="Thanks\r\nAgain"))
    invoice_id = draft.url.path.rsplit("/", 1)[1]
    read = services.usecases.core.read
    owner_account = str(read.invoice_account(invoice_id))
    client = read.client(owner_account, client_id)
    invoice = read.invoice(owner_account, invoice_id)
    assert client is not None and invoice is not None
    assert client.address == "2 Side St\nShelbyville"
    assert invoice.notes == "Thanks\nAgain"


class Fields(HTMLParser):
    """Each input's attributes, and which field each error paragraph follows."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.errors: dict[str, str | None] = {}  # error id -> the last input before it
        self._last: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self._last = str(found["name"])
            self.inputs[self._last] = found
        if tag == "p" and found.get("class") == "error":
            self.errors[str(found.get("id"))] = self._last


@pytest.mark.parametrize("where", ["settings", "first run"])
def test_the_passwords_differ_message_is_under_the_retyped_password_and_tied_to_it(
    http: TestClient, services: Services, browser: Browser, where: str
) -> None:
    if where == "settings":
        browser.get("/dashboard/settings")
        form = {"currentPassword": PASSWORD, "password": "a new password 1", "password_again": "a new password 2"}
        page = browser.post("/dashboard/settings/password", form)
    else:
        account = services.execute(lambda: services.app.open_account("New Co", "pro", "en"))
        link = services.usecases.owners.invite(account, "new@example.com")
        newcomer = Browser(http)
        newcomer.get(f"/dashboard/welcome/{link.token}")
        page = newcomer.post(
            f"/dashboard/welcome/{link.token}", {"password": "a new password 1", "password_again": "a new password 2"}
        )
    assert page.status_code == 400
    assert errors_of(page.text) == ["The two passwords differ. Type the same password twice."]
    fields = Fields()
    fields.feed(page.text)
    assert fields.errors == {"e-password_again": "password_again"}
    again = fields.inputs["password_again"]
    assert again.get("aria-invalid") == "true" and "e-password_again" in str(again.get("aria-describedby")).split()
    assert "aria-invalid" not in fields.inputs["password"]
    assert 'href="#f-password_again"' in page.text  # the summary points at it too
