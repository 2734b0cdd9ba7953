"""Idempotency keys name the process holding a request in flight, when it last beat, and
the event store's position before the request ran, so a retry after a crash can tell a
dead holder within seconds and find out from the events whether its request took effect
(``storage/idempotency.py``). An in-flight row now lives as long as a done one (the
key's 24 hours): it is recovered, never dropped, so a request that committed before its
process died is never run again. Rows are kept; nothing is rebuilt.

Revision ID: 0005_idempotency_holders
Revises: 0004_bigint_positions
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_idempotency_holders"
down_revision: str | Sequence[str] | None = "0004_bigint_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = (
    ("holder", sa.String(length=255)),
    ("beat_at", sa.DateTime()),
    ("position", sa.BigInteger()),
)


def upgrade() -> None:
    # Only what is missing: a database adopted by the baseline may have them already.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("idempotency_keys")}
    for name, kind in COLUMNS:
        if name not in present:
            op.add_column("idempotency_keys", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as table:  # SQLite drops a column by copying the table
        table.drop_column("position")
        table.drop_column("beat_at")
        table.drop_column("holder")
