"""A rebuild's rows: what it wrote is kept in memory, so an invoice's life costs no SQL.

A rebuild's tables are written by the rebuild alone, so what it wrote stays true. Here a
new invoice waits as its row (``drafts``) until the transaction ends, and the lifecycle's
handlers (``handlers.lifecycle``, the live projector's own: they read and write through
``Rows``' lifecycle methods) change that row in place; once written, the columns the
lifecycle reads and writes stay in memory (``states``, at most ``INVOICES_REMEMBERED``,
oldest first out), and the ones changed go back in one ``executemany`` of one UPDATE.
An invoice not in memory is read in one statement with its payments; the replay
(``projections.replay``) reads the invoices a batch's events name at once (``load``).

``add_created`` makes an ``InvoiceCreated``'s rows from the stored JSON without the event
object (``handlers.stored_invoices``); JSON of another shape returns False, and the event
goes through its handler as live.
"""

from decimal import Decimal
from itertools import islice
from typing import Any

import msgspec
from sqlalchemy import BindParameter, Connection, Table, bindparam, select, update
from sqlalchemy.exc import NoResultFound

from database.bulk import BulkInsert
from projections import search
from projections.handlers import stored_invoices
from projections.handlers.rows import CLIENTS_REMEMBERED, FACTS, Rows
from projections.handlers.stored_invoices import LINE_COLUMNS
from projections.handlers.times import zero_like
from projections.tables import ReadTables

INVOICES_REMEMBERED = 5_000  # invoices whose lifecycle columns a rebuild keeps between transactions
DRAFTS_HELD = 1_000  # new invoices kept before they are written (the replay writes them then)
LOAD_ROWS = 500  # invoices read per statement
# What the lifecycle's handlers write of an invoice (``handlers.lifecycle``), beside ``FACTS``.
WRITTEN = (
    "status",
    "amount_paid",
    "balance_due",
    "version",
    "updated_at",
    "sent_at",
    "paid_at",
    "viewed_at",
    "overdue_at",
    "voided_at",
    "void_reason",
    "share_token",
    "sends",
    "sent_via_email",
    "emailed_send",
    "email_status",
    "email_reply",
)
KEPT = tuple(dict.fromkeys(FACTS + WRITTEN))
PAID = "_paid"  # in a kept invoice: its payments not reversed, by id


class ReplayRows(Rows):
    """``Rows`` for a rebuild's tables, keeping what the rebuild wrote (see the module)."""

    def __init__(self, tables: ReadTables) -> None:
        super().__init__(tables)
        self.sole_writer = True
        self.searched = False
        self.drafts: dict[str, dict[str, Any]] = {}  # new invoices' rows, not yet inserted
        self.lines: list[tuple[Any, ...]] = []  # their lines, as the driver takes them
        self.states: dict[str, dict[str, Any]] = {}  # written invoices: KEPT columns and PAID
        self.dirty: set[str] = set()  # written invoices whose kept columns changed
        self.payments: list[dict[str, Any]] = []
        self.reversals: list[dict[str, Any]] = []  # payments written, then reversed
        if set(LINE_COLUMNS) != {column.name for column in tables.line_items.columns}:
            raise RuntimeError("LINE_COLUMNS no longer names the line items' columns")
        self.blank = dict.fromkeys(column.name for column in tables.invoices.columns)
        t = tables
        self._load_invoices = select(*(t.invoices.c[name] for name in ("id", *KEPT))).where(
            t.invoices.c.id.in_(bindparam("ids", expanding=True))
        )
        self._load_payments = select(t.payments.c.invoice_id, t.payments.c.id, t.payments.c.amount).where(
            t.payments.c.invoice_id.in_(bindparam("ids", expanding=True)), t.payments.c.reversed_at.is_(None)
        )
        reversed_at: BindParameter[Any] = bindparam("reversed_at")
        self._reverse = update(t.payments).where(t.payments.c.id == bindparam("row_id")).values(reversed_at=reversed_at)
        self._update = (
            update(t.invoices)
            .where(t.invoices.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in WRITTEN})
        )

    # --- new invoices ------------------------------------------------------------------

    def add_created(self, conn: Connection, invoice_id: str, version: int, stored: bytes) -> bool:
        """An ``InvoiceCreated``'s rows from its stored JSON (``handlers.stored_invoices``);
        False: JSON of another shape, nothing done (its handler makes the rows)."""
        try:
            e, texts = stored_invoices.decoded(stored)
            made = stored_invoices.invoice_row(invoice_id, version, e, str(zero_like(Decimal(e.total.text))))
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError, ArithmeticError):
            return False
        row = dict(self.blank)
        row.update(made)
        row.update(texts)
        row.update(self.client_columns(conn, made["client_id"]))
        row[PAID] = {}
        self.drafts[invoice_id] = row
        self.lines.extend(stored_invoices.line_rows(invoice_id, e))
        self.count_invoice(row, 1)
        return True

    # --- an invoice's life, from memory ----------------------------------------------------

    def _state(self, conn: Connection, invoice_id: str) -> dict[str, Any] | None:
        found = self.drafts.get(invoice_id) or self.states.get(invoice_id)
        if found is None:
            self.load(conn, [invoice_id])
            found = self.states.get(invoice_id)
        return found

    def load(self, conn: Connection, ids: list[str]) -> None:
        """Reads these written invoices' kept columns and payments into memory."""
        for at in range(0, len(ids), LOAD_ROWS):
            chunk = ids[at : at + LOAD_ROWS]
            for found in conn.execute(self._load_invoices, {"ids": chunk}):
                state = dict(found._mapping)
                state[PAID] = {}
                self.states[state.pop("id")] = state
            for paid in conn.execute(self._load_payments, {"ids": chunk}):
                self.states[paid.invoice_id][PAID][paid.id] = paid.amount

    def known(self, invoice_id: str) -> bool:
        return invoice_id in self.drafts or invoice_id in self.states

    def invoice_facts(self, conn: Connection, invoice_id: str) -> tuple[dict[str, Any], list[Decimal]] | None:
        found = self._state(conn, invoice_id)
        if found is None:
            return None
        facts = {name: found.get(name) for name in FACTS}
        if type(facts["total"]) is str:
            facts["total"] = Decimal(facts["total"])
        return facts, list(found[PAID].values())

    def write_invoice(self, conn: Connection, invoice_id: str, values: dict[str, Any]) -> None:
        found = self._state(conn, invoice_id)
        if found is None:  # the lifecycle read it first: it is there
            raise NoResultFound(f"No invoice {invoice_id} in the rebuild's tables")
        found.update(values)
        if invoice_id not in self.drafts:
            self.dirty.add(invoice_id)

    def add_payment(self, conn: Connection, row: dict[str, Any]) -> None:
        found = self._state(conn, row["invoice_id"])
        if found is not None:  # else the lifecycle refuses the event next, as live
            found[PAID][row["id"]] = row["amount"]
        self.payments.append(row)

    def reverse_payment(self, conn: Connection, invoice_id: str, payment_id: str, at: Any) -> None:
        found = self._state(conn, invoice_id)
        if found is not None:
            found[PAID].pop(payment_id, None)
        for row in self.payments:  # not written yet
            if row["id"] == payment_id:
                row["reversed_at"] = at
                return
        self.reversals.append({"row_id": payment_id, "reversed_at": at})

    def email_outcome(
        self, conn: Connection, invoice_id: str, version: int, send: int, outcome: str, reply: str | None
    ) -> None:
        found = self._state(conn, invoice_id)
        if found is None:  # as live: the UPDATEs find no row
            return
        values: dict[str, Any] = {"version": version}
        if found["emailed_send"] == send:
            values.update(email_status=outcome, email_reply=reply)
        self.write_invoice(conn, invoice_id, values)

    def forget_invoice(self, invoice_id: str) -> None:
        """After a handler wrote an invoice as live: what is kept of it may be stale."""
        self.states.pop(invoice_id, None)
        self.dirty.discard(invoice_id)

    # --- writing ---------------------------------------------------------------------

    def flush_all(self, conn: Connection) -> None:
        """Writes everything kept that is not written yet: new rows, payments, changed invoices."""
        t = self.t
        if self.drafts:
            drafts = self.drafts
            self.insert(conn, t.invoices, list(drafts.values()))
            self._raw(conn, t.line_items, LINE_COLUMNS, self.lines)
            self.lines.clear()
            if self.searched:
                search.add_all(conn, t.invoices, list(drafts))
            states = self.states
            for invoice_id, row in drafts.items():
                states[invoice_id] = {name: row.get(name) for name in (*KEPT, PAID)}
            drafts.clear()
        self.flush_new(conn)
        if self.payments:
            self.insert(conn, t.payments, self.payments)
            self.payments.clear()
        if self.reversals:
            conn.execute(self._reverse, self.reversals)
            self.reversals.clear()
        if self.dirty:
            states = self.states
            conn.execute(self._update, [{"row_id": i, **{n: states[i][n] for n in WRITTEN}} for i in self.dirty])
            self.dirty.clear()
        excess = len(self.states) - INVOICES_REMEMBERED
        if excess > 0:
            for invoice_id in list(islice(self.states, excess)):
                del self.states[invoice_id]
        if len(self.clients) > CLIENTS_REMEMBERED:
            self.clients.clear()

    def _raw(self, conn: Connection, table: Table, names: tuple[str, ...], values: list[tuple[Any, ...]]) -> None:
        key = f"{table.name}:{','.join(names)}"
        bulk = self._bulk.get(key)
        if bulk is None:
            bulk = self._bulk[key] = BulkInsert(table, conn, names)
        bulk.raw(conn, values)
