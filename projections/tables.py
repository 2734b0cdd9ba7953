"""The read-model tables, on the database's one MetaData (``database.metadata``). Every row
is derived from events and can be rebuilt from them."""

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from database.metadata import UUID_LEN, metadata, tracking_table
from database.types import DecimalText
from domain.invoice import TEXTS

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(UUID_LEN), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("plan", String(16), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("address", Text),
    Column("email", String(254)),
    Column("tax_id", String(64)),
    Column("phone", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(UUID_LEN), primary_key=True),
    Column("account_id", String(UUID_LEN), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

clients = Table(
    "clients",
    metadata,
    Column("id", String(UUID_LEN), primary_key=True),
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(254)),
    Column("address", Text),
    Column("tax_id", String(64)),
    Column("phone", String(64)),
    Column("notes", Text),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Case-folded copies for case-insensitive search that is right beyond ASCII.
    Column("name_folded", Text, nullable=False),
    Column("email_folded", Text, nullable=False),
    Index("ix_clients_list", "account_id", "is_active", "created_at", "id"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", String(UUID_LEN), primary_key=True),
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("client_id", String(UUID_LEN), nullable=False),
    Column("invoice_number", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("subtotal", DecimalText, nullable=False),
    Column("tax_total", DecimalText, nullable=False),
    Column("discount_total", DecimalText, nullable=False),
    Column("total", DecimalText, nullable=False),
    Column("status", String(16), nullable=False),
    *(Column(text.name, Text) for text in TEXTS),  # an invoice's texts (domain.invoice.TEXTS)
    Column("sent_via_email", Boolean, nullable=False),
    Column("sent_at", DateTime),
    Column("paid_at", DateTime),
    # The lifecycle's facts; `status` is derived from them by domain.lifecycle.
    Column("viewed_at", DateTime),
    Column("overdue_at", DateTime),
    Column("voided_at", DateTime),
    Column("void_reason", Text),
    Column("amount_paid", DecimalText, nullable=False),
    Column("balance_due", DecimalText, nullable=False),
    Column("share_token", String(64), unique=True),
    Column("sends", Integer, nullable=False),
    Column("emailed_send", Integer),  # which send the email status is about
    Column("email_status", String(16)),
    Column("email_reply", Text),
    Column("client_name", String(255), nullable=False),
    Column("client_email", String(254)),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("number_folded", Text, nullable=False),
    *(Column(f"{text.name}_folded", Text) for text in TEXTS if text.searchable),
    Column("client_name_folded", Text, nullable=False),
    Column("client_email_folded", Text, nullable=False),
    Index("ix_invoices_list", "account_id", "created_at", "id"),
    Index("ix_invoices_client", "account_id", "client_id", "created_at"),
    Index("ix_invoices_status", "account_id", "status", "created_at"),
    Index("ix_invoices_client_ref", "client_id"),
    Index("ix_invoices_due", "status", "due_date"),
)

line_items = Table(
    "invoice_line_items",
    metadata,
    Column("invoice_id", String(UUID_LEN), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("quantity", DecimalText, nullable=False),
    Column("unit_price", DecimalText, nullable=False),
    Column("tax_rate", DecimalText, nullable=False),
    Column("amount", DecimalText, nullable=False),
    Column("discount_rate", DecimalText, nullable=False),
    Column("discount", DecimalText, nullable=False),
)

payments = Table(
    "invoice_payments",
    metadata,
    Column("id", String(UUID_LEN), primary_key=True),
    Column("invoice_id", String(UUID_LEN), nullable=False, index=True),
    Column("amount", DecimalText, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("method", String(255)),
    Column("reference", String(255)),
    Column("recorded_at", DateTime, nullable=False),
    Column("reversed_at", DateTime),
)


# How many rows each list of an account has, so a page's ``total`` is one lookup instead of
# a count of every matching row: scopes "invoices", "invoices|status:X", "invoices|client:C",
# "invoices|client:C|status:X" and "clients:active", kept by the projector with the rows.
counts = Table(
    "read_counts",
    metadata,
    Column("account_id", String(UUID_LEN), primary_key=True),
    Column("scope", String(96), primary_key=True),
    Column("n", Integer, nullable=False),
)

ACTIVE_CLIENTS = "clients:active"


def invoice_scope(client_id: str | None = None, status: str | None = None) -> str:
    """The ``read_counts`` scope of the invoice list filtered by a client, a status, both or neither."""
    return "invoices" + (f"|client:{client_id}" if client_id else "") + (f"|status:{status}" if status else "")


def invoice_scopes(client_id: str, status: str) -> tuple[str, ...]:
    """Every scope an invoice of this client and status counts in."""
    return (invoice_scope(), invoice_scope(None, status), invoice_scope(client_id), invoice_scope(client_id, status))


# The projection's position, committed with the rows it produced.
tracking = tracking_table("projection_tracking")

READ_MODEL_TABLES = (accounts, api_keys, clients, invoices, line_items, payments, counts)


@dataclass(frozen=True)
class ReadTables:
    """One set of the read-model tables: the live ones, or a rebuild's beside them."""

    accounts: Table
    api_keys: Table
    clients: Table
    invoices: Table
    line_items: Table
    payments: Table
    counts: Table

    @property
    def all(self) -> tuple[Table, ...]:
        return (self.accounts, self.api_keys, self.clients, self.invoices, self.line_items, self.payments, self.counts)

    @property
    def searched(self) -> tuple[Table, ...]:
        """The tables with a substring-search index beside them (``projections.search``)."""
        return (self.clients, self.invoices)


LIVE = ReadTables(*READ_MODEL_TABLES)
SHADOW_PREFIX = "rebuild_"
GENERATIONS = ("", "rb_")  # index names alternate between rebuilds: a database shares them


def shadow_tables(index_prefix: str) -> ReadTables:
    """Copies of the live tables named ``rebuild_*``, built beside them; their indexes are
    named with ``index_prefix`` so they can keep their names once renamed to the live ones
    (index names are shared by all of a database's tables)."""
    owner = MetaData()
    copies = []
    for table in READ_MODEL_TABLES:
        copy = table.to_metadata(owner, name=SHADOW_PREFIX + table.name)
        for index in copy.indexes:
            columns = "_".join(column.name for column in index.columns)
            base = str(index.name) if index.name and not str(index.name).startswith("ix_rebuild_") else None
            index.name = index_prefix + (base or f"ix_{table.name}_{columns}")  # type: ignore[assignment]
        for constraint in copy.constraints:  # PostgreSQL names these like indexes, schema-wide
            if isinstance(constraint, PrimaryKeyConstraint):
                constraint.name = f"{index_prefix}pk_{table.name}"
            elif isinstance(constraint, UniqueConstraint):
                columns = "_".join(column.name for column in constraint.columns)
                constraint.name = f"{index_prefix}uq_{table.name}_{columns}"
        copies.append(copy)
    return ReadTables(*copies)


# A table changes by an Alembic revision in database/migrations/versions/ (see
# database/schema.py); one that changes how rows derive from events calls
# ``schema.read_models_stale()`` so the next start rebuilds them from the events.
