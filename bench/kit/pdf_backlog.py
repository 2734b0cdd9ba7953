"""``bench/pdf.py --only backlog``: the API's latency (wrk on ``GET /api/v1/invoices/{id}``)
with no backlog, then while one ``cleverinvo workers`` process renders a seeded backlog,
the worker's throughput, and where the machine's CPU went; ``--worker-alone`` also times
the backlog with no server and no wrk."""

import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from bench.kit import ROOT
from bench.kit.cpu import Cpu, Snapshot
from bench.kit.pdf_seed import BACKLOG_SECONDS, bench_env, drain, pdf_counts, seed
from bench.kit.pdf_wrk import WRK_SCRIPT, Placement, Wrk, parse_wrk, wrk_command
from bench.kit.processes import free_port, started, wait_healthy
from bench.kit.table import spread

WRK_IDS = 300  # invoice ids the wrk script cycles over
SERVER_START_SECONDS = 60.0
STOP_SECONDS = 15.0


def _started(
    command: Sequence[str], env: dict[str, str], log: Path, name: str
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return started(command, env, log, cwd=ROOT, stop_within=STOP_SECONDS, name=name)


@dataclass
class BacklogRun:
    idle: Wrk
    busy: Wrk
    idle_cpu: Cpu
    busy_cpu: Cpu
    drain_seconds: float
    first_pdf_seconds: float
    pdfs: int
    renders_once: bool
    seed_seconds: float
    log_errors: list[str] = field(default_factory=list)

    @property
    def pdfs_per_second(self) -> float:
        return self.pdfs / self.drain_seconds

    @property
    def steady_per_second(self) -> float:
        """After the first PDF, so without the worker's start-up (imports, first subset)."""
        return (self.pdfs - 1) / (self.drain_seconds - self.first_pdf_seconds)

    @property
    def ratio(self) -> float:
        return self.busy.p99_ms / self.idle.p99_ms


def cleverinvo(*arguments: str) -> list[str]:
    """The `cleverinvo` command as the README runs it (the venv's script), else `-m`."""
    script = Path(sys.executable).parent / "cleverinvo"
    if script.exists():
        return [str(script), *arguments]
    return [sys.executable, "-m", "gateway.cli.main", *arguments]


def check_get(base: str, key: str, ids: Sequence[str]) -> None:
    """A few requests by hand before wrk: the key works and the server answers 200."""
    for invoice_id in ids:
        request = urllib.request.Request(
            f"{base}/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status != 200:
                raise RuntimeError(f"GET /api/v1/invoices/{invoice_id} answered {answer.status}")


def log_errors(log: Path) -> list[str]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line or "ERROR:" in line]


def backlog_run(number: int, invoices: int, seconds: int, place: Placement) -> BacklogRun:
    folder = Path(tempfile.mkdtemp(prefix="cleverinvo-backlog-"))
    try:
        data = folder / "data"
        rng = random.Random(20240601)  # every run seeds the same invoices (new ids)
        began = time.monotonic()
        key, ids = seed(data, invoices, rng)
        seed_seconds = time.monotonic() - began
        database = data / "readmodels.sqlite3"
        print(f"  run {number}: seeded {len(ids)} invoices in {seed_seconds:.1f} s; {pdf_counts(database)[1]} PDFs")
        script = folder / "invoices.lua"
        chosen = rng.sample(ids, min(WRK_IDS, len(ids)))
        script.write_text(WRK_SCRIPT % {"ids": ", ".join(f'"{i}"' for i in chosen), "key": key})
        env = bench_env(data)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/api/v1/invoices"
        server_log, worker_log = folder / "serve.log", folder / "workers.log"
        serve = place.server(cleverinvo("serve", "--no-workers", "--host", "127.0.0.1", "--port", str(port)))
        with _started(serve, env, server_log, "serve") as server:
            wait_healthy(f"{base}/healthz", server, SERVER_START_SECONDS, 0.1)
            check_get(base, key, chosen[:20])  # and warms the server up
            before = Snapshot.take(server)
            idle_out = subprocess.run(
                place.wrk(wrk_command(url, script, seconds)),
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=True,
            ).stdout
            idle, idle_cpu = parse_wrk(idle_out), Cpu.between(before, Snapshot.take(server))
            print(f"    idle    {idle.line()}")
            print(f"            {idle_cpu.line()}")
            if pdf_counts(database)[:2] != (0, 0):
                raise RuntimeError("PDFs appeared without a worker")
            before = Snapshot.take(server)
            with _started(place.worker(cleverinvo("workers")), env, worker_log, "workers") as worker:
                # One wrk run, lengthened to cover the whole backlog: SIGINT ends it (and
                # makes it print its report) as soon as the last PDF is stored.
                load = subprocess.Popen(
                    place.wrk(wrk_command(url, script, BACKLOG_SECONDS)),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                try:
                    first, drained = drain(database, len(ids), worker, load)
                finally:
                    if load.poll() is None:
                        load.send_signal(signal.SIGINT)
                    busy_out, _ = load.communicate(timeout=60)
                busy_cpu = Cpu.between(before, Snapshot.take(server, worker))
            busy = parse_wrk(busy_out)
            _, stored, twice = pdf_counts(database)
            print(f"    backlog {busy.line()}")
            print(f"            {busy_cpu.line()}")
        errors = [f"serve: {line}" for line in log_errors(server_log)]
        errors += [f"workers: {line}" for line in log_errors(worker_log)]
        run = BacklogRun(idle, busy, idle_cpu, busy_cpu, drained, first, stored, twice == 0, seed_seconds, errors)
        print(
            f"    worker  {stored} PDFs in {drained:.1f} s = {run.pdfs_per_second:.2f} PDFs/s; first PDF after "
            f"{first:.1f} s, {run.steady_per_second:.2f} PDFs/s after it; {twice} rendered more than once"
        )
        for line in errors[:10]:
            print(f"    log  {line}")
        return run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def worker_alone(invoices: int) -> None:
    """The same backlog rendered with no server and no wrk: the worker's speed on its own."""
    folder = Path(tempfile.mkdtemp(prefix="cleverinvo-alone-"))
    try:
        data = folder / "data"
        _, ids = seed(data, invoices, random.Random(20240601))
        database = data / "readmodels.sqlite3"
        with _started(cleverinvo("workers"), bench_env(data), folder / "workers.log", "workers") as worker:
            first, drained = drain(database, len(ids), worker, None)
        stored = pdf_counts(database)[1]
        print(
            f"worker alone (no server, no wrk): {stored} PDFs in {drained:.1f} s = {stored / drained:.2f} PDFs/s; "
            f"first PDF after {first:.1f} s, {(stored - 1) / (drained - first):.2f} PDFs/s after it"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_backlog(runs: int, invoices: int, seconds: int, alone: bool, place: Placement) -> None:
    if shutil.which("wrk") is None:
        print("backlog: wrk is not installed (Debian package `wrk`); skipped")
        return
    if place.pin and (shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2):
        print("backlog: --pin needs taskset and two usable CPUs; skipped")
        return
    print(
        f"Backlog: {invoices} invoices of 1-20 lines, GET /api/v1/invoices/{{id}} with wrk "
        f"(1 thread, 4 connections, {WRK_IDS} ids); idle {seconds} s, then one run covering the backlog"
        + place.describe(),
        flush=True,
    )
    results = []
    for number in range(1, runs + 1):
        results.append(backlog_run(number, invoices, seconds, place))
    print(f"\n{'over ' + str(len(results)) + ' runs':<28}{'min / median / max':>30}")
    rows: list[tuple[str, list[float], str]] = [
        ("idle p99 (ms)", [r.idle.p99_ms for r in results], ".2f"),
        ("backlog p99 (ms)", [r.busy.p99_ms for r in results], ".2f"),
        ("ratio backlog/idle p99", [r.ratio for r in results], ".2f"),
        ("idle p50 (ms)", [r.idle.p50_ms for r in results], ".2f"),
        ("backlog p50 (ms)", [r.busy.p50_ms for r in results], ".2f"),
        ("idle req/s", [r.idle.rps for r in results], ".1f"),
        ("backlog req/s", [r.busy.rps for r in results], ".1f"),
        ("worker PDFs/s", [r.pdfs_per_second for r in results], ".2f"),
        ("worker PDFs/s after 1st", [r.steady_per_second for r in results], ".2f"),
        ("backlog seconds", [r.drain_seconds for r in results], ".1f"),
        ("idle: server cores", [r.idle_cpu.server for r in results], ".2f"),
        ("idle: other cores", [r.idle_cpu.other for r in results], ".2f"),
        ("backlog: server cores", [r.busy_cpu.server for r in results], ".2f"),
        ("backlog: worker cores", [r.busy_cpu.worker for r in results], ".2f"),
        ("backlog: wrk cores", [r.busy_cpu.wrk for r in results], ".2f"),
        ("backlog: other cores", [r.busy_cpu.other for r in results], ".2f"),
    ]
    for label, values, fmt in rows:
        print(f"{label:<28}{spread(values, fmt):>30}")
    not_200 = sum(r.idle.not_200 + r.busy.not_200 for r in results)
    requests = sum(r.idle.requests + r.busy.requests for r in results)
    socket_errors = [w.socket_errors for r in results for w in (r.idle, r.busy) if w.socket_errors]
    print(f"non-200 responses: {not_200} of {requests}; socket errors: {socket_errors or 'none'}")
    print(
        f"every PDF rendered exactly once: {all(r.renders_once for r in results)}; "
        f"log errors: {sum(len(r.log_errors) for r in results)}"
    )
    target = "met" if statistics.median(r.ratio for r in results) <= 1.5 else "NOT met"
    print(f"target backlog p99 <= 1.5x idle p99 (median run): {target}")
    if alone:
        worker_alone(invoices)
