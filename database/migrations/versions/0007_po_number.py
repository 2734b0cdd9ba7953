"""An invoice's purchase-order reference (``poNumber``): its column, the folded copy search
reads, and that copy in the search index (SQLite's FTS5 table is made again with it; on
PostgreSQL it gets its trigram index). The read models are rebuilt at the next start, which
fills both from the events.

Revision ID: 0007_po_number
Revises: 0006_pdf_blobs
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database import schema
from projections import search
from projections.tables import invoices

revision: str = "0007_po_number"
down_revision: str | Sequence[str] | None = "0006_pdf_blobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("number_folded", "client_name_folded", "client_email_folded", "po_number_folded")


def upgrade() -> None:
    conn = op.get_bind()
    have = {column["name"] for column in sa.inspect(conn).get_columns("invoices")}
    with op.batch_alter_table("invoices") as batch:
        if "po_number" not in have:
            batch.add_column(sa.Column("po_number", sa.Text(), nullable=True))
        if "po_number_folded" not in have:
            batch.add_column(sa.Column("po_number_folded", sa.Text(), nullable=True))
    names = [index["name"] or "" for index in sa.inspect(conn).get_indexes("invoices")]
    prefix = "rb_" if any(name.startswith("rb_") for name in names) else ""
    search.drop(conn, invoices)
    search.create(conn, invoices, prefix, SEARCHED)
    schema.read_models_stale()


def downgrade() -> None:
    conn = op.get_bind()
    search.drop(conn, invoices)
    for prefix in ("", "rb_"):
        op.execute(f'DROP INDEX IF EXISTS "{search.trigram_index(invoices, "po_number_folded", prefix)}"')
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("po_number_folded")
        batch.drop_column("po_number")
    search.create(conn, invoices, "", SEARCHED[:3])
