"""The GraphQL door of the real service under uvicorn on a loopback port: a frontend's
browser runs GraphiQL against it with a real key, and a websocket client (the
`websockets` library, as uvicorn serves it) follows the account's events live."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import connect

from gateway.app import create_app
from gateway.services import Services
from tests.conftest import Tenant
from tests.e2e.test_graphiql import CHROMIUM, HEADERS_EDITOR, QUERY_EDITOR, RESULT_EDITOR
from tests.serving import uvicorn_in_thread


@pytest.fixture
def served(settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)  # websockets as serve has them: uvicorn's ws "auto"
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning", lifespan="off")) as port:
        yield f"127.0.0.1:{port}"


def _next(ws: Any) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=10))
    assert message["type"] == "next", message
    found: dict[str, Any] = message["payload"]["data"]["accountEvents"]
    return found


def test_a_websocket_client_follows_the_account_live(served: str, tenant: Tenant):
    query = "subscription { accountEvents(after: 0) { position type resource { type id } } }"
    with connect(f"ws://{served}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        assert [_next(ws)["type"] for _ in range(2)] == ["created", "apiKeyIssued"]
        created = httpx.post(f"http://{served}/api/v1/clients", json={"name": "Live"}, headers=tenant.headers)
        assert created.status_code == 201
        told = _next(ws)
        assert (told["type"], told["resource"]["id"]) == ("created", created.json()["data"]["id"])


@pytest.mark.skipif(CHROMIUM is None, reason="chromium (the Debian package) is not installed")
def test_graphiql_of_the_service_runs_a_query_with_a_real_key(served: str, tenant: Tenant):
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"http://{served}/graphql", wait_until="load")  # the page itself needs no key
            page.wait_for_selector(".graphiql-container .graphiql-execute-button", timeout=20_000)
            page.evaluate(HEADERS_EDITOR + f".setValue('{{\"Authorization\": \"Bearer {tenant.key}\"}}')")
            page.evaluate(QUERY_EDITOR + ".setValue('{ clients { total } ledgerDigest { position } }')")
            page.click(".graphiql-execute-button")
            page.wait_for_function(RESULT_EDITOR + ".getValue().includes('ledgerDigest')", timeout=20_000)
            answer = json.loads(page.evaluate(RESULT_EDITOR + ".getValue()"))
            assert answer["data"]["clients"] == {"total": 0} and answer["data"]["ledgerDigest"]["position"] > 0
        finally:
            browser.close()
    assert all(url.startswith(f"http://{served}/") for url in requested), requested
