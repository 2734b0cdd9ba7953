"""The worker process (`cleverinvo workers`) and how `cleverinvo serve` runs it as a child.

Workers follow the event store and do the slow work the API must never do on a request:
rendering PDFs, delivering emails, recording overdue invoices, keeping the ledger's
digests. They run in their own process so that this work never competes with requests
for the GIL; `serve` starts one as a child, starts it again should it die, and stops it
with itself; any number can run on their own, on any host, sharing the work through the
store.

This package knows nothing of the gateway: ``run_workers`` takes the follower tasks ready
made and ``WorkerSupervisor`` the command that starts a worker process; the composition root
(``gateway.services``) builds the tasks from the settings and the command line names the
command.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

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


def run_workers(tasks: Sequence[Task], parent_pid: int | None = None, nice: int = 0) -> None:
    """Works until SIGTERM or SIGINT (or, for serve's child, until its parent is gone),
    each follower in turn; a render or delivery under way is finished, leased work not
    started is handed back. ``nice``: how much lower this process's priority is."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if nice:
        # Rendering is throughput work: where it shares cores with the API, requests go first.
        os.nice(nice)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid, stop), daemon=True).start()
    log.info("workers started (pid %d)", os.getpid())
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


# serve restarts a child that died: first after RESTART_FIRST_SECONDS, doubling while it
# keeps dying, at most RESTART_MOST_SECONDS; a child that ran STEADY_SECONDS starts afresh.
RESTART_FIRST_SECONDS = 0.5
RESTART_MOST_SECONDS = 30.0
STEADY_SECONDS = 60.0


@dataclass(frozen=True)
class ChildState:
    """What serve knows of its worker child, for the health answer."""

    alive: bool
    pid: int | None
    restarts: int | None  # how many times it was started again after it died (None: not known here)
    last_exit: int | None  # the return code of the last child that died (-9: SIGKILL)


class WorkerSupervisor:
    """Runs ``command`` (`cleverinvo workers`) beside serve, with the same environment, and starts it
    again when it dies (backoff above, each death and restart logged); ``stop`` asks it to
    stop (SIGTERM) and, should it not within STOP_SECONDS, kills it. Without this a killed
    child stayed dead: no PDF nor email until serve itself was restarted."""

    def __init__(self, command: list[str], clock: Callable[[], float] = time.monotonic) -> None:
        self.command = command
        self.clock = clock
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._restarts = 0
        self._failures = 0  # deaths in a row, each before STEADY_SECONDS
        self._last_exit: int | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="workers-supervisor", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        self._child = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
        self._started_at = self.clock()

    def state(self) -> ChildState:
        with self._lock:
            child = self._child
            alive = child is not None and child.poll() is None
            return ChildState(alive, child.pid if child else None, self._restarts, self._last_exit)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            child = self._child
            assert child is not None
            code = child.wait()
            if self._stopping.is_set():
                return
            ran = self.clock() - self._started_at
            self._failures = 1 if ran >= STEADY_SECONDS else self._failures + 1
            delay = min(RESTART_FIRST_SECONDS * 2 ** (self._failures - 1), RESTART_MOST_SECONDS)
            with self._lock:
                self._last_exit = code
            log.error(
                "workers exited unexpectedly; restarting",
                extra={"fields": {"pid": child.pid, "exitCode": code, "ranSeconds": round(ran, 3), "restartIn": delay}},
            )
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self._spawn()
                except OSError:  # no process could be made (EAGAIN, say): the dead child stays, and is waited for again
                    log.exception("workers could not be started again; retrying")
                    self._started_at = self.clock()  # a failed start counts as a quick death: the backoff grows
                    continue
                self._restarts += 1
                pid = self._child.pid if self._child else None
            log.info("workers restarted", extra={"fields": {"pid": pid, "restarts": self._restarts}})

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._watcher is not None:
            self._watcher.join(STOP_SECONDS)


class SiblingWorkers:
    """The worker child as `serve --workers N`'s API processes see it: their parent's other
    child (they are spawned by uvicorn's supervisor in serve, beside the worker child). Only
    whether it runs and its pid can be seen from here; restarts are serve's to count."""

    def __init__(self, parent_pid: int) -> None:
        self.parent_pid = parent_pid

    def state(self) -> ChildState:
        found = [pid for pid in _children(self.parent_pid) if _is_workers_child(pid, self.parent_pid)]
        return ChildState(bool(found), found[0] if found else None, None, None)


def _children(pid: int) -> list[int]:
    """The running children of every thread of ``pid`` (proc(5): /proc/PID/task/TID/children)."""
    found: list[int] = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            with open(os.path.join(task.path, "children"), encoding="ascii") as listing:
                found += [int(child) for child in listing.read().split()]
    except OSError:
        return found
    return sorted(found)


def _is_workers_child(pid: int, parent_pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return b"workers" in words and str(parent_pid).encode() in words and state not in ("Z", "X")


@contextlib.contextmanager
def child_workers(command: list[str]) -> Iterator[WorkerSupervisor]:
    """Runs and supervises ``command``, `cleverinvo workers` (``WorkerSupervisor``), for the block."""
    supervisor = WorkerSupervisor(command)
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
