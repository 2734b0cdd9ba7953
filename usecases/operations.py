"""What the operator runs from the command line: rebuilding the read models, verifying the
tamper-evident ledger and exporting an account's part of it (``cleverinvo projections
rebuild``, ``cleverinvo ledger verify``, ``cleverinvo ledger export``)."""

from collections.abc import Iterator, Sequence

from domain.errors import Conflict
from projections.ledger_audit import Audit, Break, SavedCheck, SavedDigest, audit
from projections.ledger_walk import Unexportable, export_lines
from usecases.core import Core

__all__ = ["Audit", "Break", "Operations", "SavedCheck", "SavedDigest"]


class Operations:
    def __init__(self, core: Core) -> None:
        self.core = core

    def rebuild_read_models(self) -> int:
        """Rebuilds the read models from the events beside the live ones (``projections``);
        returns the position it rebuilt through."""
        return self.core.projector.rebuild()

    def verify_ledger(self, account: str | None, saved: Sequence[SavedDigest]) -> Audit:
        """Every hash chain and digest recomputed from the stored events, compared with the
        ledger follower's record and with ``saved`` (only ``account``'s, when given)."""
        app = self.core.app
        return audit(app.recorder, app.mapper, self.core.ledger, account, list(saved))

    def export_ledger(self, account: str) -> Iterator[str]:
        """The account's events with their seals and digests, one JSON object a line, as they
        are read; a ``Conflict`` where one cannot be (the lines before it are given)."""
        app = self.core.app
        lines = export_lines(app.recorder, app.mapper, account)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except Unexportable as exc:
                raise Conflict(f"{exc}; `cleverinvo ledger verify` names what is broken") from None
            yield line
