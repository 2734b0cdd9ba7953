"""An integrator generates a client from /api/v1/openapi.json, and it works.

openapi-python-client (from PyPI, offline) generates a Python package from the document
the running server serves; that package, and nothing written by hand, then drives a real
uvicorn server on a loopback port through an invoice's life. Its one setting is the one
docs/api.md gives integrators: the PDF is read as bytes (``application/pdf`` as
``application/octet-stream``, the only binary media type the generator knows by name).

What the package is made of is checked too: one class per closed set of values (one
``InvoiceStatus``, not one per field holding a status), the PDF typed as a ``File`` of
bytes, and request models with no field the API only returns (``id``, ``createdAt``...).
"""

import enum
import importlib
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import msgspec
import pytest
import uvicorn

from domain.lifecycle import STATUSES
from gateway.app import create_app
from gateway.rest.contract import requests as q
from gateway.rest.contract.openapi import document_bytes
from gateway.services import Services
from tests.conftest import Tenant
from tests.serving import uvicorn_in_thread

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "cleverinvo_client"


@pytest.fixture
def served(settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning", lifespan="off")) as port:
        yield f"http://127.0.0.1:{port}"


def generate(document: bytes, where: Path) -> ModuleType:
    """The client package generated from ``document``, imported."""
    (where / "openapi.json").write_bytes(document)
    (where / "config.yml").write_text("content_type_overrides:\n  application/pdf: application/octet-stream\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", "openapi.json", "--meta", "none", "--config", "config.yml"]
        + ["--output-path", PACKAGE],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout and "WARNING" not in run.stdout, run.stdout  # every operation generated
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def forget() -> None:
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture
def generated(served: str, tmp_path: Path) -> Iterator[ModuleType]:
    # as an integrator gets it: no key (the first request builds the document: no deadline on that)
    document = httpx.get(f"{served}/api/v1/openapi.json", timeout=300).content
    yield generate(document, tmp_path)
    forget()


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package generated from the document the app serves, to look at, not to run."""
    yield generate(document_bytes(), tmp_path_factory.mktemp("generated"))
    forget()


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client (the test extra) is not installed")
def test_a_generated_client_runs_an_invoices_life(generated: ModuleType, served: str, tenant: Tenant) -> None:
    api = lambda name: _module(generated, f"api.{name}")  # noqa: E731
    models = _module(generated, "models")
    client = generated.AuthenticatedClient(base_url=served, token=tenant.key, raise_on_unexpected_status=True)

    created = api("clients.create_client").sync_detailed(
        client=client, body=models.ClientCreate(name="Acme Corp", email="billing@acme.test")
    )
    assert created.status_code == 201
    client_id = created.parsed.data.id
    listed = api("clients.list_clients").sync(client=client, page=1, limit=10, search="acme")
    assert [row.name for row in listed.data] == ["Acme Corp"] and listed.total_pages == 1
    assert listed.next_cursor is None  # the last page
    api("clients.create_client").sync(client=client, body=models.ClientCreate(name="Beta Ltd"))
    first = api("clients.list_clients").sync(client=client, limit=1)
    rest = api("clients.list_clients").sync(client=client, limit=1, after=first.next_cursor)
    assert [row.name for row in (*first.data, *rest.data)] == ["Beta Ltd", "Acme Corp"] and rest.next_cursor is None

    line = models.LineItemInput(description="Web Development", quantity="40", unit_price="125.00", tax_rate=10)
    body = models.InvoiceCreate(client_id=client_id, line_items=[line], notes="Thanks")
    invoice = api("invoices.create_invoice").sync(client=client, body=body, idempotency_key="first-invoice")
    again = api("invoices.create_invoice").sync_detailed(client=client, body=body, idempotency_key="first-invoice")
    assert again.headers["idempotent-replayed"] == "true" and again.parsed.data.id == invoice.data.id
    invoice_id = invoice.data.id
    assert (invoice.data.invoice_number, invoice.data.total) == ("INV-0001", 5500)
    assert invoice.data.status is models.InvoiceStatus.DRAFT

    changed = api("invoices.update_invoice").sync(invoice_id, client=client, body=models.InvoiceUpdate(terms="Net 30"))
    assert changed.data.status == "DRAFT"
    pdf = api("invoices.get_invoice_pdf").sync_detailed(invoice_id, client=client)
    assert pdf.status_code == 200 and pdf.parsed.payload.read() == pdf.content and pdf.content.startswith(b"%PDF")

    sent = api("invoices.send_invoice").sync(invoice_id, client=client, body=models.SendInput(email=False))
    assert sent.data.status == "SENT" and sent.data.share_url
    paid = api("payments.record_payment").sync(invoice_id, client=client, body=models.PaymentCreate(amount="500.00"))
    assert (paid.data.invoice.status, paid.data.invoice.balance_due) == ("PARTIALLY_PAID", 5000)
    payments = api("payments.list_payments").sync(invoice_id, client=client)
    assert [payment.amount for payment in payments.data] == [500]
    reversed_ = api("payments.reverse_payment").sync(invoice_id, paid.data.id, client=client)
    assert reversed_.data.reversed_at is not None and reversed_.data.invoice.status == "SENT"

    detail = api("invoices.get_invoice").sync(invoice_id, client=client)
    assert detail.data.client.name == "Acme Corp" and len(detail.data.line_items) == 1
    first = api("invoices.get_invoice").sync(invoice_id, client=client, version=1)
    assert first.data.terms is None  # as it was when created
    history = api("history.get_invoice_history").sync(invoice_id, client=client)
    assert [entry.type_ for entry in history.data][:2] == ["created", "updated"]  # "type" is a Python word
    assert history.data[0].actor.type_.value == "apiKey"
    events = api("history.list_events").sync(client=client, after=0, limit=500)
    assert events.data and events.next_ >= events.data[-1].position
    digest = api("ledger.get_ledger_digest").sync(client=client)
    assert len(digest.digest) == 64 and digest.account_id == tenant.account_id  # a uuid.UUID, parsed

    missing = api("clients.get_client").sync_detailed("6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11", client=client)
    assert missing.status_code == 404 and "not found" in missing.parsed.error.lower()
    assert api("clients.delete_client").sync_detailed(client_id, client=client).status_code == 204
    anonymous = generated.Client(base_url=served)
    refused = _module(generated, "api.clients.list_clients").sync_detailed(client=anonymous)
    assert refused.status_code == 401 and refused.parsed.error.startswith("Missing API key")


def test_the_generator_is_the_test_extras() -> None:
    """The test above runs wherever the test extra is installed: CI does not skip it."""
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"openapi-python-client>=' in pyproject
    assert shutil.which("ruff", path=str(Path(sys.executable).parent))  # it formats what it generates


def _classes(package: ModuleType, kind: type) -> dict[str, type]:
    """Every class of ``kind`` the package's models define, by name."""
    models = _module(package, "models")
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(models.__path__):
        module = _module(package, f"models.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, kind) and value.__module__ == module.__name__:
                found[name] = value
    return found


def test_each_closed_set_of_values_is_one_class(package: ModuleType) -> None:
    enums = _classes(package, enum.Enum)
    holding = lambda values: [name for name, kind in enums.items() if {m.value for m in kind} == set(values)]  # noqa: E731
    assert holding(STATUSES) == ["InvoiceStatus"]
    assert [name for name, kind in enums.items() if "USD" in {m.value for m in kind}] == ["Currency"]
    assert sorted(enums) == [
        "ActorType",
        "Currency",
        "EmailStatus",
        "InvoiceStatus",
        "Locale",
        "Plan",
        "ResourceType",
        "WriteSaved",
    ]
    models = _module(package, "models")
    status = inspect.signature(_module(package, "api.invoices.list_invoices").sync).parameters["status"]
    assert "InvoiceStatus" in str(status.annotation) and "" not in {m.value for m in models.InvoiceStatus}


def test_the_pdf_is_a_file_of_bytes(package: ModuleType) -> None:
    pdf = _module(package, "api.invoices.get_invoice_pdf")
    answer = inspect.signature(pdf.sync).return_annotation
    assert "File" in str(answer) and "str" not in str(answer).replace("Problem", ""), answer
    parsed = pdf._parse_response(  # what the generated code makes of a 200 answer's body
        client=package.Client(base_url="http://127.0.0.1"),
        response=httpx.Response(200, content=b"%PDF-1.7 bytes", headers={"Content-Type": "application/pdf"}),
    )
    assert isinstance(parsed, _module(package, "types").File) and parsed.payload.read() == b"%PDF-1.7 bytes"


def test_request_models_have_no_field_the_api_only_returns(package: ModuleType) -> None:
    models = _module(package, "models")
    bodies = [kind for kind in vars(q).values() if inspect.isclass(kind) and issubclass(kind, q.Body)]
    checked = 0
    for body in bodies:
        model = getattr(models, body.__name__, None)
        if model is None:  # a base class no operation names
            continue
        fields = {field.name for field in attrs.fields(model)} - {"additional_properties"}
        wire = {field.encode_name: field.name for field in msgspec.structs.fields(body)}
        read_only = {wire[name] for name in q.read_only_fields(body)}
        writable = set(wire.values()) - read_only
        assert fields == writable, (body.__name__, fields ^ writable)
        checked += 1
    assert checked == 8  # ClientCreate, ClientUpdate, InvoiceCreate, InvoiceUpdate, LineItemInput, and the three inputs
