"""`cleverinvo ledger export`: an account's events as JSON lines, exactly as stored, with the
account's digest after each; the last digest is the one GET /ledger/digest serves."""

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.ledger import LEDGER
from gateway.services import Services
from tests.conftest import Api, Tenant
from tests.ledger_support import digest_body, expected_entries, row_of, rows, write_books

Cli = Callable[..., tuple[int, list[str], str]]
LINE_KEYS = ["position", "aggregateId", "version", "topic", "state", "digest"]


@pytest.mark.sqlite_only("reads or edits the stored events through the sqlite3 module")
def test_the_export_is_the_accounts_events_in_commit_order_with_seals_and_digests(
    cli: Cli, api: Api, services: Services, data_dir: Path, open_tenant: Callable[..., Tenant]
) -> None:
    books = write_books(api)
    open_tenant(name="Other")
    served = digest_body(api)
    code, lines, err = cli("ledger", "export", books.account_id)
    assert code == 0, err
    exported = [json.loads(line) for line in lines]
    assert all(list(line) == LINE_KEYS for line in exported)
    mine = [entry for entry in expected_entries(services) if entry[1] == books.account_id]
    assert [(e["position"], e["aggregateId"], e["version"], e["digest"]) for e in exported] == [
        (position, aggregate, version, digest) for position, _, aggregate, version, _, digest in mine
    ]
    stored = {row.position: row for row in rows(data_dir)}
    assert all(e["state"] == stored[e["position"]].state and LEDGER in e["state"] for e in exported)
    assert all(e["topic"] == stored[e["position"]].topic for e in exported)
    assert (exported[-1]["position"], exported[-1]["digest"]) == (served["position"], served["digest"])


def test_an_export_to_a_file_says_where_and_ends_on_the_digest(cli: Cli, api: Api, tmp_path: Path) -> None:
    books = write_books(api)
    served = digest_body(api)
    out = tmp_path / "export.jsonl"
    code, lines, err = cli("ledger", "export", books.account_id, "--out", str(out))
    assert code == 0, err
    assert lines == [
        f"exported {len(out.read_text().splitlines())} events of account {books.account_id} to {out};"
        f" its digest after the last: {served['digest']}"
    ]
    assert cli("ledger", "export", books.account_id)[1] == out.read_text(encoding="utf-8").splitlines()
    assert not list(tmp_path.glob(".*partial"))


def test_an_account_without_events_exports_nothing(cli: Cli, api: Api, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    code, lines, err = cli("ledger", "export", "00000000-0000-0000-0000-000000000000", "--out", str(out))
    assert (code, lines) == (1, [])
    assert err == "cleverinvo: no events of account 00000000-0000-0000-0000-000000000000 in the store\n"
    assert not out.exists()


def test_an_export_that_cannot_be_written_is_refused(cli: Cli, tenant: Tenant, tmp_path: Path) -> None:
    code, _, err = cli("ledger", "export", str(tenant.account_id), "--out", str(tmp_path / "missing" / "x.jsonl"))
    assert code == 2 and err.startswith("cleverinvo: cannot write --out ")


def test_a_malformed_account_id_is_a_usage_error(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("ledger", "export", "not-an-id")
    assert exited.value.code == 2 and "not an account id: 'not-an-id'" in capsys.readouterr().err


@pytest.mark.sqlite_only("reads or edits the stored events through the sqlite3 module")
def test_an_unreadable_event_stops_the_export_and_names_it(cli: Cli, api: Api, data_dir: Path) -> None:
    books = write_books(api)
    target = row_of(data_dir, books.client_id, 2)
    with sqlite3.connect(data_dir / "readmodels.sqlite3") as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (b"\xff\xfe", target.position))
    code, _, err = cli("ledger", "export", books.account_id)
    assert code == 1 and "Traceback" not in err
    assert f"the event at position {target.position} (aggregate {books.client_id} version 2) cannot be exported" in err
