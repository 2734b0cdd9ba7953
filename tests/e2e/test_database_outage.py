"""A database outage, for real: a `cleverinvo serve` reaches PostgreSQL through a loopback
proxy (tests/db_proxy.py) that the test cuts and restores while writers and readers run.

During a cut every answer is a success or 503 with Retry-After naming the database (never
a 500, never a wait past the bounds); after the restore writes succeed again without a
restart; every acknowledged write is stored once, and no write is stored twice (each
writer retries a write with its Idempotency-Key until it is acknowledged)."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from gateway.http import codes
from tests import backends
from tests.db_proxy import DbProxy
from tests.e2e.test_idempotency_crash import open_tenant_in
from tests.e2e.test_operations import serving, until

WRITERS = 4
# Each bound small, so a cut costs a request about a second or two (the defaults are 5 s).
BOUNDS = {
    "CLEVERINVO_DATABASE_CONNECT_TIMEOUT": "2",
    "CLEVERINVO_DATABASE_POOL_TIMEOUT": "2",
    "CLEVERINVO_RATE_LIMIT": "100000/minute",  # the writers retry far faster than a client would
    "CLEVERINVO_ADDRESS_RATE_LIMIT": "100000/minute",
}
RETRYABLE = {codes.DATABASE_UNAVAILABLE, codes.UNAVAILABLE}


@dataclass
class Tally:
    acknowledged: list[str] = field(default_factory=list)
    outages: int = 0
    bad: list[str] = field(default_factory=list)  # answers that are neither success nor an outage
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrong(self, what: str) -> None:
        with self.lock:
            self.bad.append(what)


def check_outage(answer: httpx.Response, tally: Tally) -> None:
    body = answer.json()
    if "retry-after" not in answer.headers or body.get("code") not in RETRYABLE:
        tally.wrong(f"{answer.status_code} {answer.headers.get('retry-after')} {answer.text[:200]}")
        return
    if body["code"] == codes.DATABASE_UNAVAILABLE and "database" not in body["error"].lower():
        tally.wrong(f"the message does not name the database: {body['error']}")
    with tally.lock:
        tally.outages += 1


def writer(base: str, headers: dict[str, str], number: int, stop: threading.Event, tally: Tally) -> None:
    """Writes clients one after another, each retried with its key until acknowledged."""
    n = 0
    while not stop.is_set():
        name = f"w{number}-{n}"
        while True:
            try:
                answer = httpx.post(
                    f"{base}/api/v1/clients",
                    json={"name": name},
                    headers={**headers, "Idempotency-Key": name},
                    timeout=60,
                )
            except httpx.HTTPError as exc:
                tally.wrong(f"{name}: {exc!r}")
                return
            # 201, or 503 with Write-Saved: true (saved; the read model only late): acknowledged
            if answer.status_code == 201 or answer.headers.get("write-saved") == "true":
                with tally.lock:
                    tally.acknowledged.append(name)
                break
            if answer.status_code == 503:
                check_outage(answer, tally)
                time.sleep(0.05)  # Retry-After, shortened: the test wants many tries
                continue
            tally.wrong(f"{name}: {answer.status_code} {answer.text[:200]}")
            return
        n += 1


def reader(base: str, headers: dict[str, str], stop: threading.Event, tally: Tally) -> None:
    while not stop.is_set():
        try:
            answer = httpx.get(f"{base}/api/v1/clients?limit=5", headers=headers, timeout=60)
        except httpx.HTTPError as exc:
            tally.wrong(f"read: {exc!r}")
            return
        if answer.status_code == 503:
            check_outage(answer, tally)
        elif answer.status_code != 200:
            tally.wrong(f"read: {answer.status_code} {answer.text[:200]}")
        time.sleep(0.02)


def names(base: str, headers: dict[str, str]) -> list[str]:
    """Every client's name, page by page (numbered pages: nothing is written meanwhile)."""
    found: list[str] = []
    page_number = 1
    while True:
        query = f"limit=100&page={page_number}"
        page = httpx.get(f"{base}/api/v1/clients?{query}", headers=headers, timeout=60).json()
        found += [client["name"] for client in page["data"]]
        if page_number >= page["totalPages"]:
            assert len(found) == page["total"]
            return found
        page_number += 1


def through(proxy: DbProxy, env: dict[str, str]) -> dict[str, str]:
    url = env["CLEVERINVO_DATABASE_URL"].replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    return {"CLEVERINVO_DATABASE_URL": url, **BOUNDS}


def acknowledged_since(tally: Tally, count: int) -> bool:
    with tally.lock:
        return len(tally.acknowledged) > count


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_writes_through_a_database_outage_are_answered_503_then_succeed_once(tmp_path: Path, mode: str) -> None:
    with backends.postgres_env() as pg, DbProxy() as proxy:
        env = through(proxy, pg)
        tenant = open_tenant_in(tmp_path, env)
        with serving(tmp_path, **env) as server:
            base, headers = server.url, tenant.headers
            tally, stop = Tally(), threading.Event()
            threads = [
                threading.Thread(target=writer, args=(base, headers, n, stop, tally)) for n in range(WRITERS)
            ] + [threading.Thread(target=reader, args=(base, headers, stop, tally))]
            for thread in threads:
                thread.start()
            try:
                until(lambda: acknowledged_since(tally, 10), 60, "writes before the cut")
                proxy.cut(mode)
                until(lambda: bool(tally.bad) or tally.outages >= 10, 120, "outage answers during the cut")
                assert not tally.bad, tally.bad[:10]
                during = len(tally.acknowledged)
                proxy.restore()
                # Every writer gets through again, without a restart (a generous deadline).
                until(
                    lambda: bool(tally.bad) or acknowledged_since(tally, during + 2 * WRITERS),
                    60,
                    "writes after the restore",
                )
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=120)
            assert not tally.bad, tally.bad[:10]
            stored = Counter(names(base, headers))
            assert not [name for name, count in stored.items() if count > 1], "a write stored twice"
            missing = [name for name in tally.acknowledged if name not in stored]
            assert not missing, f"acknowledged writes lost: {missing}"
            assert server.process.poll() is None


def test_graphql_answers_a_database_outage_as_unavailable_with_its_reason(tmp_path: Path) -> None:
    """The other door. A cut before the request is the key's lookup's: 503 as REST answers it.
    A connection lost at a mutation's COMMIT, inside GraphQL, is UNAVAILABLE with REST's
    reason (DATABASE_UNAVAILABLE), a retryAfter and words saying the outcome is unknown, never
    INTERNAL; after the restore mutations run again."""
    mutation = 'mutation { createClient(input: {name: "Outage"}) { id name } }'
    with backends.postgres_env() as pg, DbProxy() as proxy:
        env = through(proxy, pg)
        tenant = open_tenant_in(tmp_path, env)
        with serving(tmp_path, **env) as server:

            def ask(document: str) -> httpx.Response:
                return httpx.post(f"{server.url}/graphql", json={"query": document}, headers=tenant.headers, timeout=60)

            assert "errors" not in ask(mutation).json()  # warm: the key is known, connections open
            proxy.cut("refuse")
            refused = ask(mutation)
            assert refused.status_code == 503 and "retry-after" in refused.headers, refused.text[:300]
            assert refused.json()["code"] == codes.DATABASE_UNAVAILABLE, refused.text[:300]
            proxy.restore()
            until(lambda: "errors" not in ask(mutation).json(), 60, "a mutation after the restore")
            proxy.cut_at_commit(b"INSERT", b"cleverinvo_events")
            answer = ask(mutation).json()
            assert proxy.cut_done.is_set()  # its events' COMMIT reached the server, its answer did not
            errors = answer.get("errors")
            assert isinstance(errors, list) and errors, answer
            extensions = errors[0]["extensions"]
            assert extensions["code"] == "UNAVAILABLE" and extensions["reason"] == codes.DATABASE_UNAVAILABLE, errors
            assert isinstance(extensions["retryAfter"], int) and extensions["retryAfter"] > 0, errors
            assert "database" in errors[0]["message"].lower() and "unknown" in errors[0]["message"], errors
            proxy.restore()
            until(lambda: "errors" not in ask(mutation).json(), 60, "a mutation after the second restore")
