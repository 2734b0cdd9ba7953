"""The README's ledger verifier, taken exactly from the README text, run on real exports:
an auditor's dozen lines agree with `cleverinvo ledger export` and `GET /ledger/digest`."""

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.ledger import GENESIS, event_hash, next_digest
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api
from tests.ledger_support import digest_body, write_books, write_unsealed

README = Path(__file__).resolve().parents[2] / "README.md"
Cli = Callable[..., tuple[int, list[str], str]]


def readme_verifier() -> str:
    """The first Python block of the README's "Verifying the ledger" section, verbatim."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Verifying the ledger\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```python\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert found, "the README's ledger section has no Python block"
    return found.group(1)


@pytest.fixture
def verifier(tmp_path: Path) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    script = tmp_path / "verify.py"
    script.write_text(readme_verifier(), encoding="utf-8")

    def run(export: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", str(script), str(export)], capture_output=True, text=True, timeout=60
        )

    return run


def stored_line_hash(line: dict) -> str:
    return event_hash(line["aggregateId"], line["version"], line["topic"], line["state"])


def export(cli: Cli, account_id: str, out: Path) -> list[dict]:
    code, lines, err = cli("ledger", "export", account_id, "--out", str(out))
    assert code == 0, err
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_the_readme_verifier_is_short_and_uses_only_the_standard_library() -> None:
    code = [line for line in readme_verifier().splitlines() if line.strip()]
    assert len(code) <= 18, code
    assert code[0] == "import hashlib, json, sys"
    assert not any(line.startswith(("from ", "import ")) for line in code[1:])


def test_the_readme_verifier_passes_a_clean_export_and_ends_on_the_served_digest(
    cli: Cli, api: Api, tmp_path: Path, verifier: Callable[[Path], subprocess.CompletedProcess[str]]
) -> None:
    books = write_books(api)
    served = digest_body(api)
    lines = export(cli, books.account_id, tmp_path / "export.jsonl")
    assert lines[-1]["position"] == served["position"] and lines[-1]["digest"] == served["digest"]
    result = verifier(tmp_path / "export.jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"verified through position {served['position']}: digest {served['digest']}\n"


@pytest.mark.parametrize("tamper", ["edit", "drop", "swap", "reseal"])
def test_the_readme_verifier_fails_a_tampered_export(
    cli: Cli, api: Api, tmp_path: Path, verifier: Callable[[Path], subprocess.CompletedProcess[str]], tamper: str
) -> None:
    books = write_books(api)
    lines = export(cli, books.account_id, tmp_path / "export.jsonl")
    middle = next(n for n, line in enumerate(lines) if line["aggregateId"] == books.invoice_id and line["version"] == 2)
    if tamper == "edit":
        lines[middle]["state"]["notes"] = "Edited in the export"
    elif tamper == "drop":
        del lines[middle]
    elif tamper == "swap":
        lines[middle], lines[middle + 1] = lines[middle + 1], lines[middle]
    else:  # its hash and every digest recomputed too: only the chain's next version tells
        line = lines[middle]
        line["state"]["notes"] = "Edited in the export"
        seal = {k: v for k, v in line["state"]["_ledger"].items() if k != "hash"}
        state = {**line["state"], "_ledger": seal}
        seal["hash"] = event_hash(line["aggregateId"], line["version"], line["topic"], state)
        line["state"]["_ledger"] = seal
        digest = GENESIS
        for line in lines:
            line["digest"] = digest = next_digest(digest, stored_line_hash(line))
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    result = verifier(tampered)
    assert result.returncode != 0
    message = re.fullmatch(r"line (\d+): aggregate [0-9a-f-]{36} version (\d+) does not verify\n", result.stderr)
    assert message, result.stderr
    if tamper == "reseal":
        assert message.group(2) == "3" and int(message.group(1)) > middle + 1


@pytest.mark.sqlite_only("stores unsealed events in the stored events through the sqlite3 module")
def test_the_readme_verifier_passes_an_export_with_events_stored_before_sealing(
    cli: Cli,
    services: Services,
    settings: Settings,
    tmp_path: Path,
    verifier: Callable[[Path], subprocess.CompletedProcess[str]],
) -> None:
    account, client = write_unsealed(settings, "Ünïcödé, 中文, \"quoted\"\n\ttabbed")
    services.execute(lambda: services.app.update_client(account, client, {"name": "Renamed"}))
    services.ledger.catch_up()
    lines = export(cli, str(account), tmp_path / "export.jsonl")
    unsealed = sum("_ledger" not in line["state"] for line in lines)
    assert unsealed == 5  # the account, its two counters, the client's slot and the client
    result = verifier(tmp_path / "export.jsonl")
    assert result.returncode == 0, result.stderr
    latest = services.ledger.digest(str(account))
    assert latest is not None and result.stdout.endswith(f"digest {latest.digest}\n")
    code, out, err = cli("ledger", "verify")
    assert code == 0, err
    assert "; 5 unsealed (stored before sealing began" in out[-1]
