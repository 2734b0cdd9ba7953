"""The PDF cache's bytes in the database, for installations whose hosts share it: one
rendering serves every host (pdf/store.py). A row per stored render key, dropped with the
key's ``pdf_files`` entry. Made on SQLite too (a single host keeps files; the table stays
empty), so both databases have the same tables.

Revision ID: 0006_pdf_blobs
Revises: 0005_idempotency_holders
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_pdf_blobs"
down_revision: str | Sequence[str] | None = "0005_idempotency_holders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "pdf_blobs" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "pdf_blobs",
            sa.Column("render_key", sa.String(length=64), nullable=False),
            sa.Column("content", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("render_key"),
        )


def downgrade() -> None:
    op.drop_table("pdf_blobs")
