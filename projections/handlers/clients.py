"""Clients: the rows of ``clients``, the active clients' count, and the client columns
each of the client's invoices copies (and is searched by)."""

from typing import Any

from sqlalchemy import Connection, select, update

from projections.folding import fold
from projections.handlers.events import Changed, Client, ClientCreated, Recorded
from projections.handlers.registry import Handlers
from projections.handlers.rows import Rows, client_values
from projections.handlers.times import naive_utc
from projections.tables import ACTIVE_CLIENTS

handlers = Handlers()
COPIED = ("name", "email", "name_folded", "email_folded")  # what invoices copy of their client


@handlers.handles(Client.ClientCreated, adds_only=True)
def client_created(rows: Rows, conn: Connection, e: ClientCreated) -> None:
    at = naive_utc(e.timestamp)
    client_id = str(e.originator_id)
    rows.new["clients"].append(
        {
            "id": client_id,
            "account_id": str(e.account_id),
            "name": e.name,
            "email": e.email,
            "address": e.address,
            "tax_id": e.tax_id,
            "phone": e.phone,
            "notes": e.notes,
            "is_active": True,
            "created_at": at,
            "updated_at": at,
            "name_folded": fold(e.name),
            "email_folded": fold(e.email),
        }
    )
    rows.count(str(e.account_id), ACTIVE_CLIENTS, 1)
    rows.clients[client_id] = client_values(e.name, e.email)


@handlers.handles(Client.ClientUpdated)
def client_updated(rows: Rows, conn: Connection, e: Changed) -> None:
    t = rows.t
    client_id = str(e.originator_id)
    values: dict[str, Any] = dict(e.changes)
    for field in ("name", "email"):
        if field in values:
            values[f"{field}_folded"] = fold(values[field])
    searched = "name" in values or "email" in values
    if searched:
        rows.unindex(conn, t.clients, "id", client_id)
    conn.execute(
        update(t.clients).where(t.clients.c.id == client_id).values(**values, updated_at=naive_utc(e.timestamp))
    )
    rows.clients.pop(client_id, None)
    denormalised = {f"client_{key}": value for key, value in values.items() if key in COPIED}
    if searched:
        rows.reindex(conn, t.clients, "id", client_id)
        rows.unindex(conn, t.invoices, "client_id", client_id)
    if denormalised:
        conn.execute(update(t.invoices).where(t.invoices.c.client_id == client_id).values(**denormalised))
    if searched:
        rows.reindex(conn, t.invoices, "client_id", client_id)


@handlers.handles(Client.ClientDeactivated)
def client_deactivated(rows: Rows, conn: Connection, e: Recorded) -> None:
    _set_active(rows, conn, e, False)


@handlers.handles(Client.ClientReactivated)
def client_reactivated(rows: Rows, conn: Connection, e: Recorded) -> None:
    _set_active(rows, conn, e, True)


def _set_active(rows: Rows, conn: Connection, e: Recorded, active: bool) -> None:
    t = rows.t
    row = conn.execute(
        select(t.clients.c.account_id, t.clients.c.is_active).where(t.clients.c.id == str(e.originator_id))
    ).one()
    if bool(row.is_active) != active:
        rows.count(str(row.account_id), ACTIVE_CLIENTS, 1 if active else -1)
    conn.execute(
        update(t.clients)
        .where(t.clients.c.id == str(e.originator_id))
        .values(is_active=active, updated_at=naive_utc(e.timestamp))
    )
