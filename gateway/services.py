"""The composition root: the one place where the running parts are built from the settings.

``Services`` opens the databases, the event store (the domain's application), the projector
and the read model, the ledger index, the PDF cache and the stores that are not built from
events, and builds from them the application layer (``usecases``) that every door calls and
the followers that `cleverinvo workers` runs. Doors hold it for ``usecases`` and
``settings``; the other parts are the HTTP wrapping's (``gateway.http``: the guard, health,
idempotency), the followers' and the tests'.
"""

import logging
import os
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, make_url

from database.engines import create_schema, exclusive, make_engine
from database.event_files import merge_event_file
from database.event_transactions import UnitOfWork, share
from database.schema import SchemaTooNew, upgrade
from domain.application import CleverInvo, Clock, utc_now
from followers.email import EmailWorker
from followers.overdue import OverdueSweep
from followers.pdfs import PdfWorker
from followers.runner import LedgerFollowing, Task, run_workers
from gateway.settings import Settings
from pdf import render_gate
from pdf.service import InvoicePdfs
from pdf.store import PdfStore
from projections.ledger_index import LedgerIndex
from projections.projector import ReadModelProjector
from projections.queries import ReadModel
from storage.key_usage import KeyUsage
from storage.owners import OwnerStore
from storage.pdf_cache import PdfIndex
from storage.work_queue import WorkQueue, positions
from usecases.core import Core
from usecases.service import UseCases

__all__ = ["DEFAULT_PUBLIC_URL", "SchemaTooNew", "Services", "upgrade_database"]
T = TypeVar("T")
log = logging.getLogger("cleverinvo")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"  # where share links point when nothing says otherwise


class Services:
    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        if not settings.uses_postgres:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._writer = make_engine(settings.database_url, writer=True, bounds=settings.database_bounds)
        self._reader = make_engine(settings.database_url, bounds=settings.database_bounds)
        create_schema(self._writer, settings.database_schema)
        # Processes starting at once on a new database (workers, hosts) create its tables one at a time.
        with exclusive(self._writer, "start"):
            if not settings.uses_postgres:  # an older data directory's events.sqlite3, moved in once
                merge_event_file(settings.sqlite_path)
            self.app = CleverInvo(settings.event_store_env(), clock=clock)
            self.projector = ReadModelProjector(self.app, self._writer)
            self.projector.ensure_schema()
        self.projector.catch_up()
        self.transactions = self._share_transactions()
        self.read = ReadModel(self._reader)
        self.ledger = LedgerIndex(self._writer, self._reader, self.app)  # hashes and digests, by position
        self.ledger.ensure_schema()
        index = PdfIndex(self._writer, self._reader)
        # PostgreSQL is what hosts share: the bytes there too, so one rendering serves them all
        store = PdfStore(index, settings.pdf_dir, settings.pdf_cache_max, in_database=settings.uses_postgres)
        self.pdfs = InvoicePdfs(
            self.read,
            store,
            claim_seconds=settings.worker_lease_seconds,
            public_url=settings.public_url or DEFAULT_PUBLIC_URL,
        )
        # tests only: tests/e2e/test_pdf_workers.py
        self.pdfs.renderer = render_gate.from_environment(self.pdfs.renderer)
        self.core = Core(self.app, self.projector, self.read, self.pdfs, self.ledger)
        stores = KeyUsage(self._writer, self._reader), OwnerStore(self._writer, self._reader)
        self.usecases = UseCases(self.core, *stores)  # the application layer: what every door calls

    def _share_transactions(self) -> UnitOfWork:
        """Each command in one transaction of the read model's writer, its rows applied in it
        before the commit (``database.event_transactions``)."""
        unit = UnitOfWork(self._writer)
        if share(getattr(self.app.factory, "datastore", None), unit):
            unit.before_commit = self.projector.apply_within
            unit.after_commit = self._committed
            unit.after_rollback = self._forget_uncommitted
            self.app.transactions = unit
        return unit

    def _committed(self) -> None:
        self.projector.committed()
        self.app.committed()

    def _forget_uncommitted(self) -> None:
        self.projector.rolled_back()
        self.app.forget_uncommitted()

    def email_worker(self) -> EmailWorker:
        """The follower that delivers emailed sends (run by `cleverinvo workers`)."""
        settings = self.settings
        return EmailWorker(
            self.app,
            self.projector,
            self.read,
            self.pdfs,
            # The application's clock: a retry is due by the same time its event's retryAt says.
            WorkQueue(self._writer, self._reader, follower="email", clock=self.clock),
            smtp_url=settings.smtp_url,
            sender=settings.mail_from,
            outbox=settings.outbox,
            public_url=settings.public_url or DEFAULT_PUBLIC_URL,
            retry_seconds=settings.email_retry_seconds,
            lease_seconds=settings.worker_lease_seconds,
        )

    def overdue_sweep(self) -> OverdueSweep:
        return OverdueSweep(self.app, self.projector, self.read, self.settings.overdue_every_seconds)

    def pdf_worker(self) -> PdfWorker:
        """A follower that renders PDFs (run by `cleverinvo workers`, never by the API)."""
        queue = WorkQueue(self._writer, self._reader, follower="pdf")
        return PdfWorker(self.app, self.projector, self.pdfs, queue, lease_seconds=self.settings.worker_lease_seconds)

    def follower_tasks(self) -> list[Task]:
        """What `cleverinvo workers` does, in turn: render PDFs, deliver emails, sweep overdue
        invoices, keep the ledger's digests."""
        return [self.pdf_worker(), self.email_worker(), self.overdue_sweep(), LedgerFollowing(self.ledger)]

    def run_workers(self, parent_pid: int | None = None) -> None:
        """`cleverinvo workers`: the follower tasks until a signal (``followers.runner``)."""
        run_workers(self.follower_tasks(), parent_pid, nice=self.settings.worker_nice)

    def work_positions(self) -> dict[str, int]:
        """The work followers' positions ("pdf", "email"), from the shared tracking table."""
        return positions(self._reader)

    def check_writable(self) -> None:
        """Raises unless the database would take a write now, without taking its write lock
        (a readiness probe must not queue behind writers): PostgreSQL not a standby and not
        read-only; SQLite's file and directory writable and the connection not query-only."""
        with self._writer.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET statement_timeout = '2s'")
                row = conn.exec_driver_sql("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").one()
                conn.rollback()
                if row[0] or row[1] != "off":
                    raise PermissionError("the database is read-only (a standby or default_transaction_read_only)")
                return
            path = make_url(self.settings.database_url).database or ""
            if path and not (os.access(path, os.W_OK) and os.access(os.path.dirname(path) or ".", os.W_OK)):
                raise PermissionError("the SQLite file or its directory is not writable")
            if conn.exec_driver_sql("PRAGMA query_only").scalar():
                raise PermissionError("the SQLite connection is query-only")

    @property
    def engines(self) -> list[Engine]:
        """The read model's connection pools (writer, reader): the request threads are sized
        to the smallest pool (``gateway.app``, ``gateway.http.capacity``)."""
        return [self._writer, self._reader]

    def execute(self, command: Callable[[], T]) -> T:
        """Runs a command with read-your-writes (``usecases.core.Core.execute``)."""
        return self.core.execute(command)

    def close(self) -> None:
        self.projector.close()  # after a catch-up under way, before its connections go
        self.app.close()
        self._writer.dispose()
        self._reader.dispose()


def upgrade_database(settings: Settings) -> str:
    """`cleverinvo db upgrade`: migrates the database to this version's schema without
    opening the event store; returns the revision it is at."""
    engine = make_engine(settings.database_url, writer=True)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()
