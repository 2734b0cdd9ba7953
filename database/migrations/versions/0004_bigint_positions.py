"""Positions in the event store as 64-bit integers on PostgreSQL.

The event store numbers its events with a ``bigserial``; the columns that keep those
numbers (the followers' tracking positions, ``work_queue.seq`` and ``ledger_entries.position``)
were 32-bit ``integer``, which would overflow after 2**31 - 1 events. On SQLite an
``INTEGER`` is already 64-bit (and ``ledger_entries.position INTEGER PRIMARY KEY`` is the
rowid): nothing changes there. Rows are kept; nothing is rebuilt.

Revision ID: 0004_bigint_positions
Revises: 0003_search_and_counts
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_bigint_positions"
down_revision: str | Sequence[str] | None = "0003_search_and_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSITIONS = (
    ("projection_tracking", "notification_id"),
    ("work_tracking", "notification_id"),
    ("ledger_tracking", "notification_id"),
    ("work_queue", "seq"),
    ("ledger_entries", "position"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in POSITIONS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in POSITIONS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False)
