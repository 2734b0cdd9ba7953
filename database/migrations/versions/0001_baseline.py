"""Baseline: every table as the last schema before migrations (read-model schema 5) had it.

Creates only what is missing, so a database made before migrations is adopted as it is
(``database.schema`` marks its read models stale when it was at another schema).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_baseline"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())  # adopted as they are
    if "accounts" not in existing:
        op.create_table(
            "accounts",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=255), nullable=False),
            sa.Column("plan", sa.String(length=16), nullable=False),
            sa.Column("locale", sa.String(length=16), nullable=False),
            sa.Column("address", sa.Text(), nullable=True),
            sa.Column("email", sa.String(length=254), nullable=True),
            sa.Column("tax_id", sa.String(length=64), nullable=True),
            sa.Column("phone", sa.String(length=64), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "api_keys" not in existing:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=255), nullable=False),
            sa.Column("key_hash", sa.String(length=64), nullable=False),
            sa.Column("prefix", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("revoked_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("key_hash"),
        )
        op.create_index(op.f("ix_api_keys_account_id"), "api_keys", ["account_id"], unique=False)
    if "clients" not in existing:
        op.create_table(
            "clients",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("name", sa.String(length=255), nullable=False),
            sa.Column("email", sa.String(length=254), nullable=True),
            sa.Column("address", sa.Text(), nullable=True),
            sa.Column("tax_id", sa.String(length=64), nullable=True),
            sa.Column("phone", sa.String(length=64), nullable=True),
            sa.Column("notes", sa.Text(), nullable=True),
            sa.Column("is_active", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.Column("name_folded", sa.Text(), nullable=False),
            sa.Column("email_folded", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_clients_list",
            "clients",
            ["account_id", "is_active", "created_at", "id"],
            unique=False,
            if_not_exists=True,
        )
    if "idempotency_keys" not in existing:
        op.create_table(
            "idempotency_keys",
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("key", sa.String(length=255), nullable=False),
            sa.Column("request", sa.Text(), nullable=False),
            sa.Column("body_hash", sa.String(length=64), nullable=False),
            sa.Column("owner", sa.String(length=32), nullable=False),
            sa.Column("state", sa.String(length=16), nullable=False),
            sa.Column("status", sa.Integer(), nullable=True),
            sa.Column("headers", sa.Text(), nullable=True),
            sa.Column("body", sa.LargeBinary(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("account_id", "key"),
        )
        op.create_index("idempotency_keys_expiry", "idempotency_keys", ["expires_at"], unique=False)
    if "invoice_line_items" not in existing:
        op.create_table(
            "invoice_line_items",
            sa.Column("invoice_id", sa.String(length=36), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            sa.Column("quantity", sa.String(length=64), nullable=False),
            sa.Column("unit_price", sa.String(length=64), nullable=False),
            sa.Column("tax_rate", sa.String(length=64), nullable=False),
            sa.Column("amount", sa.String(length=64), nullable=False),
            sa.Column("discount_rate", sa.String(length=64), nullable=False),
            sa.Column("discount", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("invoice_id", "position"),
        )
    if "invoice_payments" not in existing:
        op.create_table(
            "invoice_payments",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("invoice_id", sa.String(length=36), nullable=False),
            sa.Column("amount", sa.String(length=64), nullable=False),
            sa.Column("paid_on", sa.Date(), nullable=False),
            sa.Column("method", sa.String(length=255), nullable=True),
            sa.Column("reference", sa.String(length=255), nullable=True),
            sa.Column("recorded_at", sa.DateTime(), nullable=False),
            sa.Column("reversed_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_invoice_payments_invoice_id"), "invoice_payments", ["invoice_id"], unique=False, if_not_exists=True
        )
    if "invoices" not in existing:
        op.create_table(
            "invoices",
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("client_id", sa.String(length=36), nullable=False),
            sa.Column("invoice_number", sa.String(length=64), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("issue_date", sa.Date(), nullable=False),
            sa.Column("due_date", sa.Date(), nullable=False),
            sa.Column("subtotal", sa.String(length=64), nullable=False),
            sa.Column("tax_total", sa.String(length=64), nullable=False),
            sa.Column("discount_total", sa.String(length=64), nullable=False),
            sa.Column("total", sa.String(length=64), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("notes", sa.Text(), nullable=True),
            sa.Column("terms", sa.Text(), nullable=True),
            sa.Column("sent_via_email", sa.Boolean(), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=True),
            sa.Column("paid_at", sa.DateTime(), nullable=True),
            sa.Column("viewed_at", sa.DateTime(), nullable=True),
            sa.Column("overdue_at", sa.DateTime(), nullable=True),
            sa.Column("voided_at", sa.DateTime(), nullable=True),
            sa.Column("void_reason", sa.Text(), nullable=True),
            sa.Column("amount_paid", sa.String(length=64), nullable=False),
            sa.Column("balance_due", sa.String(length=64), nullable=False),
            sa.Column("share_token", sa.String(length=64), nullable=True),
            sa.Column("sends", sa.Integer(), nullable=False),
            sa.Column("emailed_send", sa.Integer(), nullable=True),
            sa.Column("email_status", sa.String(length=16), nullable=True),
            sa.Column("email_reply", sa.Text(), nullable=True),
            sa.Column("client_name", sa.String(length=255), nullable=False),
            sa.Column("client_email", sa.String(length=254), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.Column("number_folded", sa.Text(), nullable=False),
            sa.Column("client_name_folded", sa.Text(), nullable=False),
            sa.Column("client_email_folded", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("share_token"),
        )
        op.create_index(
            "ix_invoices_client",
            "invoices",
            ["account_id", "client_id", "created_at"],
            unique=False,
            if_not_exists=True,
        )
        op.create_index("ix_invoices_client_ref", "invoices", ["client_id"], unique=False)
        op.create_index("ix_invoices_due", "invoices", ["status", "due_date"], unique=False)
        op.create_index(
            "ix_invoices_list", "invoices", ["account_id", "created_at", "id"], unique=False, if_not_exists=True
        )
        op.create_index(
            "ix_invoices_status", "invoices", ["account_id", "status", "created_at"], unique=False, if_not_exists=True
        )
    if "ledger_entries" not in existing:
        op.create_table(
            "ledger_entries",
            sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("account_id", sa.String(length=36), nullable=False),
            sa.Column("aggregate_id", sa.String(length=36), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("topic", sa.String(length=255), nullable=False),
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.Column("digest", sa.String(length=64), nullable=False),
            sa.Column("recorded_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("position"),
        )
        op.create_index(
            "ix_ledger_entries_account", "ledger_entries", ["account_id", "position"], unique=False, if_not_exists=True
        )
    if "ledger_tracking" not in existing:
        op.create_table(
            "ledger_tracking",
            sa.Column("application_name", sa.String(length=64), nullable=False),
            sa.Column("notification_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("application_name"),
        )
    if "pdf_claims" not in existing:
        op.create_table(
            "pdf_claims",
            sa.Column("render_key", sa.String(length=64), nullable=False),
            sa.Column("owner", sa.String(length=128), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("render_key"),
        )
    if "pdf_files" not in existing:
        op.create_table(
            "pdf_files",
            sa.Column("render_key", sa.String(length=64), nullable=False),
            sa.Column("invoice_id", sa.String(length=36), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("renders", sa.Integer(), nullable=False),
            sa.Column("rendered_at", sa.DateTime(), nullable=False),
            sa.Column("used_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("render_key"),
        )
        op.create_index("pdf_files_invoice", "pdf_files", ["invoice_id"], unique=False)
        op.create_index("pdf_files_used", "pdf_files", ["used_at"], unique=False)
    if "projection_tracking" not in existing:
        op.create_table(
            "projection_tracking",
            sa.Column("application_name", sa.String(length=64), nullable=False),
            sa.Column("notification_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("application_name"),
        )
    if "work_queue" not in existing:
        op.create_table(
            "work_queue",
            sa.Column("follower", sa.String(length=32), nullable=False),
            sa.Column("item", sa.String(length=128), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            sa.Column("not_before", sa.DateTime(), nullable=False),
            sa.Column("owner", sa.String(length=128), nullable=True),
            sa.Column("lease_until", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("follower", "item"),
        )
        op.create_index(
            "work_queue_next", "work_queue", ["follower", "not_before", "seq"], unique=False, if_not_exists=True
        )
    if "work_tracking" not in existing:
        op.create_table(
            "work_tracking",
            sa.Column("application_name", sa.String(length=64), nullable=False),
            sa.Column("notification_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("application_name"),
        )
    # Before 0.2 PDF bytes lived in the database with their follower's position: both are
    # derived (the follower starts over and renders each invoice once).
    op.execute("DROP TABLE IF EXISTS invoice_pdfs")
    op.execute("DROP TABLE IF EXISTS pdf_tracking")
    # The pre-migrations schema number, kept at the last one so that an older process never
    # rebuilds (drops) the tables of a newer one.
    tracking = sa.table("projection_tracking", sa.column("application_name"), sa.column("notification_id"))
    found = op.get_bind().execute(
        sa.select(tracking.c.application_name).where(tracking.c.application_name == "read-model-schema")
    )
    if found.first() is None:
        op.bulk_insert(tracking, [{"application_name": "read-model-schema", "notification_id": 5}])


def downgrade() -> None:
    raise NotImplementedError("The baseline is not undone: drop the database instead")
