"""When each API key was last used, for the dashboard's list of keys.

Not in the ledger (using a key changes nothing of the business) and not derived from
events: a durable table beside the read models that a rebuild leaves alone. A key's row
is written at most once every ``EVERY`` per process, so a busy key costs one small write a
minute, not one per request; the time shown is therefore exact to about a minute.
"""

import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from database.schema import ensure_migrated
from database.statements import upsert
from storage.tables import key_usage

EVERY = timedelta(minutes=1)


class KeyUsage:
    def __init__(self, writer: Engine, reader: Engine, every: timedelta = EVERY) -> None:
        self.writer = writer
        self.reader = reader
        self.every = every
        self._written: dict[str, datetime] = {}  # key id -> when this process last wrote it
        self._lock = threading.Lock()
        ensure_migrated(writer)  # the tables: revision 0002_dashboard_tables

    def due(self, key_id: str, at: datetime) -> bool:
        """Whether this use should be written (the last write is older than ``every``)."""
        last = self._written.get(key_id)
        return last is None or not timedelta(0) <= at - last < self.every

    def used(self, key_id: str, at: datetime) -> None:
        """Records a use at ``at`` (naive UTC) if one was not recorded lately."""
        with self._lock:
            if not self.due(key_id, at):
                return
            self._written[key_id] = at
            if len(self._written) > 100_000:  # forget the oldest half rather than grow
                for stale in sorted(self._written, key=self._written.__getitem__)[:50_000]:
                    del self._written[stale]
        with self.writer.begin() as conn:
            conn.execute(
                upsert(conn, key_usage)
                .values(key_id=key_id, last_used_at=at)
                .on_conflict_do_update(index_elements=["key_id"], set_={"last_used_at": at})
            )

    def last_used(self, key_ids: list[str]) -> dict[str, datetime]:
        if not key_ids:
            return {}
        with self.reader.connect() as conn:
            rows = conn.execute(select(key_usage).where(key_usage.c.key_id.in_(key_ids)))
            return {str(row.key_id): row.last_used_at for row in rows}
