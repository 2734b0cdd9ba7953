"""The plain peer (issue 26): what a user would write instead of CleverInvo for the same three
routes, about 150 lines of Starlette + SQLAlchemy Core on one SQLite file (WAL), no events.

``GET /api/v1/invoices/{id}``, ``GET /api/v1/invoices`` (a page, newest first) and
``POST /api/v1/invoices`` take and give the same JSON as ours; a Bearer key is checked by one
indexed lookup of its SHA-256, a new invoice's client must be an active client of the key's
account, totals are Decimal as ``domain.money.price_lines`` computes them, and a create is
one transaction (BEGIN IMMEDIATE ... COMMIT). It runs under ``gateway.cli.server.server_config``
like ``bench/baseline.py``, so it differs from ours in the application only.

    python bench/peer.py --copy-from DATA_DIR --db peer.sqlite3   # our read model's rows, copied
    python bench/peer.py --db peer.sqlite3 --port N                # serve
"""

import argparse
import base64
import hashlib
import json
import os
import sqlite3
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, Table, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))  # the server settings of the code under test

meta = MetaData()
S = String
keys = Table(
    "api_keys", meta, Column("key_hash", S, primary_key=True), Column("account_id", S), Column("revoked_at", S)
)
clients = Table(
    "clients",
    meta,
    Column("id", S, primary_key=True),
    *(Column(n, S) for n in ("account_id", "name", "email")),
    Column("is_active", Integer),
)
MONEY = {"subtotal", "tax_total", "discount_total", "total", "amount_paid", "balance_due"}
SUMMARY: tuple[str, ...] = ("id", "client_id", "invoice_number", "currency", "issue_date", "due_date")
SUMMARY += ("subtotal", "tax_total", "discount_total", "total", "status", "amount_paid", "balance_due")
SUMMARY += ("created_at", "updated_at")
LATER = ("notes", "terms", "po_number", "sent_at", "paid_at", "viewed_at", "overdue_at", "voided_at", "void_reason")
invoices = Table(
    "invoices",
    meta,
    Column("id", S, primary_key=True),
    *(Column(n, S) for n in ("account_id", *SUMMARY[1:], *LATER, "share_token", "email_status", "email_reply")),
    Column("seq", Integer),
    Column("sent_via_email", Integer),
    Index("ix_peer_list", "account_id", "created_at", "id"),
    Index("ix_peer_seq", "account_id", "seq", unique=True),
    Index("ix_peer_number", "account_id", "invoice_number", unique=True),
)
LINE = ("description", "quantity", "unit_price", "amount", "tax_rate", "discount_rate", "discount")
lines = Table(
    "invoice_lines",
    meta,
    Column("invoice_id", S, primary_key=True),
    Column("position", Integer, primary_key=True),
    *(Column(n, S) for n in LINE),
)
MINOR = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KWD": 3}
ENCODE = msgspec.json.Encoder(decimal_format="number").encode


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def stamp(text: str | None) -> str | None:  # '2024-06-01 09:30:00.123456' -> '2024-06-01T09:30:00.123Z'
    return None if text is None else f"{text[:10]}T{text[11:23]}Z"


def answer(body: Any, status: int = 200) -> Response:
    return Response(ENCODE(body), status, media_type="application/json")


def problem(status: int, message: str) -> Response:
    return answer({"error": message}, status)


def value(name: str, row: Any) -> Any:
    raw = row[name]
    return Decimal(raw) if name in MONEY else stamp(raw) if name.endswith("_at") else raw


def summary(row: Any) -> dict[str, Any]:
    out = {camel(n): value(n, row) for n in SUMMARY}
    out["client"] = {"name": row["name"], "email": row["email"]}
    return out


def detail(row: Any, items: list[Any], base: str) -> dict[str, Any]:
    out = summary(row)
    out["lineItems"] = [{camel(n): item[n] if n == "description" else Decimal(item[n]) for n in LINE} for item in items]
    out.update({camel(n): value(n, row) for n in LATER[:3]}, sentViaEmail=bool(row["sent_via_email"]))
    out.update({camel(n): value(n, row) for n in LATER[3:]})
    out["shareUrl"] = f"{base}/i/{row['share_token']}" if row["share_token"] else None
    out.update(emailStatus=row["email_status"], emailError=row["email_reply"], pdfWarnings=[])
    return out


def make_app(engine: Engine, public: str | None = None) -> Starlette:
    def public_url(request: Request) -> str:  # where share links point, as ours says it
        return (public or str(request.base_url)).rstrip("/")

    joined = invoices.join(clients, clients.c.id == invoices.c.client_id)
    row_query = select(invoices, clients.c.name, clients.c.email).select_from(joined)

    def account_of(conn: Any, request: Request) -> str | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        hashed = hashlib.sha256(token.encode()).hexdigest()
        query = select(keys.c.account_id).where(keys.c.key_hash == hashed, keys.c.revoked_at.is_(None))
        found: str | None = conn.execute(query).scalar()
        return found

    def get_invoice(request: Request) -> Response:
        with engine.connect() as conn:
            if (account := account_of(conn, request)) is None:
                return problem(401, "Invalid API key")
            wanted = request.path_params["invoice_id"]
            row = conn.execute(row_query.where(invoices.c.id == wanted, invoices.c.account_id == account)).first()
            if row is None:
                return problem(404, "Invoice not found")
            items = conn.execute(select(lines).where(lines.c.invoice_id == wanted).order_by(lines.c.position)).all()
        return answer({"data": detail(row._mapping, [i._mapping for i in items], public_url(request))})

    def list_invoices(request: Request) -> Response:
        page, limit = int(request.query_params.get("page", 1)), int(request.query_params.get("limit", 20))
        if page < 1 or not 1 <= limit <= 100:
            return problem(400, "page must be at least 1, limit 1-100")
        with engine.connect() as conn:
            if (account := account_of(conn, request)) is None:
                return problem(401, "Invalid API key")
            total = conn.execute(select(func.count()).where(invoices.c.account_id == account)).scalar_one()
            order = (invoices.c.created_at.desc(), invoices.c.id.desc())
            query = row_query.where(invoices.c.account_id == account).order_by(*order).limit(limit)
            rows = conn.execute(query.offset((page - 1) * limit)).all()
        data = [summary(row._mapping) for row in rows]
        last = rows[-1]._mapping if rows and page * limit < total else None
        cursor = None
        if last is not None:  # the same keyset cursor as ours: base64url('<created_at iso>|<id>')
            raw = f"{last['created_at'].replace(' ', 'T')}|{last['id']}".encode()
            cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        pages = -(-total // limit)
        return answer(
            {"total": total, "page": page, "limit": limit, "totalPages": pages, "nextCursor": cursor, "data": data}
        )

    def create(body: dict[str, Any], request: Request) -> Response:
        currency = body.get("currency") or "USD"
        items, subtotal, tax, discounts = [], Decimal(0), Decimal(0), Decimal(0)
        unit = Decimal(1).scaleb(-MINOR.get(currency, 2))
        with localcontext() as ctx:
            ctx.prec, ctx.rounding = 60, ROUND_HALF_UP
            for i, item in enumerate(body["lineItems"]):
                quantity, price = Decimal(item["quantity"]), Decimal(item["unitPrice"])
                rate, off = Decimal(item.get("taxRate") or 0), Decimal(item.get("discountRate") or 0)
                if not str(item["description"]).strip() or quantity <= 0 or price < 0 or not 0 <= rate <= 100:
                    return problem(400, f"lineItems[{i}] is not a valid line")
                amount = (quantity * price).quantize(unit)
                discount = (amount * off / 100).quantize(unit)
                tax += (amount - discount) * rate / 100
                subtotal, discounts = subtotal + amount, discounts + discount
                items.append((item["description"].strip(), quantity, price, amount, rate, off, discount))
            tax = tax.quantize(unit)
        issued = date.fromisoformat(body["issueDate"]) if body.get("issueDate") else datetime.now(UTC).date()
        due = body.get("dueDate") or (issued + timedelta(days=30)).isoformat()
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        invoice_id, total = str(uuid.uuid4()), subtotal - discounts + tax
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            if (account := account_of(conn, request)) is None:
                return problem(401, "Invalid API key")
            found = select(clients.c.name, clients.c.email).where(
                clients.c.id == body["clientId"], clients.c.account_id == account, clients.c.is_active == 1
            )
            if (client := conn.execute(found).first()) is None:
                return problem(400, "clientId must name an active client of this account")
            seq = conn.execute(
                select(func.coalesce(func.max(invoices.c.seq), 0) + 1).where(invoices.c.account_id == account)
            ).scalar_one()
            number = body.get("invoiceNumber") or f"INV-{seq:04d}"
            values = dict(id=invoice_id, account_id=account, client_id=body["clientId"], invoice_number=number)
            values.update(currency=currency, issue_date=issued.isoformat(), due_date=due, status="DRAFT", seq=seq)
            values.update(subtotal=str(subtotal), tax_total=str(tax), discount_total=str(discounts), total=str(total))
            values.update(amount_paid=str(0 * unit), balance_due=str(total), created_at=now, updated_at=now)
            values.update(notes=body.get("notes"), terms=body.get("terms"), po_number=body.get("poNumber"))
            conn.execute(invoices.insert(), [dict(values, sent_via_email=0)])
            rows = [
                dict(zip(("invoice_id", "position", *LINE), (invoice_id, n, *map(str, it)), strict=True))
                for n, it in enumerate(items)
            ]
            conn.execute(lines.insert(), rows)
            conn.commit()
        row = {n: None for n in (*LATER, "share_token", "email_status", "email_reply")} | values
        row.update(name=client.name, email=client.email, sent_via_email=0)
        return answer({"data": detail(row, rows, public_url(request))}, 201)

    async def post_invoice(request: Request) -> Response:
        try:
            body = json.loads(await request.body(), parse_float=Decimal)
            if not isinstance(body, dict) or not body.get("lineItems") or not isinstance(body.get("clientId"), str):
                return problem(400, "clientId and lineItems are required")
        except ValueError:
            return problem(400, "The body is not JSON")
        try:
            return await run_in_threadpool(create, body, request)
        except IntegrityError:
            return problem(409, "invoiceNumber is taken")
        except (KeyError, TypeError, ArithmeticError, ValueError):
            return problem(400, "The body is not a valid invoice")

    return Starlette(
        routes=[
            Route("/healthz", lambda _request: Response(b"ok")),
            Route("/api/v1/invoices/{invoice_id}", get_invoice, methods=["GET"]),
            Route("/api/v1/invoices", list_invoices, methods=["GET"]),
            Route("/api/v1/invoices", post_invoice, methods=["POST"]),
        ]
    )


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no BEGIN for a read; a write says BEGIN IMMEDIATE
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    return engine


def copy_from(data_dir: Path, target: Path) -> int:
    """The peer's rows copied from our read model (the SQLite file of ``data_dir`` that holds
    ``invoices``), so both serve the same data. Returns the invoices copied."""
    source = next(p for p in sorted(data_dir.glob("*.sqlite3")) if _has_invoices(p))
    target.unlink(missing_ok=True)
    meta.create_all(make_engine(target))
    db = sqlite3.connect(target)
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    db.execute("INSERT INTO api_keys SELECT key_hash, account_id, revoked_at FROM src.api_keys")
    db.execute("INSERT INTO clients SELECT id, account_id, name, email, is_active FROM src.clients")
    names = [c.name for c in invoices.columns if c.name != "seq"]
    seq = "CASE WHEN invoice_number GLOB 'INV-[0-9]*' THEN CAST(substr(invoice_number, 5) AS INTEGER) END"
    db.execute(f"INSERT INTO invoices ({', '.join(names)}, seq) SELECT {', '.join(names)}, {seq} FROM src.invoices")
    db.execute(f"INSERT INTO invoice_lines SELECT invoice_id, position, {', '.join(LINE)} FROM src.invoice_line_items")
    db.commit()
    copied: int = db.execute("SELECT count(*) FROM invoices").fetchone()[0]
    db.execute("DETACH DATABASE src")
    db.execute("ANALYZE")
    db.close()
    return copied


def _has_invoices(path: Path) -> bool:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'invoice_line_items'").fetchone() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--copy-from", type=Path, metavar="DATA_DIR")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.copy_from:
        print(f"peer: {copy_from(args.copy_from, args.db)} invoices copied into {args.db}")
        return
    import uvicorn

    from gateway.cli.server import server_config
    from gateway.settings import Settings

    settings = Settings.from_env()
    config = server_config(
        make_app(make_engine(args.db), settings.public_url), settings, args.host, args.port, configure_logging=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
