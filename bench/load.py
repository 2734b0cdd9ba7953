"""Load on a 100,000-invoice account: every list, detail and search route, writes, a cached
PDF and a GraphQL page, each beside a bare Starlette baseline measured in the same run.

Run by hand (needs wrk, the Debian package):

    .venv/bin/python bench/load.py                    # seed once (cached), then 3 runs
    .venv/bin/python bench/load.py --runs 1 --seconds 5 --only detail --only search-name
    .venv/bin/python bench/load.py --code /path/to/other/checkout   # the same bench on other code

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
   (bench/baseline.py: the same uvicorn settings, ``gateway.cli.main.server_config``).
3. For each route, wrk (1 thread; 1 and 32 connections; a Lua script that sets the key,
   cycles through ids or terms and counts statuses) for ``--seconds``; the baseline is
   measured at each connection count in the same run. ``--runs`` repeats steps 2-3.
4. Prints a table: requests/s, p50, p99, the ratio to the baseline's requests/s and the
   server's CPU per request, min / median / max over the runs; the server's (and the
   workers') peak RSS; rebuild events/s.

Load only goes to 127.0.0.1. ``--database-url``/``--redis-url``/``--workers`` pass
``CLEVERINVO_DATABASE_URL``, ``CLEVERINVO_REDIS_URL`` and ``serve --workers N`` through
(for PostgreSQL the seed goes into that database; the cache marker is then the big
account's name, not a directory).
"""

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED_VERSION = 1  # raise when the seeded data set changes
BIG_ACCOUNT = "Bench Big Account"
CLIENTS = 10_000
INVOICES = 100_000
SMALL_ACCOUNTS = 50
RATE = "100000000/minute"
START_SECONDS = 900.0  # a start that rebuilds the read model of 100k invoices may take a while
STOP_SECONDS = 20.0

# --- the data set -------------------------------------------------------------------------

NAME_STEMS = (
    "Müller",
    "Straße Bau",
    "Ærøskøbing Fisk",
    "São Paulo Comércio",
    "Łódź Tekstil",
    "Acme",
    "Björk Design",
    "Çelik Yapı",
    "Dvořák Hudba",
    "Nguyễn Trading",
    "O'Brien & Sons",
    "Zürich Consulting",
    "Kraków Soft",
    "Ångström Labs",
    "Δέλτα Logistics",
    "Новик Групп",
    "Señor Café",
    "Ĳssel Water",
    "Hôtel Crème",
    "Þór Energy",
)
NAME_KINDS = ("GmbH", "Ltd", "SA", "& Co", "Consulting", "Holdings", "Partners", "AG", "Inc", "BV")
WORDS = (
    "Web development sprint",
    "Backend API integration",
    "UX review and wireframes",
    "Database migration",
    "On-call support",
    "Security audit",
    "Content writing",
    "Hosting (monthly)",
    "Training workshop",
    "Performance tuning",
    "Mobile app release",
    "Consulting hours",
)


def client_name(i: int) -> str:
    return f"{NAME_STEMS[i % len(NAME_STEMS)]} {NAME_KINDS[(i // len(NAME_STEMS)) % len(NAME_KINDS)]} {i}"


def client_email(i: int) -> str:
    return f"billing{i}@client{i % 997}.test"


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum()) or "x"


@dataclass
class SeedStats:
    commands: int = 0
    invoices: int = 0
    clients: int = 0
    seconds_commands: float = 0.0
    seconds_projection: float = 0.0
    seconds_followers: float = 0.0

    def line(self) -> str:
        return (
            f"seeded {self.clients} clients and {self.invoices} invoices with {self.commands} commands in "
            f"{self.seconds_commands:.0f} s ({self.commands / self.seconds_commands:.0f} commands/s, "
            f"{self.invoices / self.seconds_commands:.0f} invoices/s counting every command); projection "
            f"{self.seconds_projection:.0f} s, followers {self.seconds_followers:.0f} s"
        )


def seed(env: dict[str, str], rng: random.Random, clients: int, invoices: int, small: int) -> dict[str, Any]:
    """Runs in the seeding child (on the code under test): the whole data set through
    the application's commands. Returns what the load needs: keys, ids, terms."""
    from domain.actors import acting_as, command_line
    from domain.invoice import InvoiceDraft, Sending
    from domain.money import LineItemDraft
    from gateway.services import Services
    from gateway.settings import Settings

    stats = SeedStats()
    services = Services(Settings.from_env(env))
    app = services.app
    today = datetime.now().date()
    progress_every = 5_000

    def lines(n: int) -> list[LineItemDraft]:
        return [
            LineItemDraft(
                f"{rng.choice(WORDS)} #{n}.{line + 1}",
                Decimal(rng.randint(1, 80)),
                Decimal(rng.randint(1_000, 50_000)) / 100,
                Decimal(rng.choice((0, 7, 10, 19, 21))),
            )
            for line in range(rng.randint(1, 20))
        ]

    def catch_up() -> None:
        began = time.monotonic()
        services.projector.catch_up()
        stats.seconds_projection += time.monotonic() - began

    def fill(account: Any, n_clients: int, n_invoices: int, label: str) -> tuple[list[Any], list[Any]]:
        made_clients = []
        began = time.monotonic()
        for i in range(n_clients):
            made_clients.append(
                app.create_client(
                    account, {"name": client_name(i), "email": client_email(i), "address": f"{i} Main St"}
                )
            )
            stats.commands += 1
            stats.clients += 1
        stats.seconds_commands += time.monotonic() - began
        catch_up()
        made = []
        began = time.monotonic()
        mark = began
        for n in range(n_invoices):
            issued = today - timedelta(days=rng.randint(0, 730))
            draft = InvoiceDraft(
                client_id=rng.choice(made_clients),
                line_items=lines(n),
                issue_date=issued,
                due_date=issued + timedelta(days=30),
                notes="Thank you for your business",
                terms="Net 30",
            )
            invoice_id = app.create_invoice(account, draft)
            made.append(invoice_id)
            stats.commands += 1
            stats.invoices += 1
            fate = rng.random()
            if fate < 0.25:
                app.send_invoice(account, invoice_id, Sending())
                stats.commands += 1
                if fate < 0.10:
                    total = app.get_invoice(account, invoice_id).total
                    app.record_payment(account, invoice_id, total, issued + timedelta(days=10), "bank transfer")
                    stats.commands += 1
                elif fate < 0.15:
                    total = app.get_invoice(account, invoice_id).total
                    app.record_payment(account, invoice_id, (total / 2).quantize(total), issued, "card")
                    stats.commands += 1
                elif fate < 0.16:
                    app.void_invoice(account, invoice_id, "Billed twice")
                    stats.commands += 1
            if (n + 1) % progress_every == 0:
                now = time.monotonic()
                print(
                    f"  {label}: {n + 1} invoices, {progress_every / (now - mark):.0f} invoices/s lately",
                    file=sys.stderr,
                    flush=True,
                )
                mark = now
                stats.seconds_commands += now - began
                catch_up()
                began = time.monotonic()
        stats.seconds_commands += time.monotonic() - began
        catch_up()
        return made_clients, made

    with acting_as(command_line("bench seed")):
        big = app.open_account(BIG_ACCOUNT, "business", "en", {"address": "1 Bench Road", "email": "ar@bench.test"})
        _, key = app.issue_api_key(big, "bench")
        big_clients, big_invoices = fill(big, clients, invoices, "big account")
        small_keys = []
        for s in range(small):
            account = app.open_account(f"Small account {s}", "pro" if s % 2 else "free", "en" if s % 3 else "es")
            small_keys.append(app.issue_api_key(account, "bench")[1])
            fill(account, 3 + s % 3, 10 + s % 11, f"small {s}")
        catch_up()
        began = time.monotonic()
        services.overdue_sweep().sweep()  # what the workers would do first: mark the past-due ones
        ledger_began = time.monotonic()
        stats.seconds_commands += ledger_began - began
        services.ledger.catch_up()
        worker = services.pdf_worker()
        worker.follow()  # queues every seeded invoice ...
        while items := worker.queue.lease("bench-seed", 1000, 600):
            for item in items:  # ... and drains it unrendered: they render on first download
                worker.queue.finish("bench-seed", item)
        services.email_worker().follow()
        stats.seconds_followers += time.monotonic() - ledger_began
    sample_clients = rng.sample(big_clients, 300)
    sample_invoices = rng.sample(big_invoices, 300)
    picked = rng.sample(range(clients), 40)
    numbers = [services.read.invoice(str(big), str(i)).invoice_number for i in sample_invoices[:40]]  # type: ignore[union-attr]
    services.close()
    print(stats.line(), file=sys.stderr, flush=True)
    return {
        "seed_version": SEED_VERSION,
        "account": str(big),
        "key": key,
        "small_keys": small_keys,
        "clients": [str(c) for c in sample_clients],
        "invoices": [str(i) for i in sample_invoices],
        # Search terms as people type them: part of a name (in another case), of a number, of an email.
        "terms_name": [client_name(i).split(" ")[0].upper()[:6] + " " for i in picked[:10]]
        + [f"{client_name(i).rsplit(' ', 1)[0].lower()} {i}" for i in picked[10:40]],
        "terms_number": [n.lower()[:-1] for n in numbers[:10]] + numbers[10:40],
        "terms_email": [f"billing{i}@" for i in picked[:30]] + [f"@client{i % 997}." for i in picked[30:40]],
        "stats": vars(stats),
        "made_with": os.environ.get("BENCH_CODE", str(ROOT)),
        "when": datetime.now().isoformat(timespec="seconds"),
    }


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def started(command: Sequence[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:  # a file, never a pipe nobody reads
        cwd = env["BENCH_CODE"]  # `python -m` puts the working directory first on the path: the code under test
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield process
    finally:
        stop(process)


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {START_SECONDS:.0f} s")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            after = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(after[11]) + int(after[12])) / CLOCK_TICKS
    return total


def settle(pids: Sequence[int], most_seconds: float = 180.0) -> float:
    """Waits until the server is idle (under 5% of a core for half a second): wrk leaves
    requests in flight when it stops, and a slow route's queue would be measured as the
    next route's. Returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < most_seconds:
        before = cpu_seconds(pids)
        time.sleep(0.5)
        if cpu_seconds(pids) - before < 0.025:
            break
    return time.monotonic() - began


def server_pids(serve: subprocess.Popen[bytes]) -> tuple[list[int], list[int]]:
    """(API processes, worker processes): serve itself, or its uvicorn workers when it has
    some; `cleverinvo workers` is told by its command line."""
    api, workers = [serve.pid], []
    for child in children(serve.pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"workers" in command and b"--parent-pid" in command:
            workers.append(child)
        else:
            api.append(child)
            workers += [
                grandchild
                for grandchild in children(child)
                if b"--parent-pid" in Path(f"/proc/{grandchild}/cmdline").read_bytes()
            ]
    return api, workers


# --- wrk -------------------------------------------------------------------------------------

LUA = """-- written by bench/load.py
local paths = {%(paths)s}
local bodies = {%(bodies)s}
local method = "%(method)s"
local headers = {["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
end

function request()
  counter = counter + 1
  local body = nil
  if #bodies > 0 then body = bodies[counter %% #bodies + 1] end
  return wrk.format(method, paths[counter %% #paths + 1], headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %%d %%d\\n", code, count))
    end
  end
end
"""


def lua_list(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)  # JSON strings are Lua strings here (ASCII escapes)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    paths: list[str]
    bodies: list[str] = field(default_factory=list)
    ok: int = 200
    baseline: bool = False


@dataclass(frozen=True)
class Measure:
    rps: float
    p50: float
    p99: float
    cpu_ms: float  # API process CPU per request
    requests: int
    bad: int  # answers other than the route's success status, and socket errors

    def cell(self) -> str:
        return f"{self.rps:8.1f} {self.p50:7.2f} {self.p99:7.2f}"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str, ok: int) -> tuple[float, float, float, int, int]:
    pct = {
        int(p): float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if total is None or rps is None or 50 not in pct or 99 not in pct:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    statuses = {int(c): int(n) for c, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = sum(n for c, n in statuses.items() if c != ok) + (sum(int(x) for x in errors.groups()) if errors else 0)
    return float(rps.group(1)), pct[50], pct[99], int(total.group(1)), bad


def run_wrk(
    base: str, route: Route, key: str, connections: int, seconds: int, folder: Path, pids: list[int]
) -> Measure:
    script = folder / f"{route.name}.lua"
    script.write_text(
        LUA % {"paths": lua_list(route.paths), "bodies": lua_list(route.bodies), "method": route.method, "key": key}
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        base + route.paths[0],
    ]
    before = cpu_seconds(pids)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    used = cpu_seconds(pids) - before
    rps, p50, p99, requests, bad = parse_wrk(out, route.ok)
    return Measure(rps, p50, p99, used * 1000 / max(requests, 1), requests, bad)


def routes(info: dict[str, Any]) -> list[Route]:
    inv, cli = info["invoices"], info["clients"]
    q = urllib.parse.quote

    def search(terms: list[str]) -> list[str]:
        return [f"/api/v1/invoices?search={q(t)}" for t in terms]

    bodies = []
    for n, count in enumerate((1, 5, 10, 20)):
        items = [
            {"description": f"Load line {i}", "quantity": 2, "unitPrice": 12.5, "taxRate": 10} for i in range(count)
        ]
        bodies.append(json.dumps({"clientId": cli[n], "lineItems": items, "notes": "bench"}))
    client_bodies = [json.dumps({"name": f"Load Client {n}", "email": f"load{n}@bench.test"}) for n in range(10)]
    graphql = json.dumps(
        {
            "query": "query($p: Int!) { invoices(page: $p, limit: 20) { total totalPages data { id invoiceNumber "
            "status total balanceDue client { name email } lineItems { description amount } } } }",
            "variables": {"p": 1},
        }
    )
    return [
        Route("baseline", "GET", ["/baseline"], baseline=True),
        Route("clients-page", "GET", ["/api/v1/clients?page=1&limit=20"]),
        Route("clients-search", "GET", [f"/api/v1/clients?search={q(t)}" for t in info["terms_name"]]),
        Route("client", "GET", [f"/api/v1/clients/{c}" for c in cli]),
        Route("invoices-page", "GET", ["/api/v1/invoices?page=1&limit=20"]),
        Route("invoices-status-p200", "GET", ["/api/v1/invoices?status=DRAFT&page=200"]),
        Route("invoices-client", "GET", [f"/api/v1/invoices?clientId={c}" for c in cli]),
        Route("search-name", "GET", search(info["terms_name"])),
        Route("search-number", "GET", search(info["terms_number"])),
        Route("search-email", "GET", search(info["terms_email"])),
        Route("detail", "GET", [f"/api/v1/invoices/{i}" for i in inv]),
        Route("payments", "GET", [f"/api/v1/invoices/{i}/payments" for i in inv]),
        Route("history", "GET", [f"/api/v1/invoices/{i}/history" for i in inv]),
        Route("pdf-cached", "GET", [f"/api/v1/invoices/{inv[0]}/pdf"]),
        Route("graphql-page", "POST", ["/graphql"], [graphql]),
        Route("post-client", "POST", ["/api/v1/clients"], client_bodies, ok=201),
        Route("post-invoice", "POST", ["/api/v1/invoices"], bodies, ok=201),
    ]


# --- one run --------------------------------------------------------------------------------


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


def check(base: str, key: str, route: Route) -> None:
    request = urllib.request.Request(
        base + route.paths[0],
        method=route.method,
        data=route.bodies[0].encode() if route.bodies else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        if answer.status != route.ok:
            raise RuntimeError(f"{route.method} {route.paths[0]} answered {answer.status}")


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
        port, base_port = free_port(), free_port()
        base, baseline_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{base_port}"
        serve = cleverinvo("serve", "--host", "127.0.0.1", "--port", str(port))
        if options.workers:
            serve += ["--workers", str(options.workers)]
        measures: dict[tuple[str, int], Measure] = {}
        chosen = [r for r in routes(info) if r.baseline or not options.only or r.name in options.only]
        baseline_cmd = [sys.executable, str(ROOT / "bench" / "baseline.py"), "--port", str(base_port)]
        with (
            started(serve, env, folder / "serve.log") as server,
            started(baseline_cmd, env, folder / "baseline.log") as baseline,
        ):
            wait_healthy(f"{base}/healthz", server)
            wait_healthy(f"{baseline_base}/baseline", baseline)
            api, workers = server_pids(server)
            for route in chosen:
                if not route.baseline:
                    check(base, info["key"], route)  # the key works, the route answers; warms it up
            for connections in options.connections:
                for route in chosen:
                    target, pids = (baseline_base, [baseline.pid]) if route.baseline else (base, api)
                    settle(api)
                    m = run_wrk(target, route, info["key"], connections, options.seconds, folder, pids)
                    measures[(route.name, connections)] = m
                    flag = f"  {m.bad} BAD" if m.bad else ""
                    print(f"    c{connections:<3}{route.name:<22}{m.cell()}  cpu {m.cpu_ms:6.2f} ms{flag}", flush=True)
            api, workers = server_pids(server)
            rss = sum(status_kb(pid, "VmHWM") for pid in api) / 1024
            workers_rss = sum(status_kb(pid, "VmHWM") for pid in workers) / 1024
        text = (folder / "serve.log").read_text(errors="replace")
        errors = [line for line in text.splitlines() if '"level": "ERROR"' in line or "Traceback" in line]
        bad = sum(m.bad for m in measures.values())
        return RunResult(
            measures, events / rebuild_seconds, rebuild_seconds, events / rebuild_cpu, rss, workers_rss, bad, errors
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- seeding and the cache ---------------------------------------------------------------------


def ensure_seed(options: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    name = f"seed-v{SEED_VERSION}-{options.clients}c-{options.invoices}i-{options.small}s"
    if options.database_url:
        name += "-pg"
    cached = options.data / name
    info_file = cached / "bench-seed.json"
    if info_file.exists() and not options.reseed:
        return cached, json.loads(info_file.read_text())
    if cached.exists():
        shutil.rmtree(cached)
    cached.mkdir(parents=True)
    env = code_env(options.code, cached, options)
    print(f"seeding {cached} with the code in {options.code} ...", flush=True)
    began = time.monotonic()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--seed-child",
        str(cached),
        "--clients",
        str(options.clients),
        "--invoices",
        str(options.invoices),
        "--small",
        str(options.small),
    ]
    subprocess.run(command, cwd=options.code, env=env, check=True)
    info = json.loads((cached / "bench-seed.json").read_text())
    print(f"seeded in {time.monotonic() - began:.0f} s", flush=True)
    return cached, info


def seed_child(folder: Path, options: argparse.Namespace) -> None:
    sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))
    info = seed(dict(os.environ), random.Random(20240601), options.clients, options.invoices, options.small)
    (folder / "bench-seed.json").write_text(json.dumps(info, indent=1))


# --- the table --------------------------------------------------------------------------------


def spread(values: Sequence[float], fmt: str) -> str:
    return f"{min(values):{fmt}} / {statistics.median(values):{fmt}} / {max(values):{fmt}}"


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
    print(f"rebuild events/s           {spread([r.rebuild_events_per_s for r in results], '.0f')}")
    print(f"rebuild events/CPU second  {spread([r.rebuild_events_per_cpu_s for r in results], '.0f')}")
    print(f"server peak RSS (MB)       {spread([r.rss_mb for r in results], '.0f')}")
    print(f"workers peak RSS (MB)      {spread([r.workers_rss_mb for r in results], '.0f')}")
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
    parser.add_argument("--only", action="append", help="a route name (repeatable); the baseline always runs")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data", help="where seeds are cached")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="seed (or find the cached seed) and stop")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code serves (default this one)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--invoices", type=int, default=INVOICES)
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
