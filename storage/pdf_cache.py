"""The PDF cache's index and its render claims, in the read-model database.

The bytes live in files, or in ``pdf_blobs`` where hosts share the database (see
pdf/store.py), and the work of rendering is queued in
storage/work_queue.py; this module keeps what every process and host must agree on of
the cache itself (its tables are declared in storage/tables.py):

- ``pdf_files``: which render keys are stored (one current key per invoice), how often
  each was rendered and when it was last served, so the cache can be bounded.
- ``pdf_blobs``: the bytes of each stored key, when the store keeps them in the database;
  written and dropped in the same transactions as the key's ``pdf_files`` entry, so the
  index never names bytes that are not there.
- ``pdf_claims``: single flight for one render key, across threads, processes and hosts.
  A claim runs out soon unless its holder renews it while it renders (a heartbeat), and a
  holder found gone on this host (storage/process_names.py) loses it at once: a render
  whose process died is taken over in seconds, not at the end of a long lease.

None of these tables is a read-model table: a read-model rebuild leaves them alone, and a
rebuilt invoice has the same render key, so its PDF is served from the cache.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from database.faults import storage_full
from database.schema import ensure_migrated
from database.statements import upsert
from projections.tables import invoices
from storage.process_names import gone
from storage.tables import pdf_blobs, pdf_claims, pdf_files
from storage.work_queue import now as _now

# A served entry's last use is written at most this often: a hit stays a read.
TOUCH_AFTER = timedelta(minutes=10)


class PdfIndex:
    def __init__(self, writer: Engine, reader: Engine) -> None:
        self.engine = writer
        self.reader = reader
        ensure_migrated(writer)  # the baseline revision dropped the tables of before 0.2

    # --- single flight ------------------------------------------------------------------

    def claim(self, render_key: str, owner: str, seconds: float) -> bool:
        """Takes the right to render ``render_key`` for ``seconds`` (renewed by ``renew``);
        False while someone else holds it."""
        now = _now()
        until = now + timedelta(seconds=seconds)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(pdf_claims).values(render_key=render_key, owner=owner, expires_at=until))
            return True
        except IntegrityError:
            pass
        holder = self._holder(render_key)
        if holder is None:  # let go of meanwhile: the caller looks again
            return False
        held_by, expires_at = holder
        if expires_at >= now and not gone(held_by):
            return False
        with self.engine.begin() as conn:  # taken over from the claim as seen (not renewed since), only
            taken = conn.execute(
                update(pdf_claims)
                .where(
                    pdf_claims.c.render_key == render_key,
                    pdf_claims.c.owner == held_by,
                    pdf_claims.c.expires_at == expires_at,
                )
                .values(owner=owner, expires_at=until)
            )
            return taken.rowcount == 1

    def _holder(self, render_key: str) -> tuple[str, Any] | None:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(pdf_claims.c.owner, pdf_claims.c.expires_at).where(pdf_claims.c.render_key == render_key)
            ).first()
        return None if row is None else (str(row.owner), row.expires_at)

    def claimed(self, render_key: str) -> bool:
        """Whether a live holder has the claim: not run out, and not found gone."""
        holder = self._holder(render_key)
        return holder is not None and holder[1] >= _now() and not gone(holder[0])

    def renew(self, owner: str, render_keys: list[str], seconds: float) -> int:
        """The holder's heartbeat: its claims on ``render_keys`` run ``seconds`` from now."""
        if not render_keys:
            return 0
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(pdf_claims)
                .where(pdf_claims.c.owner == owner, pdf_claims.c.render_key.in_(render_keys))
                .values(expires_at=_now() + timedelta(seconds=seconds))
            )
            return int(renewed.rowcount)

    def unclaim(self, render_key: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(pdf_claims).where(pdf_claims.c.render_key == render_key, pdf_claims.c.owner == owner))

    # --- the index ----------------------------------------------------------------------

    def lookup(self, invoice_id: str, render_key: str) -> bool:
        """Whether the bytes of this key are stored; marks the entry used."""
        now = _now()
        this = and_(pdf_files.c.render_key == render_key, pdf_files.c.invoice_id == invoice_id)
        with self.reader.connect() as conn:
            used = conn.execute(select(pdf_files.c.used_at).where(this)).scalar_one_or_none()
        if used is None:
            return False
        if now - used > TOUCH_AFTER:
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(pdf_files).where(this).values(used_at=now))
            except Exception as exc:  # only the eviction order misses it; the bytes are there
                if not storage_full(exc):
                    raise
        return True

    def content(self, render_key: str) -> bytes | None:
        """The bytes stored in the database under ``render_key``, if any."""
        with self.reader.connect() as conn:
            found = conn.execute(select(pdf_blobs.c.content).where(pdf_blobs.c.render_key == render_key)).first()
        return None if found is None else bytes(found.content)

    def record(
        self, invoice_id: str, render_key: str, size: int, keep: int, content: bytes | None = None
    ) -> tuple[bool, list[str]]:
        """Indexes freshly written bytes (given as ``content`` when they are kept in the
        database, stored in the same transaction), unless the invoice was deleted while they
        were rendered. Returns whether they were kept, and the keys whose files must go: the
        invoice's older versions and, past ``keep`` entries, the least recently used."""
        now = _now()
        with self.engine.begin() as conn:
            if conn.execute(select(exists().where(invoices.c.id == invoice_id))).scalar_one() is not True:
                return False, []
            if content is not None:
                blob = upsert(conn, pdf_blobs).values(render_key=render_key, content=content)
                conn.execute(
                    blob.on_conflict_do_update(index_elements=["render_key"], set_={"content": blob.excluded.content})
                )
            stale = self._drop(conn, and_(pdf_files.c.invoice_id == invoice_id, pdf_files.c.render_key != render_key))
            statement = upsert(conn, pdf_files).values(
                render_key=render_key, invoice_id=invoice_id, size=size, renders=1, rendered_at=now, used_at=now
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["render_key"],
                    set_={"renders": pdf_files.c.renders + 1, "rendered_at": now, "used_at": now, "size": size},
                )
            )
            over = int(conn.execute(select(func.count()).select_from(pdf_files)).scalar_one()) - keep
            if over > 0:
                oldest = (
                    select(pdf_files.c.render_key)
                    .where(pdf_files.c.render_key != render_key)
                    .order_by(pdf_files.c.used_at)
                    .limit(over)
                )
                stale += self._drop(conn, pdf_files.c.render_key.in_(list(conn.execute(oldest).scalars())))
        return True, stale

    def forget(self, invoice_id: str) -> list[str]:
        """Drops the invoice's entries; returns their keys."""
        with self.engine.begin() as conn:
            return self._drop(conn, pdf_files.c.invoice_id == invoice_id)

    def forget_in(self, conn: Connection, invoice_ids: list[str]) -> list[str]:
        """The same for several invoices, inside the caller's transaction."""
        return self._drop(conn, pdf_files.c.invoice_id.in_(invoice_ids))

    def stored(self, invoice_ids: list[str]) -> set[str]:
        """Which of these invoices have a PDF in the cache (of any of their versions): the
        PDF follower renders a new version of those first, since someone asked for one."""
        if not invoice_ids:
            return set()
        with self.reader.connect() as conn:
            query = select(pdf_files.c.invoice_id).where(pdf_files.c.invoice_id.in_(invoice_ids)).distinct()
            return {str(found) for found in conn.execute(query).scalars()}

    def keys(self, invoice_id: str) -> list[str]:
        with self.reader.connect() as conn:
            return list(
                conn.execute(select(pdf_files.c.render_key).where(pdf_files.c.invoice_id == invoice_id)).scalars()
            )

    def renders(self) -> dict[str, int]:
        """How often each stored key was rendered (1 unless something rendered it twice)."""
        with self.reader.connect() as conn:
            return {row.render_key: int(row.renders) for row in conn.execute(select(pdf_files))}

    @staticmethod
    def _drop(conn: Any, condition: Any) -> list[str]:
        keys = list(conn.execute(select(pdf_files.c.render_key).where(condition)).scalars())
        if keys:
            conn.execute(delete(pdf_files).where(pdf_files.c.render_key.in_(keys)))
            conn.execute(delete(pdf_blobs).where(pdf_blobs.c.render_key.in_(keys)))
        return keys
