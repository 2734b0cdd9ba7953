"""The worker loop takes its follower tasks ready made (``followers.runner.run_workers``),
so it runs with any tasks and knows nothing of the gateway; the composition root builds the
real ones (``gateway.services.Services.follower_tasks``)."""

import os
import signal
import threading

import pytest

from followers.runner import LedgerFollowing, run_workers
from gateway.services import Services


class Counting:
    def __init__(self) -> None:
        self.runs = 0

    def run_once(self, stop: threading.Event | None = None) -> int:
        self.runs += 1
        return 1


class Failing:
    def run_once(self, stop: threading.Event | None = None) -> int:
        raise RuntimeError("broken follower")


class StopsOnThirdTurn:
    def __init__(self) -> None:
        self.turns = 0

    def run_once(self, stop: threading.Event | None = None) -> int:
        self.turns += 1
        if self.turns == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # as serve stops its child
        return 0


@pytest.fixture
def restored_signals():
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_each_task_runs_in_turn_a_failing_one_does_not_stop_the_others_and_sigterm_ends_the_loop(restored_signals):
    counting, stopper = Counting(), StopsOnThirdTurn()
    run_workers([Failing(), counting, stopper])
    assert stopper.turns == 3 and counting.runs == 3


def test_the_composition_root_builds_every_follower_the_workers_run(services: Services):
    tasks = services.follower_tasks()
    names = [type(task).__name__ for task in tasks]
    assert names == ["PdfWorker", "EmailWorker", "OverdueSweep", "LedgerFollowing"]
    ledger = tasks[-1]
    assert isinstance(ledger, LedgerFollowing) and ledger.ledger is services.ledger
