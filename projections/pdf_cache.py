"""The PDF cache: one row per invoice, in the read-model database, keyed by render key.

The bytes come from pdf/; this module only stores them, so SQL stays in projections/.

It lives beside the read models (not in a local folder) so every process and machine
sees the same cache; a row whose key no longer matches the invoice is never served.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    exists,
    insert,
    literal,
    select,
    update,
)

from projections.tables import invoices, tracking_table

metadata = MetaData()

invoice_pdfs = Table(
    "invoice_pdfs",
    metadata,
    Column("invoice_id", String(36), primary_key=True),
    Column("render_key", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("rendered_at", DateTime, nullable=False),
)

# The PDF worker's position in the event store (kept apart from the read model's).
pdf_tracking = tracking_table("pdf_tracking", metadata)


class PdfCache:
    def __init__(self, engine: Engine, follower: str) -> None:
        self.engine = engine
        self.follower = follower
        with engine.begin() as conn:
            metadata.create_all(conn)
            if self._position(conn) is None:
                conn.execute(insert(pdf_tracking).values(application_name=follower, notification_id=0))

    def _position(self, conn: Any) -> int | None:
        query = select(pdf_tracking.c.notification_id).where(pdf_tracking.c.application_name == self.follower)
        value = conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def position(self) -> int:
        """How far the PDF worker has followed the event store."""
        with self.engine.connect() as conn:
            return self._position(conn) or 0

    def advance(self, start: int, end: int) -> bool:
        """Moves the worker's position from ``start`` to ``end``; False if another moved it first."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(pdf_tracking)
                .where(pdf_tracking.c.application_name == self.follower, pdf_tracking.c.notification_id == start)
                .values(notification_id=end)
            )
            return moved.rowcount == 1

    def get(self, invoice_id: str, render_key: str) -> bytes | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invoice_pdfs.c.content).where(
                    invoice_pdfs.c.invoice_id == invoice_id, invoice_pdfs.c.render_key == render_key
                )
            ).first()
        return None if row is None else bytes(row.content)

    def put(self, invoice_id: str, render_key: str, content: bytes) -> None:
        """Stores the bytes, unless the invoice was deleted while they were rendered."""
        row = select(
            literal(invoice_id, String),
            literal(render_key, String),
            literal(content, LargeBinary),
            literal(datetime.now(UTC).replace(tzinfo=None), DateTime),
        ).where(exists().where(invoices.c.id == invoice_id))
        with self.engine.begin() as conn:
            conn.execute(delete(invoice_pdfs).where(invoice_pdfs.c.invoice_id == invoice_id))
            conn.execute(insert(invoice_pdfs).from_select(["invoice_id", "render_key", "content", "rendered_at"], row))

    def discard(self, invoice_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(invoice_pdfs).where(invoice_pdfs.c.invoice_id == invoice_id))

    def has(self, invoice_id: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(invoice_pdfs.c.invoice_id).where(invoice_pdfs.c.invoice_id == invoice_id)).first()
                is not None
            )
