"""The overdue sweep: a sent invoice with a balance past its due date gets an overdue event,
so the ledger shows when it became overdue. Run by the workers at start and every few
minutes (as the system), and by `cleverinvo invoices mark-overdue`. Racing sweeps are harmless: the
command re-checks the invoice and records nothing the second time.
"""

import threading
import time
from uuid import UUID

from domain.actors import acting_as, system
from domain.application import CleverInvo
from projections.projector import ReadModelProjector
from projections.queries import ReadModel

BATCH = 1000


class OverdueSweep:
    def __init__(self, app: CleverInvo, projector: ReadModelProjector, read: ReadModel, every_seconds: float) -> None:
        self.app = app
        self.projector = projector
        self.read = read
        self.every_seconds = every_seconds
        self._last: float | None = None

    def sweep(self, stop: threading.Event | None = None) -> int:
        """Marks every invoice that is overdue today (by the application's clock)."""
        marked = 0
        while not (stop and stop.is_set()):
            self.projector.catch_up()
            candidates = self.read.overdue_candidates(self.app.clock().date(), BATCH)
            done = sum(self.app.mark_overdue(UUID(invoice_id)) for invoice_id in candidates)
            marked += done
            if len(candidates) < BATCH or not done:
                break
        self.projector.catch_up()
        return marked

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Sweeps at the first call and then once every ``every_seconds``."""
        moment = time.monotonic()
        if self._last is not None and moment - self._last < self.every_seconds:
            return 0
        self._last = moment
        with acting_as(system("overdue sweep")):
            return self.sweep(stop)
