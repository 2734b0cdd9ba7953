"""CORS for frontends served from other origins (gateway/http/cors.py): CLEVERINVO_CORS_ORIGINS
lists them exactly; a preflight is answered before authentication; an allowed origin's
answers name it and expose what a frontend reads; other origins, the dashboard and the
share page get no CORS header; a bad setting stops the start in one line."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import OriginError, Settings, parse_origins
from tests.conftest import Tenant

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = "https://app.example.com"
ALLOWED = f"{FRONTEND}, http://localhost:5173"


@pytest.fixture
def cors_http(make_settings: Callable[..., Settings], services: Services) -> Iterator[TestClient]:
    settings = make_settings(CLEVERINVO_CORS_ORIGINS=ALLOWED)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        yield client


def preflight(http: TestClient, path: str, origin: str, method: str = "PATCH") -> "object":
    return http.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, if-match, idempotency-key",
        },
    )


@pytest.mark.parametrize("path", ["/api/v1/invoices/00000000-0000-0000-0000-000000000000", "/graphql"])
def test_a_preflight_from_an_allowed_origin_is_answered_before_authentication(cors_http: TestClient, path: str) -> None:
    answer = preflight(cors_http, path, FRONTEND)
    assert answer.status_code == 204  # no key: a browser sends none with a preflight
    headers = answer.headers
    assert headers["access-control-allow-origin"] == FRONTEND
    assert {"PATCH", "DELETE", "POST", "GET"} <= {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-match", "if-none-match"} <= allowed
    assert int(headers["access-control-max-age"]) > 0
    assert "origin" in headers["vary"].lower()
    assert "access-control-allow-credentials" not in headers


def test_an_allowed_origins_answers_name_it_and_expose_what_a_frontend_reads(
    cors_http: TestClient, tenant: Tenant
) -> None:
    for headers in ({**tenant.headers}, {}):  # an answer and a refusal (401) alike
        answer = cors_http.get("/api/v1/clients", headers={**headers, "Origin": "http://localhost:5173"})
        assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
        exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed
        assert "x-request-id" in exposed
        assert "origin" in answer.headers["vary"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example.com", "https://app.example.com:8443", "null"])
def test_another_origin_gets_no_cors_header(cors_http: TestClient, tenant: Tenant, origin: str) -> None:
    answer = cors_http.get("/api/v1/clients", headers={**tenant.headers, "Origin": origin})
    assert answer.status_code == 200
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    refused = preflight(cors_http, "/api/v1/clients", origin)
    assert not [name for name in refused.headers if name.lower().startswith("access-control-")]
    assert refused.status_code != 204


@pytest.mark.parametrize("path", ["/dashboard/login", "/i/not-a-token", "/healthz"])
def test_the_dashboard_and_the_share_page_stay_same_origin(cors_http: TestClient, path: str) -> None:
    answer = cors_http.get(path, headers={"Origin": FRONTEND})
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert preflight(cors_http, path, FRONTEND, "POST").status_code != 204


def test_without_the_setting_no_origin_is_allowed(http: TestClient, tenant: Tenant) -> None:
    answer = http.get("/api/v1/clients", headers={**tenant.headers, "Origin": FRONTEND})
    assert "access-control-allow-origin" not in answer.headers
    assert preflight(http, "/api/v1/clients", FRONTEND).status_code == 401


def test_origins_are_read_as_a_browser_sends_them() -> None:
    assert parse_origins(" HTTPS://App.Example.com:443 , http://[::1]:8080,,http://localhost:80") == (
        "https://app.example.com",
        "http://[::1]:8080",
        "http://localhost",
    )
    assert parse_origins("") == ()


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "https://*.example.com",
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/x",
        "ftp://app.example.com",
        "https://user@app.example.com",
        "https://app.example.com:99999",
        "https://",
    ],
)
def test_a_value_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(OriginError, match="CLEVERINVO_CORS_ORIGINS"):
        parse_origins(value)


def test_a_bad_setting_stops_the_start_in_one_line(tmp_path: Path) -> None:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("CLEVERINVO_")},
        "CLEVERINVO_DATA_DIR": str(tmp_path / "data"),
        "CLEVERINVO_CORS_ORIGINS": "https://app.example.com, *",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "serve", "--port", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    [line] = result.stderr.splitlines()
    assert line == "cleverinvo: CLEVERINVO_CORS_ORIGINS must list origins such as https://app.example.com:8443, not '*'"
