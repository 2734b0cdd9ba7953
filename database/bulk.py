"""New rows written many at a time straight through the database driver.

SQLAlchemy's ``conn.execute(insert(table), rows)`` builds and processes every row's
parameters in Python, which cost more than SQLite's own insert of the row. Here each
table's statement and its columns' bind processors (the same conversions SQLAlchemy would
apply: ``DecimalText`` to its text, dates to SQLite's text) are prepared once per dialect;
rows go to the driver as tuples: one ``executemany``, or on PostgreSQL for many rows
``COPY … FROM STDIN`` (a round trip more than an INSERT, so not for a request's few rows).
A column a row leaves out is NULL, as with ``insert(table)``.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Converter = Callable[[Any], Any] | None
COPY_FROM_ROWS = 100  # PostgreSQL: from this many rows, COPY


class BulkInsert:
    """Inserts rows (dicts keyed by column name) into one table."""

    def __init__(self, table: Table, conn: Connection) -> None:
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        self.names = [column.name for column in table.columns]
        # The dialect's own type's processor: the generic DateTime has none, and SQLite's
        # driver then writes a time whose microseconds are 0 without them ("12:00:01"), which
        # sorts before the same time as SQLAlchemy writes it ("12:00:01.000000") everywhere else.
        self.converters: list[Converter] = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
        ]
        columns = ", ".join(quote(name) for name in self.names)
        self.postgres = dialect.name == "postgresql"
        self.copy = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in self.names)
        self.sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"

    def rows(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        pairs = list(zip(self.names, self.converters, strict=True))
        return [
            tuple(
                value if convert is None or value is None else convert(value)
                for name, convert in pairs
                for value in (row.get(name),)
            )
            for row in rows
        ]

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        values = self.rows(rows)
        if not self.postgres or len(values) < COPY_FROM_ROWS:
            conn.exec_driver_sql(self.sql, values)
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(self.copy) as copy:
                for row in values:
                    copy.write_row(row)
        finally:
            cursor.close()
