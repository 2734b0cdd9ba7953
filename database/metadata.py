"""The one MetaData every table beside the event store is declared on, and the column
shapes those tables share.

The read model (``projections.tables``), the ledger index (``projections.ledger_index``)
and the state kept beside them (``storage.tables``) declare their tables here; the
revisions must produce exactly these (``database.migrations.catalog``).
"""

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

metadata = MetaData()

UUID_LEN = 36
# A position in the event store (its notification id): 64-bit, as the store's own ids. SQLite's
# INTEGER is 64-bit already, and only "INTEGER PRIMARY KEY" is the rowid, so it stays INTEGER there.
POSITION = BigInteger().with_variant(Integer(), "sqlite")


def tracking_table(name: str) -> Table:
    """A follower's position in the event store: one row per followed application."""
    return Table(
        name,
        metadata,
        Column("application_name", String(64), primary_key=True),
        Column("notification_id", POSITION, nullable=False),
    )
