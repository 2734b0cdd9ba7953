"""Shared fixtures: a real data directory per test, the real Services and ASGI app.

Every test built on ``make_settings`` (``settings``, ``services``, ``api``, ``cli``...) runs on
the SQLite default; the tests whose outcome can differ by backend (tests/backends.py's
BOTH_BACKENDS, or marked ``both_backends``) run on PostgreSQL + Redis too, each in a schema
and key prefix of its own. ``-m "not postgres"`` runs the SQLite half alone.

The tests stand in three tiers, by what they need (tests/README.md): ``unit/`` (no files, no
sockets, no processes), ``integration/`` (one process, real stores, the app in-process) and
``e2e/`` (real ``serve`` and worker processes, Chromium, SMTP, Node tools). Each test gets its
folder's marker, so ``-m unit`` picks a tier as well as its folder does.

Nothing of our own is faked; the only stand-in is the clock (a process boundary), so a
test can decide what "today" and "this month" are.
"""

import json
import re
import socket
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import simplejson
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from gateway.app import create_app
from gateway.cli.main import main
from gateway.services import Services
from gateway.settings import Settings
from projections.tables import READ_MODEL_TABLES, tracking
from tests import backends, contract_validation, store_templates

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the client we use is still httpx underneath either way.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
CLIENT_KEYS = {"id", "name", "email", "address", "taxId", "phone", "notes", "isActive", "createdAt", "updatedAt"}
LIST_KEYS = {"data", "total", "page", "limit", "totalPages", "nextCursor"}
INVOICE_BRIEF_KEYS = {"id", "invoiceNumber", "total", "status"}
INVOICE_SUMMARY_KEYS = {
    "id",
    "clientId",
    "invoiceNumber",
    "currency",
    "issueDate",
    "dueDate",
    "subtotal",
    "taxTotal",
    "discountTotal",
    "total",
    "status",
    "createdAt",
    "client",
    "amountPaid",
    "balanceDue",
}
INVOICE_DETAIL_KEYS = INVOICE_SUMMARY_KEYS | {
    "lineItems",
    "notes",
    "terms",
    "poNumber",
    "sentViaEmail",
    "sentAt",
    "paidAt",
    "pdfWarnings",
    "viewedAt",
    "overdueAt",
    "voidedAt",
    "voidReason",
    "shareUrl",
    "emailStatus",
    "emailError",
}
LINE_KEYS = {"description", "quantity", "unitPrice", "amount", "taxRate", "discountRate", "discount"}

TODAY = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
TEST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class FakeClock:
    """The application's clock; `now` can be moved, e.g. into the next month."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class Tenant:
    """An account with one live API key."""

    account_id: UUID
    key_id: UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class Api:
    """The HTTP door as one tenant sees it; bodies are sent as JSON text exactly as given."""

    def __init__(self, http: TestClient, tenant: Tenant | None) -> None:
        self.http = http
        self.tenant = tenant

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(self.tenant.headers) if self.tenant else {}
        if body is not None:
            # Decimals as exact numbers; lone surrogates and NULs escaped, as a JSON client would.
            content = simplejson.dumps(body, use_decimal=True, allow_nan=True)
        if content is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        # Every answer is held to the OpenAPI document (status, headers, media type, body).
        return contract_validation.check(self.http.request(method, path, content=content, params=params, headers=sent))

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> httpx.Response:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any) -> httpx.Response:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)

    # --- shortcuts for arranging a test ----------------------------------------------

    def create_client(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/clients", {"name": "Acme Corp", **fields})
        assert response.status_code == 201, response.text
        return payload(response)["data"]

    def create_invoice(self, client_id: str, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/invoices", invoice_body(client_id, **fields))
        assert response.status_code == 201, response.text
        return payload(response)["data"]

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/invoices/{invoice_id}")
        assert response.status_code == 200, response.text
        return payload(response)["data"]


def line(description: str = "Web Development", quantity: Any = 40, unit_price: Any = 125, tax_rate: Any = 10) -> dict:
    return {"description": description, "quantity": quantity, "unitPrice": unit_price, "taxRate": tax_rate}


def invoice_body(client_id: str, **fields: Any) -> dict[str, Any]:
    return {"clientId": client_id, "lineItems": [line()], **fields}


def payload(response: httpx.Response) -> Any:
    """The JSON body with exact numbers (Decimal), after checking it is JSON at all."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)


def assert_error(response: httpx.Response, status: int) -> str:
    """The response is `status` with {"error": "<message>", "code": "<CODE>"} and, where a field is
    at fault, its path in "field"; nothing else. Returns the message."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = payload(response)
    assert isinstance(body, dict) and {"error", "code"} <= set(body) <= {"error", "code", "field"}, body
    assert isinstance(body["error"], str) and body["error"].strip(), body
    assert isinstance(body["code"], str) and body["code"].isupper(), body
    return str(body["error"])


def dump_read_model(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, and the projection's position, in a fixed order.

    Only the read-model projection's own tracking row counts: the PDF worker keeps its
    position in the same table and moves it in the background.
    """
    with services.read.engine.connect() as conn:
        rows = {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in READ_MODEL_TABLES
        }
        position = select(tracking).where(tracking.c.application_name == services.app.name)
        rows[tracking.name] = [tuple(row) for row in conn.execute(position)]
        return rows


def stored_state(services: Services) -> tuple[int, dict[str, list[tuple[Any, ...]]]]:
    """What a rejected request must leave untouched: the ledger's length and the read model."""
    return services.app.recorder.max_notification_id() or 0, dump_read_model(services)


# --- fixtures --------------------------------------------------------------------------


TESTS = Path(__file__).parent
TIERS = ("unit", "integration", "e2e")
# What a unit test may not ask for: each makes files, a store or an app.
NOT_FOR_UNITS = frozenset(
    {"tmp_path", "tmp_path_factory", "data_dir", "backend", "backend_env", "make_settings", "settings", "services"}
    | {"http", "api", "anonymous", "cli", "tenant", "open_tenant"}
)


def tier_of(path: Path) -> str | None:
    """The tier a test file stands in: the folder under tests/ it is in (None: tests/ itself)."""
    parts = path.relative_to(TESTS).parts if path.is_relative_to(TESTS) else ()
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test whose fixtures reach ``backend`` runs on SQLite, and on PostgreSQL + Redis too
    where tests/backends.py's BOTH_BACKENDS names it or its file, or it is marked
    ``both_backends`` (never when marked ``sqlite_only``). ``one_backend(name)`` picks one."""
    if "backend" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    params: list[Any] = ["sqlite"]
    both = definition.get_closest_marker("both_backends") is not None or backends.on_both(
        definition.path.name, definition.originalname
    )
    if both and definition.get_closest_marker("sqlite_only") is None:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    half = definition.get_closest_marker("one_backend")
    if half is not None:  # each half in its own file, so two test processes run them side by side
        params = [pytest.param(half.args[0], marks=pytest.mark.postgres) if half.args[0] == "postgres" else "sqlite"]
    metafunc.parametrize("backend", params, indirect=True)


# Files that take minutes, started first: the suite runs each file whole in one of several
# processes (pyproject's addopts), and a long file dealt out last keeps one process busy
# while the others stand idle. Ordered longest first, as `--durations` measured them.
SLOW_FIRST = (
    "test_schemathesis_rest.py",
    "test_schemathesis_rest_postgres.py",
    "test_rebuild_online.py",
    "test_pdf_workers.py",
    "test_scaleout.py",
    "test_schemathesis_graphql.py",
    "test_dashboard.py",
    "test_idempotency_faults.py",
    "test_probe_defects.py",
    "test_email.py",
    "test_idempotency_crash.py",
    "test_operations.py",
    "test_api_lifecycle.py",
    "test_history.py",
    "test_database_outage.py",
)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by the tier markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets its tier's marker; a unit test asking for files or a store, or a test
    outside the tiers once they exist, is an error. The slow files go first, in SLOW_FIRST's
    order; each file's own tests keep their order."""
    tiered = any((TESTS / tier).is_dir() for tier in TIERS)
    wrong: list[str] = []
    for item in items:
        tier = tier_of(item.path)
        if tier is not None:
            item.add_marker(tier)
        elif tiered and item.path.is_relative_to(TESTS):
            wrong.append(f"{item.nodeid}: not in tests/unit, tests/integration or tests/e2e")
        if tier == "unit":
            asked = sorted(NOT_FOR_UNITS.intersection(getattr(item, "fixturenames", ())))
            if asked:
                wrong.append(f"{item.nodeid}: a unit test asks for {', '.join(asked)} (move it to integration/)")
    if wrong:
        raise pytest.UsageError("tests in the wrong tier:\n" + "\n".join(wrong))
    rank = {name: place for place, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


@pytest.fixture(autouse=True)
def _units_stay_in_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test opens no socket and starts no process: trying to is a failure, saying so."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a unit test opens no socket and starts no process: it belongs in integration/ or e2e/")

    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, refused)
    monkeypatch.setattr(subprocess.Popen, "__init__", refused)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which stores the test's settings point at."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def backend_env(backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The environment that selects the backend: nothing for SQLite; a fresh PostgreSQL schema
    and Redis prefix otherwise, also set in this process's environment for the length of the
    test, so the processes a test starts (`cleverinvo serve`, `workers`) use them too."""
    if backend == "sqlite":
        yield {}
        return
    with backends.postgres_env() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def make_settings(data_dir: Path, backend_env: dict[str, str]) -> Callable[..., Settings]:
    def make(**env: str) -> Settings:
        return Settings.from_env({"CLEVERINVO_DATA_DIR": str(data_dir), **backend_env, **env})

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TODAY)


@pytest.fixture
def services(settings: Settings, clock: FakeClock, request: pytest.FixtureRequest) -> Iterator[Services]:
    if "backend_env" in request.fixturenames:  # the stores are the test's own: migrated once per process, copied
        store_templates.lay_out(settings, request.getfixturevalue("data_dir"), request.getfixturevalue("backend_env"))
    services = Services(settings, clock=clock)
    if request.node.get_closest_marker("production_password_cost") is None:
        # Argon2id still, at a test's cost: RFC 9106's profile takes 64 MiB and about a second
        # of a busy machine per hash or sign-in. Production's: tests/integration/test_password_cost.py.
        services.usecases.owners.hasher = TEST_PASSWORD_HASHER
    yield services
    services.close()


@pytest.fixture
def open_tenant(services: Services) -> Callable[..., Tenant]:
    def open_tenant(plan: str = "pro", name: str = "Seller") -> Tenant:
        account_id = services.execute(lambda: services.app.open_account(name, plan))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "tests"))
        return Tenant(account_id, key_id, key)

    return open_tenant


@pytest.fixture
def tenant(open_tenant: Callable[..., Tenant]) -> Tenant:
    return open_tenant("pro")


@pytest.fixture
def http(settings: Settings, services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def api(http: TestClient, tenant: Tenant) -> Api:
    return Api(http, tenant)


@pytest.fixture
def anonymous(http: TestClient) -> Api:
    return Api(http, None)


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: Path, backend_env: dict[str, str]
) -> Callable[..., tuple[int, list[str], str]]:
    """Runs `cleverinvo ARGS...` in-process; returns (exit code, stdout lines, stderr)."""
    for name in ("CLEVERINVO_DATABASE_URL", "CLEVERINVO_RATE_LIMIT", "CLEVERINVO_MAX_BODY_BYTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLEVERINVO_DATA_DIR", str(data_dir))
    for name, value in backend_env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, list[str], str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, [line for line in out.splitlines() if line.strip()], err

    return run
