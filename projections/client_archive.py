"""Deactivated clients: the ones the API's lists leave out, which the dashboard offers to
reactivate. Same search and order as ``ReadModel.clients``."""

from dataclasses import fields

from sqlalchemy import Engine, func, or_, select

from projections.folding import fold
from projections.tables import clients
from projections.views import ClientView, Page


def deactivated_clients(engine: Engine, account_id: str, page: int, limit: int, search: str | None) -> Page[ClientView]:
    columns = [clients.c[f.name] for f in fields(ClientView)]
    query = select(*columns).where(clients.c.account_id == account_id, clients.c.is_active.is_(False))
    if search:
        escaped = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(clients.c.name_folded.like(pattern, escape="\\"), clients.c.email_folded.like(pattern, escape="\\"))
        )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        offset = (page - 1) * limit
        rows = []
        if offset < total:
            ordered = query.order_by(clients.c.updated_at.desc(), clients.c.id.desc()).limit(limit).offset(offset)
            rows = list(conn.execute(ordered))
    return Page([ClientView(**row._mapping) for row in rows], total, page, limit)
