"""The dashboard's durable tables: owners' credentials, one-time links and sessions, its
signing secrets, and when each API key was last used (none is derived from events).

Revision ID: 0002_dashboard_tables
Revises: 0001_baseline
Create Date: 2026-11-25 21:30:46.634590
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_dashboard_tables"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The dashboard's first version created these itself: only what is missing is made.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "api_key_usage" not in existing:
        op.create_table(
            "api_key_usage",
            sa.Column("key_id", sa.String(length=36), nullable=False),
            sa.Column("last_used_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("key_id"),
        )
    if "dashboard_secrets" not in existing:
        op.create_table(
            "dashboard_secrets",
            sa.Column("name", sa.String(length=64), nullable=False),
            sa.Column("value", sa.String(length=128), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if "owner_credentials" not in existing:
        op.create_table(
            "owner_credentials",
            sa.Column("owner_id", sa.String(length=36), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("password_hash", sa.Text(), nullable=False),
            sa.Column("set_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("owner_id"),
        )
    if "owner_links" not in existing:
        op.create_table(
            "owner_links",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("owner_id", sa.String(length=36), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        with op.batch_alter_table("owner_links", schema=None) as batch_op:
            batch_op.create_index("ix_owner_links_account", ["account_id"], unique=False)

    if "owner_sessions" not in existing:
        op.create_table(
            "owner_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("owner_id", sa.String(length=36), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("email", sa.String(length=254), nullable=False),
            sa.Column("locale", sa.String(length=8), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("seen_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        with op.batch_alter_table("owner_sessions", schema=None) as batch_op:
            batch_op.create_index("ix_owner_sessions_expiry", ["expires_at"], unique=False)
            batch_op.create_index("ix_owner_sessions_owner", ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("owner_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_sessions_owner")
        batch_op.drop_index("ix_owner_sessions_expiry")

    op.drop_table("owner_sessions")
    with op.batch_alter_table("owner_links", schema=None) as batch_op:
        batch_op.drop_index("ix_owner_links_account")

    op.drop_table("owner_links")
    op.drop_table("owner_credentials")
    op.drop_table("dashboard_secrets")
    op.drop_table("api_key_usage")
