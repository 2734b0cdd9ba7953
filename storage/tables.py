"""The tables of state that is not built from events, on the database's one MetaData.

None of them is a read-model table: a read-model rebuild leaves them alone. Each store
beside them says what its rows mean: ``storage.owners`` (credentials, one-time links,
sessions, the dashboard's secret), ``storage.idempotency`` (the first answer to a request),
``storage.key_usage`` (when each API key was last used), ``storage.pdf_cache`` (the PDF
cache's index, bytes and render claims) and ``storage.work_queue`` (the followers' queues
and positions). They are made and changed by the revisions (``database/migrations``).
"""

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, String, Table, Text

from database.metadata import POSITION, UUID_LEN, metadata, tracking_table

# --- owners (storage.owners) -----------------------------------------------------------

credentials = Table(
    "owner_credentials",
    metadata,
    Column("owner_id", String(UUID_LEN), primary_key=True),
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

links = Table(
    "owner_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("owner_id", String(UUID_LEN)),  # None: the link that adds the account's first owner
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_owner_links_account", "account_id"),
)

sessions = Table(
    "owner_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("owner_id", String(UUID_LEN), nullable=False),
    Column("account_id", String(UUID_LEN), nullable=False),
    Column("email", String(254), nullable=False),  # what the owner signed in with, for the page to show
    Column("locale", String(8)),  # the language chosen in this browser; None: the account's
    Column("created_at", DateTime, nullable=False),
    Column("seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_owner_sessions_owner", "owner_id"),
    Index("ix_owner_sessions_expiry", "expires_at"),
)

dashboard_secrets = Table(
    "dashboard_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)

# --- idempotency keys (storage.idempotency) --------------------------------------------

MAX_KEY_LENGTH = 255

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("request", Text, nullable=False),  # "POST /api/v1/invoices": the method and the path
    Column("body_hash", String(64), nullable=False),  # SHA-256 of the request body, hex
    Column("owner", String(32), nullable=False),  # the claim's token: only its holder completes it
    Column("state", String(16), nullable=False),  # in_flight | done
    Column("status", Integer),
    Column("headers", Text),  # JSON [[name, value], ...]
    Column("body", LargeBinary),
    Column("created_at", DateTime, nullable=False),  # when the current claim was taken
    Column("expires_at", DateTime, nullable=False),  # the key's first request + ttl
    # In flight: the holder process (storage.holders), when it last beat, and the
    # event store's last position before the request ran (its events come after it).
    # None on rows claimed before recovery existed.
    Column("holder", String(255)),
    Column("beat_at", DateTime),
    Column("position", BigInteger),
    Index("idempotency_keys_expiry", "expires_at"),
)

# --- API key usage (storage.key_usage) -------------------------------------------------

key_usage = Table(
    "api_key_usage",
    metadata,
    Column("key_id", String(UUID_LEN), primary_key=True),
    Column("last_used_at", DateTime, nullable=False),
)

# --- the PDF cache (storage.pdf_cache) -------------------------------------------------

pdf_files = Table(
    "pdf_files",
    metadata,
    Column("render_key", String(64), primary_key=True),
    Column("invoice_id", String(36), nullable=False),
    Column("size", Integer, nullable=False),
    Column("renders", Integer, nullable=False),
    Column("rendered_at", DateTime, nullable=False),
    Column("used_at", DateTime, nullable=False),
    Index("pdf_files_invoice", "invoice_id"),
    Index("pdf_files_used", "used_at"),
)

pdf_blobs = Table(
    "pdf_blobs",
    metadata,
    Column("render_key", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

pdf_claims = Table(
    "pdf_claims",
    metadata,
    Column("render_key", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

# --- the followers' work (storage.work_queue) ------------------------------------------

work_queue = Table(
    "work_queue",
    metadata,
    Column("follower", String(32), primary_key=True),
    Column("item", String(128), primary_key=True),
    Column("seq", POSITION, nullable=False),  # the notification id of the latest event that queued it
    Column("attempt", Integer, nullable=False),
    Column("not_before", DateTime, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("lease_until", DateTime, nullable=True),
    Index("work_queue_next", "follower", "not_before", "seq"),
)

work_tracking = tracking_table("work_tracking")
