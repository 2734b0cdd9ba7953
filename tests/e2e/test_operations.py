"""Running the service: the JSON request log (never a secret in it), request ids, a stop
that finishes the requests in flight, and `cleverinvo --version`.

The log and the stop are tested on a real `cleverinvo serve` process, as it is run."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli.main import main
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, Tenant, TestClient, assert_error

ROOT = Path(__file__).resolve().parents[2]
UUID_HEX = "0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def open_tenant_in(data: Path) -> Tenant:
    """An account with its owner and a key, made beforehand as `cleverinvo accounts create
    --owner-email` and `keys create` would: the server then prints nothing of its own at
    start (no key, no first-run link), only its JSON log."""
    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(data)}))
    try:
        account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
        services.execute(lambda: services.app.add_owner(account_id, "owner@seller.test"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "ops"))
        return Tenant(account_id, key_id, key)
    finally:
        services.close()


@dataclass
class Server:
    """A `cleverinvo serve --no-workers` process; everything it writes goes to `output`."""

    process: subprocess.Popen[bytes]
    port: int
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def stop(self, seconds: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(seconds)


@contextlib.contextmanager
def serving(data: Path, log_dir: Path | None = None, **env: str) -> Iterator[Server]:
    """`cleverinvo serve --no-workers` on ``data``, its output in ``log_dir`` (``data`` unless given)."""
    port = free_port()
    output = (log_dir or data) / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--no-workers", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "CLEVERINVO_DATA_DIR": str(data), **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, output)

    def healthy() -> bool:
        assert process.poll() is None, server.text()
        try:
            return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        until(healthy, 60, "the server to start")
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line the server wrote, each of which must be one JSON object."""
    lines = []
    for line in text.splitlines():
        value = json.loads(line)  # a line that is not JSON fails here
        assert isinstance(value, dict), line
        lines.append(value)
    return lines


def request_lines(text: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if line.get("logger") == "cleverinvo.requests"]


# --- the request log (defect 3: a key in the query string was written whole) ----------------


def test_the_request_log_is_one_json_line_per_request_and_never_holds_a_key(tmp_path: Path):
    tenant = open_tenant_in(tmp_path)
    other_key = "cinv_" + "Z" * 43  # well-formed, unknown
    with serving(tmp_path) as server:
        with httpx.Client(base_url=f"{server.url}/api/v1") as http:
            created = http.post("/clients", json={"name": "Acme", "notes": "secret note"}, headers=tenant.headers)
            client_id = created.json()["data"]["id"]
            http.get(f"/clients/{client_id}", params={"api_key": tenant.key}, headers=tenant.headers)
            http.get("/clients", params={"api_key": tenant.key, "page": "1", "search": "acme"})
            http.get("/clients", params={"token": other_key}, headers={"Authorization": f"Bearer {other_key}"})
            http.get("/clients", headers={"X-Request-ID": tenant.key, "Authorization": f"Bearer {tenant.key}x"})
            http.get(f"/clients?{tenant.key}", headers=tenant.headers)
        assert server.stop() == 0
    text = server.text()
    assert tenant.key not in text and other_key not in text and "secret note" not in text
    assert tenant.key[5:15] not in text  # not even a piece of it
    lines = request_lines(text)
    assert len(lines) >= 6, text
    by_route = [(line["method"], line["route"], line["status"]) for line in lines if line["route"] != "/healthz"]
    assert by_route == [
        ("POST", "/api/v1/clients", 201),
        ("GET", "/api/v1/clients/{client_id}", 400),  # api_key is no query parameter of ours (issue 24, item 13)
        ("GET", "/api/v1/clients", 401),
        ("GET", "/api/v1/clients", 401),
        ("GET", "/api/v1/clients", 401),
        ("GET", "/api/v1/clients", 400),  # nor is a key given as a bare query string
    ]
    first, second, anonymous = lines[-6], lines[-5], lines[-4]
    assert (first["accountId"], first["keyId"]) == (str(tenant.account_id), str(tenant.key_id))
    assert (anonymous["accountId"], anonymous["keyId"]) == (None, None)
    assert second["query"] == {"api_key": "[redacted]"}
    assert anonymous["query"] == {"api_key": "[redacted]", "page": "1", "search": "[redacted]"}
    for line in lines:
        assert set(line) >= {"time", "requestId", "accountId", "keyId", "method", "route", "status", "durationMs"}
        assert line["time"].endswith("Z") and isinstance(line["durationMs"], float)
    assert lines[-2]["requestId"] != tenant.key


def test_the_log_names_the_route_never_the_path_of_a_share_link(tmp_path: Path):
    tenant = open_tenant_in(tmp_path)
    with serving(tmp_path) as server:
        base, headers = f"{server.url}/api/v1", tenant.headers
        client = httpx.post(f"{base}/clients", json={"name": "Acme"}, headers=headers).json()["data"]
        body = {"clientId": client["id"], "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}]}
        invoice = httpx.post(f"{base}/invoices", json=body, headers=headers).json()["data"]
        sent = httpx.post(f"{base}/invoices/{invoice['id']}/send", headers=headers).json()["data"]
        token = sent["shareUrl"].rsplit("/", 1)[1]
        assert httpx.get(sent["shareUrl"]).status_code == 200
        assert httpx.get(f"{server.url}/i/{token}x").status_code == 404
        server.stop()
    text = server.text()
    assert token not in text
    routes = [(line["route"], line["status"]) for line in request_lines(text)]
    assert ("/i/{token}", 200) in routes and ("/api/v1/invoices/{invoice_id}/send", 200) in routes


# --- request ids --------------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed_and_any_other_replaced(api: Api, anonymous: Api):
    sent = "req-2024.06.15_abc:DEF/1"
    assert api.request("GET", "/api/v1/clients", headers={"X-Request-ID": sent}).headers["x-request-id"] == sent
    for bad in ("x" * 129, "has space", "tab\there", "", "cinv_" + "a" * 43):
        echoed = api.request("GET", "/api/v1/clients", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert echoed != bad and len(echoed) == 32 and set(echoed) <= set(UUID_HEX)
    generated = {api.get("/api/v1/clients").headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3


def test_every_response_carries_a_request_id_refusals_included(api: Api, anonymous: Api, http: TestClient):
    responses = {
        "ok": api.get("/api/v1/clients"),
        "401": anonymous.get("/api/v1/clients"),
        "404": api.get("/api/v1/nothing"),
        "405": api.request("DELETE", "/api/v1/clients"),
        "400": api.post("/api/v1/clients", {}),
        "415": api.request("POST", "/api/v1/clients", content="{}", headers={"Content-Type": "text/plain"}),
        "health": http.get("/healthz"),
        "share 404": http.get("/i/nothing"),
        "graphql 401": http.post("/graphql", json={"query": "{ clients { total } }"}),
    }
    for name, response in responses.items():
        assert len(response.headers.get_list("x-request-id")) == 1, name


def test_a_fault_is_a_json_500_with_the_request_id_and_logged(
    http: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(_token: str) -> Any:
        raise RuntimeError("boom")

    caplog.set_level("INFO", logger="cleverinvo.requests")
    monkeypatch.setattr(services.usecases.sharing, "open", broken)  # outside the API guard: nothing else catches it
    response = http.get("/i/some-token", headers={"X-Request-ID": "fault-1"})
    assert assert_error(response, 500) == "Internal server error"
    assert response.headers["x-request-id"] == "fault-1"
    [logged] = [r.fields for r in caplog.records if r.name == "cleverinvo.requests"]
    assert (logged["requestId"], logged["route"], logged["status"]) == ("fault-1", "/i/{token}", 500)


def test_the_request_log_record_holds_the_ids(api: Api, tenant: Tenant, caplog: pytest.LogCaptureFixture):
    caplog.set_level("INFO", logger="cleverinvo.requests")
    client = api.create_client(name="Acme")
    api.request("GET", f"/api/v1/clients/{client['id']}", headers={"X-Request-ID": "trace-1"})
    fields = [r.fields for r in caplog.records if r.name == "cleverinvo.requests"]
    assert fields[-1]["requestId"] == "trace-1"
    assert fields[-1]["route"] == "/api/v1/clients/{client_id}"
    assert (fields[-1]["accountId"], fields[-1]["keyId"]) == (str(tenant.account_id), str(tenant.key_id))
    assert (fields[-1]["method"], fields[-1]["status"]) == ("GET", 200)


# --- graceful shutdown ------------------------------------------------------------------------


def big_invoice(base: str, headers: dict[str, str]) -> str:
    client = httpx.post(f"{base}/clients", json={"name": "Big"}, headers=headers).json()["data"]
    lines = [
        {"description": f"Line {n} " + "lorem ipsum dolor sit amet " * 30, "quantity": 1, "unitPrice": 1}
        for n in range(500)
    ]
    body = {"clientId": client["id"], "lineItems": lines, "notes": "n " * 2400}
    response = httpx.post(f"{base}/invoices", json=body, headers=headers, timeout=60)
    assert response.status_code == 201, response.text
    invoice_id: str = response.json()["data"]["id"]
    return invoice_id


def test_sigterm_lets_a_pdf_render_in_flight_finish_with_200(tmp_path: Path):
    tenant = open_tenant_in(tmp_path)
    gate = tmp_path / "gate"  # the render waits there until the stop has begun (pdf/render_gate.py)
    with serving(tmp_path, CLEVERINVO_TEST_RENDER_GATE=str(gate)) as server:
        base = f"{server.url}/api/v1"
        invoice_id = big_invoice(base, tenant.headers)
        answer: dict[str, Any] = {}

        def download() -> None:
            try:
                answer["response"] = httpx.get(f"{base}/invoices/{invoice_id}/pdf", headers=tenant.headers, timeout=60)
            except httpx.HTTPError as exc:
                answer["error"] = exc

        thread = threading.Thread(target=download)
        thread.start()
        until(lambda: any(gate.glob("rendering-*")), 60, "the render to start")  # in flight, for certain
        server.process.send_signal(signal.SIGTERM)
        until(lambda: "Shutting down" in server.text(), 30, "the stop to begin")
        (gate / "open").touch()
        thread.join(60)
        assert server.process.wait(30) == 0
    response = answer.get("response")
    assert response is not None, answer
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    messages = [(line.get("message"), line.get("route")) for line in json_lines(server.text())]
    stopping = messages.index(("Shutting down", None))
    assert ("request", "/api/v1/invoices/{invoice_id}/pdf") in messages[stopping:]  # it was in flight


def test_sigterm_lets_an_upload_in_flight_finish_with_201(tmp_path: Path):
    tenant = open_tenant_in(tmp_path)
    with serving(tmp_path) as server:
        body = json.dumps({"name": "Sent slowly"}).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            head = (
                "POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {tenant.key}\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            conn.sendall(head.encode() + body[:5])
            time.sleep(0.3)  # nothing to wait on: the request is not seen until its body is read
            server.process.send_signal(signal.SIGTERM)
            until(lambda: "Shutting down" in server.text(), 30, "the stop to begin")  # the rest comes after it
            conn.sendall(body[5:])
            reply = conn.recv(65536)
        assert reply.startswith(b"HTTP/1.1 201 "), reply
        assert server.process.wait(30) == 0


def test_a_stalled_request_holds_a_stop_no_longer_than_the_shutdown_timeout(tmp_path: Path):
    tenant = open_tenant_in(tmp_path)
    env = {"CLEVERINVO_SHUTDOWN_TIMEOUT_SECONDS": "2", "CLEVERINVO_BODY_TIMEOUT_SECONDS": "600"}
    with serving(tmp_path, **env) as server, socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(
            b"POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {tenant.key}\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        time.sleep(0.5)
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(20)  # before: it waited for the client for ever
        assert time.monotonic() - began < 10


# --- the version ------------------------------------------------------------------------------


def test_version_prints_the_installed_package_version(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"cleverinvo {version('cleverinvo')}"


def test_version_needs_no_data_directory(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "--version"],
        cwd=ROOT,
        env={**os.environ, "CLEVERINVO_DATA_DIR": str(tmp_path / "never")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, f"cleverinvo {version('cleverinvo')}")
    assert not (tmp_path / "never").exists()
