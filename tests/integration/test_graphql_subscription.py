"""The accountEvents subscription over graphql-transport-ws, through the real ASGI app: the
key in connection_init, live events as writes happen, and no gap after a reconnect."""

from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.conftest import Api, Tenant

SUBSCRIBE = """subscription($after: Int!) {
  accountEvents(after: $after) { position type resource { type id } actor { type name } }
}"""


def connect(api: Api, tenant: Tenant | None) -> Any:
    return api.http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])


def init(ws: WebSocketTestSession, key: str | None) -> dict[str, Any]:
    ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"} if key else {}})
    reply: dict[str, Any] = ws.receive_json()
    return reply


def subscribe(ws: WebSocketTestSession, after: int) -> None:
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"after": after}}})


def receive(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    events = []
    while len(events) < count:
        message = ws.receive_json()
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        events.append(message["payload"]["data"]["accountEvents"])
    return events


def test_a_frontend_sees_its_changes_live_and_resumes_without_a_gap(api: Api, tenant: Tenant, http, open_tenant):
    other = Api(http, open_tenant("pro", "Other"))
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        subscribe(ws, 0)
        opened = receive(ws, 2)  # the account was opened and its key issued before
        assert [e["type"] for e in opened] == ["created", "apiKeyIssued"]
        client = api.create_client(name="Acme")
        other.create_client(name="Not mine")
        created = receive(ws, 1)[0]
        assert (created["type"], created["resource"]) == ("created", {"type": "client", "id": client["id"]})
        assert created["actor"] == {"type": "apiKey", "name": "tests"}
        last = created["position"]
    invoice = api.create_invoice(client["id"])  # written while no one listens
    api.put(f"/api/v1/clients/{client['id']}", {"notes": "n"})
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        subscribe(ws, last)
        missed = receive(ws, 2)
        told = [(e["resource"]["id"], e["type"]) for e in missed]
        assert told == [(invoice["id"], "created"), (client["id"], "updated")]
        assert all(e["position"] > last for e in missed)
        assert missed[0]["position"] < missed[1]["position"]


@pytest.mark.parametrize("key", [None, "cinv_not-a-real-key-at-all-000000000000000000"])
def test_a_socket_without_a_live_key_is_closed(api: Api, tenant: Tenant, key):
    with connect(api, tenant) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"} if key else {}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403


def test_a_revoked_key_cannot_subscribe(api: Api, tenant: Tenant, services):
    services.execute(lambda: services.app.revoke_api_key(tenant.account_id, tenant.key_id))
    with connect(api, tenant) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.key}"}})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_the_websocket_carries_subscriptions_only(api: Api, tenant: Tenant, services):
    client = api.create_client(name="Acme")
    before = services.app.recorder.max_notification_id()
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        for query in (
            f'mutation {{ updateClient(id: "{client["id"]}", input: {{notes: "ws"}}) {{ id }} }}',
            "{ clients { total } }",
        ):
            ws.send_json({"id": "m", "type": "subscribe", "payload": {"query": query}})
            message = ws.receive_json()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
            assert "over HTTP" in message["payload"][0]["message"]
    assert services.app.recorder.max_notification_id() == before


def revoke(services, tenant: Tenant) -> None:
    services.execute(lambda: services.app.revoke_api_key(tenant.account_id, tenant.key_id))


def closed_code(ws: WebSocketTestSession) -> tuple[int, list[dict[str, Any]]]:
    """The close code of a socket the server closes, and what it sent before (an operation
    that ends with the socket open fails the test, rather than waiting for ever)."""
    sent: list[dict[str, Any]] = []
    with pytest.raises(WebSocketDisconnect) as closed:
        while not sent or sent[-1]["type"] not in ("complete", "error"):
            sent.append(ws.receive_json())
    return closed.value.code, sent


def test_a_subscription_ends_when_its_key_is_revoked(api: Api, tenant: Tenant, services):
    """The key is checked before every event: the next one (the revocation itself) is not
    sent, and the socket closes with 4403."""
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        subscribe(ws, 0)
        receive(ws, 2)
        revoke(services, tenant)
        code, sent = closed_code(ws)
        assert code == 4403
        assert sent == []


def test_a_socket_opened_before_a_revocation_reads_nothing_after_it(api: Api, tenant: Tenant, services):
    """A new subscription on a socket whose key was revoked since it opened gets no event:
    the key is checked on every subscribe, and the socket closes with 4403."""
    for number in range(5):
        api.create_client(name=f"Client {number}")
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        revoke(services, tenant)
        subscribe(ws, 0)
        code, sent = closed_code(ws)
        assert code == 4403
        assert sent == []


def test_a_socket_past_the_subscription_limit_is_told_why_with_a_code(api: Api, tenant: Tenant):
    with connect(api, tenant) as ws:
        assert init(ws, tenant.key)["type"] == "connection_ack"
        far = 10**9  # nothing to send yet: each subscription only waits
        for number in range(100):
            ws.send_json(
                {"id": str(number), "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"after": far}}}
            )
        ws.send_json({"id": "extra", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"after": far}}})
        message = ws.receive_json()
        assert message["type"] == "error" and message["id"] == "extra", message
        (error,) = message["payload"]
        assert error["extensions"] == {"code": "RATE_LIMITED", "reason": "RATE_LIMITED"}
        assert error["message"] == "Subscription limit reached: at most 100 at once on one socket"
        ws.send_json({"id": "7", "type": "complete"})  # one ends: there is room for another
        ws.send_json({"id": "new", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"after": 0}}})
        message = ws.receive_json()
        assert (message["type"], message["id"]) == ("next", "new"), message


@pytest.mark.parametrize("offered", [["graphql-ws"], []])
def test_only_graphql_transport_ws_is_spoken(api: Api, offered: list[str]) -> None:
    assert api.tenant is not None
    """The legacy subscriptions-transport-ws protocol is not offered (4406, as for none)."""
    with api.http.websocket_connect("/graphql", subprotocols=offered) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {api.tenant.key}"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4406
