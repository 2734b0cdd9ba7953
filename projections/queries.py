"""The read side: indexed SQL over the read model, never a replay of events."""

from dataclasses import fields
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, Table, and_, bindparam, func, literal_column, select, tuple_

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
TOTAL = "_total"  # the window count a searched page carries beside its columns
MAX_OFFSET = 2**62  # past any number of rows


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
        if self.dialect == "sqlite":
            return literal_column(f'+"{table.name}".account_id') == account_id
        return table.c.account_id == account_id

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
    ) -> Page[V]:
        """A page of ``query``, newest first; ``counted`` names the ``read_counts`` row that
        holds its total (account, scope), else the matching rows are counted, in the same
        query as the page (a search is run once, not once to count and once to read).
        With ``start``, the page is the rows after that key (a keyset page)."""
        order: tuple[Any, ...] = (table.c.created_at.desc(), table.c.id.desc())
        if few and self.dialect == "sqlite":
            # Rows that an index finds few of (one client's invoices): sorted after they are
            # found. Without statistics SQLite would rather walk the whole account in list
            # order to skip the sort ("+" keeps that index out of the ORDER BY).
            order = (literal_column(f'+"{table.name}".created_at').desc(), literal_column(f'"{table.name}".id').desc())
        if start is not None:
            return self._keyset_page(table, query, view, limit, counted, order, start)
        offset = (page - 1) * limit
        with self.engine.connect() as conn:
            if counted is None:
                rows: list[Any] = []
                if offset < MAX_OFFSET:  # keeps absurd page numbers away from SQL
                    with_total = query.add_columns(func.count().over().label(TOTAL))
                    rows = list(conn.execute(with_total.order_by(*order).limit(limit).offset(offset)))
                if rows:
                    total = int(rows[0]._mapping[TOTAL])
                else:  # past the last page: the count alone
                    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                items = [view(**{k: v for k, v in row._mapping.items() if k != TOTAL}) for row in rows]
                return Page(items, total, page, limit)
            total = self._counted(conn, counted)
            rows = []
            if offset < total:  # also keeps absurd page numbers away from SQL
                rows = list(conn.execute(query.order_by(*order).limit(limit).offset(offset)))
        return Page([view(**row._mapping) for row in rows], total, page, limit)

    def _keyset_page(
        self,
        table: Table,
        query: Select[Any],
        view: type[V],
        limit: int,
        counted: tuple[str, str] | None,
        order: tuple[Any, ...],
        start: SortKey,
    ) -> Page[V]:
        """The rows after ``start`` in the list's order: ``(created_at, id) < (:at, :id)``, a
        range of the list's index (each list's index ends in created_at, id), so a page
        costs the same wherever it starts, and rows written meanwhile (newer, so before
        ``start``) neither push rows onto it nor off it. One row past ``limit`` is read to
        know whether more follow. ``page`` is reported as 1: a keyset page is not counted
        from the first."""
        after = tuple_(table.c.created_at, table.c.id) < tuple_(
            bindparam("start_at", start.created_at, type_=table.c.created_at.type),
            bindparam("start_id", start.id, type_=table.c.id.type),
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query.where(after).order_by(*order).limit(limit + 1)))
            if counted is None:
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            else:
                total = self._counted(conn, counted)
        items = [view(**row._mapping) for row in rows[:limit]]
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
        term = fold(search) if search else None
        query = select(*_columns(clients, ClientView)).where(
            searching.owned_by(clients, account_id, term, self.dialect), clients.c.is_active.is_(True)
        )
        if term:
            query = query.where(searching.matching(clients, term, self.dialect))
        counted = None if search else (account_id, ACTIVE_CLIENTS)
        return self._page(clients, query, ClientView, page, limit, counted, start=start)

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
        term = fold(search) if search else None
        conditions = [searching.owned_by(invoices, account_id, term, self.dialect)]
        if client_id is not None:
            conditions.append(invoices.c.client_id == client_id)
        if status is not None:
            conditions.append(invoices.c.status == status)
        if term:
            conditions.append(searching.matching(invoices, term, self.dialect))
        query = select(*_columns(invoices, InvoiceSummary)).where(and_(*conditions))
        counted = None if search else (account_id, invoice_scope(client_id, status))
        return self._page(invoices, query, InvoiceSummary, page, limit, counted, few=client_id is not None, start=start)

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
            rows = conn.execute(
                select(*_columns(clients, ClientView)).where(
                    self._owned(clients, account_id), clients.c.id.in_(client_ids)
                )
            )
            return {row.id: ClientView(**row._mapping) for row in rows}

    def invoices_in(self, account_id: str, invoice_ids: list[str]) -> dict[str, InvoiceDetail]:
        """Details with their lines: two queries for any number of invoices."""
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(*_columns(invoices, InvoiceDetail)).where(
                        self._owned(invoices, account_id), invoices.c.id.in_(invoice_ids)
                    )
                )
            )
            lines: dict[str, list[LineView]] = {row.id: [] for row in rows}
            if lines:
                found = conn.execute(
                    select(line_items.c.invoice_id, *_columns(line_items, LineView))
                    .where(line_items.c.invoice_id.in_(list(lines)))
                    .order_by(line_items.c.invoice_id, line_items.c.position)
                )
                for line in found:
                    values = dict(line._mapping)
                    lines[values.pop("invoice_id")].append(LineView(**values))
        return {row.id: InvoiceDetail(**row._mapping, line_items=lines[row.id]) for row in rows}

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
