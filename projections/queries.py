"""The read side: indexed SQL over the read model, never a replay of events."""

from dataclasses import fields
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, literal_column, select

from projections.folding import fold
from projections.paging import Listed, Pager, dicts, invoice_list
from projections.tables import (
    ACTIVE_CLIENTS,
    accounts,
    api_keys,
    clients,
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


class ReadModel:
    """Queries for one read-model database; every method is scoped to an account."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._pages = Pager(engine)

    def _owned(self, table: Table, account_id: str) -> Any:
        """``account_id = :account`` for a query that names its rows by id: on SQLite written
        ``+account_id``, so the ids are looked up by key instead of the planner (without
        statistics) walking every row of the account through the list's index."""
        return _owned_on(table, account_id, self.dialect)

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
        listed = Listed(
            clients,
            account_id,
            [clients.c.is_active.is_(True)],
            fold(search) if search else None,
            None if search else (account_id, ACTIVE_CLIENTS),
            ACTIVE_CLIENTS,
        )
        return self._pages.list(listed, _columns(clients, ClientView), ClientView, page, limit, start)

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
        listed = invoice_list(account_id, search, client_id, status)
        return self._pages.list(listed, _columns(invoices, InvoiceSummary), InvoiceSummary, page, limit, start)

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
        listed = invoice_list(account_id, search, client_id, status)
        return self._pages.list(listed, _columns(invoices, view), view, page, limit, start, build), clients_of

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
            rows = dicts(
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
    return {row["id"]: ClientView(**row) for row in dicts(rows)}


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
