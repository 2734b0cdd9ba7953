"""One run of the load benchmark: a copy of the cached data set, a timed rebuild of its read
model, ``cleverinvo serve``, the bare baseline and the plain peer (``bench/peer.py``, on a
copy of the same read model) started side by side, and every chosen route measured with wrk
at each connection count (creates at ``--post-connections``), the peer's routes on the peer
right after ours."""

import argparse
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.kit import ROOT, load_peer
from bench.kit.cpu import settle
from bench.kit.load_routes import Route, check, routes
from bench.kit.load_wrk import Measure, run_wrk
from bench.kit.processes import free_port, server_pids, started, status_kb, wait_healthy

RATE = "100000000/minute"
START_SECONDS = 900.0  # a start that rebuilds the read model of 100k invoices may take a while
STOP_SECONDS = 20.0


def code_env(code: Path, data: Path, options: argparse.Namespace) -> dict[str, str]:
    """serve's environment: the code under test first on the path, the data directory,
    rate limits wrk never reaches, and the scale-out settings when given."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")])),
        "CLEVERINVO_DATA_DIR": str(data),
        "CLEVERINVO_RATE_LIMIT": RATE,
        "CLEVERINVO_ADDRESS_RATE_LIMIT": RATE,
        "CLEVERINVO_SHARE_RATE_LIMIT": RATE,
        "PYTHONUNBUFFERED": "1",
        "BENCH_CODE": str(code),
    }
    if options.database_url:
        env["CLEVERINVO_DATABASE_URL"] = options.database_url
    if options.redis_url:
        env["CLEVERINVO_REDIS_URL"] = options.redis_url
    return env


def cleverinvo(*arguments: str) -> list[str]:
    """`cleverinvo` as the README runs it; the code under test comes first on PYTHONPATH."""
    return [sys.executable, "-m", "gateway.cli.main", *arguments]


def _started(command: Sequence[str], env: dict[str, str], log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    # `python -m` puts the working directory first on the path: the code under test
    return started(command, env, log, cwd=env["BENCH_CODE"], stop_within=STOP_SECONDS)


@dataclass
class RunResult:
    measures: dict[tuple[str, int], Measure]
    rebuild_events_per_s: float
    rebuild_seconds: float
    rebuild_events_per_cpu_s: float
    rss_mb: float
    workers_rss_mb: float
    bad: int
    log_errors: list[str]
    peer: dict[tuple[str, int], Measure]  # the peer's measures of the same routes (empty: no peer)
    peer_rss_mb: float = 0.0
    loads: tuple[float, float] = (0.0, 0.0)  # the 1-minute load average, lowest and highest at a measure


def pdf_backlog(data: Path) -> tuple[int, int]:
    """The items the PDF follower has queued and not finished, in whichever SQLite file of
    ``data`` holds ``work_queue`` ((0, 0) when none does, or on PostgreSQL): those due now,
    and those left for when the worker is idle (``not_before`` in the year 9999)."""
    for path in sorted(data.glob("*.sqlite3")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'work_queue'").fetchone():
                due, idle = conn.execute(
                    "SELECT count(*) - count(CASE WHEN not_before >= '9999' THEN 1 END), "
                    "count(CASE WHEN not_before >= '9999' THEN 1 END) FROM work_queue WHERE follower = 'pdf'"
                ).fetchone()
                return int(due), int(idle)
        finally:
            conn.close()
    return 0, 0


def drain(workers: list[int], data: Path, most_seconds: float = 900.0, idle_seconds: float = 120.0) -> None:
    """Waits until the PDF queue is empty and the workers idle (they run niced: on a busy
    machine they may get almost no CPU while requests come, and catch up after). Renders
    left for the worker's idle moments are waited for ``idle_seconds`` at most once nothing
    else is due."""
    began = time.monotonic()
    nothing_due: float | None = None
    while time.monotonic() - began < most_seconds:
        due, idle = pdf_backlog(data)
        if due == 0:
            settle(workers)
            due, idle = pdf_backlog(data)
            if due == 0 and idle == 0:
                return
            nothing_due = nothing_due or time.monotonic()
            if due == 0 and time.monotonic() - nothing_due > idle_seconds:
                print(f"  {idle} PDF(s) still queued for the workers' idle moments: not waited for", flush=True)
                return
        time.sleep(0.5)
    print(f"  the PDF backlog did not drain within {most_seconds:.0f} s", flush=True)


def counts_for(route: Route, options: argparse.Namespace) -> list[int]:
    """The connection counts a route is measured at: creates at ``--post-connections``,
    the rest at ``--connections``; the baseline at every count either names."""
    if route.baseline:
        return sorted({*options.connections, *options.post_connections})
    chosen: list[int] = options.post_connections if route.writes else options.connections
    return chosen


def one_run(number: int, cached: Path, info: dict[str, Any], options: argparse.Namespace) -> RunResult:
    folder = Path(tempfile.mkdtemp(prefix="cleverinvo-load-"))
    try:
        data = folder / "data"
        if options.in_place:
            data = options.in_place
        elif options.database_url:
            data.mkdir()
        else:
            shutil.copytree(cached, data)
        env = code_env(options.code, data, options)
        # a start on a read model of an older schema rebuilds it: done first, not timed
        subprocess.run(cleverinvo("accounts", "list"), cwd=options.code, env=env, capture_output=True, check=True)
        began = time.monotonic()
        rebuild = cleverinvo("projections", "rebuild") if not options.skip_rebuild else cleverinvo("accounts", "list")
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(rebuild, cwd=options.code, env=env, capture_output=True, text=True)
        rebuild_seconds = time.monotonic() - began
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rebuild_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        if done.returncode != 0:
            raise RuntimeError(f"rebuild failed: {done.stderr[-2000:]}")
        reached = re.search(r"through event (\d+)", done.stdout)
        events = int(reached.group(1)) if reached else 1
        # the command's own start-up (imports, opening the store) is in the time: as a user sees it
        print(
            f"  run {number}: rebuild of {events} events in {rebuild_seconds:.1f} s = "
            f"{events / rebuild_seconds:.0f} events/s ({rebuild_cpu:.1f} CPU s: "
            f"{events / rebuild_cpu:.0f} per CPU second)",
            flush=True,
        )
        port, base_port, peer_port = free_port(), free_port(), free_port()
        base, baseline_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{base_port}"
        peer_base = f"http://127.0.0.1:{peer_port}"
        with_peer = not options.database_url and not options.no_peer
        peer_db = folder / "peer.sqlite3"
        if with_peer:
            print(f"  run {number}: {load_peer.copy_data(data, peer_db, env)}", flush=True)
        serve = cleverinvo("serve", "--host", "127.0.0.1", "--port", str(port))
        if options.workers:
            serve += ["--workers", str(options.workers)]
        measures: dict[tuple[str, int], Measure] = {}
        peer_measures: dict[tuple[str, int], Measure] = {}
        chosen = [r for r in routes(info) if r.baseline or not options.only or r.name in options.only]
        baseline_cmd = [sys.executable, str(ROOT / "bench" / "baseline.py"), "--port", str(base_port)]
        peer_cmd = load_peer.command(peer_db, peer_port) if with_peer else ["true"]
        with (
            _started(serve, env, folder / "serve.log") as server,
            _started(baseline_cmd, env, folder / "baseline.log") as baseline,
            _started(peer_cmd, env, folder / "peer.log") as peer,
        ):
            wait_healthy(f"{base}/healthz", server, START_SECONDS, 0.2)
            wait_healthy(f"{baseline_base}/baseline", baseline, START_SECONDS, 0.2)
            if with_peer:
                wait_healthy(f"{peer_base}/healthz", peer, START_SECONDS, 0.2)
                differ = load_peer.same_answers(base, peer_base, info["key"], [r for r in chosen if r.peer])
                print(f"  run {number}: the peer's JSON differs from ours on: {differ or 'nothing'}", flush=True)
            api, workers = server_pids(server)
            for route in chosen:
                if not route.baseline:
                    check(base, info["key"], route)  # the key works, the route answers; warms it up
                    if with_peer and route.peer:
                        check(peer_base, info["key"], route)
            for connections in sorted({n for r in chosen for n in counts_for(r, options)}):
                for route in [r for r in chosen if connections in counts_for(r, options)]:
                    target, pids = (baseline_base, [baseline.pid]) if route.baseline else (base, api)
                    settle(api + workers)
                    extra = workers if route.writes and not route.baseline else []
                    m = run_wrk(
                        target,
                        route,
                        info["key"],
                        connections,
                        options.seconds,
                        folder,
                        pids,
                        extra,
                        lambda: drain(workers, data),
                    )
                    measures[(route.name, connections)] = m
                    flag = f"  {m.bad} BAD" if m.bad else ""
                    print(f"    c{connections:<3}{route.name:<22}{m.line()}{flag}", flush=True)
                    if with_peer and route.peer:
                        settle([peer.pid])
                        m = run_wrk(peer_base, route, info["key"], connections, options.seconds, folder, [peer.pid])
                        peer_measures[(route.name, connections)] = m
                        flag = f"  {m.bad} BAD" if m.bad else ""
                        print(f"    c{connections:<3}{'  peer ' + route.name:<22}{m.line()}{flag}", flush=True)
            api, workers = server_pids(server)
            rss = sum(status_kb(pid, "VmHWM") for pid in api) / 1024
            workers_rss = sum(status_kb(pid, "VmHWM") for pid in workers) / 1024
            peer_rss = status_kb(peer.pid, "VmHWM") / 1024 if with_peer else 0.0
        text = (folder / "serve.log").read_text(errors="replace")
        errors = [line for line in text.splitlines() if '"level": "ERROR"' in line or "Traceback" in line]
        bad = sum(m.bad for m in (*measures.values(), *peer_measures.values()))
        loads = [m.load for m in (*measures.values(), *peer_measures.values())]
        return RunResult(
            measures,
            events / rebuild_seconds,
            rebuild_seconds,
            events / rebuild_cpu,
            rss,
            workers_rss,
            bad,
            errors,
            peer_measures,
            peer_rss,
            (min(loads), max(loads)),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
