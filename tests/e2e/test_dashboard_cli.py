"""Owners from the command line: `accounts create --owner-email`, `owners invite` and
`owners list`, and the first `cleverinvo serve` on an empty data directory, which prints
the dashboard's address and the link that makes its first owner."""

import re
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import httpx

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TestClient
from tests.dashboard_support import FORM, PASSWORD, Browser, csrf_of
from tests.e2e.test_operations import serving, until

Cli = Callable[..., tuple[int, list[str], str]]
LINK = re.compile(r"http://127\.0\.0\.1:8000/dashboard/welcome/([A-Za-z0-9_-]{43})")


def test_an_account_is_created_with_its_owner_who_sets_a_password_at_the_link(cli: Cli, settings: Settings) -> None:
    code, out, err = cli("accounts", "create", "Ana's Studio", "--plan", "pro", "--owner-email", "ana@example.com")
    assert code == 0, err
    account_id = UUID(out[-1])  # the id stays last: scripts take it with tail -1
    assert out[0].startswith("ana@example.com sets a password at this one-time link (valid until ")
    token = LINK.search(out[1]).group(1)  # type: ignore[union-attr]
    services = Services(settings)
    try:
        with TestClient(create_app(settings, services)) as http:
            browser = Browser(http)
            page = browser.get(f"/dashboard/welcome/{token}").text
            assert "Choose the password of ana@example.com, owner of Ana&#39;s Studio." in page
            browser.post(f"/dashboard/welcome/{token}", {"password": PASSWORD, "password_again": PASSWORD})
            assert browser.get("/dashboard/settings").url.path == "/dashboard/settings"
            assert str(account_id) in browser.page
    finally:
        services.close()
    code, out, _ = cli("owners", "list", str(account_id))
    assert code == 0 and re.fullmatch(r"[0-9a-f-]{36}  active   ana@example\.com", out[0])


def test_owners_are_invited_and_a_second_link_renews_the_first(cli: Cli) -> None:
    _, out, _ = cli("accounts", "create", "Shop")
    account_id = out[-1]
    code, first, err = cli("owners", "invite", account_id, "bob@example.com")
    assert code == 0, err
    assert LINK.fullmatch(first[-1])
    code, second, _ = cli("owners", "invite", account_id, "BOB@example.com")  # the same owner: a new link
    assert code == 0 and second[-1] != first[-1]
    _, listed, _ = cli("owners", "list", account_id)
    assert len(listed) == 1 and listed[0].endswith("invited  bob@example.com")


def test_an_owner_email_is_checked_before_anything_is_written(cli: Cli) -> None:
    code, _, err = cli("accounts", "create", "Shop", "--owner-email", "not-an-email")
    assert code == 1 and "Field 'email' must be a valid email address" in err
    _, accounts, _ = cli("accounts", "list")
    assert accounts == []
    _, out, _ = cli("accounts", "create", "First", "--owner-email", "taken@example.com")
    code, _, err = cli("accounts", "create", "Second", "--owner-email", "Taken@Example.com")
    assert code == 1 and "already signs in to an account" in err
    _, accounts, _ = cli("accounts", "list")
    assert len(accounts) == 1
    code, _, err = cli("owners", "invite", "00000000-0000-0000-0000-000000000000", "x@example.com")
    assert code == 1 and "Account not found" in err
    code, _, err = cli("owners", "invite", out[-1], "taken@example.com")
    assert code == 0
    _, other, _ = cli("accounts", "create", "Other")
    code, _, err = cli("owners", "invite", other[-1], "taken@example.com")
    assert code == 1 and "already signs in to another account" in err


def test_keys_made_on_the_command_line_are_the_dashboards_keys(cli: Cli, settings: Settings) -> None:
    _, out, _ = cli("accounts", "create", "Shop", "--owner-email", "k@example.com")
    account_id = out[-1]
    code, key, _ = cli("keys", "create", account_id, "--name", "laptop")
    assert code == 0 and key[-1].startswith("cinv_")
    _, listed, _ = cli("keys", "list", account_id)
    key_id = listed[0].split()[0]
    assert cli("keys", "revoke", key_id)[0] == 0
    assert cli("keys", "revoke", "00000000-0000-0000-0000-000000000000")[2].strip() == "cleverinvo: No such API key"


def test_the_first_serve_prints_the_dashboard_and_the_first_owners_link(tmp_path: Path) -> None:
    """The README's first command on an empty data directory: everything an owner needs."""
    data = tmp_path / "fresh"
    data.mkdir()
    with serving(data) as server:
        until(lambda: "/dashboard/welcome/" in server.text(), 30, "the first-run link")
        printed = server.text()
        assert f"The dashboard is at http://127.0.0.1:{server.port}/dashboard." in printed
        url = re.search(rf"http://127\.0\.0\.1:{server.port}/dashboard/welcome/\S+", printed).group(0)  # type: ignore[union-attr]
        with httpx.Client(follow_redirects=False, timeout=30) as browser:
            page = browser.get(url)
            assert page.status_code == 200 and "You are setting up Default account." in page.text
            body = {
                "csrf": csrf_of(page.text),
                "email": "me@example.com",
                "password": PASSWORD,
                "password_again": PASSWORD,
            }
            done = browser.post(url, data=body, headers=FORM)
            assert done.status_code == 303 and done.headers["location"] == "/dashboard/keys?welcome=1"
            keys = browser.get(f"{server.url}/dashboard/keys")
            assert keys.status_code == 200 and "default" in keys.text  # the key the first start made
            assert browser.get(url).status_code == 410  # used once
    with serving(data) as again:  # a second start makes nothing and prints no link
        assert "/dashboard/welcome/" not in again.text()


def test_a_later_start_prints_a_new_link_while_the_account_has_no_owner(tmp_path: Path) -> None:
    """The first link lost (the terminal closed) or run out: the next start gives a new one."""
    data = tmp_path / "fresh"
    data.mkdir()
    welcome = r"http://127\.0\.0\.1:{port}/dashboard/welcome/\S+"
    with serving(data) as first:
        until(lambda: "/dashboard/welcome/" in first.text(), 30, "the first-run link")
        lost = re.search(welcome.format(port=first.port), first.text()).group(0)  # type: ignore[union-attr]
    with serving(data) as again:
        until(lambda: "/dashboard/welcome/" in again.text(), 30, "another first-run link")
        printed = again.text()
        assert "The account has no owner yet: here is another link (the first one used makes the owner)." in printed
        assert "Created a default account" not in printed  # nothing else is made again
        new = re.search(welcome.format(port=again.port), printed).group(0)  # type: ignore[union-attr]
        lost = lost.replace(f":{first.port}/", f":{again.port}/")
        with httpx.Client(follow_redirects=False, timeout=30) as browser:
            assert "You are setting up Default account." in browser.get(lost).text  # it works still
            page = browser.get(new)
            body = {"csrf": csrf_of(page.text), "email": "me@example.com", "password": PASSWORD}
            done = browser.post(new, data={**body, "password_again": PASSWORD}, headers=FORM)
            assert done.status_code == 303
            assert browser.get(lost).status_code == 410  # the first owner is in: no first-run link works
    with serving(data) as third:  # and no later start prints one
        assert "/dashboard/welcome/" not in third.text()
