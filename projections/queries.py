"""The read side: indexed SQL over the read model, never a replay of events."""

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Connection, Engine, Result, Select, Table, and_, bindparam, func, literal_column, select, tuple_

from projections import search as searching
from projections.folding import fold
from projections.tables import (
    ACTIVE_CLIENTS,
    accounts,
    api_keys,
    clients,
    counts,
    invoice_scope,
    invoices,
    line_items,
    payments,
)
from projections.views import (
    AccountView,
    ClientView,
    InvoiceDetail,
    InvoiceSummary,
    KeyView,
    LineView,
    Page,
    PaymentView,
    SortKey,
)

V = TypeVar("V")
# Makes a page's records from its rows (column name -> value) on the page's connection.
Build: TypeAlias = Callable[[Connection, list[dict[str, Any]]], list[V]]
TOTAL = "_total"  # the window count a searched page carries beside its columns
MAX_OFFSET = 2**62  # past any number of rows
PROBE = 512  # a search's matches read ahead: all of a narrow term's, sorted in Python


def _columns(table: Table, view: type[Any]) -> list[Any]:
    return [table.c[f.name] for f in fields(view) if f.name in table.c]


# The reads every request makes, built once: a statement built per call spent more time
# in SQLAlchemy's construction and cache-key walk than SQLite spent answering it.
_KEY_BY_HASH = select(*_columns(api_keys, KeyView), api_keys.c.key_hash).where(
    api_keys.c.key_hash == bindparam("key_hash")
)
_ACCOUNT = select(*_columns(accounts, AccountView)).where(accounts.c.id == bindparam("account"))
_CLIENT = select(*_columns(clients, ClientView)).where(
    clients.c.id == bindparam("client"), clients.c.account_id == bindparam("account")
)
_INVOICE = select(*_columns(invoices, InvoiceDetail)).where(
    invoices.c.id == bindparam("invoice"), invoices.c.account_id == bindparam("account")
)
_LINES = (
    select(*_columns(line_items, LineView))
    .where(line_items.c.invoice_id == bindparam("invoice"))
    .order_by(line_items.c.position)
)
_COUNT = select(counts.c.n).where(counts.c.account_id == bindparam("account"), counts.c.scope == bindparam("scope"))


class ReadModel:
    """Queries for one read-model database; every method is scoped to an account."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def _owned(self, table: Table, account_id: str) -> Any:
        """``account_id = :account`` for a query that names its rows by id: on SQLite written
        ``+account_id``, so the ids are looked up by key instead of the planner (without
        statistics) walking every row of the account through the list's index."""
        return _owned_on(table, account_id, self.dialect)

    def _page(
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
        order = self._order(table, few)
        if start is not None:
            return self._keyset_page(table, query, limit, counted, order, start, make)
        offset = (page - 1) * limit
        with self.engine.connect() as conn:
            if counted is None:
                found: list[dict[str, Any]] = []
                if offset < MAX_OFFSET:  # keeps absurd page numbers away from SQL
                    with_total = query.add_columns(func.count().over().label(TOTAL))
                    found = _dicts(conn.execute(with_total.order_by(*order).limit(limit).offset(offset)))
                if found:
                    total = int(found[0][TOTAL])
                else:  # past the last page: the count alone
                    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                for row in found:
                    del row[TOTAL]
                return Page(make(conn, found), total, page, limit)
            total = self._counted(conn, counted)
            found = []
            if offset < total:  # also keeps absurd page numbers away from SQL
                found = _dicts(conn.execute(query.order_by(*order).limit(limit).offset(offset)))
            items = make(conn, found)
        return Page(items, total, page, limit)

    def _order(self, table: Table, few: bool) -> tuple[Any, ...]:
        """A list's order, newest first. Rows that an index finds few of (one client's
        invoices) are sorted after they are found: without statistics SQLite would rather
        walk the whole account in list order to skip the sort ("+" keeps that index out
        of the ORDER BY)."""
        if few and self.dialect == "sqlite":
            return (literal_column(f'+"{table.name}".created_at').desc(), literal_column(f'"{table.name}".id').desc())
        return (table.c.created_at.desc(), table.c.id.desc())

    def _list(
        self,
        listed: "_Listed",
        columns: list[Any],
        view: type[V],
        page: int,
        limit: int,
        start: SortKey | None,
        build: Build[V] | None = None,
    ) -> Page[V]:
        """A page of a list: through the search index (:meth:`_searched`) or :meth:`_page`."""
        if searching.indexed(listed.term, self.dialect):
            make: Build[V] = build or (lambda _conn, rows: [view(**row) for row in rows])
            return self._searched(listed, columns, page, limit, start, make)
        where = [searching.owned_by(listed.table, listed.account_id, listed.term, self.dialect), *listed.filters]
        if listed.term:
            where.append(searching.matching(listed.table, listed.term, self.dialect))
        query = select(*columns).where(and_(*where))
        return self._page(listed.table, query, view, page, limit, listed.counted, listed.few, start, build)

    def _searched(
        self, listed: "_Listed", columns: list[Any], page: int, limit: int, start: SortKey | None, make: Build[V]
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
        where: list[Any] = [searching.owned_by(table, account_id, term, self.dialect), *listed.filters]
        found = searching.matching(table, term, self.dialect)
        keyed = [*where, found] if start is None else [*where, found, _after(table, start)]
        wanted = limit if start is None else limit + 1
        with self.engine.connect() as conn:
            keys = conn.execute(
                select(*searching.sort_keys(table)).select_from(table).where(*keyed).limit(PROBE + 1)
            ).all()
            if len(keys) <= PROBE and start is None:
                total = len(keys)
            else:
                total = conn.execute(select(func.count()).select_from(table).where(*where, found)).scalar_one()
            rows: list[dict[str, Any]] = []
            if len(keys) <= PROBE:  # every match (after ``start``) is in ``keys``: sorted here
                chosen = [key.id for key in sorted(keys, key=lambda k: (k.at, k.id), reverse=True)]
                chosen = chosen[offset : offset + wanted]
                if chosen:
                    by_id = {
                        row["id"]: row for row in _dicts(conn.execute(select(*columns).where(table.c.id.in_(chosen))))
                    }
                    rows = [by_id[key] for key in chosen if key in by_id]
            elif offset < total:
                walk = not listed.few and searching.walks(
                    self._counted(conn, (account_id, listed.everything)), total, offset + limit
                )
                if walk:
                    where = [table.c.account_id == account_id, *listed.filters]
                    found = searching.matching(table, term, self.dialect, walk=True)
                query = select(*columns).where(*where, found).order_by(*self._order(table, listed.few))
                if start is None:
                    rows = _dicts(conn.execute(query.limit(limit).offset(offset)))
                else:
                    rows = _dicts(conn.execute(query.where(_after(table, start)).limit(wanted)))
            items = make(conn, rows[:limit])
        if start is None:
            return Page(items, int(total), page, limit)
        return Page(items, int(total), 1, limit, more=len(rows) > limit)

    def _keyset_page(
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
            rows = _dicts(conn.execute(query.where(_after(table, start)).order_by(*order).limit(limit + 1)))
            if counted is None:
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            else:
                total = self._counted(conn, counted)
            items = make(conn, rows[:limit])
        return Page(items, int(total), 1, limit, more=len(rows) > limit)

    @staticmethod
    def _counted(conn: Connection, counted: tuple[str, str]) -> int:
        found = conn.execute(_COUNT, {"account": counted[0], "scope": counted[1]}).scalar()
        return int(found or 0)

    # --- accounts and keys -----------------------------------------------------------

    def account(self, account_id: str) -> AccountView | None:
        with self.engine.connect() as conn:
            row = conn.execute(_ACCOUNT, {"account": account_id}).first()
        return AccountView(**row._mapping) if row else None

    def accounts(self) -> list[AccountView]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_columns(accounts, AccountView)).order_by(accounts.c.created_at))
            return [AccountView(**row._mapping) for row in rows]

    def key_by_hash(self, key_hash: str) -> tuple[KeyView, str] | None:
        """The key with this hash, and the stored hash to compare in constant time."""
        with self.engine.connect() as conn:
            row = conn.execute(_KEY_BY_HASH, {"key_hash": key_hash}).first()
        if row is None:
            return None
        values = dict(row._mapping)
        stored = values.pop("key_hash")
        return KeyView(**values), stored

    def key(self, key_id: str) -> KeyView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_columns(api_keys, KeyView)).where(api_keys.c.id == key_id)).first()
        return KeyView(**row._mapping) if row else None

    def keys(self, account_id: str) -> list[KeyView]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_columns(api_keys, KeyView))
                .where(api_keys.c.account_id == account_id)
                .order_by(api_keys.c.created_at)
            )
            return [KeyView(**row._mapping) for row in rows]

    # --- clients ------------------------------------------------------------------

    def clients(
        self, account_id: str, page: int, limit: int, search: str | None = None, *, start: SortKey | None = None
    ) -> Page[ClientView]:
        listed = _Listed(
            clients,
            account_id,
            [clients.c.is_active.is_(True)],
            fold(search) if search else None,
            None if search else (account_id, ACTIVE_CLIENTS),
            ACTIVE_CLIENTS,
        )
        return self._list(listed, _columns(clients, ClientView), ClientView, page, limit, start)

    def client(self, account_id: str, client_id: str) -> ClientView | None:
        with self.engine.connect() as conn:
            row = conn.execute(_CLIENT, {"client": client_id, "account": account_id}).first()
        return ClientView(**row._mapping) if row else None

    # --- invoices -------------------------------------------------------------------

    def invoices(
        self,
        account_id: str,
        page: int,
        limit: int,
        search: str | None = None,
        client_id: str | None = None,
        status: str | None = None,
        *,
        start: SortKey | None = None,
    ) -> Page[InvoiceSummary]:
        listed = _invoice_list(account_id, search, client_id, status)
        return self._list(listed, _columns(invoices, InvoiceSummary), InvoiceSummary, page, limit, start)

    def invoices_with(
        self,
        account_id: str,
        page: int,
        limit: int,
        search: str | None = None,
        client_id: str | None = None,
        status: str | None = None,
        *,
        start: SortKey | None = None,
        detailed: bool = False,
        with_clients: bool = False,
    ) -> tuple[Page[InvoiceSummary], dict[str, ClientView]]:
        """The same page as :meth:`invoices`, read with what a page of GraphQL shows beside
        it, on one connection: each row as a detail with its lines (``detailed``: the
        page's query reads the detail's columns, and one more query the lines of all its
        rows) and the rows' clients (``with_clients``: one query). A page with its
        relations then costs one call and at most two queries more than the page, where
        the per-relation loaders cost a thread hop, a connection and a query each."""
        clients_of: dict[str, ClientView] = {}

        def build(conn: Connection, rows: list[dict[str, Any]]) -> list[InvoiceSummary]:
            if with_clients and rows:
                ids = list({str(row["client_id"]) for row in rows})
                clients_of.update(_clients_on(conn, account_id, ids, self.dialect))
            if not detailed:
                return [InvoiceSummary(**row) for row in rows]
            lines = _lines_on(conn, [str(row["id"]) for row in rows])
            return [InvoiceDetail(**row, line_items=lines[str(row["id"])]) for row in rows]

        view: type[InvoiceSummary] = InvoiceDetail if detailed else InvoiceSummary
        listed = _invoice_list(account_id, search, client_id, status)
        return self._list(listed, _columns(invoices, view), view, page, limit, start, build), clients_of

    def invoice_account(self, invoice_id: str) -> str | None:
        """The account that owns an invoice, for work that starts from an event (the PDF worker)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(invoices.c.account_id).where(invoices.c.id == invoice_id)).scalar()
        return None if found is None else str(found)

    def invoice(self, account_id: str, invoice_id: str) -> InvoiceDetail | None:
        with self.engine.connect() as conn:
            return _invoice_on(conn, account_id, invoice_id)

    def invoice_read(
        self, account_id: str, invoice_id: str
    ) -> tuple[InvoiceDetail, ClientView | None, AccountView | None] | None:
        """An invoice's detail with its client and its account, read together (one
        connection, one snapshot): what ``GET /invoices/{id}`` shows."""
        with self.engine.connect() as conn:
            detail = _invoice_on(conn, account_id, invoice_id)
            if detail is None:
                return None
            client = conn.execute(_CLIENT, {"client": detail.client_id, "account": account_id}).first()
            account = conn.execute(_ACCOUNT, {"account": account_id}).first()
        return (
            detail,
            ClientView(**client._mapping) if client else None,
            AccountView(**account._mapping) if account else None,
        )

    def payments(self, account_id: str, invoice_id: str) -> list[PaymentView] | None:
        """The invoice's payments, reversed ones too, oldest first; None if no such invoice."""
        with self.engine.connect() as conn:
            owner = conn.execute(select(invoices.c.account_id).where(invoices.c.id == invoice_id)).scalar()
            if owner is None or str(owner) != account_id:
                return None
            rows = conn.execute(
                select(*_columns(payments, PaymentView))
                .where(payments.c.invoice_id == invoice_id)
                .order_by(payments.c.recorded_at, payments.c.id)
            )
            return [PaymentView(**row._mapping) for row in rows]

    # --- batches: one query for many records, so a page with its relations costs a
    # constant number of queries (the GraphQL door's data loaders) --------------------

    def clients_in(self, account_id: str, client_ids: list[str]) -> dict[str, ClientView]:
        with self.engine.connect() as conn:
            return _clients_on(conn, account_id, client_ids, self.dialect)

    def invoices_in(self, account_id: str, invoice_ids: list[str]) -> dict[str, InvoiceDetail]:
        """Details with their lines: two queries for any number of invoices."""
        with self.engine.connect() as conn:
            rows = _dicts(
                conn.execute(
                    select(*_columns(invoices, InvoiceDetail)).where(
                        self._owned(invoices, account_id), invoices.c.id.in_(invoice_ids)
                    )
                )
            )
            lines = _lines_on(conn, [row["id"] for row in rows])
        return {row["id"]: InvoiceDetail(**row, line_items=lines[row["id"]]) for row in rows}

    def payments_in(self, account_id: str, invoice_ids: list[str]) -> dict[str, list[PaymentView]]:
        """The payments of the account's invoices among ``invoice_ids``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_columns(payments, PaymentView))
                .join(invoices, invoices.c.id == payments.c.invoice_id)
                .where(self._owned(invoices, account_id), payments.c.invoice_id.in_(invoice_ids))
                .order_by(payments.c.recorded_at, payments.c.id)
            )
            found: dict[str, list[PaymentView]] = {invoice_id: [] for invoice_id in invoice_ids}
            for row in rows:
                found[row.invoice_id].append(PaymentView(**row._mapping))
            return found

    def shared_invoice(self, share_token: str) -> InvoiceDetail | None:
        """The invoice behind a share link, whatever its account."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(invoices.c.id, invoices.c.account_id).where(invoices.c.share_token == share_token)
            ).first()
        return None if row is None else self.invoice(str(row.account_id), str(row.id))

    def overdue_candidates(self, today: date, limit: int = 1000) -> list[str]:
        """Sent invoices with a balance whose due date has passed and that are not yet overdue."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(invoices.c.id)
                .where(invoices.c.status.in_(("SENT", "VIEWED", "PARTIALLY_PAID")), invoices.c.due_date < today)
                .order_by(invoices.c.due_date, invoices.c.id)
                .limit(limit)
            )
            return [str(row.id) for row in rows]


def _invoice_on(conn: Connection, account_id: str, invoice_id: str) -> InvoiceDetail | None:
    """An invoice with its lines, read on ``conn``."""
    row = conn.execute(_INVOICE, {"invoice": invoice_id, "account": account_id}).first()
    if row is None:
        return None
    lines = conn.execute(_LINES, {"invoice": invoice_id})
    return InvoiceDetail(**row._mapping, line_items=[LineView(**line._mapping) for line in lines])


def _owned_on(table: Table, account_id: str, dialect: str) -> Any:
    """``ReadModel._owned`` for a function given the dialect."""
    if dialect == "sqlite":
        return literal_column(f'+"{table.name}".account_id') == account_id
    return table.c.account_id == account_id


def _clients_on(conn: Connection, account_id: str, client_ids: list[str], dialect: str) -> dict[str, ClientView]:
    """The account's clients among ``client_ids``, by id, in one query on ``conn``."""
    rows = conn.execute(
        select(*_columns(clients, ClientView)).where(
            _owned_on(clients, account_id, dialect), clients.c.id.in_(client_ids)
        )
    )
    return {row["id"]: ClientView(**row) for row in _dicts(rows)}


# The lines of many invoices, built once; a line's columns are LineView's fields in order,
# so a line is made from its row by position.
_LINES_OF = (
    select(*_columns(line_items, LineView), line_items.c.invoice_id)
    .where(line_items.c.invoice_id.in_(bindparam("invoices", expanding=True)))
    .order_by(line_items.c.invoice_id, line_items.c.position)
)
assert [c.name for c in _LINES_OF.selected_columns][:-1] == [f.name for f in fields(LineView)]


def _lines_on(conn: Connection, invoice_ids: list[str]) -> dict[str, list[LineView]]:
    """The lines of these invoices, in order, by invoice id, in one query on ``conn``."""
    lines: dict[str, list[LineView]] = {invoice_id: [] for invoice_id in invoice_ids}
    if lines:
        for line in conn.execute(_LINES_OF, {"invoices": list(lines)}):
            lines[line[-1]].append(LineView(*line[:-1]))
    return lines


def _dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """The rows as dicts, their names read once (a row's own mapping makes its keys anew
    for every row, which cost more than reading the rows)."""
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


@dataclass(frozen=True)
class _Listed:
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


def _invoice_list(account_id: str, search: str | None, client_id: str | None, status: str | None) -> _Listed:
    filters = []
    if client_id is not None:
        filters.append(invoices.c.client_id == client_id)
    if status is not None:
        filters.append(invoices.c.status == status)
    counted = None if search else (account_id, invoice_scope(client_id, status))
    return _Listed(
        invoices, account_id, filters, fold(search) if search else None, counted, invoice_scope(), client_id is not None
    )


def _after(table: Table, start: SortKey) -> Any:
    """The rows after ``start`` in a list's order (a keyset page)."""
    return tuple_(table.c.created_at, table.c.id) < tuple_(
        bindparam("start_at", start.created_at, type_=table.c.created_at.type),
        bindparam("start_id", start.id, type_=table.c.id.type),
    )
