"""The PDF backlog's data: a data directory seeded through the application with invoices and
no PDF, and what its read-model database says of their PDFs (queued, stored, stored more
than once) while a worker renders them."""

import os
import random
import sqlite3
import subprocess
import time
from decimal import Decimal
from pathlib import Path

from bench.kit import ROOT

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
BACKLOG_SECONDS = 900  # a backlog taking longer than this fails the run


def seed(data: Path, invoices: int, rng: random.Random) -> tuple[str, list[str]]:
    """One account, one key, one client and ``invoices`` invoices of 1-20 lines, all through
    the application (commands, then the projection), so nothing is rendered. Returns the key
    and the invoice ids."""
    from domain.invoice import InvoiceDraft, Sending
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
            invoice = services.execute(lambda draft=draft: services.app.create_invoice(account, draft))
            # Sent (recorded as sent, no email): the workers render a sent invoice at once,
            # while a new draft waits for their idle moments (followers/pdfs.py).
            services.execute(lambda invoice=invoice: services.app.send_invoice(account, invoice, Sending()))
            made.append(str(invoice))
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
