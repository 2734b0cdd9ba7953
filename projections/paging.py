"""Pages of the read model's lists: counted, keyset, and searched through the index.

``ReadModel`` (``projections.queries``) asks a ``Pager`` for a page of what a list reads
(``Listed``); the pager chooses how: the total from ``read_counts`` or a window count, a
keyset range after a cursor, or a search's plans on SQLite (``searched``)."""

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Connection, Engine, Result, Select, Table, and_, bindparam, func, literal_column, select, tuple_

from projections import search as searching
from projections.folding import fold
from projections.tables import counts, invoice_scope, invoices
from projections.views import Page, SortKey

V = TypeVar("V")
# Makes a page's records from its rows (column name -> value) on the page's connection.
Build: TypeAlias = Callable[[Connection, builtins.list[dict[str, Any]]], builtins.list[V]]
TOTAL = "_total"  # the window count a searched page carries beside its columns
MAX_OFFSET = 2**62  # past any number of rows
PROBE = 512  # a search's matches read ahead: all of a narrow term's, sorted in Python
_COUNT = select(counts.c.n).where(counts.c.account_id == bindparam("account"), counts.c.scope == bindparam("scope"))


class Pager:
    """Pages over one read-model database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def page(
        self,
        table: Table,
        query: Select[Any],
        view: type[V],
        page: int,
        limit: int,
        counted: tuple[str, str] | None,
        few: bool = False,
        start: SortKey | None = None,
        build: Build[V] | None = None,
    ) -> Page[V]:
        """A page of ``query``, newest first; ``counted`` names the ``read_counts`` row that
        holds its total (account, scope), else the matching rows are counted, in the same
        query as the page (a search is run once, not once to count and once to read).
        With ``start``, the page is the rows after that key (a keyset page). ``build``
        makes the page's records from its rows on the same connection (one snapshot), for
        a page read with its relations; by default each row is one ``view``."""
        make: Build[V] = build or (lambda _conn, rows: [view(**row) for row in rows])
        order = self.order(table, few)
        if start is not None:
            return self.keyset_page(table, query, limit, counted, order, start, make)
        offset = (page - 1) * limit
        with self.engine.connect() as conn:
            if counted is None:
                found: builtins.list[dict[str, Any]] = []
                if offset < MAX_OFFSET:  # keeps absurd page numbers away from SQL
                    with_total = query.add_columns(func.count().over().label(TOTAL))
                    found = dicts(conn.execute(with_total.order_by(*order).limit(limit).offset(offset)))
                if found:
                    total = int(found[0][TOTAL])
                else:  # past the last page: the count alone
                    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                for row in found:
                    del row[TOTAL]
                return Page(make(conn, found), total, page, limit)
            total = self.counted(conn, counted)
            found = []
            if offset < total:  # also keeps absurd page numbers away from SQL
                found = dicts(conn.execute(query.order_by(*order).limit(limit).offset(offset)))
            items = make(conn, found)
        return Page(items, total, page, limit)

    def order(self, table: Table, few: bool) -> tuple[Any, ...]:
        """A list's order, newest first. Rows that an index finds few of (one client's
        invoices) are sorted after they are found: without statistics SQLite would rather
        walk the whole account in list order to skip the sort ("+" keeps that index out
        of the ORDER BY)."""
        if few and self.dialect == "sqlite":
            return (literal_column(f'+"{table.name}".created_at').desc(), literal_column(f'"{table.name}".id').desc())
        return (table.c.created_at.desc(), table.c.id.desc())

    def list(
        self,
        listed: "Listed",
        columns: builtins.list[Any],
        view: type[V],
        page: int,
        limit: int,
        start: SortKey | None,
        build: Build[V] | None = None,
    ) -> Page[V]:
        """A page of a list: through the search index (:meth:`searched`) or :meth:`page`."""
        if searching.indexed(listed.term, self.dialect):
            make: Build[V] = build or (lambda _conn, rows: [view(**row) for row in rows])
            return self.searched(listed, columns, page, limit, start, make)
        where = [searching.owned_by(listed.table, listed.account_id, listed.term, self.dialect), *listed.filters]
        if listed.term:
            where.append(searching.matching(listed.table, listed.term, self.dialect))
        query = select(*columns).where(and_(*where))
        return self.page(listed.table, query, view, page, limit, listed.counted, listed.few, start, build)

    def searched(
        self,
        listed: "Listed",
        columns: builtins.list[Any],
        page: int,
        limit: int,
        start: SortKey | None,
        make: Build[V],
    ) -> Page[V]:
        """A page of a search through the index (SQLite, a term of three or more
        characters), the index's matches evaluated once for a narrow term:

        - the matches' keys (rowid, created_at, id) are read, at most ``PROBE`` + 1 of them;
          when that is all of them (a narrow term), they are the total, sorted here, and
          the page's rows are read by rowid;
        - else (a broad term) the matches are counted, by rowid, reading nothing of their
          rows but the account, and the page is read by whichever plan costs less for that
          many (``projections.search.walks``): walking the list's index in order, checking
          each row against the matches, or reading the matches and sorting them.

        Counting beside the page (a window) read and sorted every match whole."""
        table, account_id, term = listed.table, listed.account_id, listed.term or ""
        offset = (page - 1) * limit if start is None else 0
        where: builtins.list[Any] = [searching.owned_by(table, account_id, term, self.dialect), *listed.filters]
        found = searching.matching(table, term, self.dialect)
        keyed = [*where, found] if start is None else [*where, found, after(table, start)]
        wanted = limit if start is None else limit + 1
        with self.engine.connect() as conn:
            keys = conn.execute(
                select(*searching.sort_keys(table)).select_from(table).where(*keyed).limit(PROBE + 1)
            ).all()
            if len(keys) <= PROBE and start is None:
                total = len(keys)
            else:
                total = conn.execute(select(func.count()).select_from(table).where(*where, found)).scalar_one()
            rows: builtins.list[dict[str, Any]] = []
            if len(keys) <= PROBE:  # every match (after ``start``) is in ``keys``: sorted here
                chosen = [key.id for key in sorted(keys, key=lambda k: (k.at, k.id), reverse=True)]
                chosen = chosen[offset : offset + wanted]
                if chosen:
                    by_id = {
                        row["id"]: row for row in dicts(conn.execute(select(*columns).where(table.c.id.in_(chosen))))
                    }
                    rows = [by_id[key] for key in chosen if key in by_id]
            elif offset < total:
                walk = not listed.few and searching.walks(
                    self.counted(conn, (account_id, listed.everything)), total, offset + limit
                )
                if walk:
                    where = [table.c.account_id == account_id, *listed.filters]
                    found = searching.matching(table, term, self.dialect, walk=True)
                query = select(*columns).where(*where, found).order_by(*self.order(table, listed.few))
                if start is None:
                    rows = dicts(conn.execute(query.limit(limit).offset(offset)))
                else:
                    rows = dicts(conn.execute(query.where(after(table, start)).limit(wanted)))
            items = make(conn, rows[:limit])
        if start is None:
            return Page(items, int(total), page, limit)
        return Page(items, int(total), 1, limit, more=len(rows) > limit)

    def keyset_page(
        self,
        table: Table,
        query: Select[Any],
        limit: int,
        counted: tuple[str, str] | None,
        order: tuple[Any, ...],
        start: SortKey,
        make: Build[V],
    ) -> Page[V]:
        """The rows after ``start`` in the list's order: ``(created_at, id) < (:at, :id)``, a
        range of the list's index (each list's index ends in created_at, id), so a page
        costs the same wherever it starts, and rows written meanwhile (newer, so before
        ``start``) neither push rows onto it nor off it. One row past ``limit`` is read to
        know whether more follow. ``page`` is reported as 1: a keyset page is not counted
        from the first."""
        with self.engine.connect() as conn:
            rows = dicts(conn.execute(query.where(after(table, start)).order_by(*order).limit(limit + 1)))
            if counted is None:
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            else:
                total = self.counted(conn, counted)
            items = make(conn, rows[:limit])
        return Page(items, int(total), 1, limit, more=len(rows) > limit)

    @staticmethod
    def counted(conn: Connection, counted: tuple[str, str]) -> int:
        found = conn.execute(_COUNT, {"account": counted[0], "scope": counted[1]}).scalar()
        return int(found or 0)


def dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """The rows as dicts, their names read once (a row's own mapping makes its keys anew
    for every row, which cost more than reading the rows)."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


@dataclass(frozen=True)
class Listed:
    """What a list reads: the account's rows of ``table`` meeting ``filters`` and, with a
    (folded) ``term``, containing it; ``counted`` names the count row holding its total
    when that is counted ahead (no search), ``everything`` the one counting the whole list
    of the account (how long a walk of its index is); ``few``: an index finds few rows."""

    table: Table
    account_id: str
    filters: list[Any]
    term: str | None
    counted: tuple[str, str] | None
    everything: str
    few: bool = False


def invoice_list(account_id: str, search: str | None, client_id: str | None, status: str | None) -> Listed:
    filters = []
    if client_id is not None:
        filters.append(invoices.c.client_id == client_id)
    if status is not None:
        filters.append(invoices.c.status == status)
    counted = None if search else (account_id, invoice_scope(client_id, status))
    return Listed(
        invoices, account_id, filters, fold(search) if search else None, counted, invoice_scope(), client_id is not None
    )


def after(table: Table, start: SortKey) -> Any:
    """The rows after ``start`` in a list's order (a keyset page)."""
    return tuple_(table.c.created_at, table.c.id) < tuple_(
        bindparam("start_at", start.created_at, type_=table.c.created_at.type),
        bindparam("start_id", start.id, type_=table.c.id.type),
    )
