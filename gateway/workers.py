"""The worker process (`cleverinvo workers`) and how `cleverinvo serve` runs it as a child.

Workers follow the event store and do the slow work the API must never do on a request:
rendering PDFs, delivering emails, recording overdue invoices, keeping the ledger's
digests. They run in their own process so that this work never competes with requests
for the GIL; `serve` starts one as a child and stops it with itself, and any number can
run on their own, on any host, sharing the work through the store.
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Protocol

from gateway.services import Services
from projections.ledger_index import LedgerIndex

log = logging.getLogger("cleverinvo.workers")
STOP_SECONDS = 10.0  # how long serve waits for its child to finish its current render
POLL_SECONDS = 0.25  # how often idle workers look for new events
LEDGER_BATCHES = 20  # batches of events the ledger follower records a turn, so a backlog shares the loop


class Task(Protocol):
    def run_once(self, stop: threading.Event | None = None) -> int: ...


class LedgerFollowing:
    """Keeps the ledger's hashes and digests up with the store, a few batches a turn."""

    def __init__(self, ledger: LedgerIndex) -> None:
        self.ledger = ledger

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Records new events; returns how many positions it moved on."""
        before = self.ledger.position()
        return max(0, self.ledger.catch_up(batches=LEDGER_BATCHES) - before)


def run_workers(services: Services, parent_pid: int | None = None) -> None:
    """Works until SIGTERM or SIGINT (or, for serve's child, until its parent is gone),
    each follower in turn; a render or delivery under way is finished, leased work not
    started is handed back."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if services.settings.worker_nice:
        # Rendering is throughput work: where it shares cores with the API, requests go first.
        os.nice(services.settings.worker_nice)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid, stop), daemon=True).start()
    log.info("workers started (pid %d)", os.getpid())
    tasks: list[Task] = [
        services.pdf_worker(),
        services.email_worker(),
        services.overdue_sweep(),
        LedgerFollowing(services.ledger),
    ]
    while not stop.is_set():
        busy = 0
        for task in tasks:
            try:
                busy += task.run_once(stop)
            except Exception:  # a failing task must not stop the others; it is tried again
                log.exception("%s failed; retrying", type(task).__name__)
        if not busy:
            stop.wait(POLL_SECONDS)
    log.info("workers stopped")


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    """A child whose parent died (SIGKILL leaves no chance to stop it) stops too."""
    while not stop.wait(0.5):
        if os.getppid() != parent_pid:
            stop.set()


@contextlib.contextmanager
def child_workers() -> Iterator[subprocess.Popen[bytes]]:
    """Runs `cleverinvo workers` beside this process, with the same environment; on exit
    asks it to stop (SIGTERM) and, should it not within STOP_SECONDS, kills it."""
    command = [sys.executable, "-m", "gateway.cli", "workers", "--parent-pid", str(os.getpid())]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
