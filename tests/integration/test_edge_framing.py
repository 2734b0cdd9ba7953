"""Requests refused by their head or their size, against a real uvicorn server on a
loopback port, under both HTTP implementations uvicorn may run (h11, what `cleverinvo
serve` picks, and httptools), spoken to with raw sockets (issue 24, items 2 and 8):

- a head over 16 KiB is 431 with a JSON error, whether it arrives in one piece or grows;
- Content-Length beside Transfer-Encoding is 400 and the connection closed (RFC 9112
  §6.3), and nothing is written;
- a body over the limit is 413 on both doors, before the server has read it: the answer
  comes while the client still holds most of the body back.
"""

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from gateway.app import create_app
from gateway.cli.server import server_config
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock, Tenant, stored_state
from tests.serving import uvicorn_in_thread

LIMIT = 1_048_576  # CLEVERINVO_MAX_BODY_BYTES's default: REST's bound, and now GraphQL's
WAIT = 30.0  # the most an answer that comes at once may take on a busy machine


@contextlib.contextmanager
def real_server(settings: Settings, services: Services, http: str) -> Iterator[int]:
    """uvicorn as `cleverinvo serve` configures it, with ``http`` as its HTTP implementation."""

    def config(port: int) -> uvicorn.Config:
        found = server_config(create_app(settings, services), settings, "127.0.0.1", port, configure_logging=False)
        found.lifespan = "off"
        if http == "httptools":
            found.http = "httptools"
        return found

    with uvicorn_in_thread(config) as port:
        yield port


@pytest.fixture(params=["h11", "httptools"])
def served(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], clock: FakeClock
) -> Iterator[tuple[int, Services, Tenant]]:
    settings = make_settings(CLEVERINVO_BODY_TIMEOUT_SECONDS="600", CLEVERINVO_RATE_LIMIT="10000/minute")
    services = Services(settings, clock=clock)
    try:
        account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "edge"))
        with real_server(settings, services, request.param) as port:
            yield port, services, Tenant(account_id, key_id, key)
    finally:
        services.close()


Served = tuple[int, Services, Tenant]


def read_answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response: (status, headers, body), waiting at most WAIT for it."""
    conn.settimeout(WAIT)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "closed in the middle of the body"
        body += chunk
    return status, headers, body


def closed(conn: socket.socket) -> bool:
    """Whether the server closed the connection (waiting at most WAIT)."""
    conn.settimeout(WAIT)
    try:
        while conn.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(raw)
        return read_answer(conn)


def json_error(body: bytes) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(body)
    assert isinstance(found, dict) and isinstance(found.get("error"), str), found
    return found


# --- heads over 16 KiB ---------------------------------------------------------------------


@pytest.mark.parametrize("kib", [17, 64])
@pytest.mark.parametrize("path", ["/api/v1/clients", "/healthz", "/graphql"])
def test_a_head_over_16_kib_in_one_piece_is_431(served: Served, kib: int, path: str) -> None:
    port, _, tenant = served
    raw = (
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.key}\r\nX-Big: {'a' * kib * 1024}\r\n\r\n"
    ).encode()
    status, headers, body = exchange(port, raw)
    assert status == 431, body
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json_error(body) == {"error": "Request head is larger than 16384 bytes", "code": "HEADERS_TOO_LARGE"}


def test_a_head_just_under_16_kib_is_served(served: Served) -> None:
    port, _, tenant = served
    head = f"GET /api/v1/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenant.key}\r\nX-Big: "
    room = 16 * 1024 - len(head) - len("\r\n\r\n")
    status, _, body = exchange(port, (head + "a" * room + "\r\n\r\n").encode())
    assert status == 200, body


# --- a body framed two ways ----------------------------------------------------------------


def test_content_length_beside_chunked_is_400_closed_and_writes_nothing(served: Served) -> None:
    port, services, tenant = served
    before = stored_state(services)
    body = b'{"name": "Smuggled"}'
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    raw = (
        b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {tenant.key}\r\n".encode()
        + f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunked
    )
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(raw)
        status, headers, answer = read_answer(conn)
        assert status == 400, answer
        assert headers.get("connection") == "close"
        assert closed(conn)
    if headers["content-type"] == "application/json":  # h11 lets it through to us
        assert json_error(answer) == {
            "error": "Send Content-Length or Transfer-Encoding, not both (RFC 9112 §6.3)",
            "code": "MALFORMED_REQUEST",
        }
    assert stored_state(services) == before


# --- bodies over the limit, on both doors --------------------------------------------------

DOORS = [("/graphql", b'{"query": "{ clients { total } }", "x": "'), ("/api/v1/clients", b'{"name": "Acme", "x": "')]


@pytest.mark.parametrize(("path", "start"), DOORS, ids=["graphql", "rest"])
def test_a_declared_length_over_the_limit_is_413_before_the_body_is_sent(
    served: Served, path: str, start: bytes
) -> None:
    port, services, tenant = served
    before = stored_state(services)
    declared = 50 * 1024 * 1024
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tenant.key}\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head + start)  # the other 50 MB are never sent: the answer must not wait for them
        status, _, body = read_answer(conn)
    assert status == 413, body
    assert f"larger than {LIMIT} bytes" in body.decode()
    assert stored_state(services) == before


@pytest.mark.parametrize(("path", "start"), DOORS, ids=["graphql", "rest"])
def test_a_chunked_body_growing_past_the_limit_is_413_as_soon_as_it_does(
    served: Served, path: str, start: bytes
) -> None:
    port, services, tenant = served
    before = stored_state(services)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tenant.key}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"a" * 65536
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head + f"{len(start):x}\r\n".encode() + start + b"\r\n")
        sent = len(start)
        while sent <= LIMIT:  # just past the limit, and no further: the body never ends
            conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        status, headers, body = read_answer(conn)
    assert status == 413, body
    assert "larger than" in body.decode()
    if path == "/graphql":
        assert json.loads(body)["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "reason": "PAYLOAD_TOO_LARGE"}
        assert headers.get("connection") == "close"
    else:
        assert json_error(body)["code"] == "PAYLOAD_TOO_LARGE"
    assert stored_state(services) == before
