"""What the handlers write through: one set of read-model tables, and what a batch keeps
of them between events.

New clients, invoices and their lines are buffered and written a batch at a time (one
executemany, or COPY, per table) until an event that reads or changes rows comes
(``flush_new``); changes to the lists' counts add up in memory and are written once per
batch (``flush_counts``); the client columns invoices copy are remembered within a batch,
or across a rebuild's batches, whose tables nobody else writes.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Connection, Table, and_, bindparam, insert, select, update

from database.bulk import BulkInsert
from database.statements import upsert
from projections import search
from projections.folding import fold
from projections.tables import ReadTables, invoice_scopes

CLIENTS_REMEMBERED = 100_000  # a rebuild's memory of client columns, across its batches
# An invoice's facts read by its lifecycle's events, beside the amounts of its payments.
FACTS = ("account_id", "client_id", "status", "total", "sent_at", "viewed_at", "overdue_at", "voided_at")


class Rows:
    """The rows of one set of read-model tables (the live ones, or a rebuild's beside them)."""

    def __init__(self, tables: ReadTables) -> None:
        self.t = tables
        # The live tables are written by every process's projector: what one read is only
        # true within its transaction. A rebuild's are written by the rebuild alone.
        self.sole_writer = False
        # Whether rows go into the search index as they are written; a rebuild's bulk load
        # leaves it out and builds it from the filled tables instead (``projections.search``).
        self.searched = True
        self.clients: dict[str, dict[str, Any]] = {}  # client columns invoices copy
        self.deltas: dict[tuple[str, str], int] = {}  # changes to read_counts, within a batch
        self.new: dict[str, list[dict[str, Any]]] = {"clients": [], "invoices": [], "lines": []}
        self._bulk: dict[str, BulkInsert] = {}  # by table name: its statement for many new rows
        # Statements run for most events, built once (building one per row costs more than running it).
        invoice_id: BindParameter[str] = bindparam("row_id")
        # An invoice's facts and the amounts of its payments not reversed, in one statement:
        # a row per payment (one with no amount when there is none).
        paid = and_(tables.payments.c.invoice_id == tables.invoices.c.id, tables.payments.c.reversed_at.is_(None))
        self.facts_of_invoice = (
            select(*(tables.invoices.c[name] for name in FACTS), tables.payments.c.amount)
            .select_from(tables.invoices.outerjoin(tables.payments, paid))
            .where(tables.invoices.c.id == invoice_id)
        )
        self.update_invoice = update(tables.invoices).where(tables.invoices.c.id == invoice_id)

    # --- batches ----------------------------------------------------------------------

    def start_batch(self) -> None:
        """Before a batch: what other processes may have changed since is forgotten."""
        if not self.sole_writer or len(self.clients) > CLIENTS_REMEMBERED:
            self.clients.clear()
        self.forget_unwritten()

    def forget(self) -> None:
        """After a batch that failed: nothing kept is trusted."""
        self.clients.clear()
        self.forget_unwritten()

    def forget_unwritten(self) -> None:
        """Drops what a failed batch buffered and never wrote (its transaction rolled back,
        a connection lost mid-way): the batch is read again from the stored position, and
        rows kept from the failed try were inserted twice (a duplicate key, every try)."""
        self.deltas.clear()
        for rows in self.new.values():
            rows.clear()

    def flush_new(self, conn: Connection) -> None:
        """Writes the rows the batch added so far, a table at a time, and indexes them."""
        new = self.new
        if new["clients"]:
            self.insert(conn, self.t.clients, new["clients"])
            if self.searched:
                search.add_all(conn, self.t.clients, [row["id"] for row in new["clients"]])
            new["clients"].clear()
        if new["invoices"]:
            self.insert(conn, self.t.invoices, new["invoices"])
            self.insert(conn, self.t.line_items, new["lines"])
            if self.searched:
                search.add_all(conn, self.t.invoices, [row["id"] for row in new["invoices"]])
            new["invoices"].clear()
            new["lines"].clear()

    def insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        bulk = self._bulk.get(table.name)
        if bulk is None:
            bulk = self._bulk[table.name] = BulkInsert(table, conn)
        bulk(conn, rows)

    # --- the search index ---------------------------------------------------------------

    def unindex(self, conn: Connection, table: Table, column: str, value: str) -> None:
        if self.searched:
            search.remove(conn, table, column, value)

    def reindex(self, conn: Connection, table: Table, column: str, value: str) -> None:
        if self.searched:
            search.add(conn, table, column, value)

    # --- counts ---------------------------------------------------------------------

    def count(self, account_id: str, scope: str, delta: int) -> None:
        key = (account_id, scope)
        self.deltas[key] = self.deltas.get(key, 0) + delta

    def count_invoice(self, row: Any, delta: int) -> None:
        """An invoice (``account_id``, ``client_id``, ``status``) enters or leaves the lists."""
        account, client, status = str(row["account_id"]), str(row["client_id"]), str(row["status"])
        for scope in invoice_scopes(client, status):
            self.count(account, scope, delta)

    def flush_counts(self, conn: Connection) -> None:
        """Adds the batch's changes to ``read_counts`` (a scope touched keeps its row, even
        at zero, so the live read model and a rebuilt one have the same rows)."""
        if not self.deltas:
            return
        rows = [{"account_id": a, "scope": scope, "n": n} for (a, scope), n in self.deltas.items()]
        statement = upsert(conn, self.t.counts)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["account_id", "scope"], set_={"n": self.t.counts.c.n + statement.excluded.n}
            ),
            rows,
        )
        self.deltas.clear()

    # --- an invoice's life (``handlers.lifecycle``) ------------------------------------------
    # The lifecycle's handlers read and write an invoice through these, so a rebuild can keep
    # what it wrote in memory instead (``handlers.replay_rows.ReplayRows``).

    def invoice_facts(self, conn: Connection, invoice_id: str) -> tuple[dict[str, Any], list[Decimal]] | None:
        """An invoice's ``FACTS`` and the amounts of its payments not reversed; None if there is no such invoice."""
        found = conn.execute(self.facts_of_invoice, {"row_id": invoice_id}).all()
        if not found:
            return None
        facts = dict(found[0]._mapping)
        del facts["amount"]
        return facts, [paid.amount for paid in found if paid.amount is not None]

    def write_invoice(self, conn: Connection, invoice_id: str, values: dict[str, Any]) -> None:
        """Sets these columns of an invoice."""
        conn.execute(self.update_invoice, {"row_id": invoice_id, **values})

    def add_payment(self, conn: Connection, row: dict[str, Any]) -> None:
        """A new payment's row (before its invoice's facts are read again)."""
        conn.execute(insert(self.t.payments), [row])

    def reverse_payment(self, conn: Connection, invoice_id: str, payment_id: str, at: Any) -> None:
        """Marks a payment of ``invoice_id`` reversed at ``at``."""
        payments = self.t.payments
        conn.execute(update(payments).where(payments.c.id == payment_id).values(reversed_at=at))

    def email_outcome(
        self, conn: Connection, invoice_id: str, version: int, send: int, outcome: str, reply: str | None
    ) -> None:
        """An invoice's version moves on; its email status is ``outcome`` if its last emailed send is ``send``."""
        invoices = self.t.invoices
        this = invoices.c.id == invoice_id
        conn.execute(update(invoices).where(this).values(version=version))
        emailed = update(invoices).where(this, invoices.c.emailed_send == send)
        conn.execute(emailed.values(email_status=outcome, email_reply=reply))

    # --- what invoices copy of their client ------------------------------------------------

    def client_columns(self, conn: Connection, client_id: str) -> dict[str, Any]:
        found = self.clients.get(client_id)
        if found is None:
            row = conn.execute(
                select(self.t.clients.c.name, self.t.clients.c.email).where(self.t.clients.c.id == client_id)
            ).one()
            found = self.clients[client_id] = client_values(row.name, row.email)
        return found


def client_values(name: str, email: str | None) -> dict[str, Any]:
    """What an invoice copies of its client (and searches by)."""
    return {
        "client_name": name,
        "client_email": email,
        "client_name_folded": fold(name),
        "client_email_folded": fold(email),
    }
