"""What every use case stands on: the application, the read side, PDFs and the ledger.

Made by the composition root (``gateway.services``) and held by the use cases
(``usecases.service.UseCases``); a door never touches it."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from domain.application import CleverInvo
from pdf.service import InvoicePdfs
from projections.ledger_index import LedgerIndex
from projections.projector import ReadModelProjector
from projections.queries import ReadModel
from usecases.errors import Unavailable

T = TypeVar("T")
log = logging.getLogger("cleverinvo")


@dataclass(frozen=True)
class Core:
    app: CleverInvo
    projector: ReadModelProjector
    read: ReadModel
    pdfs: InvoicePdfs
    ledger: LedgerIndex

    def execute(self, command: Callable[[], T]) -> T:
        """Runs a command with read-your-writes: its rows committed with its events
        (``database.event_transactions``), or, for an application not wired so, the read
        model brought up to its write after it."""
        result = command()
        if self.app.shares_transactions:
            return result
        try:
            self.projector.catch_up()
        except Exception as exc:  # the events are saved; only reading them back is late
            log.exception("Read model did not catch up after a saved write")
            raise Unavailable(
                "The change was saved, but it cannot be read back yet; read it again shortly instead of retrying"
            ) from exc
        return result
