"""Load on a 100,000-invoice account: every list, detail and search route, writes, a cached
PDF and a GraphQL page, each beside a bare Starlette baseline measured in the same run.

Run by hand (needs wrk, the Debian package):

    .venv/bin/python bench/load.py                    # seed once (cached), then 3 runs
    .venv/bin/python bench/load.py --runs 1 --seconds 5 --only detail --only search-name
    .venv/bin/python bench/load.py --code /path/to/other/checkout   # the same bench on other code
    .venv/bin/python bench/load.py --clients 2000 --invoices 20000 --only detail --only invoices-page \
        --only post-invoice                                          # issue 26's set, ours vs the peer

What it does:

1. Seeds a data directory through the application's own commands (``CleverInvo`` methods
   and the projection, as the CLI and the API call them; never SQL): one business-plan
   account with 10,000 clients and 100,000 invoices of 1-20 lines (numbers assigned by the
   account's sequence, issue dates over two years, a quarter sent, some paid in part or in
   full, a few voided, past-due ones marked overdue by the workers' own sweep), plus 50
   small accounts of a few clients and invoices each. The followers of ``cleverinvo
   workers`` are brought up to date the same way (the ledger index; the PDF queue is
   drained without rendering: the seeded invoices' PDFs render on first download, as after
   an import). The result is cached under ``bench/.data/<seed-name>`` (``--data`` to move
   it) and reused; ``--reseed`` makes it again. Seeding prints its own speed.
2. Copies the cached directory (each bench invocation works on a copy), times
   ``cleverinvo projections rebuild`` on it (events/s), then starts ``cleverinvo serve``
   as the README does (``CLEVERINVO_DATA_DIR``, workers as its child) and the baseline
   (bench/baseline.py: the same uvicorn settings, ``gateway.cli.server.server_config``).
3. Starts the plain peer (``bench/peer.py``: Starlette + SQLAlchemy Core on one SQLite
   file, the same uvicorn settings) on a copy of the run's read model (the same keys,
   clients, invoices and lines), and checks that it answers the same JSON as ours.
4. For each route, wrk (1 thread; 1 and 32 connections, creates at 1, 8 and 32; a Lua
   script that sets the key, cycles through ids or terms and counts statuses) for
   ``--seconds``; the baseline is measured at each connection count in the same run, and
   the peer's routes (detail, invoices-page, post-invoice) right after ours. A create's
   cost counts the ``workers`` process's CPU (the PDF it renders), read once its backlog
   has drained. ``--runs`` repeats steps 2-4.
5. Prints a table: requests/s, p50, p99, the ratio to the baseline's requests/s and the
   server's CPU per request, min / median / max over the runs; then ours against the peer
   (requests/s, CPU per request and their ratios, the load average beside them); the
   server's (and the workers', the peer's) peak RSS; rebuild events/s.

Load only goes to 127.0.0.1. ``--database-url``/``--redis-url``/``--workers`` pass
``CLEVERINVO_DATABASE_URL``, ``CLEVERINVO_REDIS_URL`` and ``serve --workers N`` through
(for PostgreSQL the seed goes into that database; the cache marker is then the big
account's name, not a directory).

The parts are in ``bench/kit``: the data set (``load_seed``), the routes (``load_routes``),
wrk's runs (``load_wrk``), one run (``load_run``) and the peer's part (``load_peer``).
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the helpers, bench.kit; the application's code comes from --code

from bench.kit import load_peer  # noqa: E402
from bench.kit.load_run import RunResult, one_run  # noqa: E402
from bench.kit.load_seed import CLIENTS, INVOICES, SMALL_ACCOUNTS, ensure_seed, seed_child  # noqa: E402
from bench.kit.table import spread  # noqa: E402


def report(results: list[RunResult], options: argparse.Namespace) -> None:
    keys = list(results[0].measures)
    print(f"\n{len(results)} run(s); min / median / max of the runs; ratio = route rps / baseline rps in the same run")
    header = (
        f"{'route':<22}{'conn':>5}  {'req/s':>26}  {'p50 ms':>26}  {'p99 ms':>26}  {'ratio':>20}  {'cpu ms/req':>20}"
    )
    print(header)
    for name, connections in keys:
        ms = [r.measures[(name, connections)] for r in results]
        base = [r.measures[("baseline", connections)] for r in results]
        ratios = [m.rps / b.rps for m, b in zip(ms, base, strict=True)]
        print(
            f"{name:<22}{connections:>5}  {spread([m.rps for m in ms], '8.1f'):>26}  "
            f"{spread([m.p50 for m in ms], '7.2f'):>26}  {spread([m.p99 for m in ms], '7.2f'):>26}  "
            f"{spread(ratios, '.3f'):>20}  {spread([m.cpu_ms for m in ms], '.2f'):>20}"
        )
    if results[0].peer:
        load_peer.report([r.measures for r in results], [r.peer for r in results])
    print(f"rebuild events/s           {spread([r.rebuild_events_per_s for r in results], '.0f')}")
    print(f"rebuild events/CPU second  {spread([r.rebuild_events_per_cpu_s for r in results], '.0f')}")
    print(f"server peak RSS (MB)       {spread([r.rss_mb for r in results], '.0f')}")
    print(f"workers peak RSS (MB)      {spread([r.workers_rss_mb for r in results], '.0f')}")
    if results[0].peer:
        print(f"peer peak RSS (MB)         {spread([r.peer_rss_mb for r in results], '.0f')}")
    for n, r in enumerate(results, 1):
        print(f"run {n}: 1-minute load average {r.loads[0]:.1f}-{r.loads[1]:.1f} over its measures")
    print(f"bad answers: {sum(r.bad for r in results)}; server log errors: {sum(len(r.log_errors) for r in results)}")
    for line in [line for r in results for line in r.log_errors][:5]:
        try:
            entry = json.loads(line)
            print("  ", entry.get("message"), "|", str(entry.get("exception", "")).strip().splitlines()[-1][:300])
        except (ValueError, IndexError):
            print("  ", line[:300])


def describe_machine(options: argparse.Namespace) -> None:
    commit = subprocess.run(
        ["git", "-C", str(options.code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(options.code), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"{datetime.now():%Y-%m-%d %H:%M}  {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)  load "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}  Python {platform.python_version()}  code {options.code} "
        f"at {commit}{' (with uncommitted changes)' if dirty else ''}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8, help="each wrk measurement (default 8)")
    parser.add_argument("--connections", type=int, action="append", help="repeatable; default 1 and 32")
    parser.add_argument(
        "--post-connections", type=int, action="append", help="for the creates (repeatable); default 1, 8 and 32"
    )
    parser.add_argument("--no-peer", action="store_true", help="do not run bench/peer.py beside ours")
    parser.add_argument("--only", action="append", help="a route name (repeatable); the baseline always runs")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data", help="where seeds are cached")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="seed (or find the cached seed) and stop")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code serves (default this one)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--invoices", type=int, default=INVOICES, help=f"the big account's (default {INVOICES})")
    parser.add_argument("--small", type=int, default=SMALL_ACCOUNTS, help="small accounts beside the big one")
    parser.add_argument("--database-url", help="CLEVERINVO_DATABASE_URL for seed and serve (PostgreSQL)")
    parser.add_argument("--redis-url", help="CLEVERINVO_REDIS_URL for serve")
    parser.add_argument("--workers", type=int, help="serve --workers N (API processes)")
    parser.add_argument(
        "--in-place", type=Path, metavar="DIR", help="use this data directory as it is (no copy; runs add to it)"
    )
    parser.add_argument("--skip-rebuild", action="store_true", help="do not time a rebuild (server stack trials)")
    parser.add_argument("--seed-child", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    options.code = options.code.resolve()
    options.connections = options.connections or [1, 32]
    options.post_connections = options.post_connections or [1, 8, 32]
    if options.seed_child:
        seed_child(options.seed_child, options)
        return
    if shutil.which("wrk") is None and not options.seed_only:
        raise SystemExit("wrk is not installed (Debian package `wrk`)")
    describe_machine(options)
    cached, info = ensure_seed(options)
    print(f"seed: {cached} ({info['when']}, made with {info['made_with']}): {info['stats']}", flush=True)
    if options.seed_only:
        return
    results = [one_run(n, cached, info, options) for n in range(1, options.runs + 1)]
    report(results, options)


if __name__ == "__main__":
    main()
