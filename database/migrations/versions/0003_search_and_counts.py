"""Substring search through an index and page totals kept as counts (issue 17).

Adds ``read_counts`` (how many rows each list of an account has) and the search indexes of
``projections.search``: FTS5 trigram tables beside ``invoices`` and ``clients`` on SQLite,
``pg_trgm`` GIN indexes on their folded columns on PostgreSQL. Both are derived from the
events, so the read models are rebuilt at the next start.

Revision ID: 0003_search_and_counts
Revises: 0002_dashboard_tables
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from database import schema
from projections import search
from projections.tables import clients, invoices

revision: str = "0003_search_and_counts"
down_revision: str | Sequence[str] | None = "0002_dashboard_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The folded columns searched at this revision (later ones add theirs: 0007).
SEARCHED = {
    "invoices": ("number_folded", "client_name_folded", "client_email_folded"),
    "clients": ("name_folded", "email_folded"),
}


def upgrade() -> None:
    conn = op.get_bind()
    if "read_counts" not in sa.inspect(conn).get_table_names():  # a database adopted as it is may have it
        op.create_table(
            "read_counts",
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("scope", sa.String(length=96), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("account_id", "scope"),
        )
    # Index names alternate between rebuilds ("" and "rb_"): these take the live tables' one.
    names = [index["name"] or "" for index in sa.inspect(conn).get_indexes("invoices")]
    prefix = "rb_" if any(name.startswith("rb_") for name in names) else ""
    for table in (clients, invoices):
        search.create(conn, table, prefix, SEARCHED[table.name])
    schema.read_models_stale()


def downgrade() -> None:
    for table in (clients, invoices):
        search.drop(op.get_bind(), table)
        for column in SEARCHED[table.name]:
            for prefix in ("", "rb_"):
                op.execute(f'DROP INDEX IF EXISTS "{search.trigram_index(table, column, prefix)}"')
    op.drop_table("read_counts")
