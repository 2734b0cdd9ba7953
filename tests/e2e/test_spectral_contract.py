"""The OpenAPI document as Spectral reads it (``@stoplight/spectral-cli``, ruleset
``spectral:oas``, every rule on): no error, no warning.

One limit of Spectral is stated, not hidden: its ``oas3-schema`` rule checks a schema's
``pattern`` by compiling it as a JavaScript RegExp *without* the ``u`` flag (ajv-formats'
``regex`` format), where a character beyond the Basic Multilingual Plane is two code units
and a class holding a range of them cannot be written. JSON Schema's ``pattern`` is an
ECMA-262 expression read with Unicode semantics (ajv itself compiles ``pattern`` with
``u``), and the text patterns name such characters (the domain's rules cover every plane).
So a finding of that one kind is taken only for a pattern that holds a character beyond
the BMP and that node compiles with the ``u`` flag; every other finding fails the test.

Spectral comes from npm, pinned, installed by ``.ci/run`` into ``.venv/npm`` beside Redocly.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from gateway.rest.contract.openapi import document_bytes
from tests.outside_tools import missing

ROOT = Path(__file__).resolve().parents[2]
SPECTRAL_VERSION = "6.15.0"  # .ci/run installs this one
COMMAND = ROOT / ".venv" / "npm" / "node_modules" / ".bin" / "spectral"
INSTALL = f"npm install --prefix .venv/npm @stoplight/spectral-cli@{SPECTRAL_VERSION}"
PATTERN_FORMAT = '"pattern" property must match format "regex".'


def lint(document: bytes, where: Path) -> list[dict[str, Any]]:
    """Spectral's findings on ``document`` under ``spectral:oas``."""
    if not COMMAND.exists() or shutil.which("node") is None:
        missing("Spectral or node", INSTALL)
    (where / "openapi.json").write_bytes(document)
    (where / ".spectral.yaml").write_text('extends: ["spectral:oas"]\n', encoding="utf-8")
    run = subprocess.run(
        [str(COMMAND), "lint", "openapi.json", "--ruleset", ".spectral.yaml", "--format", "json", "--quiet"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.stdout.strip(), run.stderr
    found: list[dict[str, Any]] = json.loads(run.stdout)
    return found


def _at(document: dict[str, Any], path: list[Any]) -> Any:
    found: Any = document
    for step in path:
        found = found[int(step)] if isinstance(found, list) else found[step]
    return found


def compiles_with_unicode(patterns: list[str]) -> list[bool]:
    """Whether node's RegExp takes each pattern with the ``u`` flag."""
    script = "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8'));" + (
        "console.log(JSON.stringify(ps.map(p => { try { new RegExp(p, 'u'); return true } catch { return false } })))"
    )
    node = shutil.which("node")
    assert node is not None
    run = subprocess.run([node, "-e", script], input=json.dumps(patterns), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    found: list[bool] = json.loads(run.stdout)
    return found


def test_the_document_passes_spectrals_oas_rules(tmp_path: Path) -> None:
    document = document_bytes()
    spec = json.loads(document)
    findings = lint(document, tmp_path)
    patterns = [f for f in findings if f["code"] == "oas3-schema" and f["message"] == PATTERN_FORMAT]
    others = [f"{f['severity']} {f['code']}: {f['message']} at {'/'.join(map(str, f['path']))}" for f in findings]
    others = [line for line, f in zip(others, findings, strict=True) if f not in patterns]
    assert others == []
    texts = [_at(spec, f["path"]) for f in patterns]
    assert all(any(ord(char) > 0xFFFF for char in text) for text in texts), texts
    assert all(compiles_with_unicode(texts))


def test_spectral_finds_what_it_is_asked_to(tmp_path: Path) -> None:
    """Not vacuous: an array without items inside an `if`, and a pattern no engine reads."""
    spoiled = json.loads(document_bytes())
    spoiled["components"]["schemas"]["SendInput"]["allOf"][0]["if"]["properties"]["to"] = {"type": "array"}
    spoiled["components"]["schemas"]["Unused"] = {"type": "string", "pattern": "(["}
    codes = {f["code"] for f in lint(json.dumps(spoiled).encode(), tmp_path)}
    assert {"array-items", "oas3-schema"} <= codes, codes


def test_every_text_pattern_is_read_by_javascript_with_unicode() -> None:
    """A pattern beyond the BMP is the character itself, not Python's \\U escape (ECMA-262
    reads \\U as a U, and rejects it with the u flag)."""
    patterns: list[str] = []

    def collect(found: Any) -> None:
        if isinstance(found, dict):
            for key, value in found.items():
                if key == "pattern" and isinstance(value, str):
                    patterns.append(value)
                else:
                    collect(value)
        elif isinstance(found, list):
            for item in found:
                collect(item)

    collect(json.loads(document_bytes()))
    assert patterns and all(compiles_with_unicode(patterns))


def test_ci_installs_the_pinned_linter() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"@stoplight/spectral-cli@{SPECTRAL_VERSION}" in run and "--prefix .venv/npm" in run
