"""The dashboard over HTTP: sessions, CSRF, isolation between accounts, what every form does
with bad input, and the owner's work from a key to a paid invoice.

Real app, real stores (both backends), real Argon2; only the clock is the test's.
"""

import hashlib
import json
import random
import re
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import pytest
from sqlalchemy import text

from domain.actors import OWNER
from gateway.app import create_app
from gateway.cli.server import server_config
from gateway.dashboard import ROUTES as DASHBOARD_ROUTES
from gateway.dashboard.i18n import Formatter
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock, TestClient, stored_state
from tests.dashboard_support import (
    FORM,
    PASSWORD,
    THREE_LINES,
    Browser,
    Owner,
    csrf_of,
    errors_of,
    invoice_form,
    make_owner,
    summary_of,
    text_of,
)
from usecases.inputs import ClientFields

PROTECTED_PAGES = [
    "/dashboard/invoices",
    "/dashboard/invoices/new",
    "/dashboard/clients",
    "/dashboard/clients/new",
    "/dashboard/keys",
    "/dashboard/settings",
    "/dashboard/settings/export",
]


@pytest.fixture
def owner(services: Services) -> Owner:
    return make_owner(services)


@pytest.fixture
def browser(http: TestClient, owner: Owner) -> Browser:
    browser = Browser(http)
    response = browser.sign_in(owner)
    assert response.status_code == 200 and response.url.path == "/dashboard/invoices", response.text[:300]
    return browser


def add_client(browser: Browser, name: str = "Acme Corp", email: str = "billing@acme.test") -> str:
    browser.get("/dashboard/clients/new")
    response = browser.post("/dashboard/clients/new", {"name": name, "email": email})
    assert response.status_code == 200 and "Client added." in response.text, text_of(response.text)[:500]
    return response.url.path.rsplit("/", 1)[1]


def add_draft(browser: Browser, client_id: str, lines: list[dict[str, str]] = THREE_LINES, **fields: str) -> str:
    browser.get("/dashboard/invoices/new")
    response = browser.post("/dashboard/invoices/new", invoice_form(client_id, lines, **fields))
    assert response.status_code == 200 and "Draft saved." in response.text, summary_of(response.text)
    return response.url.path.rsplit("/", 1)[1]


# --- sessions ------------------------------------------------------------------------------------


def test_signing_in_opens_a_session_in_an_httponly_samesite_cookie(http: TestClient, owner: Owner) -> None:
    browser = Browser(http)
    page = browser.get("/dashboard/sign-in")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    response = browser.post(
        "/dashboard/sign-in", {"email": owner.email.upper(), "password": owner.password}, follow=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/invoices"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cleverinvo_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/dashboard"} <= flags
    assert "secure" not in flags  # plain http on the loopback: a Secure cookie would never come back
    assert browser.get("/dashboard/invoices").url.path == "/dashboard/invoices"


def test_the_cookie_is_secure_when_the_dashboard_is_served_over_https(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    settings = make_settings(CLEVERINVO_PUBLIC_URL="https://invoices.example.com")
    services = Services(settings, clock=clock)
    try:
        owner = make_owner(services)
        with TestClient(create_app(settings, services), base_url="https://invoices.example.com") as http:
            browser = Browser(http)
            browser.get("/dashboard/sign-in")
            response = browser.post("/dashboard/sign-in", {"email": owner.email, "password": PASSWORD}, follow=False)
            cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cleverinvo_session="))
            assert "secure" in cookie.lower()
    finally:
        services.close()


@pytest.mark.parametrize("trusted", [True, False])
def test_behind_a_trusted_proxy_the_cookie_is_secure_and_attempts_count_per_forwarded_address(
    make_settings: Callable[..., Settings], clock: FakeClock, trusted: bool
) -> None:
    """As `cleverinvo serve` runs it (gateway.cli.server.server_config): the proxy's X-Forwarded-Proto
    and X-Forwarded-For are believed only from CLEVERINVO_TRUSTED_PROXIES."""
    settings = make_settings(**({"CLEVERINVO_TRUSTED_PROXIES": "*"} if trusted else {}))
    services = Services(settings, clock=clock)
    try:
        owner = make_owner(services)
        config = server_config(create_app(settings, services), settings, "127.0.0.1", 0, configure_logging=False)
        config.load()
        with TestClient(config.loaded_app) as http:
            # the proxy speaks http to the app, https to the browser
            https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
            page = http.get("/dashboard/sign-in", headers=https)
            pre = next(c for c in page.headers.get_list("set-cookie") if c.startswith("cleverinvo_presession="))
            assert ("secure" in pre.lower()) is trusted
            form = urlencode({"csrf": csrf_of(page.text), "email": owner.email, "password": PASSWORD})
            cookie = {"Cookie": pre.split(";")[0]}  # as the browser sends it back, over https
            http.cookies.clear()
            response = http.post(
                "/dashboard/sign-in", content=form, headers={**FORM, **https, **cookie}, follow_redirects=False
            )
            assert response.status_code == 303, response.text[:300]
            session = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cleverinvo_session="))
            assert ("secure" in session.lower()) is trusted
            http.cookies.clear()
            forwarded = {"X-Forwarded-For": "203.0.113.7"}
            guesser = Browser(http)
            token = csrf_of(guesser.get("/dashboard/sign-in", headers=forwarded).text)
            wrong = {"email": owner.email, "password": "not the password"}
            for _ in range(9):  # with the sign-in above, the address's 10 a minute
                assert guesser.post("/dashboard/sign-in", wrong, csrf=token, headers=forwarded).status_code == 401
            assert guesser.post("/dashboard/sign-in", wrong, csrf=token, headers=forwarded).status_code == 429
            elsewhere = {**forwarded, "X-Forwarded-For": "198.51.100.9"}
            answer = guesser.post("/dashboard/sign-in", wrong, csrf=token, headers=elsewhere)
            assert answer.status_code == (401 if trusted else 429)  # another address, unless nobody is believed
    finally:
        services.close()


@pytest.mark.production_password_cost  # the stored hash is production's (tests/conftest.py)
def test_only_hashes_are_kept_an_argon2id_of_the_password_and_sha256_of_the_session(
    browser: Browser, services: Services, owner: Owner
) -> None:
    (listed,) = services.usecases.owners.listing(owner.account_id)
    stored = services.usecases.owners.store.password_hash(listed.id)
    assert stored is not None and stored.startswith("$argon2id$") and owner.password not in stored
    parameters = dict(part.split("=") for part in stored.split("$")[3].split(","))
    assert int(parameters["m"]) >= 19 * 1024 and int(parameters["t"]) >= 2  # at least OWASP's minimum
    token = browser.cookies["cleverinvo_session"].rpartition(".")[0]  # the cookie: the token, signed
    with services.projector.writer.connect() as conn:
        rows = [tuple(map(str, row)) for row in conn.execute(text("SELECT * FROM owner_sessions"))]
    assert rows and not any(token in value for row in rows for value in row)
    assert any(hashlib.sha256(token.encode()).hexdigest() in row for row in rows)


def test_an_owner_changes_their_password_and_their_other_sessions_end(
    browser: Browser, services: Services, owner: Owner
) -> None:
    elsewhere = Browser(browser.http)
    elsewhere.sign_in(owner)
    new_password = "a new and longer passphrase"
    browser.get("/dashboard/settings")
    before = stored_state(services)
    for form, says in [
        ({"currentPassword": "not my password", "password": new_password}, "That is not your current password."),
        ({"currentPassword": PASSWORD, "password": "short"}, "Password must be at least 10 characters."),
        ({"currentPassword": PASSWORD, "password": owner.email}, "Password must not be your email address."),
        ({"currentPassword": PASSWORD, "password": new_password, "password_again": "x"}, "The two passwords differ."),
    ]:
        refused = browser.post("/dashboard/settings/password", {"password_again": form["password"], **form})
        assert refused.status_code == 400 and says in summary_of(refused.text)[0], (says, summary_of(refused.text))
        assert 'value="not my password"' not in refused.text  # a password is never written back into a page
    assert stored_state(services) == before and elsewhere.get("/dashboard/keys").url.path == "/dashboard/keys"
    changed = browser.post(
        "/dashboard/settings/password",
        {"currentPassword": PASSWORD, "password": new_password, "password_again": new_password},
    )
    assert "Password changed. You are signed out everywhere else." in changed.text
    assert browser.get("/dashboard/keys").url.path == "/dashboard/keys"  # still signed in here
    assert elsewhere.get("/dashboard/keys").url.path == "/dashboard/sign-in"  # and nowhere else
    assert Browser(browser.http).sign_in(owner).status_code == 401  # the old password is gone
    assert Browser(browser.http).sign_in(owner, new_password).url.path == "/dashboard/invoices"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(http: TestClient, owner: Owner) -> None:
    answers = []
    for email, password in [(owner.email, "wrong password here"), ("nobody@example.com", PASSWORD), ("", "")]:
        browser = Browser(http)
        browser.get("/dashboard/sign-in")
        response = browser.post("/dashboard/sign-in", {"email": email, "password": password}, follow=False)
        assert response.status_code == 401
        assert not any(c.startswith("cleverinvo_session=") for c in response.headers.get_list("set-cookie"))
        answers.append(re.search(r'id="sign-in-failed">([^<]+)<', response.text).group(1))  # type: ignore[union-attr]
    assert len(set(answers)) == 1 and "do not match" in answers[0]


def test_every_page_asks_for_a_session(http: TestClient, services: Services) -> None:
    for path in PROTECTED_PAGES:
        response = http.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/dashboard/sign-in?next=%2Fdashboard%2F"), path
    before = stored_state(services)
    response = http.post("/dashboard/clients/new", content="name=Sneaky", headers=FORM)
    assert response.status_code == 401
    assert stored_state(services) == before


def test_after_signing_in_the_owner_lands_where_they_were_going(http: TestClient, owner: Owner) -> None:
    browser = Browser(http)
    browser.get("/dashboard/settings")  # redirected to sign in, carrying where to go next
    assert 'name="next" value="/dashboard/settings"' in browser.page
    response = browser.post(
        "/dashboard/sign-in", {"email": owner.email, "password": PASSWORD, "next": "/dashboard/settings"}
    )
    assert response.url.path == "/dashboard/settings"
    for elsewhere in ("https://evil.example/", "//evil.example", "/dashboard/../api/v1/clients", "/api/v1/clients"):
        browser = Browser(http)
        browser.get("/dashboard/sign-in")
        response = browser.post(
            "/dashboard/sign-in", {"email": owner.email, "password": PASSWORD, "next": elsewhere}, follow=False
        )
        assert response.headers["location"] == "/dashboard/invoices", elsewhere


def test_signing_out_ends_the_session_on_the_server_too(browser: Browser) -> None:
    cookie = browser.cookies.get("cleverinvo_session")
    assert cookie
    browser.get("/dashboard/invoices")
    response = browser.post("/dashboard/sign-out")
    assert response.url.path == "/dashboard/sign-in" and "You are signed out." in response.text
    again = Browser(browser.http)
    again.cookies.set("cleverinvo_session", cookie, path="/dashboard")
    replayed = again.request("GET", "/dashboard/invoices", follow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/dashboard/sign-in")


def test_a_forged_or_altered_cookie_is_no_session(browser: Browser) -> None:
    real = browser.cookies.get("cleverinvo_session")
    assert real
    token, _, signature = real.rpartition(".")
    for forged in (f"{token}.{'A' * len(signature)}", f"{token[:-1]}x.{signature}", "cinv", "", token):
        client = Browser(browser.http)
        client.cookies.set("cleverinvo_session", forged, path="/dashboard")
        response = client.request("GET", "/dashboard/keys", follow_redirects=False)
        assert response.status_code == 303, forged


def test_a_session_expires_when_unused_for_a_week(browser: Browser, clock: FakeClock) -> None:
    clock.advance(days=6, hours=23)
    assert browser.get("/dashboard/keys").url.path == "/dashboard/keys"  # used: it lasts a week from now
    clock.advance(days=6, hours=23)
    assert browser.get("/dashboard/keys").url.path == "/dashboard/keys"
    clock.advance(days=7, minutes=1)
    assert browser.get("/dashboard/keys").url.path == "/dashboard/sign-in"


def test_sign_in_attempts_are_limited_per_address(http: TestClient, owner: Owner) -> None:
    browser = Browser(http)
    browser.get("/dashboard/sign-in")
    token = csrf_of(browser.page)
    for _ in range(10):
        response = browser.post("/dashboard/sign-in", {"email": owner.email, "password": "not it at all"}, csrf=token)
        assert response.status_code == 401
    refused = browser.post("/dashboard/sign-in", {"email": owner.email, "password": PASSWORD}, csrf=token, follow=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Too many attempts" in refused.text
    assert not any(c.startswith("cleverinvo_session=") for c in refused.headers.get_list("set-cookie"))


# --- CSRF ------------------------------------------------------------------------------------------


def everything_of(browser: Browser) -> dict[str, str]:
    """One of each thing an owner has (made in the dashboard): a client, a draft, a sent
    invoice with a payment, an API key; their ids by the routes' parameter names."""
    client_id = add_client(browser, "Secret Client", "secret@acme.test")
    draft = add_draft(browser, client_id, invoiceNumber="SECRET-1")
    sent = add_draft(browser, client_id, invoiceNumber="SECRET-2")
    browser.get(f"/dashboard/invoices/{sent}")
    browser.post(f"/dashboard/invoices/{sent}/send", {})
    paid = browser.post(f"/dashboard/invoices/{sent}/payments", {"amount": "100"})
    assert "Payment recorded." in paid.text
    payment_id = re.search(rf"/dashboard/invoices/{sent}/payments/([0-9a-f-]{{36}})/reverse", paid.text).group(1)  # type: ignore[union-attr]
    browser.get("/dashboard/keys")
    browser.post("/dashboard/keys", {"label": "secret-key"})
    key_id = re.search(r"/dashboard/keys/([0-9a-f-]{36})/revoke", browser.page).group(1)  # type: ignore[union-attr]
    return {"client_id": client_id, "invoice_id": sent, "draft_id": draft, "payment_id": payment_id, "key_id": key_id}


def routes_of(method: str, *, with_ids: bool | None = None) -> set[str]:
    """The dashboard's route templates that take ``method`` (those naming a record by id,
    or those that do not, or all)."""
    found = set()
    for route in DASHBOARD_ROUTES:
        if method not in (route.methods or ()) or route.path == "/static/{name}":
            continue
        if with_ids is None or with_ids == ("_id}" in route.path):
            found.add(route.path)
    return found


def concrete(template: str, ids: dict[str, str]) -> str:
    return "/dashboard" + re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


def _state_changing_forms(ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A form for every POST route a signed-in owner sends, by route template."""
    return {
        "/sign-out": {},
        "/language": {"locale": "es"},
        "/keys": {"label": "forged"},
        "/keys/{key_id}/revoke": {},
        "/clients/new": {"name": "Forged Ltd"},
        "/clients/{client_id}": {"name": "Renamed"},
        "/clients/{client_id}/deactivate": {},
        "/clients/{client_id}/reactivate": {},
        "/invoices/new": dict(invoice_form(ids["client_id"], THREE_LINES)),
        "/invoices/{invoice_id}/edit": dict(invoice_form(ids["client_id"], THREE_LINES)),
        "/invoices/{invoice_id}/send": {},
        "/invoices/{invoice_id}/payments": {"amount": "1"},
        "/invoices/{invoice_id}/payments/{payment_id}/reverse": {},
        "/invoices/{invoice_id}/void": {"reason": "forged"},
        "/invoices/{invoice_id}/delete": {},
        "/settings": {"name": "Forged", "locale": "en"},
        "/settings/password": {"currentPassword": PASSWORD, "password": "forged pass", "password_again": "forged pass"},
    }


def test_every_form_needs_its_own_csrf_token(browser: Browser, services: Services, http: TestClient) -> None:
    ids = everything_of(browser)
    forms = _state_changing_forms(ids)
    # every POST route but signing in and setting a password (tied to the pre-session:
    # test_the_sign_in_form_is_tied_to_its_browser) and the live totals (a header, not a form)
    assert set(forms) == routes_of("POST") - {"/sign-in", "/welcome/{token}", "/invoices/price"}
    other = Browser(http)
    other.sign_in(make_owner(services, "bob@example.com"))
    someone_elses = csrf_of(other.get("/dashboard/keys").text)
    before = stored_state(services)
    for template, data in forms.items():
        for token in ("", "0" * 64, someone_elses):
            response = browser.post(concrete(template, ids), data, csrf=token, follow=False)
            assert response.status_code == 403, (template, token)
            assert "This form has expired" in response.text
    assert stored_state(services) == before
    assert browser.get("/dashboard/keys").url.path == "/dashboard/keys"  # still signed in


def test_a_form_sent_from_another_site_is_refused(browser: Browser, services: Services) -> None:
    browser.get("/dashboard/clients/new")
    before = stored_state(services)
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        response = browser.post(
            "/dashboard/clients/new", {"name": "Cross Site"}, headers={"Origin": origin}, follow=False
        )
        assert response.status_code == 403, origin
    response = browser.post(
        "/dashboard/clients/new", {"name": "x"}, headers={"Referer": "https://evil.example/page"}, follow=False
    )
    assert response.status_code == 403
    assert stored_state(services) == before
    same = browser.post("/dashboard/clients/new", {"name": "Same Site"}, headers={"Origin": "http://testserver"})
    assert "Client added." in same.text


def test_the_sign_in_form_is_tied_to_its_browser(http: TestClient, owner: Owner) -> None:
    """Login CSRF: a sign-in posted without the browser's pre-session cookie is refused."""
    browser = Browser(http)
    token = csrf_of(browser.get("/dashboard/sign-in").text)
    stranger = Browser(http)  # another browser, with the first one's token but not its cookie
    response = stranger.post(
        "/dashboard/sign-in", {"email": owner.email, "password": PASSWORD}, csrf=token, follow=False
    )
    assert response.status_code == 403


def test_live_totals_need_the_token_in_a_header(browser: Browser) -> None:
    browser.get("/dashboard/invoices/new")
    body = {"currency": "USD", "lines": [{"description": "x", "quantity": "1", "unitPrice": "2"}]}
    assert browser.request("POST", "/dashboard/invoices/price", json=body).status_code == 403
    assert (
        browser.request("POST", "/dashboard/invoices/price", json=body, headers={"X-CSRF-Token": "nope"}).status_code
        == 403
    )
    ok = browser.request(
        "POST", "/dashboard/invoices/price", json=body, headers={"X-CSRF-Token": csrf_of(browser.page)}
    )
    assert ok.status_code == 200 and ok.json()["total"] == "$2.00"


# --- isolation ---------------------------------------------------------------------------------------


def test_an_owner_sees_and_touches_nothing_of_another_account(browser: Browser, services: Services) -> None:
    ids = everything_of(browser)
    names = ("Secret Client", "secret@acme.test", "secret-key", "SECRET-1", "SECRET-2", "Ana&#39;s Studio", "Ana's")
    secrets = names + tuple(ids.values())

    bob = Browser(browser.http)
    bob.sign_in(make_owner(services, "bob@example.com", name="Bob's Bikes"))
    # pages of one's own account: none of Ana's things, however asked for
    own_pages = routes_of("GET", with_ids=False) - {"/welcome/{token}"}
    asked = {
        "/invoices": [{}, {"search": "secret"}, {"search": "SECRET-2"}, {"status": "PARTIALLY_PAID"}],
        "/clients": [{}, {"search": "secret"}, {"state": "deactivated"}],
        "/invoices/new": [{}, {"clientId": ids["client_id"]}],
    }
    for template in own_pages:
        for params in asked.get(template, [{}]):
            response = bob.get(concrete(template, ids), **params)
            assert response.status_code == 200, (template, params, response.status_code)
            leaked = [secret for secret in secrets if secret in response.text and secret not in params.values()]
            assert leaked == [], (template, params, leaked)  # (what was asked for is echoed in the page's links)
    foreign = bob.get("/dashboard/invoices", clientId=ids["client_id"])  # the list of one of her clients
    assert foreign.status_code == 404 and [name for name in names if name in foreign.text] == []
    # every page that names a record: Ana's ids are not found, and say nothing of her
    for template in routes_of("GET", with_ids=True):
        for params in ({}, {"version": "1"}):
            response = bob.get(concrete(template, ids), **params)
            assert response.status_code == 404, (template, params, response.status_code)
            assert [name for name in names if name in response.text] == [], template  # (its path is echoed)
    # every change to a record, on Ana's ids: not found, nothing written
    bob.get("/dashboard/keys")
    before = stored_state(services)
    forms = _state_changing_forms(ids)
    changes = routes_of("POST", with_ids=True)
    assert changes <= set(forms)
    for template in changes:
        response = bob.post(concrete(template, ids), forms[template], follow=False)
        assert response.status_code == 404, (template, response.status_code)
    # Bob cannot bill Ana's client either: it is no active client of his
    response = bob.post("/dashboard/invoices/new", invoice_form(ids["client_id"], THREE_LINES))
    assert response.status_code == 400 and "Choose an active client." in response.text
    assert stored_state(services) == before


# --- API keys ----------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_works_on_the_api_and_can_be_revoked(
    browser: Browser, services: Services, owner: Owner
) -> None:
    browser.get("/dashboard/keys")
    page = browser.post("/dashboard/keys", {"label": "online shop"}).text
    key = re.search(r'<code id="new-key">(cinv_[A-Za-z0-9_-]+)</code>', page).group(1)  # type: ignore[union-attr]
    curl = re.search(r'<code id="curl-line">(.*?)</code>', page, re.S).group(1)  # type: ignore[union-attr]
    assert (
        unescape(re.sub(r"<[^>]+>", "", curl))
        == f'curl -H "Authorization: Bearer {key}" http://testserver/api/v1/clients'
    )
    assert 'data-copy="new-key"' in page and "shown only this once" in page

    api = Browser(browser.http)  # a program, with no cookies
    assert api.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listing = browser.get("/dashboard/keys").text
    assert key not in listing  # never again
    row = re.search(r'<tr>\s*<td data-label="Label">online shop</td>.*?</tr>', listing, re.S).group(0)  # type: ignore[union-attr]
    assert key[:9] + "…" in row and "Never" not in row  # its prefix, and when it was last used

    key_id = re.search(r"/dashboard/keys/([0-9a-f-]{36})/revoke", listing).group(1)  # type: ignore[union-attr]
    done = browser.post(f"/dashboard/keys/{key_id}/revoke")
    assert "API key revoked" in done.text and "Revoked" in done.text
    assert api.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    # the ledger names who did it: the owner, by id and email
    actors = [seal["actor"] for _, seal in services.app.sealed_events(owner.account_id) if seal]
    assert actors[-2:] == [{"type": OWNER, "id": actors[-1]["id"], "name": owner.email}] * 2


# --- every form's bad input -----------------------------------------------------------------------


@pytest.fixture
def books(browser: Browser) -> dict[str, str]:
    """A client, a draft (INV-0001) and a sent invoice (INV-0002, $799.70), made in the dashboard."""
    client_id = add_client(browser)
    draft = add_draft(browser, client_id)
    sent = add_draft(browser, client_id)
    browser.get(f"/dashboard/invoices/{sent}")
    assert "Invoice sent." in browser.post(f"/dashboard/invoices/{sent}/send", {}).text
    return {"client": client_id, "draft": draft, "sent": sent}


def _line(**fields: str) -> list[dict[str, str]]:
    return [{"description": "Work", "quantity": "1", "unitPrice": "10", **fields}]


BAD_INPUT: list[tuple[str, str, Any, int, str]] = [
    # (page to load, path to post, form, status, what the page says)
    ("/clients/new", "/clients/new", {"name": ""}, 400, "Name must not be empty."),
    ("/clients/new", "/clients/new", {"name": "   "}, 400, "Name must not be empty."),
    (
        "/clients/new",
        "/clients/new",
        {"name": "Acme", "email": "not-an-email"},
        400,
        "Email must be a valid email address.",
    ),
    ("/clients/new", "/clients/new", {"name": "x" * 256}, 400, "Name must be at most 255 characters."),
    ("/clients/new", "/clients/new", {"name": "Nul\x00Name"}, 400, "Name contains characters that cannot be kept."),
    (
        "/clients/{client}",
        "/clients/{client}",
        {"name": "Acme", "phone": "1" * 65},
        400,
        "Phone must be at most 64 characters.",
    ),
    ("/clients/{client}", "/clients/{client}", {"name": ""}, 400, "Name must not be empty."),
    ("/invoices/new", "/invoices/new", lambda b: invoice_form("", _line()), 400, "Choose an active client."),
    ("/invoices/new", "/invoices/new", lambda b: invoice_form(b["client"], []), 400, "Add at least one line."),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(quantity="abc")),
        400,
        "Line 1, quantity must be a number.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(quantity="0")),
        400,
        "Line 1, quantity must be greater than 0 and at most 1000000000.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(taxRate="150")),
        400,
        "Line 1, tax rate must be a percentage from 0 to 100.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], [*_line(), *_line(description="")]),
        400,
        "Line 2, description must not be empty.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(), issueDate="2024-02-30"),
        400,
        "Issue date must be a date.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(), issueDate="2024-06-10", dueDate="2024-06-01"),
        400,
        "The due date must be on or after the issue date.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(), currency="ZZZ"),
        400,
        "Choose a currency.",
    ),
    (
        "/invoices/new",
        "/invoices/new",
        lambda b: invoice_form(b["client"], _line(), invoiceNumber="inv-0001"),
        409,
        "Invoice number inv-0001 is taken.",
    ),
    (
        "/invoices/{draft}/edit",
        "/invoices/{draft}/edit",
        lambda b: invoice_form(b["client"], _line(), invoiceNumber="INV-0001", issueDate="2024-06-01"),
        400,
        "Due date must be a date.",
    ),
    (
        "/invoices/{sent}",
        "/invoices/{sent}/edit",
        lambda b: invoice_form(
            b["client"], _line(), invoiceNumber="INV-0002", issueDate="2024-06-01", dueDate="2024-07-01"
        ),
        409,
        "You cannot change an invoice that is sent.",
    ),
    (
        "/invoices/{draft}",
        "/invoices/{draft}/send",
        {"email": "1", "to": "nope"},
        400,
        "“nope” is not a valid email address.",
    ),
    (
        "/invoices/{draft}",
        "/invoices/{draft}/send",
        {"to": "a@example.com"},
        400,
        "Tick “Send it by email” to give recipients.",
    ),
    (
        "/invoices/{draft}",
        "/invoices/{draft}/payments",
        {"amount": "10"},
        409,
        "You cannot record a payment on an invoice that is draft.",
    ),
    ("/invoices/{sent}", "/invoices/{sent}/payments", {"amount": ""}, 400, "Amount must be a number."),
    ("/invoices/{sent}", "/invoices/{sent}/payments", {"amount": "-5"}, 400, "Amount must be greater than 0."),
    (
        "/invoices/{sent}",
        "/invoices/{sent}/payments",
        {"amount": "1000000"},
        400,
        "Amount must be at most the balance due ($799.70).",
    ),
    (
        "/invoices/{sent}",
        "/invoices/{sent}/payments",
        {"amount": "1.234"},
        400,
        "Amount must have at most 2 decimal places.",
    ),
    (
        "/invoices/{sent}",
        "/invoices/{sent}/payments",
        {"amount": "10", "date": "2024-13-01"},
        400,
        "Date must be a date.",
    ),
    (
        "/invoices/{draft}",
        "/invoices/{draft}/void",
        {"reason": "oops"},
        409,
        "You cannot void an invoice that is draft.",
    ),
    ("/invoices/{sent}", "/invoices/{sent}/delete", {}, 409, "You cannot delete an invoice that is sent."),
    ("/keys", "/keys", {"label": "k" * 256}, 400, "Label must be at most 255 characters."),
    ("/settings", "/settings", {"name": "", "locale": "en"}, 400, "The business name must be 1 to 255 characters."),
    (
        "/settings",
        "/settings",
        {"name": "Ana", "locale": "en", "email": "bad"},
        400,
        "Email must be a valid email address.",
    ),
    ("/settings", "/settings", {"name": "Ana", "locale": "fr"}, 400, "Choose English or Spanish."),
    ("/invoices", "/invoices/{sent}/payments/{client}/reverse", {}, 404, "There is no such payment."),
]


@pytest.mark.parametrize(("page", "path", "form", "status", "says"), BAD_INPUT, ids=[case[4] for case in BAD_INPUT])
def test_bad_input_on_a_form_says_what_is_wrong_and_writes_nothing(
    browser: Browser, books: dict[str, str], services: Services, page: str, path: str, form: Any, status: int, says: str
) -> None:
    browser.get("/dashboard" + page.format(**books))
    data = form(books) if callable(form) else form
    before = stored_state(services)
    response = browser.post("/dashboard" + path.format(**books), data, follow=False)
    assert response.status_code == status, text_of(response.text)[:600]
    assert says in summary_of(response.text) or says in text_of(response.text), (summary_of(response.text), says)
    assert stored_state(services) == before


def test_a_refused_form_keeps_what_was_typed_and_points_at_the_field(browser: Browser, books: dict[str, str]) -> None:
    browser.get("/dashboard/invoices/new")
    lines = [*_line(description="Kept line"), {"description": "Second", "quantity": "x", "unitPrice": "5"}]
    response = browser.post("/dashboard/invoices/new", invoice_form(books["client"], lines, notes="Keep me"))
    assert response.status_code == 400
    page = response.text
    assert 'value="Kept line"' in page and ">Keep me</textarea>" in page
    assert '<a href="#f-lineItems[1].quantity">Line 2, quantity must be a number.</a>' in page
    assert re.search(r'id="f-lineItems\[1\]\.quantity" name="quantity" value="x"[^>]*aria-invalid="true"', page)
    browser.get("/dashboard/clients/new")
    page = browser.post("/dashboard/clients/new", {"name": "Acme", "email": "nope", "phone": "+34 600"}).text
    assert errors_of(page) == ["Email must be a valid email address."]
    assert 'value="+34 600"' in page and 'aria-describedby="h-email e-email"' in page


def test_lines_are_added_and_removed_without_javascript_too(
    browser: Browser, books: dict[str, str], services: Services
) -> None:
    browser.get("/dashboard/invoices/new")
    before = stored_state(services)
    form = invoice_form(books["client"], THREE_LINES)
    added = browser.post("/dashboard/invoices/new", [*form, ("action", "add-line")])
    assert added.status_code == 200 and 'value="remove-3"' in added.text and 'value="remove-4"' not in added.text
    removed = browser.post("/dashboard/invoices/new", [*form, ("action", "remove-1")])
    assert 'value="Hosting"' not in removed.text and 'value="Support"' in removed.text
    assert "Total $654.50" in text_of(removed.text)  # the two lines left, priced by the server
    assert stored_state(services) == before


# --- an invoice's life ---------------------------------------------------------------------------------


def test_an_invoice_goes_from_draft_to_paid_in_the_dashboard(
    browser: Browser, services: Services, owner: Owner, clock: FakeClock
) -> None:
    client_id = add_client(browser)
    invoice_id = add_draft(browser, client_id, notes="Thanks!")
    page = text_of(browser.page)
    assert "Invoice INV-0001 Draft" in page
    assert "Design 10 $50.00 10% 21% $450.00" in page  # what the line costs, after its discount, as the PDF says
    assert (
        "Subtotal $720.00 Discount -$50.00 Subtotal after discount $670.00 "
        "Tax 10% on $100.00 $10.00 Tax 21% on $570.00 $119.70 Total $799.70"
    ) in page
    assert f'src="/dashboard/invoices/{invoice_id}/pdf"' in browser.page
    pdf = browser.request("GET", f"/dashboard/invoices/{invoice_id}/pdf")
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("inline;")
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    download = browser.request("GET", f"/dashboard/invoices/{invoice_id}/pdf", params={"download": "1"})
    assert download.headers["content-disposition"] == 'attachment; filename="INV-0001.pdf"'

    sent = browser.post(f"/dashboard/invoices/{invoice_id}/send", {})
    assert "Invoice sent." in sent.text and "Invoice INV-0001 Sent" in text_of(sent.text)
    share = re.search(r'<code id="share-link">(http://testserver/i/[^<]+)</code>', sent.text).group(1)  # type: ignore[union-attr]
    assert f'href="{share}"' not in sent.text  # copied for the client, not opened by the owner (it would say "viewed")
    opened = Browser(browser.http).request("GET", share.removeprefix("http://testserver"))
    assert opened.status_code == 200 and "INV-0001" in opened.text
    assert "Invoice INV-0001 Viewed" in text_of(browser.get(f"/dashboard/invoices/{invoice_id}").text)

    clock.advance(days=3)
    partly = browser.post(f"/dashboard/invoices/{invoice_id}/payments", {"amount": "300", "method": "bank transfer"})
    assert "Payment recorded." in partly.text
    assert "Partially paid" in text_of(partly.text) and "Balance due $499.70" in text_of(partly.text)
    clock.advance(days=3)
    paid = browser.post(f"/dashboard/invoices/{invoice_id}/payments", {"amount": "499.70", "reference": "TX-2"})
    assert "Invoice INV-0001 Paid" in text_of(paid.text) and "Balance due $0.00" in text_of(paid.text)

    second = re.findall(r"/payments/([0-9a-f-]{36})/reverse", paid.text)[-1]  # oldest first
    clock.advance(hours=1)
    reversed_ = browser.post(f"/dashboard/invoices/{invoice_id}/payments/{second}/reverse", {})
    assert "Payment reversed." in reversed_.text and "Invoice INV-0001 Partially paid" in text_of(reversed_.text)
    again = browser.post(f"/dashboard/invoices/{invoice_id}/payments", {"amount": "499.70"})
    assert "Invoice INV-0001 Paid" in text_of(again.text)

    history = text_of(re.search(r'<ol class="timeline">.*?</ol>', again.text, re.S).group(0))  # type: ignore[union-attr]
    for told in (
        "Payment recorded Partially paid → Paid $499.70",
        "Payment reversed Paid → Partially paid $499.70",
        "Opened by the client Sent → Viewed",
        "Sent Draft → Sent without email",
        "Created",
    ):
        assert told in history, told
    assert f"UTC · {owner.email} · View version 1" in history
    assert "CleverInvo, the share link" in history

    then = browser.get(f"/dashboard/invoices/{invoice_id}", version="2")
    assert "You are looking at version 2 of 7" in text_of(then.text)
    assert "Invoice INV-0001 Sent" in text_of(then.text) and "Record a payment" not in then.text
    assert f'src="/dashboard/invoices/{invoice_id}/pdf?version=2"' in then.text
    assert browser.request("GET", f"/dashboard/invoices/{invoice_id}/pdf", params={"version": "2"}).content.startswith(
        b"%PDF"
    )
    assert browser.get(f"/dashboard/invoices/{invoice_id}", version="99").status_code == 404
    assert browser.get(f"/dashboard/invoices/{invoice_id}", version="x").status_code == 400


def test_a_draft_is_edited_and_deleted(browser: Browser) -> None:
    client_id = add_client(browser)
    invoice_id = add_draft(browser, client_id)
    form = browser.get(f"/dashboard/invoices/{invoice_id}/edit").text
    assert 'value="Design"' in form and 'value="2.5"' in form and "$799.70" in text_of(form)
    changed = browser.post(
        f"/dashboard/invoices/{invoice_id}/edit",
        invoice_form(
            client_id, _line(unitPrice="99"), invoiceNumber="INV-0042", issueDate="2024-06-01", dueDate="2024-07-01"
        ),
    )
    assert "Draft saved." in changed.text and "Invoice INV-0042 Draft" in text_of(changed.text)
    told = "Changed changed: Invoice number, Issue date, Due date, Lines · total $99.00"
    assert told in text_of(changed.text)
    gone = browser.post(f"/dashboard/invoices/{invoice_id}/delete", {})
    assert gone.url.path == "/dashboard/invoices" and "Draft deleted." in gone.text
    assert browser.get(f"/dashboard/invoices/{invoice_id}").status_code == 404


def test_sending_by_email_is_offered_as_the_plan_allows(http: TestClient, services: Services) -> None:
    browser = Browser(http)
    browser.sign_in(make_owner(services, "free@example.com", plan="free"))
    invoice_id = add_draft(browser, add_client(browser))
    before = stored_state(services)
    refused = browser.post(f"/dashboard/invoices/{invoice_id}/send", {"email": "1"})
    assert refused.status_code == 403 and "Your plan does not send emails" in refused.text
    assert stored_state(services) == before
    assert "Invoice sent." in browser.post(f"/dashboard/invoices/{invoice_id}/send", {}).text


def test_an_emailed_send_is_queued(browser: Browser) -> None:
    invoice_id = add_draft(browser, add_client(browser))
    sent = browser.post(
        f"/dashboard/invoices/{invoice_id}/send", {"email": "1", "cc": "boss@acme.test, tax@acme.test", "message": "Hi"}
    )
    assert "the email is on its way" in sent.text and "email: queued" in text_of(sent.text)
    assert "Sent Draft → Sent by email to boss@acme.test, tax@acme.test" in text_of(sent.text)


def test_the_live_totals_are_the_totals_the_invoice_gets(browser: Browser, services: Services) -> None:
    """The form's running totals come from the server; for many drafts, in several
    currencies, they are exactly what the saved invoice shows."""
    client_id = add_client(browser)
    rng = random.Random(18)
    fmt = Formatter("en")
    for case in range(12):
        currency = ["USD", "EUR", "JPY", "BHD"][case % 4]
        lines = [
            {
                "description": f"Item {n}",
                "quantity": str(Decimal(rng.randint(1, 4000)) / rng.choice([1, 10, 100])),
                "unitPrice": str(Decimal(rng.randint(0, 999999)) / rng.choice([1, 100, 1000])),
                "discountRate": rng.choice(["", "5", "12.5", "33.3333"]),
                "taxRate": rng.choice(["", "4", "10", "21", "7.75"]),
            }
            for n in range(rng.randint(1, 5))
        ]
        page = browser.get("/dashboard/invoices/new").text
        quoted = browser.request(
            "POST",
            "/dashboard/invoices/price",
            json={"currency": currency, "lines": lines},
            headers={"X-CSRF-Token": csrf_of(page)},
        ).json()
        invoice_id = add_draft(browser, client_id, lines, currency=currency)
        saved = services.usecases.invoices.detail(
            UUID(services.read.invoice_account(invoice_id) or ""), UUID(invoice_id)
        )
        assert quoted["total"] == fmt.money(saved.total, currency), case
        assert quoted["subtotal"] == fmt.money(saved.subtotal, currency)
        assert quoted["discount"] == (fmt.money(-saved.discount_total, currency) if saved.discount_total else None)
        net = saved.subtotal - saved.discount_total
        assert quoted["net"] == (fmt.money(net, currency) if saved.discount_total else None)
        assert [line["amount"] for line in quoted["lines"]] == [
            fmt.money(line.amount - line.discount, currency) for line in saved.line_items
        ]
        assert sum((line.amount - line.discount for line in saved.line_items), Decimal(0)) == net
        assert sum(Decimal(0) for _ in quoted["taxes"]) == 0 and len(quoted["taxes"]) >= 1
        detail = text_of(browser.page)
        for tax in quoted["taxes"]:
            assert f"{tax['label']} {tax['amount']}" in detail


def test_live_totals_explain_what_cannot_be_priced_yet(browser: Browser) -> None:
    token = csrf_of(browser.get("/dashboard/invoices/new").text)

    def price(body: Any) -> Any:
        return browser.request("POST", "/dashboard/invoices/price", json=body, headers={"X-CSRF-Token": token})

    assert price({"currency": "USD", "lines": [{"quantity": "2", "unitPrice": ""}]}).json() == {
        "error": "Line 1, unit price must be a number.",
        "field": "lineItems[0].unitPrice",
    }
    assert price({"currency": "USD", "lines": []}).json()["error"] == "Add at least one line."
    assert (
        price({"currency": "USD", "lines": [{"description": "", "quantity": "3", "unitPrice": "2"}]}).json()["total"]
        == "$6.00"
    )
    for bad in ({"currency": 1, "lines": []}, {"lines": "x"}, {"currency": "USD", "lines": [{"quantity": 2}]}, [1]):
        assert price(bad).status_code == 400, bad
    raw = browser.request(
        "POST",
        "/dashboard/invoices/price",
        content=b"{",
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert raw.status_code == 400


# --- clients ----------------------------------------------------------------------------------------


def test_clients_show_the_plan_usage_and_are_deactivated_and_reactivated(http: TestClient, services: Services) -> None:
    browser = Browser(http)
    browser.sign_in(make_owner(services, "free@example.com", plan="free"))
    ids = [add_client(browser, f"Client {n}", f"c{n}@example.com") for n in range(5)]
    listing = browser.get("/dashboard/clients").text
    assert "5 of 5 active clients" in text_of(listing)
    before = stored_state(services)
    browser.get("/dashboard/clients/new")
    full = browser.post("/dashboard/clients/new", {"name": "One too many"})
    assert full.status_code == 403  # as the API answers the same refusal
    assert "Your plan allows 5 active clients" in text_of(full.text)
    assert stored_state(services) == before

    browser.get(f"/dashboard/clients/{ids[0]}")
    done = browser.post(f"/dashboard/clients/{ids[0]}/deactivate", {})
    assert "Client deactivated." in done.text and "Reactivate client" in done.text
    assert "4 of 5 active clients" in text_of(browser.get("/dashboard/clients").text)
    assert "Client 0" not in browser.page
    archived = browser.get("/dashboard/clients", state="deactivated").text
    assert "Client 0" in archived and "Client 1" not in archived
    assert "Client 0" not in browser.get("/dashboard/invoices/new").text  # no new invoices for it
    browser.get(f"/dashboard/clients/{ids[0]}")
    back = browser.post(f"/dashboard/clients/{ids[0]}/reactivate", {})
    assert "Client reactivated." in back.text
    history = text_of(re.search(r'<ol class="timeline">.*?</ol>', back.text, re.S).group(0))  # type: ignore[union-attr]
    assert history.startswith("Reactivated") and "Deactivated" in history and "Created" in history


def test_clients_are_searched_and_paged(browser: Browser) -> None:
    for n in range(22):
        add_client(browser, f"Shop {n:02d}", f"s{n}@shops.test")
    add_client(browser, "Müller GmbH", "kontakt@mueller.test")
    first = text_of(browser.get("/dashboard/clients").text)
    assert "Page 1 of 2" in first and "Müller GmbH" in first  # newest first
    second = text_of(browser.get("/dashboard/clients", page="2").text)
    assert "Page 2 of 2" in second and "Shop 00" in second
    found = text_of(browser.get("/dashboard/clients", search="MÜLLER").text)
    assert "Müller GmbH" in found and "Shop" not in found.replace("Shops", "")
    assert "No client matches “nothing-like-it”." in text_of(
        browser.get("/dashboard/clients", search="nothing-like-it").text
    )
    assert browser.get("/dashboard/clients", page="abc").status_code == 200
    assert browser.get("/dashboard/clients", search="x" * 300).status_code == 400
    beyond = browser.get("/dashboard/clients", page="3")  # an old link, after clients were deactivated
    assert "There is no such page. Go to the first page" in text_of(beyond.text)
    assert "No clients yet" not in beyond.text


def test_invoices_are_searched_and_filtered_by_status(browser: Browser, books: dict[str, str]) -> None:
    everything = text_of(browser.get("/dashboard/invoices").text)
    assert "INV-0001" in everything and "INV-0002" in everything
    drafts = browser.get("/dashboard/invoices", status="DRAFT").text
    assert "INV-0001" in drafts and "INV-0002" not in drafts
    assert '<a href="/dashboard/invoices?status=DRAFT&amp;search=" aria-current="page">Draft</a>' in drafts
    assert "INV-0002" in browser.get("/dashboard/invoices", search="inv-0002").text
    assert "No invoice matches." in text_of(browser.get("/dashboard/invoices", status="PAID").text)
    assert browser.get("/dashboard/invoices", status="NOPE").status_code == 200  # an unknown chip is no filter
    beyond = text_of(browser.get("/dashboard/invoices", page="5", status="DRAFT").text)
    assert "There is no such page. Go to the first page" in beyond and "No invoices yet" not in beyond


def test_a_clients_invoices_are_listed_from_the_client(browser: Browser, books: dict[str, str]) -> None:
    other = add_client(browser, "Other Co", "ap@other.test")
    add_draft(browser, other, invoiceNumber="OTHER-1")
    client_page = browser.get(f"/dashboard/clients/{books['client']}").text
    assert f'href="/dashboard/invoices?clientId={books["client"]}">Invoices of this client</a>' in client_page
    theirs = browser.get("/dashboard/invoices", clientId=books["client"])
    page = text_of(theirs.text)
    assert "Invoices of Acme Corp" in page and "INV-0001" in page and "INV-0002" in page and "OTHER-1" not in page
    sent = text_of(browser.get("/dashboard/invoices", clientId=books["client"], status="SENT").text)
    assert "INV-0002" in sent and "INV-0001" not in sent  # the chips keep to the client
    assert f'href="/dashboard/invoices?clientId={books["client"]}&amp;status=DRAFT' in theirs.text
    idle = add_client(browser, "Idle Ltd", "idle@idle.test")
    assert "No invoices for this client yet." in text_of(browser.get("/dashboard/invoices", clientId=idle).text)
    assert browser.get("/dashboard/invoices", clientId="not-an-id").status_code == 404


# --- settings, languages ------------------------------------------------------------------------------


def test_settings_change_what_invoices_show_and_the_ledger_can_be_downloaded(browser: Browser, owner: Owner) -> None:
    page = browser.get("/dashboard/settings").text
    assert "Plan: Pro" in text_of(page) and "0 of 500 active clients" in text_of(page)
    assert owner.email in page and str(owner.account_id) in page
    saved = browser.post(
        "/dashboard/settings",
        {
            "name": "Ana Studio SL",
            "locale": "en",
            "address": "Calle Mayor 1\nMadrid",
            "email": "hola@ana.test",
            "taxId": "B123",
        },
    )
    assert "Settings saved." in saved.text and 'value="Ana Studio SL"' in saved.text
    digest = re.search(r'id="ledger-digest">([0-9a-f]{64})<', saved.text).group(1)  # type: ignore[union-attr]
    export = browser.request("GET", "/dashboard/settings/export")
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    assert export.headers["content-disposition"] == f'attachment; filename="cleverinvo-ledger-{owner.account_id}.jsonl"'
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines[-1]["digest"] == digest and lines[0]["topic"].endswith("Account.AccountOpened")
    assert any(line["topic"].endswith("Account.OwnerAdded") for line in lines)


def test_the_dashboard_speaks_the_accounts_language_and_can_switch(http: TestClient, services: Services) -> None:
    browser = Browser(http)
    browser.sign_in(make_owner(services, "eva@example.com", locale="es", name="Tienda Eva"))
    page = browser.get("/dashboard/invoices").text
    assert '<html lang="es">' in page and "Nueva factura" in page and "Ninguna" not in page
    invoice_id = add_draft_es(browser)
    detail = text_of(browser.get(f"/dashboard/invoices/{invoice_id}").text)
    assert "Factura INV-0001 Borrador" in detail and "Total 1.234,50 €" in detail
    switched = browser.post("/dashboard/language", {"locale": "en", "next": f"/dashboard/invoices/{invoice_id}"})
    assert switched.url.path == f"/dashboard/invoices/{invoice_id}"
    assert "Invoice INV-0001 Draft" in text_of(switched.text) and "€1,234.50" in text_of(switched.text)
    refused = browser.post(f"/dashboard/invoices/{invoice_id}/void", {})
    assert "You cannot void an invoice that is draft." in text_of(refused.text)
    browser.post("/dashboard/language", {"locale": "es", "next": "/dashboard/settings"})
    assert "No se puede anular una factura en estado borrador." in text_of(
        browser.post(f"/dashboard/invoices/{invoice_id}/void", {}).text
    )
    assert "Factura enviada." in browser.post(f"/dashboard/invoices/{invoice_id}/send", {}).text
    paid = text_of(browser.post(f"/dashboard/invoices/{invoice_id}/payments", {"amount": "34.5"}).text)
    # a word that is a status ("Pagada", "Anulada") is not where an amount or an action is named
    assert "Importe pagado 34,50 €" in paid and "Anular la factura" in paid and "Pagada 34,50" not in paid


def add_draft_es(browser: Browser) -> str:
    browser.get("/dashboard/clients/new")
    client_id = browser.post("/dashboard/clients/new", {"name": "Cliente SA"}).url.path.rsplit("/", 1)[1]
    browser.get("/dashboard/invoices/new")
    assert "<option selected>EUR</option>" in browser.page  # a Spanish account bills in euros unless told
    lines = [{"description": "Consultoría", "quantity": "1", "unitPrice": "1234.5"}]
    response = browser.post("/dashboard/invoices/new", invoice_form(client_id, lines, currency="EUR"))
    assert "Borrador guardado." in response.text
    return response.url.path.rsplit("/", 1)[1]


def test_before_signing_in_the_language_is_the_browsers_or_the_one_picked(http: TestClient) -> None:
    spanish = http.get("/dashboard/sign-in", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.8"})
    assert '<html lang="es">' in spanish.text and "Iniciar sesión" in spanish.text
    assert '<html lang="en">' in http.get("/dashboard/sign-in", headers={"Accept-Language": "fr, de;q=0.5"}).text
    assert "Iniciar sesión" in http.get("/dashboard/sign-in", params={"lang": "es"}).text
    assert (
        '<html lang="en">'
        in http.get("/dashboard/sign-in", params={"lang": "xx"}, headers={"Accept-Language": "q=;;"}).text
    )


def test_the_language_picked_before_signing_in_stays_after(http: TestClient, owner: Owner) -> None:
    browser = Browser(http)
    page = browser.get("/dashboard/sign-in", next="/dashboard/clients").text  # asked for by a signed-out browser
    assert 'href="?next=%2Fdashboard%2Fclients&amp;lang=es"' in page  # where it was going is kept
    spanish = browser.get("/dashboard/sign-in", next="/dashboard/clients", lang="es")
    assert "Iniciar sesión" in spanish.text and 'action="/dashboard/sign-in?lang=es"' in spanish.text
    wrong = browser.post("/dashboard/sign-in?lang=es", {"email": owner.email, "password": "not it at all"})
    assert wrong.status_code == 401 and "Iniciar sesión" in wrong.text  # still in the language picked
    right = {"email": owner.email, "password": owner.password, "next": "/dashboard/clients"}
    signed = browser.post("/dashboard/sign-in?lang=es", right)
    assert signed.url.path == "/dashboard/clients" and '<html lang="es">' in signed.text  # an English account
    other = Browser(http)  # the account's language for whoever picked none
    other.sign_in(owner)
    assert '<html lang="en">' in other.get("/dashboard/clients").text


# --- one-time links --------------------------------------------------------------------------------------


def test_the_first_run_link_makes_the_first_owner_once(http: TestClient, services: Services, clock: FakeClock) -> None:
    account = services.execute(lambda: services.app.open_account("Default account", "pro"))
    link = services.usecases.owners.first_owner_link(account)
    browser = Browser(http)
    page = browser.get(f"/dashboard/welcome/{link.token}").text
    assert "You are setting up Default account" in text_of(page) and 'name="email"' in page
    before = stored_state(services)
    for data, says in [
        (
            {"email": "me@example.com", "password": "short", "password_again": "short"},
            "Password must be at least 10 characters.",
        ),
        (
            {"email": "me@example.com", "password": PASSWORD, "password_again": PASSWORD + "x"},
            "The two passwords differ.",
        ),
        (
            {"email": "not an email", "password": PASSWORD, "password_again": PASSWORD},
            "Email must be a valid email address.",
        ),
        (
            {"email": "me@example.com", "password": "me@example.com", "password_again": "me@example.com"},
            "Password must not be your email address.",
        ),
    ]:
        refused = browser.post(f"/dashboard/welcome/{link.token}", data)
        assert refused.status_code == 400 and says in text_of(refused.text), says
    assert stored_state(services) == before  # and the link still works:
    done = browser.post(
        f"/dashboard/welcome/{link.token}",
        {"email": "Me@Example.com", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert done.url.path == "/dashboard/keys" and "You are signed in." in done.text
    assert [o.email for o in services.usecases.owners.listing(account)] == ["Me@Example.com"]
    again = Browser(http).get(f"/dashboard/welcome/{link.token}")
    assert again.status_code == 410 and "This link cannot be used" in again.text
    with pytest.raises(Exception, match="owners already"):
        services.usecases.owners.first_owner_link(account)


def test_of_several_first_run_links_the_first_used_makes_the_owner_and_ends_the_others(
    http: TestClient, services: Services
) -> None:
    account = services.execute(lambda: services.app.open_account("Default account", "pro"))
    earlier, later = (services.usecases.owners.first_owner_link(account) for _ in range(2))  # two starts
    mine, theirs = Browser(http), Browser(http)
    mine.get(f"/dashboard/welcome/{later.token}")
    assert theirs.get(f"/dashboard/welcome/{earlier.token}").status_code == 200  # the later did not end it
    me = {"email": "me@example.com", "password": PASSWORD, "password_again": PASSWORD}
    done = mine.post(f"/dashboard/welcome/{later.token}", me)
    assert done.url.path == "/dashboard/keys"
    before = stored_state(services)
    late = theirs.post(
        f"/dashboard/welcome/{earlier.token}",
        {"email": "them@example.com", "password": PASSWORD, "password_again": PASSWORD},
        follow=False,
    )
    assert late.status_code == 410 and not late.headers.get_list("set-cookie")
    assert stored_state(services) == before
    assert [o.email for o in services.usecases.owners.listing(account)] == ["me@example.com"]


def test_an_invitation_link_expires_after_a_week(http: TestClient, services: Services, clock: FakeClock) -> None:
    account = services.execute(lambda: services.app.open_account("Shop", "pro"))
    link = services.usecases.owners.invite(account, "late@example.com")
    clock.advance(days=7, minutes=1)
    page = Browser(http).get(f"/dashboard/welcome/{link.token}")
    assert page.status_code == 410
    fresh = services.usecases.owners.invite(account, "late@example.com")  # a new link, the same owner
    browser = Browser(http)
    assert "Choose the password of late@example.com" in text_of(browser.get(f"/dashboard/welcome/{fresh.token}").text)
    browser.post(f"/dashboard/welcome/{fresh.token}", {"password": PASSWORD, "password_again": PASSWORD})
    assert browser.get("/dashboard/keys").url.path == "/dashboard/keys"
    assert len(services.usecases.owners.listing(account)) == 1


def test_setting_a_password_again_ends_the_owners_other_sessions(
    browser: Browser, services: Services, owner: Owner
) -> None:
    link = services.usecases.owners.invite(owner.account_id, owner.email)
    elsewhere = Browser(browser.http)
    elsewhere.get(f"/dashboard/welcome/{link.token}")
    new_password = "another long passphrase"
    elsewhere.post(f"/dashboard/welcome/{link.token}", {"password": new_password, "password_again": new_password})
    assert elsewhere.get("/dashboard/keys").url.path == "/dashboard/keys"
    assert browser.get("/dashboard/keys").url.path == "/dashboard/sign-in"  # the old session is gone
    assert browser.sign_in(owner).status_code == 401
    assert browser.sign_in(owner, new_password).url.path == "/dashboard/invoices"


# --- what every page is made of ---------------------------------------------------------------------------


class Markup(HTMLParser):
    """What the accessibility and policy checks need to know of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.inline_styles: list[str] = []
        self.handlers: list[str] = []
        self.labelled: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and "src" not in found:
            self.inline_scripts += 1
        if tag == "style" or "style" in found:
            self.inline_styles.append(tag)
        self.handlers += [name for name in found if name.startswith("on")]
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if "id" in found:
            self.ids.append(str(found["id"]))
        if tag in ("input", "select", "textarea") and found.get("type") not in ("hidden",):
            self.controls.append((tag, found))


def test_every_page_has_a_strict_policy_no_inline_code_and_labelled_controls(
    browser: Browser, books: dict[str, str], services: Services, owner: Owner
) -> None:
    browser.get(f"/dashboard/invoices/{books['sent']}")
    assert "Payment recorded." in browser.post(f"/dashboard/invoices/{books['sent']}/payments", {"amount": "1"}).text
    link = services.usecases.owners.invite(owner.account_id, "second@example.com")
    signed_out = Browser(browser.http)
    pages = [
        *((browser, path, 200) for path in PROTECTED_PAGES[:-1]),
        (browser, f"/dashboard/clients/{books['client']}", 200),
        (browser, f"/dashboard/invoices/{books['draft']}", 200),
        (browser, f"/dashboard/invoices/{books['draft']}/edit", 200),
        (browser, f"/dashboard/invoices/{books['sent']}", 200),  # a payment to reverse, the void form
        (browser, f"/dashboard/invoices/{books['sent']}?version=1", 200),
        (browser, "/dashboard/nothing-here", 404),
        (signed_out, "/dashboard/sign-in", 200),
        (signed_out, f"/dashboard/welcome/{link.token}", 200),
    ]
    for who, path, status in pages:
        response = who.request("GET", path)
        assert response.status_code == status, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store" and response.headers["x-frame-options"] == "DENY"
        markup = Markup()
        markup.feed(response.text)
        assert markup.inline_scripts == 0 and markup.inline_styles == [] and markup.handlers == [], path
        assert len(markup.ids) == len(set(markup.ids)), (path, sorted(i for i in markup.ids if markup.ids.count(i) > 1))
        for tag, attrs in markup.controls:
            labelled = attrs.get("id") in markup.labelled or attrs.get("aria-label") or attrs.get("aria-hidden")
            assert labelled or attrs.get("type") == "submit", (path, tag, attrs)
        assert '<main id="main"' in response.text and 'class="skip" href="#main"' in response.text


def test_the_static_files_are_served_with_their_hash(http: TestClient) -> None:
    page = http.get("/dashboard/sign-in").text
    for name, kind in (
        ("dashboard.css", "text/css"),
        ("dashboard.js", "text/javascript"),
        ("icon.svg", "image/svg+xml"),
    ):
        url = re.search(rf'"(/dashboard/static/{re.escape(name)}\?v=[0-9a-f]{{12}})"', page).group(1)  # type: ignore[union-attr]
        response = http.get(url)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert http.get(url, headers={"if-none-match": response.headers["etag"]}).status_code == 304
    for name in ("../web.py", "dashboard.js.map", "nope.css"):
        assert http.get(f"/dashboard/static/{name}").status_code == 404


def test_unknown_dashboard_pages_are_html_not_json(http: TestClient) -> None:
    response = http.get("/dashboard/nothing-here")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "There is nothing at this address." in response.text
    assert http.get("/dashboard", follow_redirects=False).status_code in (303, 307)


@pytest.mark.sqlite_only("what fails here is Redis, whatever the store")
def test_unreachable_rate_limit_counters_refuse_a_sign_in_with_503_not_500(
    make_settings: Callable[..., Settings], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(CLEVERINVO_REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens: refused at once
    services = Services(settings, clock=clock)
    try:
        owner = make_owner(services)
        with TestClient(create_app(settings, services), raise_server_exceptions=True) as http:
            browser = Browser(http)
            assert browser.get("/dashboard/sign-in").status_code == 200  # showing the form counts nothing
            caplog.set_level("WARNING", logger="cleverinvo")
            response = browser.post("/dashboard/sign-in", {"email": owner.email, "password": PASSWORD}, follow=False)
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "The service is busy. Nothing was changed" in text_of(response.text)
        assert not any(c.startswith("cleverinvo_session=") for c in response.headers.get_list("set-cookie"))
        assert [r.levelname for r in caplog.records if r.name == "cleverinvo"] == ["WARNING"]  # no traceback
    finally:
        services.close()


def test_a_request_the_pages_never_send_is_refused_in_the_readers_language(
    http: TestClient, services: Services
) -> None:
    spanish = Browser(http)
    spanish.sign_in(make_owner(services, "es@example.com", locale="es"))
    spanish.get("/dashboard/clients/new")
    before = stored_state(services)
    token = csrf_of(spanish.page)
    as_json = spanish.request("POST", "/dashboard/clients/new", json={"csrf": token, "name": "JSON Ltd"})
    assert as_json.status_code == 415 and "No se pudo leer el formulario." in text_of(as_json.text)
    assert "application/x-www-form-urlencoded" not in as_json.text
    wrong_method = spanish.request("GET", "/dashboard/sign-out")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
    assert "Esta dirección no admite ese tipo de petición." in text_of(wrong_method.text)
    no_version = spanish.get("/dashboard/invoices/00000000-0000-4000-8000-000000000000/pdf", version="x")
    assert no_version.status_code == 400 and "No existe esa versión de la factura." in text_of(no_version.text)
    assert stored_state(services) == before


def test_a_failure_on_our_side_is_logged_once_and_shown_as_a_page_in_the_readers_language(
    settings: Settings, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A real failure (the clients' table gone from under the app): one log record with the
    traceback, a 500 page in Spanish that shows nothing of it, and nothing raised to the
    server (which would log it again)."""
    owner = make_owner(services, locale="es")
    client = services.usecases.clients.create(owner.account_id, ClientFields({"name": "Acme"}))
    with TestClient(create_app(settings, services), raise_server_exceptions=True) as strict:
        browser = Browser(strict)
        browser.sign_in(owner)
        with services.projector.writer.begin() as conn:
            conn.execute(text("ALTER TABLE clients RENAME TO clients_gone"))
        try:
            caplog.set_level("ERROR", logger="cleverinvo")
            response = browser.get(f"/dashboard/clients/{client.id}")
        finally:
            with services.projector.writer.begin() as conn:
                conn.execute(text("ALTER TABLE clients_gone RENAME TO clients"))
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    page = text_of(response.text)
    assert "Algo ha salido mal" in page and "Cerrar sesión" in page, page[:300]  # still signed in, in Spanish
    for leak in ("Traceback", "clients_gone", "OperationalError", "UndefinedTable", "SELECT", "sqlalchemy"):
        assert leak not in response.text, leak
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is not None, [r.getMessage() for r in errors]
    assert errors[0].getMessage() == "Dashboard error on GET /dashboard/clients/{client_id}"  # never a path's token
    assert browser.get("/dashboard/clients").status_code == 200  # the next page works again


def test_the_request_log_never_holds_a_link_token_a_password_or_a_cookie(
    http: TestClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="cleverinvo.requests")
    account = services.execute(lambda: services.app.open_account("Shop", "pro"))
    link = services.usecases.owners.invite(account, "log@example.com")
    browser = Browser(http)
    browser.get(f"/dashboard/welcome/{link.token}")
    browser.post(f"/dashboard/welcome/{link.token}", {"password": PASSWORD, "password_again": PASSWORD})
    browser.get("/dashboard/invoices", search="secret search")
    logged = [json.dumps(r.fields) for r in caplog.records if r.name == "cleverinvo.requests"]  # type: ignore[attr-defined]
    assert len(logged) >= 4
    cookie = browser.cookies.get("cleverinvo_session") or ""
    for line in logged:
        for secret in (link.token, PASSWORD, cookie, "secret search"):
            assert secret not in line, line


def test_a_head_request_shows_nothing_and_changes_nothing(http: TestClient, owner: Owner, services: Services) -> None:
    before = stored_state(services)
    assert http.head("/dashboard/sign-in").status_code == 200
    assert http.head("/dashboard/keys", follow_redirects=False).status_code == 303
    browser = Browser(http)
    browser.sign_in(owner)
    assert browser.request("HEAD", "/dashboard/invoices").status_code == 200
    assert stored_state(services) == before
