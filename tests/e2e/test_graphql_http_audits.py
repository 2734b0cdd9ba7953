"""GraphQL over HTTP as the `graphql-http` audit suite reads it: every one of its
``serverAudits`` passes against the real app under uvicorn on loopback (no warning: the
``application/graphql-response+json`` media type is honoured as the GraphQL-over-HTTP
specification says).

graphql-http comes from npm, pinned, installed by ``.ci/run`` into ``.venv/npm`` beside
Redocly: ``npm install --prefix .venv/npm graphql-http@<VERSION> graphql@<GRAPHQL>``.
"""

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Tenant
from tests.outside_tools import missing
from tests.serving import uvicorn_in_thread

ROOT = Path(__file__).resolve().parents[2]
GRAPHQL_HTTP_VERSION = "1.22.4"  # .ci/run installs this one
GRAPHQL_JS_VERSION = "16.11.0"  # graphql-http's peer dependency
MODULES = ROOT / ".venv" / "npm" / "node_modules"
INSTALL = f"npm install --prefix .venv/npm graphql-http@{GRAPHQL_HTTP_VERSION} graphql@{GRAPHQL_JS_VERSION}"
SCRIPT = Path(__file__).resolve().parents[1] / "graphql_http_audit.mjs"


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    app = create_app(settings, services)
    with uvicorn_in_thread(lambda _port: uvicorn.Config(app, log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}/graphql"


def audits(url: str, key: str) -> list[dict[str, Any]]:
    """Each audit's id, name, status (ok, warn, error) and reason."""
    node = shutil.which("node")
    if node is None or not (MODULES / "graphql-http").is_dir():
        missing("node or graphql-http", INSTALL)
    run = subprocess.run(
        [node, str(SCRIPT), url, key],
        env={"NODE_PATH": str(MODULES), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and run.stdout.strip(), run.stderr
    found: list[dict[str, Any]] = json.loads(run.stdout)
    return found


def test_every_graphql_http_server_audit_passes(served: str, tenant: Tenant) -> None:
    found = audits(served, tenant.key)
    assert len(found) >= 60  # the suite ran whole
    failing = [f"{a['status']} {a['id']} {a['name']}: {a['reason']}" for a in found if a["status"] != "ok"]
    assert failing == []


def test_ci_installs_the_pinned_audit_suite() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"graphql-http@{GRAPHQL_HTTP_VERSION}" in run and "--prefix .venv/npm" in run
