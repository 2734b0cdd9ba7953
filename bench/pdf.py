"""PDF benchmarks: our borb renderer against reportlab, memory over many renders, and the
API's latency while a worker process renders a backlog.

Run by hand: python bench/pdf.py   (needs the bench extra: pip install -e ".[bench]")

Three parts, all run by default; pick some with --only render|rss|backlog (repeatable):

- render: for a 1-page (10 lines) and a 5-page invoice, our renderer warm (font subset
  cached for the invoice's characters) and cold (a new character set), reportlab with the
  same DejaVu font embedded, and the ratios; then GET /pdf served from the cache against
  GET /invoices/{id} through the real ASGI app.
- rss: a fresh Python process renders a 10-line invoice 1,000 times and reports its RSS
  (from /proc/self/statm) at start and after 1, 100, 500 and 1,000 renders.
- backlog: a fresh data directory seeded through the application with 1,000 invoices of
  1-20 lines and no PDF; `cleverinvo serve --no-workers` on a free loopback port;
  GET /api/v1/invoices/{id} measured with wrk (1 thread, 4 connections) first with no
  backlog (15 s), then while one `cleverinvo workers` process renders the backlog (one wrk
  run lengthened to cover the backlog, stopped with SIGINT the moment the last PDF is
  stored), and the worker's throughput; beside each measurement, where the machine's CPU
  went (server, worker, wrk, this script, other processes). Repeated --runs times
  (default 3); reports min/median/max. --pin puts the server on CPU 0 and the worker and
  wrk on CPU 1; --worker-nice N runs the worker under nice; --worker-alone also times the
  backlog with no server. Needs wrk (Debian package `wrk`). Load only goes to 127.0.0.1.
"""

import argparse
import io
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pdf import fonts  # noqa: E402
from pdf.document import InvoiceDocument  # noqa: E402
from pdf.formats import Formats  # noqa: E402
from pdf.layout import render  # noqa: E402
from projections.views import AccountView, ClientView, InvoiceDetail, LineView  # noqa: E402

NOW = datetime(2024, 6, 1)


def invoice(lines: int, word: str = "Development") -> InvoiceDocument:
    items = [
        LineView(f"Web {word} sprint {i + 1}", Decimal(40), Decimal("125.00"), Decimal(10), Decimal("5000.00"))
        for i in range(lines)
    ]
    subtotal = Decimal("5000.00") * lines
    detail = InvoiceDetail(
        id="bench",
        account_id="a",
        client_id="c",
        invoice_number="INV-0042",
        currency="USD",
        issue_date=date(2024, 6, 1),
        due_date=date(2024, 7, 1),
        subtotal=subtotal,
        tax_total=subtotal / 10,
        discount_total=Decimal("0.00"),
        total=subtotal * Decimal("1.1"),
        status="DRAFT",
        created_at=NOW,
        updated_at=NOW,
        client_name="Müller GmbH",
        client_email="billing@mueller.test",
        line_items=items,
        notes="Thank you for your business",
        terms="Payment due within 30 days",
        sent_via_email=False,
        sent_at=None,
        paid_at=None,
        version=1,
    )
    client = ClientView(
        id="c",
        name="Müller GmbH",
        email="billing@mueller.test",
        address="Hauptstraße 1, Berlin",
        tax_id="DE123456789",
        phone=None,
        notes=None,
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )
    return InvoiceDocument(
        detail, client, AccountView(id="a", name="Seller Ltd", plan="pro", locale="en", updated_at=NOW, created_at=NOW)
    )


# --- render: ours against reportlab ----------------------------------------------------


def reportlab_renderer() -> Callable[[InvoiceDocument], bytes]:
    """reportlab's platypus rendering of the same invoice. Imported here, not at the top,
    so the RSS child process loads only our renderer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(TTFont("DejaVu", str(fonts.FILES["regular"])))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts.FILES["bold"])))
    body_style = ParagraphStyle("body", fontName="DejaVu", fontSize=9, leading=11)
    bold_style = ParagraphStyle("bold", parent=body_style, fontName="DejaVu-Bold")

    class NumberedCanvas(canvas.Canvas):
        """reportlab's usual two-pass recipe for 'Page i of n'."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._states: list[dict[str, object]] = []

        def showPage(self) -> None:  # noqa: N802
            self._states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._states:
                self.__dict__.update(state)
                self.setFont("DejaVu", 8)
                self.drawRightString(545, 25, f"Page {self._pageNumber} of {len(self._states)}")
                super().showPage()
            super().save()

    def reportlab(source: InvoiceDocument) -> bytes:
        inv, f = source.invoice, Formats("en")
        out = io.BytesIO()
        story: list[object] = [
            Paragraph(source.account.name, bold_style),
            Paragraph("INVOICE " + inv.invoice_number, bold_style),
            Paragraph(f"Issue date: {f.date(inv.issue_date)}  Due date: {f.date(inv.due_date)}", body_style),
            Spacer(1, 12),
            Paragraph("Bill to", bold_style),
        ]
        story += [Paragraph(line, body_style) for line in source.client_lines("Tax ID")] + [Spacer(1, 12)]
        rows = [["Description", "Qty", "Unit price", "Tax", "Amount"]] + [
            [
                Paragraph(li.description, body_style),
                f.number(li.quantity),
                f.money(li.unit_price, inv.currency),
                f.percent(li.tax_rate),
                f.money(li.amount, inv.currency),
            ]
            for li in inv.line_items
        ]
        table = Table(rows, colWidths=[215, 45, 85, 50, 100], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "DejaVu", 9),
                    ("FONT", (0, 0), (-1, 0), "DejaVu-Bold", 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.lightgrey),
                ]
            )
        )
        totals = Table(
            [
                ["Subtotal", f.money(inv.subtotal, inv.currency)],
                ["Tax", f.money(inv.tax_total, inv.currency)],
                ["Total", f.money(inv.total, inv.currency)],
            ],
            colWidths=[110, 140],
            hAlign="RIGHT",
        )
        totals.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "DejaVu", 9), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
        story += [
            table,
            Spacer(1, 12),
            totals,
            Spacer(1, 12),
            Paragraph(inv.notes or "", body_style),
            Paragraph(inv.terms or "", body_style),
        ]
        SimpleDocTemplate(out, pagesize=A4, title=source.title, author=source.account.name).build(
            story, canvasmaker=NumberedCanvas
        )
        return out.getvalue()

    return reportlab


def ms_per_call(work: Callable[[], object], repeat: int) -> float:
    work()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def cold_ms(lines: int) -> float:
    """A character set never seen before: the font subset is made and parsed too."""
    times = []
    for i in range(3):
        fresh = invoice(lines, word=f"Devęlopment{'ąćęłńóśźż'[i : i + 3]}{i}")
        start = time.perf_counter()
        render(fresh)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def http_ms() -> tuple[float, float]:
    from starlette.testclient import TestClient

    from gateway.app import create_app
    from gateway.services import Services
    from gateway.settings import Settings

    folder = tempfile.mkdtemp(prefix="cleverinvo-bench-")
    try:
        services = Services(
            Settings.from_env({"CLEVERINVO_DATA_DIR": folder, "CLEVERINVO_RATE_LIMIT": "100000/minute"})
        )
        account = services.execute(lambda: services.app.open_account("Bench", "business"))
        _, key = services.execute(lambda: services.app.issue_api_key(account))
        auth = {"Authorization": f"Bearer {key}"}
        with TestClient(create_app(services.settings, services)) as client:
            client_id = client.post("/api/v1/clients", json={"name": "Acme"}, headers=auth).json()["data"]["id"]
            body = {"clientId": client_id, "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}] * 10}
            invoice_id = client.post("/api/v1/invoices", json=body, headers=auth).json()["data"]["id"]
            client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=auth)  # fills the cache
            pdf = ms_per_call(lambda: client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=auth), 200)
            detail = ms_per_call(lambda: client.get(f"/api/v1/invoices/{invoice_id}", headers=auth), 200)
        services.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return pdf, detail


def bench_render() -> None:
    import pypdf

    reportlab = reportlab_renderer()
    print(f"{'case':<22}{'ours warm':>11}{'ours cold':>11}{'reportlab':>11}{'ratio warm':>12}{'pages':>7}")
    for label, lines in (("1 page, 10 lines", 10), ("5 pages, 140 lines", 140)):
        source = invoice(lines)
        pages = len(pypdf.PdfReader(io.BytesIO(render(source))).pages)
        ours = ms_per_call(lambda source=source: render(source), 20)
        cold = cold_ms(lines)
        theirs = ms_per_call(lambda source=source: reportlab(source), 20)
        print(f"{label:<22}{ours:>9.1f}ms{cold:>9.1f}ms{theirs:>9.1f}ms{ours / theirs:>11.1f}x{pages:>7}")
    pdf, detail = http_ms()
    print(f"GET /pdf from cache {pdf:.2f} ms; GET /invoices/{{id}} {detail:.2f} ms; ratio {pdf / detail:.2f}x")


# --- rss: memory over 1,000 renders in a fresh process ----------------------------------

RSS_CHECKPOINTS = (1, 100, 500, 1000)
RSS_SECONDS = 900.0  # the child gives up (and says so) past this


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_child(renders: int) -> None:
    """Runs in the fresh process: renders one 10-line invoice ``renders`` times."""
    source = invoice(10)
    checkpoints = sorted({n for n in RSS_CHECKPOINTS if n < renders} | {renders})
    print(f"  start (imports done, nothing rendered)  RSS {rss_mb():7.1f} MB", flush=True)
    started = time.monotonic()
    deadline = started + RSS_SECONDS
    for done in range(1, renders + 1):
        render(source)
        if done in checkpoints:
            elapsed = time.monotonic() - started
            print(f"  after {done:>5} renders ({elapsed:6.1f} s)      RSS {rss_mb():7.1f} MB", flush=True)
        if time.monotonic() > deadline:
            print(f"  stopped after {done} renders: over {RSS_SECONDS:.0f} s", flush=True)
            return


def bench_rss(renders: int) -> None:
    print(f"RSS of a fresh process rendering a 10-line invoice {renders} times (pdf.layout.render):", flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--rss-child", str(renders)]
    result = subprocess.run(command, cwd=ROOT, timeout=RSS_SECONDS + 60, check=False)
    if result.returncode != 0:
        print(f"  the RSS process exited with {result.returncode}")


# --- backlog: worker throughput and API latency while it renders ------------------------

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
WRK_SECONDS = 15
WRK_IDS = 300  # invoice ids the wrk script cycles over
BACKLOG_SECONDS = 900  # a backlog taking longer than this fails the run
SERVER_START_SECONDS = 60.0
STOP_SECONDS = 15.0

WRK_SCRIPT = """-- written by bench/pdf.py: GET /api/v1/invoices/{id} over a fixed set of ids
local ids = {%(ids)s}
local auth = "Bearer %(key)s"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
end

function request()
  counter = counter %% #ids + 1
  return wrk.format("GET", "/api/v1/invoices/" .. ids[counter], { ["Authorization"] = auth })
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


@dataclass(frozen=True)
class Wrk:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    seconds: float
    statuses: dict[int, int]
    socket_errors: str  # wrk's own line, or "" when it printed none
    non_2xx_3xx: int  # wrk's own count (status >= 400)

    @property
    def not_200(self) -> int:
        return sum(count for code, count in self.statuses.items() if code != 200)

    def line(self) -> str:
        odd = f"; non-200 {self.not_200} {dict(sorted(self.statuses.items()))}" if self.not_200 else ""
        errors = f"; {self.socket_errors}" if self.socket_errors else ""
        return (
            f"p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  {self.rps:7.1f} req/s  "
            f"({self.requests} requests in {self.seconds:.1f} s, 200: {self.statuses.get(200, 0)}{odd}{errors})"
        )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores): user, nice, system, irq,
    softirq and steal from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(values[0:3]) + sum(values[5:8])) / CLOCK_TICKS


def process_cpu(process: subprocess.Popen[bytes] | None) -> float:
    """User + system CPU seconds of a running process (0 when there is none)."""
    if process is None or process.poll() is not None:
        return 0.0
    after_name = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


def usage(who: int) -> float:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True)
class Snapshot:
    at: float
    machine: float
    server: float
    worker: float
    children: float  # reaped children: wrk, once it has exited
    bench: float

    @classmethod
    def take(cls, server: subprocess.Popen[bytes], worker: subprocess.Popen[bytes] | None = None) -> "Snapshot":
        return cls(
            time.monotonic(),
            machine_busy(),
            process_cpu(server),
            process_cpu(worker),
            usage(resource.RUSAGE_CHILDREN),
            usage(resource.RUSAGE_SELF),
        )


@dataclass(frozen=True)
class Cpu:
    """Where the machine's CPU went during one wrk run, in cores (CPU seconds per second)."""

    server: float
    worker: float
    wrk: float
    bench: float
    other: float  # every other process on the machine, and interrupts

    @classmethod
    def between(cls, start: Snapshot, end: Snapshot) -> "Cpu":
        wall = end.at - start.at
        server, worker = end.server - start.server, end.worker - start.worker
        wrk, bench = end.children - start.children, end.bench - start.bench
        other = end.machine - start.machine - server - worker - wrk - bench
        return cls(*(max(value, 0.0) / wall for value in (server, worker, wrk, bench, other)))

    @property
    def total(self) -> float:
        return self.server + self.worker + self.wrk + self.bench + self.other

    def line(self) -> str:
        return (
            f"cores busy {self.total:.2f}: server {self.server:.2f}, worker {self.worker:.2f}, "
            f"wrk {self.wrk:.2f}, this script {self.bench:.2f}, other {self.other:.2f}"
        )


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


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> Wrk:
    percentiles = {
        int(p): _ms(value, unit) for p, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if total is None or rps is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = re.search(r"^\s+(Socket errors:.*)$", output, re.M)
    non = re.search(r"^\s+Non-2xx or 3xx responses: (\d+)", output, re.M)
    statuses = {int(code): int(count) for code, count in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    return Wrk(
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        statuses=statuses,
        socket_errors=errors.group(1) if errors else "",
        non_2xx_3xx=int(non.group(1)) if non else 0,
    )


@dataclass(frozen=True)
class Placement:
    """Where the processes run: by default wherever the scheduler puts them; --pin puts
    the server on CPU 0 and the worker and wrk on CPU 1; --worker-nice lowers the worker's
    priority. nice and taskset exec the command, so the pid stays the process's own."""

    nice: int = 0
    pin: bool = False

    def server(self, command: list[str]) -> list[str]:
        return (["taskset", "-c", "0"] if self.pin else []) + command

    def worker(self, command: list[str]) -> list[str]:
        niced = (["nice", "-n", str(self.nice)] if self.nice else []) + command
        return (["taskset", "-c", "1"] if self.pin else []) + niced

    def wrk(self, command: list[str]) -> list[str]:
        return (["taskset", "-c", "1"] if self.pin else []) + command

    def describe(self) -> str:
        pinned = "; server pinned to CPU 0, worker and wrk to CPU 1" if self.pin else ""
        return pinned + (f"; worker at nice {self.nice}" if self.nice else "")


def wrk_command(url: str, script: Path, seconds: int) -> list[str]:
    return ["wrk", "-t1", "-c4", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), url]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cleverinvo(*arguments: str) -> list[str]:
    """The `cleverinvo` command as the README runs it (the venv's script), else `-m`."""
    script = Path(sys.executable).parent / "cleverinvo"
    if script.exists():
        return [str(script), *arguments]
    return [sys.executable, "-m", "gateway.cli.main", *arguments]


def seed(data: Path, invoices: int, rng: random.Random) -> tuple[str, list[str]]:
    """One account, one key, one client and ``invoices`` invoices of 1-20 lines, all through
    the application (commands, then the projection), so nothing is rendered. Returns the key
    and the invoice ids."""
    from domain.invoice import InvoiceDraft
    from domain.money import LineItemDraft
    from gateway.services import Services
    from gateway.settings import Settings

    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(data)}))
    try:
        account = services.execute(
            lambda: services.app.open_account("Bench Seller Ltd", "business", "en", {"address": "1 Bench Road"})
        )
        _, key = services.execute(lambda: services.app.issue_api_key(account, "bench"))
        client = services.execute(
            lambda: services.app.create_client(
                account,
                {"name": "Müller GmbH", "email": "billing@mueller.test", "address": "Hauptstraße 1, Berlin"},
            )
        )
        made: list[str] = []
        for number in range(invoices):
            items = [
                LineItemDraft(
                    f"{rng.choice(WORDS)} #{number}.{line + 1}",
                    Decimal(rng.randint(1, 80)),
                    Decimal(rng.randint(1_000, 50_000)) / 100,
                    Decimal(rng.choice((0, 7, 10, 19, 21))),
                )
                for line in range(rng.randint(1, 20))
            ]
            draft = InvoiceDraft(
                client_id=client, line_items=items, notes="Thank you for your business", terms="Net 30"
            )
            made.append(str(services.execute(lambda draft=draft: services.app.create_invoice(account, draft))))
        rendered = services.pdfs.rendered
    finally:
        services.close()
    if rendered or pdf_counts(data / "readmodels.sqlite3")[:2] != (0, 0):
        raise RuntimeError("seeding rendered or queued PDFs; the backlog would not be a backlog")
    return key, made


def pdf_counts(database: Path) -> tuple[int, int, int]:
    """(queued, stored, stored more than once) read straight from the read-model database:
    the PDF follower's rows of work_queue (pdf_queue before the shared queue), pdf_files."""
    conn = sqlite3.connect(database, timeout=30)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        queued = 0  # neither table exists until a worker has started
        if "work_queue" in tables:
            queued = conn.execute("SELECT count(*) FROM work_queue WHERE follower = 'pdf'").fetchone()[0]
        elif "pdf_queue" in tables:
            queued = conn.execute("SELECT count(*) FROM pdf_queue").fetchone()[0]
        stored, twice = conn.execute("SELECT count(*), coalesce(sum(renders > 1), 0) FROM pdf_files").fetchone()
    finally:
        conn.close()
    return int(queued), int(stored), int(twice)


def stop(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM, then SIGKILL if it has not exited within STOP_SECONDS."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"  {name} ignored SIGTERM for {STOP_SECONDS:.0f} s: killed")
            process.kill()
            process.wait()


@contextmanager
def started(command: Sequence[str], env: dict[str, str], log: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield process
    finally:
        stop(process, name)


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before /healthz answered")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"/healthz did not answer within {SERVER_START_SECONDS:.0f} s")


def check_get(base: str, key: str, ids: Sequence[str]) -> None:
    """A few requests by hand before wrk: the key works and the server answers 200."""
    for invoice_id in ids:
        request = urllib.request.Request(
            f"{base}/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status != 200:
                raise RuntimeError(f"GET /api/v1/invoices/{invoice_id} answered {answer.status}")


def bench_env(data: Path) -> dict[str, str]:
    """The environment of serve and workers: this checkout's code (even when the venv's
    editable install points elsewhere), the data directory, a rate limit wrk never hits."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "CLEVERINVO_DATA_DIR": str(data),
        "CLEVERINVO_RATE_LIMIT": "1000000/minute",
        "PYTHONUNBUFFERED": "1",
    }


def drain(
    database: Path, expected: int, worker: subprocess.Popen[bytes], load: subprocess.Popen[str] | None
) -> tuple[float, float]:
    """Polls the read-model database until all ``expected`` PDFs are stored and the queue
    is empty; returns the seconds until the first PDF and until the last."""
    started_at = time.monotonic()
    first = 0.0
    while time.monotonic() < started_at + BACKLOG_SECONDS:
        queued, stored, _ = pdf_counts(database)
        now = time.monotonic() - started_at
        if stored and not first:
            first = now
        if stored >= expected and queued == 0:
            return first, now
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode} mid-backlog")
        if load is not None and load.poll() is not None:
            raise RuntimeError("wrk ended before the backlog did")
        time.sleep(0.1)
    raise RuntimeError(f"the backlog was not rendered within {BACKLOG_SECONDS} s")


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
        with started(serve, env, server_log, "serve") as server:
            wait_healthy(base, server)
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
            with started(place.worker(cleverinvo("workers")), env, worker_log, "workers") as worker:
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
        with started(cleverinvo("workers"), bench_env(data), folder / "workers.log", "workers") as worker:
            first, drained = drain(database, len(ids), worker, None)
        stored = pdf_counts(database)[1]
        print(
            f"worker alone (no server, no wrk): {stored} PDFs in {drained:.1f} s = {stored / drained:.2f} PDFs/s; "
            f"first PDF after {first:.1f} s, {(stored - 1) / (drained - first):.2f} PDFs/s after it"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spread(values: Sequence[float], fmt: str) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:{fmt}} / {mid:{fmt}} / {high:{fmt}}"


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


# --- main -------------------------------------------------------------------------------


def describe_machine() -> None:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{datetime.now():%Y-%m-%d %H:%M}  {cores} cores ({usable} usable)  load {load}  "
        f"Python {platform.python_version()}  borb {version('borb')}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only", action="append", choices=("render", "rss", "backlog"), help="run only this part (repeatable)"
    )
    parser.add_argument("--runs", type=int, default=3, help="backlog measurements (default 3)")
    parser.add_argument("--invoices", type=int, default=1000, help="invoices in the backlog (default 1000)")
    parser.add_argument("--seconds", type=int, default=WRK_SECONDS, help="idle wrk run, seconds (default 15)")
    parser.add_argument("--renders", type=int, default=1000, help="renders in the RSS process (default 1000)")
    parser.add_argument(
        "--worker-alone", action="store_true", help="also time one backlog rendered with no server and no wrk"
    )
    parser.add_argument("--worker-nice", type=int, default=0, metavar="N", help="run the worker under nice -n N")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, worker and wrk on CPU 1 (taskset)")
    parser.add_argument("--rss-child", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return
    parts = args.only or ["render", "rss", "backlog"]
    describe_machine()
    if "render" in parts:
        bench_render()
    if "rss" in parts:
        bench_rss(args.renders)
    if "backlog" in parts:
        place = Placement(args.worker_nice, args.pin)
        bench_backlog(args.runs, args.invoices, args.seconds, args.worker_alone, place)


if __name__ == "__main__":
    main()
