"""Accounts and their API keys: the rows of ``accounts`` and ``api_keys``."""

from sqlalchemy import Connection, insert, update

from projections.handlers.events import (
    Account,
    AccountOpened,
    ApiKeyIssued,
    ApiKeyRevoked,
    Changed,
    PlanChanged,
)
from projections.handlers.registry import Handlers
from projections.handlers.rows import Rows
from projections.handlers.times import naive_utc

handlers = Handlers()


@handlers.handles(Account.AccountOpened)
def account_opened(rows: Rows, conn: Connection, e: AccountOpened) -> None:
    at = naive_utc(e.timestamp)
    conn.execute(
        insert(rows.t.accounts).values(
            id=str(e.originator_id), name=e.name, plan=e.plan, locale=e.locale, created_at=at, updated_at=at
        )
    )


@handlers.handles(Account.PlanChanged)
def plan_changed(rows: Rows, conn: Connection, e: PlanChanged) -> None:
    conn.execute(
        update(rows.t.accounts)
        .where(rows.t.accounts.c.id == str(e.originator_id))
        .values(plan=e.plan, updated_at=naive_utc(e.timestamp))
    )


@handlers.handles(Account.AccountUpdated)
def account_updated(rows: Rows, conn: Connection, e: Changed) -> None:
    conn.execute(
        update(rows.t.accounts)
        .where(rows.t.accounts.c.id == str(e.originator_id))
        .values(**e.changes, updated_at=naive_utc(e.timestamp))
    )


@handlers.handles(Account.ApiKeyIssued)
def key_issued(rows: Rows, conn: Connection, e: ApiKeyIssued) -> None:
    conn.execute(
        insert(rows.t.api_keys).values(
            id=str(e.key_id),
            account_id=str(e.originator_id),
            name=e.name,
            key_hash=e.key_hash,
            prefix=e.prefix,
            created_at=naive_utc(e.timestamp),
        )
    )


@handlers.handles(Account.ApiKeyRevoked)
def key_revoked(rows: Rows, conn: Connection, e: ApiKeyRevoked) -> None:
    conn.execute(
        update(rows.t.api_keys).where(rows.t.api_keys.c.id == str(e.key_id)).values(revoked_at=naive_utc(e.timestamp))
    )
