"""New rows written many at a time straight through the database driver.

SQLAlchemy's ``conn.execute(insert(table), rows)`` builds and processes every row's
parameters in Python, which cost more than SQLite's own insert of the row. Here each
table's statement and its columns' bind processors (the same conversions SQLAlchemy would
apply: ``DecimalText`` to its text, dates to SQLite's text) are prepared once per dialect;
rows go to the driver as tuples: one ``executemany``, or on PostgreSQL for many rows
``COPY … FROM STDIN`` (a round trip more than an INSERT, so not for a request's few rows).
A column a row leaves out is NULL, as with ``insert(table)``. ``raw`` takes rows already
as the driver takes them (a rebuild's lines: texts and integers), in the order of the
columns it was made with.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Converter = Callable[[Any], Any] | None
COPY_FROM_ROWS = 100  # PostgreSQL: from this many rows, COPY


class BulkInsert:
    """Inserts rows (dicts keyed by column name) into one table."""

    def __init__(self, table: Table, conn: Connection, names: Sequence[str] | None = None) -> None:
        """``names``: the columns rows give, in this order (default: every column of ``table``)."""
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        self.names = list(names) if names is not None else [column.name for column in table.columns]
        # The dialect's own type's processor: the generic DateTime has none, and SQLite's
        # driver then writes a time whose microseconds are 0 without them ("12:00:01"), which
        # sorts before the same time as SQLAlchemy writes it ("12:00:01.000000") everywhere else.
        self.converters: list[Converter] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        ]
        self._converted = [(at, convert) for at, convert in enumerate(self.converters) if convert is not None]
        columns = ", ".join(quote(name) for name in self.names)
        self.postgres = dialect.name == "postgresql"
        self.copy = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in self.names)
        self.sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"

    def rows(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The rows as the driver takes them: each column's value, converted where its type says."""
        names, converted = self.names, self._converted
        values = [tuple(row.get(name) for name in names) for row in rows]
        if not converted:
            return values
        out = []
        for row in values:
            listed = list(row)
            for at, convert in converted:
                value = listed[at]
                if value is not None:
                    listed[at] = convert(value)
            out.append(tuple(listed))
        return out

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.raw(conn, self.rows(rows))

    def raw(self, conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
        """Inserts rows given as the driver takes them, one value per column of ``names``."""
        if not values:
            return
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
