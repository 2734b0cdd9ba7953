"""/docs: Swagger UI for the OpenAPI document, every byte served by the service.

Checked over HTTP (the page, its policy, its assets), then in a real browser (Debian's
Chromium, driven by Playwright) against a real uvicorn server on a loopback port: every
operation of the document is rendered, a key typed in "Authorize" lists the account's
clients through "Try it out", and nothing is fetched from anywhere but the service.
"""

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import uvicorn

from gateway.app import create_app
from gateway.rest.contract.docs import ASSETS, STATIC_PATH, swagger_ui_dist, swagger_ui_version
from gateway.rest.contract.operations import OPERATIONS
from gateway.services import Services
from tests.conftest import Api, Tenant, TestClient
from tests.e2e.test_graphiql import CHROMIUM
from tests.serving import uvicorn_in_thread


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href", "data-url") and value]


def test_the_page_refers_only_to_this_service_under_a_strict_policy(http: TestClient) -> None:
    response = http.get("/docs")  # no key
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    for rule in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert rule in policy
    assert "unsafe-eval" not in policy and "http" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    links = Links()
    links.feed(response.text)
    assets = [url for url in links.urls if url.startswith(STATIC_PATH)]
    assert {urlsplit(url).path.removeprefix(STATIC_PATH + "/") for url in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "docs-page.css",
        "docs-page.js",
    }
    for url in links.urls:
        parts = urlsplit(url)
        assert not parts.scheme or url == "data:,", url  # a path on this origin
        assert not parts.netloc, url
    assert "/api/v1/openapi.json" in links.urls


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_asset_is_served_with_a_long_cache(http: TestClient, name: str) -> None:
    plain = http.get(f"{STATIC_PATH}/{name}?v=x", headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["content-type"] == ASSETS[name][1]
    zipped = http.get(f"{STATIC_PATH}/{name}", headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
    again = http.get(f"{STATIC_PATH}/{name}", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304


def test_nothing_else_is_served_and_the_bundle_is_swagger_uis_own(http: TestClient) -> None:
    for name in ("swagger-ui.js", "index.css", "oauth2-redirect.html", "..%2Fdocs.py", "nope"):
        assert http.get(f"{STATIC_PATH}/{name}").status_code == 404
    bundle = http.get(f"{STATIC_PATH}/swagger-ui-bundle.js").content
    assert bundle == (swagger_ui_dist() / "swagger-ui-bundle.js").read_bytes()
    major, minor, _ = (int(part) for part in swagger_ui_version().split("."))
    assert (major, minor) >= (5, 34)  # OpenAPI 3.1, and DOMPurify past its 2026 advisories
    assert f'"{swagger_ui_version()}"'.encode() in bundle
    purify = re.search(rb'DOMPurify\.version="([0-9.]+)"', bundle)
    assert purify and tuple(int(part) for part in purify.group(1).split(b".")) >= (3, 4, 7)


# --- in a real browser --------------------------------------------------------------------


@pytest.fixture
def served(settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning", lifespan="off")) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed")
def test_docs_render_every_operation_and_try_it_out_works(served: str, api: Api, tenant: Tenant) -> None:
    from playwright.sync_api import sync_playwright

    api.create_client(name="Seen From Swagger")
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{served}/docs", wait_until="load")
            page.wait_for_selector(".opblock", timeout=30_000)
            shown = page.locator(".opblock").count()
            assert shown == len(OPERATIONS)
            for operation in OPERATIONS:
                assert page.locator(f"#operations-{operation.tag}-{operation.operation_id}").count() == 1

            # the key goes in "Authorize" and with the request "Try it out" sends
            page.click(".auth-wrapper .authorize")
            page.fill(".auth-container input", tenant.key)
            page.click(".auth-btn-wrapper .authorize")
            page.click(".auth-btn-wrapper .btn-done")
            listing = page.locator("#operations-Clients-listClients")
            listing.locator(".opblock-summary").click()
            listing.locator(".try-out__btn").click()
            listing.locator(".execute").click()
            status = listing.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=30_000)
            assert status.inner_text().strip().startswith("200")
            assert "Seen From Swagger" in listing.locator(".live-responses-table .microlight").first.inner_text()
            stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), document.cookie])")
            assert tenant.key not in stored
        finally:
            browser.close()

    origin = urlsplit(served).netloc
    assert {urlsplit(url).netloc for url in requested} == {origin}, requested
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
    assert problems == []  # no script error, no Content-Security-Policy violation
