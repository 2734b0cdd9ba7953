"""What the dashboard's tests share: an owner with a password, and a browser-like client
that keeps its cookies and posts forms with the page's CSRF token."""

import re
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx

from gateway.services import Services
from tests.conftest import TestClient

PASSWORD = "correct horse battery staple"
FORM = {"content-type": "application/x-www-form-urlencoded"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Owner:
    account_id: UUID
    email: str
    password: str = PASSWORD


def make_owner(
    services: Services,
    email: str = "ana@example.com",
    plan: str = "pro",
    locale: str = "en",
    name: str = "Ana's Studio",
) -> Owner:
    """An account with an owner who has set a password (through the one-time link)."""
    account = services.execute(lambda: services.app.open_account(name, plan, locale))
    link = services.usecases.owners.invite(account, email)
    services.usecases.owners.set_password(link.token, PASSWORD)
    return Owner(account, email)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def text_of(html: str) -> str:
    """What a reader sees of a page: its text, spaces collapsed."""
    without = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", without))).strip()


def errors_of(html: str) -> list[str]:
    """The messages a refused form shows beside its fields (and in its summary)."""
    return [unescape(m) for m in re.findall(r'<p class="error" id="e-[^"]+">([^<]*)</p>', html)]


def summary_of(html: str) -> list[str]:
    box = re.search(r'<div class="problems".*?</div>', html, re.S)
    return [] if box is None else [text_of(item) for item in re.findall(r"<li>(.*?)</li>", box.group(0), re.S)]


class Browser:
    """One browser: its own cookies (swapped into the shared test client for each of its
    requests, so several browsers share one app and one event loop); ``post`` sends a form
    as a browser does, with the CSRF token of the last page it loaded (or the one given)."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.cookies = httpx.Cookies()
        self.page = ""

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        saved = self.http.cookies
        self.http.cookies = self.cookies
        try:
            return self.http.request(method, path, **options)
        finally:
            self.cookies = self.http.cookies
            self.http.cookies = saved

    def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
        response = self.request("GET", path, params=params or None, headers=headers, follow_redirects=True)
        self.page = response.text
        return response

    def post(
        self,
        path: str,
        data: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        csrf: str | None = None,
        follow: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        token = csrf if csrf is not None else csrf_of(self.page)
        body = urlencode([("csrf", token), *pairs])
        response = self.request(
            "POST", path, content=body, headers={**FORM, **(headers or {})}, follow_redirects=follow
        )
        if follow:
            self.page = response.text
        return response

    def sign_in(self, owner: Owner, password: str | None = None) -> httpx.Response:
        self.get("/dashboard/sign-in")
        return self.post("/dashboard/sign-in", {"email": owner.email, "password": password or owner.password})


def invoice_form(client_id: str, lines: list[dict[str, str]], **fields: str) -> list[tuple[str, str]]:
    """A draft form as the page sends it: its fields, then each line's five inputs in order."""
    values = {"clientId": client_id, "invoiceNumber": "", "currency": "USD", "issueDate": "", "dueDate": ""}
    values.update({"notes": "", "terms": "", **fields})
    pairs = list(values.items())
    for line in lines:
        for name in ("description", "quantity", "unitPrice", "discountRate", "taxRate"):
            pairs.append((name, line.get(name, "")))
    return pairs


THREE_LINES = [
    {"description": "Design", "quantity": "10", "unitPrice": "50", "discountRate": "10", "taxRate": "21"},
    {"description": "Hosting", "quantity": "1", "unitPrice": "120", "taxRate": "21"},
    {"description": "Support", "quantity": "2.5", "unitPrice": "40", "taxRate": "10"},
]
