"""`cleverinvo ledger verify`: a clean store verifies; an attacker's edits to the SQLite
event store (through the sqlite3 module, as anyone with the file could) are each caught,
naming the first broken aggregate and version, or account and position."""

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.ledger import LEDGER
from gateway.services import Services
from tests.conftest import Api, Tenant
from tests.ledger_support import (
    Books,
    delete,
    digest_body,
    edit,
    last_version,
    row_of,
    rows,
    swap_positions,
    swap_states,
    write_books,
)

Cli = Callable[..., tuple[int, list[str], str]]

pytestmark = pytest.mark.sqlite_only("tampers with the stored events through the sqlite3 module")


@pytest.fixture
def books(services: Services, api: Api) -> Books:
    books = write_books(api)
    services.ledger.catch_up()  # the follower has seen every event, as a running service's would
    return books


def verify(cli: Cli, *args: str) -> tuple[int, str, str]:
    code, lines, err = cli("ledger", "verify", *args)
    return code, "\n".join(lines), err


def broken(cli: Cli, *args: str) -> str:
    code, out, err = verify(cli, *args)
    assert code == 1, (out, err)
    assert "Traceback" not in err and err.startswith("cleverinvo: ledger broken: "), err
    return err


def forget_the_follower(data_dir: Path) -> None:
    """What an attacker with the read-model database too would do: wipe the follower's record."""
    with sqlite3.connect(data_dir / "readmodels.sqlite3") as conn:
        conn.execute("DELETE FROM ledger_entries")
        conn.execute("UPDATE ledger_tracking SET notification_id = 0")


def saved_digests(path: Path, *bodies: dict[str, Any]) -> str:
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies), encoding="utf-8")
    return str(path)


# --- a clean store --------------------------------------------------------------------------


def test_a_clean_store_verifies_with_a_summary(
    cli: Cli, books: Books, data_dir: Path, open_tenant: Callable[..., Tenant]
) -> None:
    open_tenant(name="Other")  # not yet followed: compared only with itself
    events = len(rows(data_dir))
    code, out, err = verify(cli)
    assert code == 0, err
    assert out.startswith(f"ledger verified: {events} events in ") and err == ""
    assert " of 2 accounts; 0 unsealed " in out
    assert f"{events - 4} positions compared with the follower's record" in out


def test_a_clean_store_verifies_for_one_account(cli: Cli, books: Books) -> None:
    code, out, err = verify(cli, "--account", books.account_id)
    assert code == 0, err
    assert " of 1 account;" in out


def test_an_account_without_events_is_an_error(cli: Cli, books: Books) -> None:
    code, _, err = verify(cli, "--account", "00000000-0000-0000-0000-000000000000")
    assert code == 1 and err == "cleverinvo: no events of account 00000000-0000-0000-0000-000000000000 in the store\n"


# --- the tamper cases ----------------------------------------------------------------------------


def test_an_event_edited_by_hand_is_named_by_aggregate_and_version(cli: Cli, books: Books, data_dir: Path) -> None:
    target = row_of(data_dir, books.invoice_id, 2)
    edit(data_dir, target, notes="Edited afterwards")
    err = broken(cli)
    assert f"aggregate {books.invoice_id} version 2 (position {target.position})" in err
    assert "its stored hash does not match its content" in err


def test_an_edit_with_a_fresh_hash_is_caught_by_the_follower_and_by_the_next_versions_prev(
    cli: Cli, books: Books, data_dir: Path
) -> None:
    target = row_of(data_dir, books.invoice_id, 2)
    edit(data_dir, target, reseal=True, notes="Edited afterwards")
    err = broken(cli)  # first in commit order: the follower recorded other content at this position
    assert f"account {books.account_id} position {target.position}: aggregate {books.invoice_id} version 2 " in err
    forget_the_follower(data_dir)
    err = broken(cli)
    assert f"aggregate {books.invoice_id} version 3 " in err and "its prev is not the hash of version 2" in err


def test_a_resealed_edit_of_a_streams_last_event_is_caught_by_the_followers_record(
    cli: Cli, books: Books, data_dir: Path
) -> None:
    target = last_version(data_dir, books.client_id)
    edit(data_dir, target, reseal=True, changes={"phone": "+1-555-9999"})
    err = broken(cli)
    assert f"account {books.account_id} position {target.position}: " in err
    assert "differs from what the follower recorded: edited after it was committed" in err


def test_deleting_the_last_event_of_a_stream_is_caught_by_position(cli: Cli, books: Books, data_dir: Path) -> None:
    target = last_version(data_dir, books.invoice_id)  # the payment: the chain before it still holds
    delete(data_dir, target.position)
    err = broken(cli)
    assert f"account {books.account_id} position {target.position}: " in err
    assert f"aggregate {books.invoice_id} version {target.version} here, but the store no longer holds it" in err


def test_deleting_the_stores_last_event_and_writing_on_is_caught(
    cli: Cli, books: Books, data_dir: Path, services: Services
) -> None:
    target = rows(data_dir)[-1]
    delete(data_dir, target.position)
    services.app.create_client(UUID(books.account_id), {"name": "Initech"})
    assert rows(data_dir)[-2].position == target.position  # SQLite hands its position to a new event
    err = broken(cli)
    assert f"account {books.account_id} position {target.position}: the follower recorded aggregate" in err
    assert "events were edited, deleted, inserted or reordered" in err


def test_two_versions_swapped_are_named_by_the_first(cli: Cli, books: Books, data_dir: Path) -> None:
    first, second = row_of(data_dir, books.invoice_id, 2), row_of(data_dir, books.invoice_id, 3)
    swap_states(data_dir, first, second)
    err = broken(cli)
    assert f"aggregate {books.invoice_id} version 2 (position {first.position})" in err


def test_two_events_of_an_account_swapped_in_commit_order_are_named_by_position(
    cli: Cli, books: Books, data_dir: Path
) -> None:
    payment = last_version(data_dir, books.invoice_id)
    globex = [row for row in rows(data_dir) if row.topic.endswith("ClientCreated")][-1]  # after the payment
    assert globex.aggregate_id != books.client_id and globex.position > payment.position
    swap_positions(data_dir, payment.position, globex.position)
    err = broken(cli)  # every chain still holds: only the order changed
    assert f"account {books.account_id} position {payment.position}: " in err
    assert f"the follower recorded aggregate {books.invoice_id} version {payment.version} here" in err
    assert f"the store now holds aggregate {globex.aggregate_id} version 1" in err


def test_an_unreadable_event_is_a_finding_not_a_crash(cli: Cli, books: Books, data_dir: Path) -> None:
    target = row_of(data_dir, books.client_id, 1)
    with sqlite3.connect(data_dir / "readmodels.sqlite3") as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (b"{not json", target.position))
    err = broken(cli)
    assert f"aggregate {books.client_id} version 1 (position {target.position}): its stored state is not" in err


def test_one_accounts_check_ignores_tampering_in_another(
    cli: Cli, books: Books, data_dir: Path, services: Services, open_tenant: Callable[..., Tenant]
) -> None:
    other = open_tenant(name="Other")
    services.ledger.catch_up()
    opened = row_of(data_dir, str(other.account_id), 1)
    edit(data_dir, opened, name="Someone Else")
    assert verify(cli, "--account", books.account_id)[0] == 0
    assert f"aggregate {other.account_id} version 1 " in broken(cli, "--account", str(other.account_id))
    assert f"aggregate {other.account_id} version 1 " in broken(cli)


# --- saved digests ------------------------------------------------------------------------------


def test_saved_digests_pass_on_a_clean_store(cli: Cli, books: Books, api: Api, tmp_path: Path) -> None:
    early = digest_body(api)
    api.create_client(name="Initech")
    file = saved_digests(tmp_path / "digests.jsonl", early, digest_body(api))
    code, out, err = verify(cli, "--digests", file)
    assert code == 0, err
    assert f"saved digest of account {books.account_id} at position {early['position']} matches" in out
    assert out.count(" matches: nothing of the account at or before position ") == 2


def test_a_saved_digest_fails_after_tampering_at_or_before_its_position(
    cli: Cli, books: Books, api: Api, data_dir: Path, tmp_path: Path
) -> None:
    saved = digest_body(api)
    file = saved_digests(tmp_path / "digests.jsonl", saved)
    assert verify(cli, "--digests", file)[0] == 0
    target = row_of(data_dir, books.client_id, 1)
    assert target.position <= saved["position"]
    edit(data_dir, target, name="Edited afterwards")
    code, out, err = verify(cli, "--digests", file)
    assert code == 1 and f"aggregate {books.client_id} version 1 " in err
    assert f"at position {saved['position']} DOES NOT MATCH: something at or before position" in out


def test_tampering_after_a_saved_position_breaks_the_chain_but_the_saved_digest_still_matches(
    cli: Cli, books: Books, api: Api, data_dir: Path, tmp_path: Path
) -> None:
    saved = digest_body(api)
    file = saved_digests(tmp_path / "digests.jsonl", saved)
    client = api.create_client(name="Initech")["id"]
    api.patch(f"/api/v1/clients/{client}", {"phone": "+1-555-0123"})
    target = row_of(data_dir, client, 1)
    assert target.position > saved["position"]
    edit(data_dir, target, name="Edited afterwards")
    code, out, err = verify(cli, "--digests", file)
    assert code == 1 and f"aggregate {client} version 1 (position {target.position})" in err
    assert f"saved digest of account {books.account_id} at position {saved['position']} matches" in out


def test_only_saved_digests_catch_a_rewrite_that_also_resets_the_follower(
    cli: Cli, books: Books, api: Api, data_dir: Path, tmp_path: Path
) -> None:
    saved = digest_body(api)
    file = saved_digests(tmp_path / "digests.json", saved)
    edit(data_dir, last_version(data_dir, books.invoice_id), reseal=True, method="cash")
    forget_the_follower(data_dir)  # and wipes the follower's record
    assert verify(cli)[0] == 0  # every chain is whole again: nothing left to compare with
    code, out, err = verify(cli, "--digests", file)
    assert code == 1 and "DOES NOT MATCH" in out
    assert err.startswith(f"cleverinvo: ledger broken: account {books.account_id} position {saved['position']}: ")
    assert "the digest saved for this position does not match" in err


def test_a_json_array_of_saved_digests_is_accepted(cli: Cli, books: Books, api: Api, tmp_path: Path) -> None:
    file = tmp_path / "digests.json"
    file.write_text(json.dumps([digest_body(api), digest_body(api)]), encoding="utf-8")
    code, out, err = verify(cli, "--digests", str(file))
    assert code == 0, err
    assert out.count("matches") == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all\n", "line 1 is not JSON"),
        ('{"accountId": "x", "position": 1, "digest": "' + "0" * 64 + '"}\n', "'accountId' is not an account id"),
        ('{"accountId": "00000000-0000-0000-0000-000000000001", "digest": "' + "0" * 64 + '"}\n', "missing 'position'"),
        ('[{"accountId": "00000000-0000-0000-0000-000000000001", "position": "3", "digest": "x"}]', "'position'"),
        ('{"accountId": "00000000-0000-0000-0000-000000000001", "position": 3, "digest": "abc"}', "64 hexadecimal"),
        ("[1, 2]", "item 1: expected a JSON object"),
        ("\n\n", "holds no saved digests"),
    ],
)
def test_a_digests_file_that_is_not_saved_digests_is_refused(
    cli: Cli, books: Books, tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "digests.jsonl"
    file.write_text(content, encoding="utf-8")
    code, out, err = verify(cli, "--digests", str(file))
    assert code == 2 and out == "", (out, err)
    assert err.startswith("cleverinvo: ") and message in err and "Traceback" not in err


def test_a_missing_digests_file_is_refused(cli: Cli, books: Books, tmp_path: Path) -> None:
    code, _, err = verify(cli, "--digests", str(tmp_path / "nowhere.jsonl"))
    assert code == 2 and err.startswith("cleverinvo: cannot read --digests ")


def test_a_seal_that_is_not_an_object_is_named(cli: Cli, books: Books, data_dir: Path) -> None:
    target = row_of(data_dir, books.client_id, 2)
    edit(data_dir, target, **{LEDGER: "sealed"})
    assert f"aggregate {books.client_id} version 2 " in broken(cli)
