"""The OpenAPI document as a third-party linter reads it: Redocly CLI's ``recommended`` rules
find no error and no warning, with no rule turned off.

Redocly CLI comes from npm, pinned, installed by ``.ci/run`` into ``.venv/npm`` (ignored by
git): ``npm install --prefix .venv/npm @redocly/cli@<REDOCLY_VERSION>``, and named to the
tests by ``CLEVERINVO_REDOCLY`` (its ``redocly`` command). When that variable is set, or
``CI`` is, a missing linter fails the run; elsewhere the test says how to install it. The
linter runs offline: its telemetry and update notices are off, and it reads only the dumped
document.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from gateway.rest.contract.openapi import document_bytes
from tests.outside_tools import missing

ROOT = Path(__file__).resolve().parents[2]
REDOCLY_VERSION = "2.77.0"  # .ci/run installs this one
INSTALL = f"npm install --prefix .venv/npm @redocly/cli@{REDOCLY_VERSION}"
OFFLINE = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "REDOCLY_SUPPRESS_NOTIFICATIONS": "true",
}


def redocly() -> Path | None:
    """The pinned Redocly CLI's command, when it is installed and node can run it."""
    named = os.environ.get("CLEVERINVO_REDOCLY")
    found = Path(named) if named else ROOT / ".venv" / "npm" / "node_modules" / ".bin" / "redocly"
    return found if found.exists() and shutil.which("node") else None


def lint(document: bytes, where: Path) -> dict[str, Any]:
    """Redocly's report on ``document`` under its recommended rules (``--format json``)."""
    command = redocly()
    if command is None:
        missing("Redocly CLI (or node to run it)", INSTALL)
    (where / "openapi.json").write_bytes(document)
    run = subprocess.run(
        [str(command), "lint", "--extends=recommended", "--format=json", "--max-problems=1000", "openapi.json"],
        cwd=where,  # no redocly.yaml of anybody's is read: the rules are recommended's, all of them
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.stdout.strip(), run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_the_document_passes_redoclys_recommended_rules(tmp_path: Path) -> None:
    report = lint(document_bytes(), tmp_path)
    problems = [
        f"{problem['severity']} {problem['ruleId']}: {problem['message']} at {problem['location'][0]['pointer']}"
        for problem in report["problems"]
    ]
    assert problems == []
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}


def test_the_linter_finds_what_it_is_asked_to(tmp_path: Path) -> None:
    """The lint above is not vacuous: the same run on a document with an unused component and
    an operation without a 4XX answer reports both."""
    spoiled = json.loads(document_bytes())
    spoiled["components"]["schemas"]["Unused"] = {"type": "string"}
    spoiled["paths"]["/api/v1/openapi.json"]["get"]["responses"] = {"200": {"description": "OK."}}
    report = lint(json.dumps(spoiled).encode(), tmp_path)
    rules = {problem["ruleId"] for problem in report["problems"]}
    assert {"no-unused-components", "operation-4xx-response"} <= rules, rules


def test_ci_installs_the_pinned_linter() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"@redocly/cli@{REDOCLY_VERSION}" in run and "--prefix .venv/npm" in run
    assert "export CLEVERINVO_REDOCLY=" in run
