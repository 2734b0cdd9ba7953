"""A page after a cursor is a range of the list's index, not a walk from the list's head:
the keyset condition ``(created_at, id) < (:at, :id)`` is an index condition in the plan of
either database (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from gateway.services import Services
from projections.views import Page, SortKey
from tests.conftest import Api


def plan_of(services: Services, read: Callable[[], Page[Any]]) -> str:
    """The plan of the page query ``read`` runs."""
    engine = services.read.engine
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if " LIMIT " in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, parameters = seen[-1]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            return "\n".join(str(row[-1]) for row in rows)
        # a few rows are cheaper read whole: ask whether the index can serve the range at all
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).fetchall()
        return "\n".join(str(row[0]) for row in rows)


def test_a_page_after_a_cursor_is_a_range_of_the_lists_index(api: Api, services: Services) -> None:
    client = api.create_client(name="Acme")
    for _ in range(3):
        api.create_invoice(client["id"])
    account, read = str(api.tenant.account_id), services.read  # type: ignore[union-attr]
    invoices = read.invoices(account, 1, 2)
    clients = read.clients(account, 1, 1)
    after_invoice, after_client = SortKey.of(invoices.items[-1]), SortKey.of(clients.items[-1])

    for plan, index in (
        (plan_of(services, lambda: read.invoices(account, 1, 2, start=after_invoice)), "ix_invoices_list"),
        (plan_of(services, lambda: read.clients(account, 1, 1, start=after_client)), "ix_clients_list"),
    ):
        assert index in plan, plan
        if services.read.dialect == "sqlite":
            assert "(created_at,id)<(?,?)" in plan and "TEMP B-TREE" not in plan, plan
        else:
            condition = next(line for line in plan.splitlines() if "Index Cond" in line)
            assert "ROW(created_at" in condition, plan
