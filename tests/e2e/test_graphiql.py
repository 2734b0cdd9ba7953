"""GraphiQL at GET /graphql, served with its assets by the service itself.

The page and assets are checked over HTTP, then loaded by a real browser (Debian's
Chromium, driven by Playwright) from a real uvicorn server on a loopback port: GraphiQL
renders, runs a query with the key from its Headers tab, and nothing is fetched from
anywhere but the service.
"""

import gzip
import hashlib
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.graphql.errors import CodedSchema
from gateway.graphql.graphiql import ASSETS, STATIC_DIR, STATIC_PATH, LocalGraphiQL, graphiql_routes
from gateway.graphql.limits import GraphQLLimits, limit_extensions, strawberry_config
from gateway.graphql.view import JsonErrorsGraphQL
from tests.conftest import TestClient
from tests.serving import uvicorn_in_thread

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROMIUM = shutil.which("chromium")


@strawberry.type
class Query:
    @strawberry.field
    def authorization(self, info: strawberry.Info) -> str | None:
        """The Authorization header this request came with."""
        return str(info.context["request"].headers.get("authorization"))


class View(JsonErrorsGraphQL[Any, None], LocalGraphiQL[Any, None]):
    pass


def build_app() -> Starlette:
    limits = GraphQLLimits()
    schema = CodedSchema(Query, extensions=limit_extensions(limits), config=strawberry_config(limits))
    return Starlette(routes=[*graphiql_routes(), Route("/graphql", View(schema), methods=["GET", "POST"])])


@pytest.fixture
def http() -> Iterator[TestClient]:
    with TestClient(build_app()) as client:
        yield client


class Links(HTMLParser):
    """Every URL a page refers to (src, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def page_urls(http: TestClient) -> list[str]:
    response = http.get("/graphql", headers={"accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    links = Links()
    links.feed(response.text)
    return links.urls


def test_a_browser_gets_graphiql_that_refers_only_to_this_service(http: TestClient) -> None:
    urls = page_urls(http)
    assets = [url for url in urls if url != "data:,"]  # the favicon: none, inline
    assert sorted(urlsplit(url).path.removeprefix(STATIC_PATH + "/") for url in assets) == sorted(
        name for name in ASSETS if not name.startswith("LICENSE")
    )
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url  # same origin: a path, no host
        assert parts.path.startswith(STATIC_PATH + "/")
        assert re.fullmatch(r"v=[0-9a-f]{12}", parts.query)
    response = http.get("/graphql", headers={"accept": BROWSER})
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    # a client asking for JSON still gets GraphQL
    assert http.get("/graphql", params={"query": "{ __typename }"}).json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_every_asset_answers_with_its_type_and_a_long_cache(http: TestClient, name: str) -> None:
    plain = http.get(f"{STATIC_PATH}/{name}?v=anything", headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == ASSETS[name]
    assert plain.headers["content-type"].split(";")[0] in ("text/javascript", "text/css", "text/plain")
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in plain.headers
    assert plain.content == (STATIC_DIR / name).read_bytes()

    zipped = http.get(f"{STATIC_PATH}/{name}", headers={"accept-encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx undoes the gzip
    assert int(zipped.headers["content-length"]) < len(plain.content) or len(plain.content) < 2000

    again = http.get(f"{STATIC_PATH}/{name}", headers={"if-none-match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_nothing_else_is_served_from_the_static_path(http: TestClient) -> None:
    for path in ("SOURCES.md", "..%2Fgraphiql.py", "graphiql-4.1.2.min.js.map", "nope.js"):
        assert http.get(f"{STATIC_PATH}/{path}").status_code == 404
    assert http.get(f"{STATIC_PATH}/../graphiql.py").status_code == 404


def test_the_vendored_files_are_the_published_ones() -> None:
    sources = (STATIC_DIR / "SOURCES.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", sources, re.MULTILINE))
    assert set(listed) == {name for name in ASSETS if not name.startswith("graphiql-page")}
    for name, digest in listed.items():
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest, name
    # what the wheel ships (pyproject's package-data) covers the page and every asset
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"gateway.graphql" = ["graphiql.html", "static/*"]' in pyproject


def test_gzip_is_only_sent_to_who_accepts_it(http: TestClient) -> None:
    name = "graphiql-4.1.2.min.js"
    for header, zipped in [("gzip;q=0", False), ("br", False), ("*", True), ("GZIP;q=0.5", True)]:
        response = http.get(f"{STATIC_PATH}/{name}", headers={"accept-encoding": header})
        assert ("content-encoding" in response.headers) is zipped, header
    raw = http.get(f"{STATIC_PATH}/{name}", headers={"accept-encoding": "gzip"})
    assert gzip.decompress(gzip.compress(raw.content)) == (STATIC_DIR / name).read_bytes()


# --- in a real browser --------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread."""
    with uvicorn_in_thread(lambda _port: uvicorn.Config(build_app(), log_level="warning", lifespan="off")) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed")
def test_graphiql_runs_in_a_browser_with_nothing_from_elsewhere(served: str) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{served}/graphql", wait_until="load")
            page.wait_for_selector(".graphiql-container .graphiql-execute-button", timeout=20_000)
            editors = page.locator(".graphiql-container .CodeMirror")
            assert editors.count() >= 3
            assert "Authorization" in page.evaluate(HEADERS_EDITOR + ".getValue()")

            # the key typed in the Headers tab goes with the query, and the answer comes back
            page.evaluate(HEADERS_EDITOR + '.setValue(\'{"Authorization": "Bearer cinv_browser_test"}\')')
            page.evaluate(QUERY_EDITOR + ".setValue('{ authorization }')")
            page.click(".graphiql-execute-button")
            page.wait_for_function(RESULT_EDITOR + ".getValue().includes('Bearer cinv_browser_test')", timeout=20_000)
            assert '"authorization": "Bearer cinv_browser_test"' in page.evaluate(RESULT_EDITOR + ".getValue()")

            # the key is neither kept in the browser nor put in the address bar
            stored = page.evaluate("() => JSON.stringify(Object.entries(window.localStorage))")
            assert "cinv_browser_test" not in stored
            assert "cinv_browser_test" not in page.url
        finally:
            browser.close()

    origin = urlsplit(served).netloc
    assert requested, "the browser made no request"
    assert {urlsplit(url).netloc for url in requested} == {origin}, requested
    assert any("/graphql/static/graphiql-4.1.2.min.js" in url for url in requested)
    assert problems == []  # no script error, no Content-Security-Policy violation


def _editor(where: str) -> str:
    return f"document.querySelector('{where} .CodeMirror').CodeMirror"


# GraphiQL 4's editors: the query, the headers tab, the response.
QUERY_EDITOR = "() => " + _editor(".graphiql-query-editor")
HEADERS_EDITOR = "() => " + _editor(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
RESULT_EDITOR = "() => " + _editor(".result-window")


# --- the service's own GraphiQL, in a browser -------------------------------------------------


@pytest.fixture
def served_app(settings: Any, services: Any) -> Iterator[str]:
    """The whole service under uvicorn on a free loopback port, in a thread."""
    from gateway.app import create_app

    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning", lifespan="on")) as port:
        yield f"http://127.0.0.1:{port}"


DOCS_BUTTON = ".graphiql-sidebar button[aria-label='Show Documentation Explorer']"


@pytest.mark.sqlite_only("the page and the browser are the same whatever the stores")
@pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed")
def test_the_services_graphiql_opens_without_an_error_asks_for_the_key_then_loads_the_schema(
    served_app: str, tenant: Any
) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("response", lambda response: refused.append(response.url) if response.status >= 400 else None)
            page.goto(f"{served_app}/graphql", wait_until="load")
            page.wait_for_selector(".graphiql-container .graphiql-execute-button", timeout=20_000)

            # no key yet: nothing is sent, the page asks for one
            page.wait_for_function(RESULT_EDITOR + ".getValue().includes('Put your API key')", timeout=20_000)
            assert "Authorization" in page.evaluate(HEADERS_EDITOR + ".getValue()")
            assert problems == [] and refused == []

            # the key given, the schema loads: the Docs panel shows the service's types
            page.evaluate(HEADERS_EDITOR + f'.setValue(\'{{"Authorization": "Bearer {tenant.key}"}}\')')
            page.click(DOCS_BUTTON)
            page.wait_for_selector(
                ".graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text('Query')", timeout=20_000
            )
            page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name:has-text('Query')")
            page.wait_for_selector(".graphiql-doc-explorer :text('invoices')", timeout=20_000)

            page.evaluate(QUERY_EDITOR + ".setValue('{ invoices(first: 5) { totalCount } }')")
            page.click(".graphiql-execute-button")
            page.wait_for_function(RESULT_EDITOR + ".getValue().includes('totalCount')", timeout=20_000)
            assert '"totalCount": 0' in page.evaluate(RESULT_EDITOR + ".getValue()")
        finally:
            browser.close()
    assert problems == [] and refused == []
