"""A TypeScript team's first day, in both doors, with no casts.

From the live service's own contract (its /api/v1/openapi.json and its GraphQL introspection),
openapi-typescript generates REST's types (used through openapi-fetch) and graphql-codegen's
client preset generates typed documents for the operations in
tests/typed_clients/graphql_flow.ts (sent through @urql/core). A small program
(tests/typed_clients/*.ts) walks the whole flow in both doors: clients, invoices, send,
payments, a reversal, void, history, as-of, the PDF, pages and each error answer. It must
compile under ``tsc --strict`` (with noUncheckedIndexedAccess and
noPropertyAccessFromIndexSignature) holding no cast: no ``as``, no ``!``, no ``any``, no
``@ts-ignore`` (no_casts.mjs reads it with TypeScript's parser). Then it runs against a real
uvicorn server on a loopback port and prints OK.

The tools come from npm, pinned, installed by ``.ci/run`` into ``.venv/npm``; elsewhere the
tests skip saying how to install them (tests/outside_tools.py).
"""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from graphql import get_introspection_query

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Tenant
from tests.outside_tools import missing
from tests.serving import uvicorn_in_thread

ROOT = Path(__file__).resolve().parents[2]
SOURCES = Path(__file__).resolve().parents[1] / "typed_clients"
MODULES = ROOT / ".venv" / "npm" / "node_modules"
TOOLS = ("openapi-typescript", "graphql-codegen", "tsc")
INSTALL = (
    "npm install --prefix .venv/npm typescript@5.9.3 openapi-typescript@7.13.0 openapi-fetch@0.17.0 "
    "@graphql-codegen/cli@7.4.3 @graphql-codegen/client-preset@6.2.0 @urql/core@6.0.3 graphql@16.11.0 "
    "(the line in .ci/run)"
)
PLACEHOLDER = 'export const baseUrl = "http://127.0.0.1:9";\nexport const apiKey = "none";\n'


def tool(name: str) -> str:
    found = MODULES / ".bin" / name
    if not (found.exists() and shutil.which("node")):
        missing(f"{name} (or node to run it)", INSTALL)
    return str(found)


def run(command: list[str], where: Path, what: str, timeout: float = 300) -> str:
    done = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{what} failed ({done.returncode}):\n{output[-12000:]}"
    return output


def workspace(where: Path, document: bytes, schema: dict[str, object], target: str = PLACEHOLDER) -> Path:
    """The program beside the clients generated from ``document`` (OpenAPI) and ``schema``
    (GraphQL introspection's answer)."""
    for name in TOOLS:
        tool(name)
    for source in SOURCES.iterdir():
        if source.is_file():
            shutil.copy(source, where / source.name)
    (where / "node_modules").symlink_to(MODULES, target_is_directory=True)
    (where / "openapi.json").write_bytes(document)
    (where / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (where / "target.ts").write_text(target, encoding="utf-8")
    run([tool("openapi-typescript"), "openapi.json", "--output", "rest.ts"], where, "openapi-typescript")
    run([tool("graphql-codegen"), "--config", "codegen.yml"], where, "graphql-codegen")
    return where


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning", lifespan="off")) as port:
        yield f"http://127.0.0.1:{port}"


def test_the_flow_holds_no_cast(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (MODULES / "typescript").exists():
        missing("typescript (or node to run it)", INSTALL)
    shutil.copy(SOURCES / "no_casts.mjs", tmp_path / "no_casts.mjs")
    (tmp_path / "node_modules").symlink_to(MODULES, target_is_directory=True)
    sources = sorted(str(path) for path in SOURCES.glob("*.ts"))  # every hand-written one
    assert len(sources) >= 4, sources
    run([node, "no_casts.mjs", *sources], tmp_path, "the no-cast lint")
    # ...and the lint sees each kind of cast, and nothing in a string or a comment.
    (tmp_path / "casts.ts").write_text(
        'const a = 1 as number;\nconst b: any = a!;\nconst c = <number>a;\n// @ts-ignore\nconst d = "x as any!";\n'
    )
    found = subprocess.run([node, "no_casts.mjs", "casts.ts"], cwd=tmp_path, capture_output=True, text=True)
    assert found.returncode == 1, found.stdout + found.stderr
    assert found.stdout.splitlines() == [
        "casts.ts:1: `as` cast",
        "casts.ts:2: `any`",
        "casts.ts:2: `!` non-null assertion",
        "casts.ts:3: <T> cast",
        "casts.ts:4: @ts-ignore",
    ]


@pytest.mark.sqlite_only("the contract and its generated types are the same on either store; the flow runs once")
def test_the_typed_flow_compiles_strict_and_runs_in_both_doors(tmp_path: Path, served: str, tenant: Tenant) -> None:
    # Both contracts as the live service tells them: its document and its introspection.
    document = httpx.get(f"{served}/api/v1/openapi.json", timeout=60).content
    introspection = httpx.post(
        f"{served}/graphql",
        json={"query": get_introspection_query(descriptions=True)},
        headers=tenant.headers,
        timeout=60,
    )
    assert introspection.status_code == 200, introspection.text
    schema = introspection.json()["data"]
    target = f"export const baseUrl = {served!r};\nexport const apiKey = {tenant.key!r};\n".replace("'", '"')
    where = workspace(tmp_path, document, schema, target)
    run([tool("tsc"), "-p", ".", "--strict"], where, "tsc --strict")
    env = {**os.environ, "NODE_NO_WARNINGS": "1"}
    done = subprocess.run(["node", "out/main.js"], cwd=where, capture_output=True, text=True, timeout=300, env=env)
    assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stdout + done.stderr
