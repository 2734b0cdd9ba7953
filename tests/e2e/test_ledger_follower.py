"""The ledger follower: every event's hash and its account's digest, recorded once each
position, by racing threads and processes alike; GET /ledger/digest and the feed it serves."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest

from database.engines import make_engine
from domain.application import CleverInvo
from followers.runner import LedgerFollowing
from gateway.services import Services
from gateway.settings import Settings
from projections.ledger_index import LedgerIndex
from tests.conftest import ISO_TIMESTAMP, Api, Tenant, assert_error
from tests.ledger_support import digest_body, expected_entries, recorded_entries, write_books, write_unsealed

ROOT = Path(__file__).resolve().parents[2]


def _clients(services: Services, account: UUID, count: int, name: str = "Client") -> None:
    for number in range(count):
        services.app.create_client(account, {"name": f"{name} {number}"})


def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- what it records ------------------------------------------------------------------------


def test_every_event_is_recorded_with_its_hash_and_its_accounts_running_digest(
    services: Services, api: Api, open_tenant: Callable[..., Tenant]
) -> None:
    write_books(api)
    other = open_tenant(name="Other")
    _clients(services, other.account_id, 3)
    assert services.ledger.catch_up() == services.app.recorder.max_notification_id()
    assert recorded_entries(services) == expected_entries(services)
    assert api.tenant is not None
    assert {entry[1] for entry in recorded_entries(services)} == {str(api.tenant.account_id), str(other.account_id)}


def test_catching_up_again_records_only_what_is_new(services: Services, tenant: Tenant) -> None:
    reached = services.ledger.catch_up()
    before = recorded_entries(services)
    assert services.ledger.catch_up() == reached
    _clients(services, tenant.account_id, 2)
    assert services.ledger.catch_up() == services.app.recorder.max_notification_id() > reached
    after = recorded_entries(services)
    assert after[: len(before)] == before and after == expected_entries(services)


def test_a_rebuild_of_the_read_models_keeps_the_ledger(services: Services, tenant: Tenant, cli) -> None:
    _clients(services, tenant.account_id, 3)
    services.ledger.catch_up()
    before, position = recorded_entries(services), services.ledger.position()
    code, lines, err = cli("projections", "rebuild")
    assert code == 0, err
    assert recorded_entries(services) == before and services.ledger.position() == position
    assert services.ledger.digest(str(tenant.account_id)) is not None


@pytest.mark.sqlite_only("stores unsealed events in the stored events through the sqlite3 module")
def test_events_stored_before_sealing_are_recorded_under_their_aggregates_account(
    services: Services, settings: Settings
) -> None:
    account, client = write_unsealed(settings)
    services.execute(lambda: services.app.update_client(account, client, {"name": "Renamed"}))  # sealed, chained
    services.ledger.catch_up()
    recorded = recorded_entries(services)
    assert recorded == expected_entries(services)
    assert {entry[1] for entry in recorded} == {str(account)}


# --- races ---------------------------------------------------------------------------------


def test_followers_racing_in_threads_record_every_event_exactly_once(
    services: Services, settings: Settings, open_tenant: Callable[..., Tenant]
) -> None:
    tenants = [open_tenant(name=f"Seller {n}") for n in range(3)]
    apps = [CleverInvo(settings.event_store_env()) for _ in range(4)]
    followers = [
        LedgerIndex(make_engine(settings.database_url, writer=True), make_engine(settings.database_url), app, batch=3)
        for app in apps
    ]
    stop, failures = threading.Event(), []

    def follow(follower: LedgerIndex) -> None:
        try:
            while not stop.is_set():
                follower.catch_up()
            follower.catch_up()
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    threads = [threading.Thread(target=follow, args=(follower,)) for follower in followers]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(15):
            for tenant in tenants:
                _clients(services, tenant.account_id, 1, name=f"Round {round_}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        for app in apps:
            app.close()
    assert not failures, failures
    assert services.ledger.catch_up() == services.app.recorder.max_notification_id()
    assert recorded_entries(services) == expected_entries(services)


FOLLOWER_PROCESS = """
import sys, pathlib
from domain.application import CleverInvo
from gateway.settings import Settings
from database.engines import make_engine
from projections.ledger_index import LedgerIndex
settings = Settings.from_env({"CLEVERINVO_DATA_DIR": sys.argv[1]})
app = CleverInvo(settings.event_store_env())
url = settings.database_url
ledger = LedgerIndex(make_engine(url, writer=True), make_engine(url), app, batch=2)
stop = pathlib.Path(sys.argv[2])
while not stop.exists():
    ledger.catch_up()
ledger.catch_up()
app.close()
"""


@pytest.mark.sqlite_only("its follower processes open the data directory's SQLite stores")
def test_followers_racing_in_processes_record_every_event_exactly_once(
    services: Services, data_dir: Path, tmp_path: Path, open_tenant: Callable[..., Tenant]
) -> None:
    tenants = [open_tenant(name=f"Seller {n}") for n in range(2)]
    stop = tmp_path / "stop"
    command = [sys.executable, "-c", FOLLOWER_PROCESS, str(data_dir), str(stop)]
    processes = [subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE) for _ in range(3)]
    try:
        for round_ in range(20):
            for tenant in tenants:
                _clients(services, tenant.account_id, 1, name=f"Round {round_}")
    finally:
        stop.touch()
        outcomes = [(process.wait(60), process.stderr.read() if process.stderr else b"") for process in processes]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert services.ledger.position() == services.app.recorder.max_notification_id()
    assert recorded_entries(services) == expected_entries(services)


def test_the_workers_keep_the_ledger_up_with_the_store(services: Services, data_dir: Path, tenant: Tenant) -> None:
    following = LedgerFollowing(services.ledger)
    assert following.run_once() == services.app.recorder.max_notification_id()
    assert following.run_once() == 0
    _clients(services, tenant.account_id, 2)
    environment = {**os.environ, "CLEVERINVO_DATA_DIR": str(data_dir)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "workers"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        latest = services.app.recorder.max_notification_id()
        _until(lambda: services.ledger.position() == latest, 60, "the workers' ledger follower")
    finally:
        worker.terminate()
        assert worker.wait(10) == 0
    assert recorded_entries(services) == expected_entries(services)


# --- GET /ledger/digest ----------------------------------------------------------------------


def test_the_digest_is_the_accounts_latest_and_moves_with_every_write(
    services: Services, api: Api, open_tenant: Callable[..., Tenant]
) -> None:
    write_books(api)
    body = digest_body(api)
    assert set(body) == {"accountId", "position", "digest", "at"}
    assert api.tenant is not None and body["accountId"] == str(api.tenant.account_id)
    mine = [entry for entry in expected_entries(services) if entry[1] == body["accountId"]]
    assert (body["position"], body["digest"]) == (mine[-1][0], mine[-1][5])
    assert ISO_TIMESTAMP.fullmatch(body["at"]), body
    latest = services.ledger.digest(body["accountId"])
    assert latest is not None and latest.at.tzinfo is not None
    assert body["at"] == latest.at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{latest.at.microsecond // 1000:03d}Z"

    other = open_tenant(name="Other")  # another account's writes leave this digest alone
    _clients(services, other.account_id, 2)
    assert digest_body(api) == body

    api.create_client(name="Initech")
    after = digest_body(api)
    assert after["position"] > body["position"] and after["digest"] != body["digest"]


def test_each_key_sees_its_own_accounts_digest(api: Api, open_tenant: Callable[..., Tenant]) -> None:
    other = Api(api.http, open_tenant(name="Other"))
    mine, theirs = digest_body(api), digest_body(other)
    assert mine["accountId"] != theirs["accountId"] and mine["digest"] != theirs["digest"]


def test_the_digest_needs_a_key_and_only_answers_get(anonymous: Api, api: Api) -> None:
    assert_error(anonymous.get("/api/v1/ledger/digest"), 401)
    assert_error(api.request("POST", "/api/v1/ledger/digest"), 405)


# --- the feed ----------------------------------------------------------------------------------


def test_the_feed_lists_the_accounts_positions_in_commit_order_a_page_at_a_time(
    services: Services, tenant: Tenant, open_tenant: Callable[..., Tenant]
) -> None:
    other = open_tenant(name="Other")
    for _ in range(4):
        _clients(services, tenant.account_id, 2)
        _clients(services, other.account_id, 1)
    services.ledger.catch_up()
    account = str(tenant.account_id)
    mine = [entry[0] for entry in expected_entries(services) if entry[1] == account]
    assert services.ledger.feed(account, 0, 1000) == mine
    paged, after = [], 0
    while page := services.ledger.feed(account, after, 3):
        assert len(page) <= 3
        paged, after = paged + page, page[-1]
    assert paged == mine
    assert not set(services.ledger.feed(str(other.account_id), 0, 1000)) & set(mine)


def test_the_feed_holds_only_what_the_follower_has_recorded(services: Services, tenant: Tenant) -> None:
    account = str(tenant.account_id)
    services.ledger.catch_up()
    before = services.ledger.feed(account, 0, 1000)
    _clients(services, tenant.account_id, 2)  # stored, not yet followed
    assert services.ledger.feed(account, 0, 1000) == before
    services.ledger.catch_up()
    after = services.ledger.feed(account, 0, 1000)
    assert after[: len(before)] == before and len(after) == len(before) + 4  # a quota slot and a client each
