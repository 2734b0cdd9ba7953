"""The overdue sweep: a sent invoice with a balance past its due date gets an overdue event,
so the ledger shows when it became overdue. Run by the workers at start and every few
minutes (as the system); what it marks is the use case's decision
(``usecases.lifecycle.mark_overdue``), which `cleverinvo invoices mark-overdue` runs too.
"""

import threading
import time

from domain.actors import acting_as, system
from domain.application import CleverInvo
from projections.projector import ReadModelProjector
from projections.queries import ReadModel
from usecases.lifecycle import mark_overdue


class OverdueSweep:
    def __init__(self, app: CleverInvo, projector: ReadModelProjector, read: ReadModel, every_seconds: float) -> None:
        self.app = app
        self.projector = projector
        self.read = read
        self.every_seconds = every_seconds
        self._last: float | None = None

    def sweep(self, stop: threading.Event | None = None) -> int:
        """Marks every invoice that is overdue today (by the application's clock)."""
        return mark_overdue(self.app, self.projector, self.read, stop)

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Sweeps at the first call and then once every ``every_seconds``."""
        moment = time.monotonic()
        if self._last is not None and moment - self._last < self.every_seconds:
            return 0
        self._last = moment
        with acting_as(system("overdue sweep")):
            return self.sweep(stop)
