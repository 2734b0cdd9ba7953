"""How many SQL statements one ``POST /api/v1/invoices`` and one ``GET /api/v1/invoices/{id}``
cost, counted by SQLite itself on every database file the process opens (issue 26's target:
at most 15 statements and one commit per create).

    .venv/bin/python bench/statements.py                      # this checkout's code
    .venv/bin/python bench/statements.py --code /work/before  # another checkout's
    .venv/bin/python bench/statements.py --verbose --lines 5  # and every statement, in order

The real ASGI app (``gateway.app.create_app`` through Starlette's TestClient, lifespan and
all) on a fresh SQLite data directory. Before anything of the application is imported,
``sqlite3.connect`` is wrapped so that every connection made afterwards (SQLAlchemy's pools,
eventsourcing's, anything else's) gets ``set_trace_callback``: SQLite reports each statement
as it starts running, including the ones a trigger runs (``-- TRIGGER``) and the BEGIN that
Python's sqlite3 issues on its own. A statement run with ``executemany`` counts once per row,
as SQLite runs it.

An account, a key and a client are made through the application first, then one invoice is
created and read to warm every cache and pool; the counted requests are the next create and
a read of the invoice it made. Each count runs from the request's start to its answer (work
done on the request's behalf after it, on another thread, is not in it: the idle line says
how much the process runs by itself, e.g. followers polling the store, over ``--idle``
seconds before the counted requests). Printed per file and kind.
"""

import argparse
import importlib.util
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT", "INSERT", "UPDATE", "DELETE", "TRIGGER", "PRAGMA", "SAVEPOINT")


class Trace:
    """Every statement SQLite starts, on every connection opened after ``install``, while
    ``recording`` is on: (file name, thread name, the statement)."""

    def __init__(self) -> None:
        self.recording = False
        self.seen: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self.last = time.monotonic()

    def install(self) -> None:
        original: Callable[..., sqlite3.Connection] = sqlite3.connect

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection = original(*args, **kwargs)
            database = str(args[0] if args else kwargs.get("database", "?"))
            name = Path(database.removeprefix("file:").split("?")[0]).name or database
            connection.set_trace_callback(lambda statement: self._record(name, statement))
            return connection

        sqlite3.connect = connect  # type: ignore[assignment]
        sqlite3.dbapi2.connect = connect  # type: ignore[assignment]  # what SQLAlchemy's pysqlite calls

    def _record(self, name: str, statement: str) -> None:
        with self.lock:
            self.last = time.monotonic()
            if self.recording:
                self.seen.append((name, threading.current_thread().name, statement))

    def take(self, request: Callable[[], Any]) -> "list[tuple[str, str, str]]":
        """The statements run from ``request``'s start until its answer is back."""
        with self.lock:
            self.seen, self.recording = [], True
        request()
        with self.lock:
            self.recording = False
            return list(self.seen)


def kind(statement: str) -> str:
    words = statement.lstrip().split(None, 1)
    if not words:
        return "OTHER"
    first = words[0].upper()
    if first.startswith("--"):
        return "TRIGGER"
    if first in ("END",):
        return "COMMIT"
    if first == "RELEASE":
        return "SAVEPOINT"
    return first if first in KINDS else "OTHER"


def report(label: str, seen: list[tuple[str, str, str]], verbose: bool) -> None:
    files = sorted({name for name, _, _ in seen})
    counts = {name: Counter(kind(s) for f, _, s in seen if f == name) for name in files}
    kinds = [k for k in (*KINDS, "OTHER") if any(c[k] for c in counts.values())]
    transactions = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"}
    total = sum(sum(c.values()) for c in counts.values())
    work = sum(n for c in counts.values() for k, n in c.items() if k not in transactions)
    commits = sum(c["COMMIT"] for c in counts.values())
    print(f"\n{label}: {total} statements ({work} besides BEGIN/COMMIT/ROLLBACK/SAVEPOINT), {commits} COMMIT")
    print(f"  {'file':<28}" + "".join(f"{k:>10}" for k in kinds) + f"{'total':>8}")
    for name in files:
        row = "".join(f"{counts[name][k]:>10}" for k in kinds)
        print(f"  {name:<28}{row}{sum(counts[name].values()):>8}")
    if verbose:
        for name, thread, statement in seen:
            text = " ".join(statement.split())
            print(f"    {name:<22} {thread:<24} {text[:220]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code runs (default this one)")
    parser.add_argument("--lines", type=int, default=1, help="line items of the counted invoice (default 1)")
    parser.add_argument("--idle", type=float, default=2.0, help="seconds of the idle process counted (default 2)")
    parser.add_argument("--verbose", action="store_true", help="print every statement, with its file and thread")
    options = parser.parse_args()
    code = options.code.resolve()
    sys.path.insert(0, str(code))
    trace = Trace()
    trace.install()  # before the application opens anything

    from starlette.testclient import TestClient

    import gateway
    from gateway.app import create_app
    from gateway.services import Services
    from gateway.settings import Settings

    print(f"code: {Path(gateway.__file__).parents[1]}")
    items = [
        {"description": f"Line {i}", "quantity": 2, "unitPrice": 12.5, "taxRate": 10} for i in range(options.lines)
    ]
    with tempfile.TemporaryDirectory(prefix="cleverinvo-statements-") as folder:
        rate = "100000000/minute"
        env = {"CLEVERINVO_DATA_DIR": folder, "CLEVERINVO_RATE_LIMIT": rate, "CLEVERINVO_ADDRESS_RATE_LIMIT": rate}
        services = Services(Settings.from_env({**os.environ, **env}))
        account = services.execute(lambda: services.app.open_account("Statements Ltd", "business"))
        _, key = services.execute(lambda: services.app.issue_api_key(account, "bench"))
        auth = {"Authorization": f"Bearer {key}"}
        with TestClient(create_app(services.settings, services)) as client:
            made = client.post("/api/v1/clients", json={"name": "Müller GmbH", "email": "b@mueller.test"}, headers=auth)
            body = {"clientId": made.json()["data"]["id"], "lineItems": items, "notes": "bench"}
            idle, ours = trace.take(lambda: time.sleep(options.idle)), counted(trace, client, auth, body)
        services.close()
        os.environ["BENCH_CODE"] = str(code)  # the peer's server settings would come from there
        peer = load_peer()

        (Path(folder) / "peer").mkdir()
        peer.copy_from(Path(folder), Path(folder) / "peer" / "peer.sqlite3")
        with TestClient(peer.make_app(peer.make_engine(Path(folder) / "peer" / "peer.sqlite3"))) as client:
            theirs = counted(trace, client, auth, body)
    lines = f"{options.lines} line{'s' if options.lines > 1 else ''}"
    for who, (created, read) in (("ours", ours), ("the plain peer (bench/peer.py)", theirs)):
        print(f"\n=== {who}")
        report(f"POST /api/v1/invoices ({lines})", created, options.verbose)
        report("GET /api/v1/invoices/{id}", read, options.verbose)
    report(f"ours idle, {options.idle:g} s with no request (not in the counts above)", idle, options.verbose)


Seen = list[tuple[str, str, str]]


def load_peer() -> Any:
    """bench/peer.py of this checkout, by its path (another checkout's ``bench`` may come
    first on the path, without it)."""
    spec = importlib.util.spec_from_file_location("bench_peer", ROOT / "bench" / "peer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counted(trace: Trace, client: Any, auth: dict[str, str], body: dict[str, Any]) -> tuple[Seen, Seen]:
    """One create and one read warm the app; the next create and a read of what it made are
    counted. Raises unless they answer 201 and 200."""
    warm = client.post("/api/v1/invoices", json=body, headers=auth)
    client.get(f"/api/v1/invoices/{warm.json()['data']['id']}", headers=auth)
    answers: list[Any] = []
    created = trace.take(lambda: answers.append(client.post("/api/v1/invoices", json=body, headers=auth)))
    invoice = answers[0].json()["data"]["id"]
    read = trace.take(lambda: answers.append(client.get(f"/api/v1/invoices/{invoice}", headers=auth)))
    statuses = [a.status_code for a in answers]
    if statuses != [201, 200]:
        raise SystemExit(f"the counted requests answered {statuses}, not [201, 200]")
    return created, read


if __name__ == "__main__":
    main()
