"""Substring search over folded text through an index built for it, on either database.

Search finds a term (folded as ``projections.folding.fold`` folds it) anywhere inside a
row's folded columns: an invoice's number, client name and client email; a client's name
and email. A ``LIKE '%term%'`` answers that exactly but reads every row of the account;
here an index answers it:

- SQLite: an FTS5 table per searched table (``<table>_search``, the trigram tokenizer,
  case-sensitive because the text is folded already), one row per row of the table under
  the same rowid, written by the projector in the same transaction as the row. A term of
  three or more characters is a phrase of its trigrams, which matches exactly the texts
  that contain it; the candidates are then checked with the same ``LIKE`` as before, so
  the answer is the one the scan gave.
- PostgreSQL: ``pg_trgm`` GIN indexes on the folded columns, which serve the ``LIKE`` itself.

A term shorter than three characters has no trigram: it is answered by the scan, as before.
"""

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, literal_column, or_, select, text

from domain.invoice import TEXTS

# The folded columns each searched table is searched by.
SEARCHED: dict[str, tuple[str, ...]] = {
    "invoices": (
        "number_folded",
        "client_name_folded",
        "client_email_folded",
        *(f"{text.name}_folded" for text in TEXTS if text.searchable),  # domain.invoice.TEXTS
    ),
    "clients": ("name_folded", "email_folded"),
}
SHADOW_PREFIX = "rebuild_"
MIN_INDEXED = 3  # trigrams: a shorter term cannot use the index


def live_name(table: Table) -> str:
    return table.name.removeprefix(SHADOW_PREFIX)


def columns_of(table: Table) -> tuple[str, ...]:
    return SEARCHED[live_name(table)]


def search_table(table: Table) -> str:
    """The FTS5 table beside ``table`` (SQLite)."""
    return f"{table.name}_search"


def is_search_table(name: str) -> bool:
    """Whether a table in the database is one of ours (or one of FTS5's own beside it)."""
    return any(name.startswith(f"{base}_search") for base in SEARCHED)


def trigram_index(table: Table, column: str, prefix: str = "") -> str:
    return f"{prefix}ix_{live_name(table)}_{column}_trgm"


def is_trigram_index(name: str | None) -> bool:
    return bool(name) and str(name).endswith("_trgm")


def create(conn: Connection, table: Table, index_prefix: str = "", columns: tuple[str, ...] | None = None) -> None:
    """The search index of ``table``, empty (it fills as rows are written); over ``columns``
    where a migration names the ones of its own time, else today's."""
    searched = columns or columns_of(table)
    if conn.dialect.name == "sqlite":
        names = ", ".join(searched)
        conn.execute(
            text(
                f'CREATE VIRTUAL TABLE IF NOT EXISTS "{search_table(table)}" '
                f"USING fts5({names}, tokenize='trigram case_sensitive 1')"
            )
        )
    elif conn.dialect.name == "postgresql":
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        for column in searched:
            name = trigram_index(table, column, index_prefix)
            conn.execute(
                text(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table.name}" USING gin ("{column}" gin_trgm_ops)')
            )


def drop(conn: Connection, table: Table) -> None:
    """Drops the search index of ``table`` (on PostgreSQL its indexes go with the table)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f'DROP TABLE IF EXISTS "{search_table(table)}"'))


def rename(conn: Connection, new: Table, live: Table) -> None:
    """After ``new`` was renamed to ``live``: its search index follows it."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f'ALTER TABLE "{search_table(new)}" RENAME TO "{search_table(live)}"'))


def add(conn: Connection, table: Table, column: str, value: str) -> None:
    """Indexes the rows of ``table`` whose ``column`` is ``value`` (new rows, or rows just
    changed after ``remove``)."""
    if conn.dialect.name != "sqlite":
        return
    names = ", ".join(columns_of(table))
    conn.execute(
        text(
            f'INSERT INTO "{search_table(table)}" (rowid, {names}) '
            f'SELECT rowid, {names} FROM "{table.name}" WHERE "{column}" = :value'
        ),
        {"value": value},
    )


def add_all(conn: Connection, table: Table, ids: list[str]) -> None:
    """Indexes the new rows of ``table`` with these ids."""
    if conn.dialect.name != "sqlite" or not ids:
        return
    names = ", ".join(columns_of(table))
    marks = ", ".join("?" * len(ids))
    conn.exec_driver_sql(
        f'INSERT INTO "{search_table(table)}" (rowid, {names}) SELECT rowid, {names} FROM "{table.name}" '
        f"WHERE id IN ({marks})",
        tuple(ids),
    )


def fill(conn: Connection, table: Table, after: int, rows: int) -> int | None:
    """Indexes the next ``rows`` rows of ``table`` by rowid after ``after``, for a table filled
    before its index was made (a rebuild's); returns the last rowid indexed, None when done."""
    if conn.dialect.name != "sqlite":
        return None
    last = conn.exec_driver_sql(
        f'SELECT max(rowid) FROM (SELECT rowid FROM "{table.name}" WHERE rowid > ? ORDER BY rowid LIMIT ?)',
        (after, rows),
    ).scalar()
    if last is None:
        return None
    names = ", ".join(columns_of(table))
    conn.exec_driver_sql(
        f'INSERT INTO "{search_table(table)}" (rowid, {names}) SELECT rowid, {names} FROM "{table.name}" '
        "WHERE rowid > ? AND rowid <= ?",
        (after, last),
    )
    return int(last)


def remove(conn: Connection, table: Table, column: str, value: str) -> None:
    """Takes the rows of ``table`` whose ``column`` is ``value`` out of the index (before
    they change or go)."""
    if conn.dialect.name != "sqlite":
        return
    conn.execute(
        text(
            f'DELETE FROM "{search_table(table)}" WHERE rowid IN '
            f'(SELECT rowid FROM "{table.name}" WHERE "{column}" = :value)'
        ),
        {"value": value},
    )


def _contains(column: Any, folded_term: str) -> ColumnElement[bool]:
    escaped = folded_term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def _phrase(folded_term: str) -> str:
    """An FTS5 phrase: the term's trigrams in a row, i.e. the term as a substring."""
    return '"' + folded_term.replace('"', '""') + '"'


def indexed(folded_term: str | None, dialect: str) -> bool:
    """Whether a search for this term goes through the FTS5 index."""
    return bool(folded_term) and dialect == "sqlite" and len(folded_term or "") >= MIN_INDEXED


def owned_by(table: Table, account_id: str, folded_term: str | None, dialect: str) -> ColumnElement[bool]:
    """``account_id = :account``; for an indexed search written ``+account_id`` (SQLite's way
    of saying "not through an index"), so the planner starts from the search's matches
    instead of walking every row of the account in the list's order."""
    if indexed(folded_term, dialect):
        return literal_column(f'+"{table.name}".account_id') == account_id
    return table.c.account_id == account_id


def matching(table: Table, folded_term: str, dialect: str, *, walk: bool = False) -> ColumnElement[bool]:
    """Rows of ``table`` whose folded columns contain ``folded_term``.

    Through the index, the rows whose rowid is among the index's matches, and nothing
    more: a phrase of the term's trigrams matches exactly the texts that contain the term
    (case-sensitively, on text folded already), which is a subset of what the scan's
    ``LIKE`` finds (``LIKE`` also ignores ASCII case, which folded text no longer has), so
    checking the matches again with ``LIKE`` would change no answer and cost a comparison
    per column per match. With ``walk``, the rowid is written ``+rowid``, so the planner
    walks the list's index in order and checks each row against the matches (see
    :func:`walks`) instead of starting from them."""
    if not indexed(folded_term, dialect):
        return or_(*(_contains(table.c[column], folded_term) for column in columns_of(table)))
    fts = search_table(table)
    candidates: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(text(f'"{fts}"'))
        .where(text(f'"{fts}" MATCH :search_phrase').bindparams(search_phrase=_phrase(folded_term)))
    )
    rowid = f'+"{table.name}".rowid' if walk else f'"{table.name}".rowid'
    return literal_column(rowid).in_(candidates)


def sort_keys(table: Table) -> tuple[ColumnElement[Any], ...]:
    """Where a row stands in a list's order, as stored (``at``: created_at's text, which
    sorts as the column does; ``id``), read for a search's matches to sort them."""
    return (
        literal_column(f'"{table.name}".created_at').label("at"),
        literal_column(f'"{table.name}".id').label("id"),
    )


# What reading one match and sorting it costs, in steps of a walk of the list's index (an
# index entry checked against the matches), as measured on SQLite: about 1.5 µs and 0.13 µs.
WALK_ADVANTAGE = 10


def walks(listed: int, found: int, reach: int) -> bool:
    """Whether the first ``reach`` rows (offset + limit) of ``found`` matches among the
    ``listed`` rows of an account's list are read faster by walking the list's index in
    its order, checking each row against the matches, than by reading every match and
    sorting them. The walk stops after about ``reach × listed / found`` rows when the
    matches are spread through the list (a broad term: "MÜLLER" in every twentieth
    invoice, page 1 after some 400 rows instead of 5,000 matches read and sorted); the
    sort reads ``found`` rows whatever the page (a narrow term: a few rows)."""
    return found > 0 and reach * listed < WALK_ADVANTAGE * found * found
