"""Search through its index and page totals from counts answer exactly as a scan and a count did."""

from collections.abc import Iterator
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.invoice import Sending
from gateway.services import Services
from projections.folding import fold
from projections.tables import clients, invoices
from tests.integration.test_projection import busy_history, draft

NAMES = [
    "Acme Corp",
    "Müller GmbH",
    "MU\u0308LLER Söhne",  # decomposed Ü
    "Hauptstraße AG",
    "σοφία Σοφία",
    '100% "Pure" a_b',
    "back\\slash",
    "İstanbul Ltd",
    "ﬁnance ﬂow",  # ligatures fold to fi, fl
    "日本語の会社",
    "ab",
]
EMAILS = ["billing@acme.test", "INFO@MUELLER.DE", None, "x@straße.de", "a.b@c.test", None, None, None, None, None, None]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str]]:
    """One account's clients and invoices under awkward names, shared read-only by the examples."""
    from gateway.settings import Settings

    folder = tmp_path_factory.mktemp("index")
    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(folder)}))
    app = services.app
    account = services.execute(lambda: app.open_account("Seller", "business"))
    for number, (name, email) in enumerate(zip(NAMES, EMAILS, strict=True)):
        client = services.execute(
            lambda name=name, email=email: app.create_client(account, {"name": name, "email": email})
        )
        services.execute(
            lambda client=client, n=number: app.create_invoice(account, draft(client, f"Nº-{n:03d}-{NAMES[n][:3]}"))
        )
    yield services, str(account)
    services.close()


def names_like(services: Services, account: str, term: str) -> tuple[set[str], set[str]]:
    found_clients = {c.name for c in services.read.clients(account, 1, 100, term).items}
    found_invoices = {i.invoice_number for i in services.read.invoices(account, 1, 100, term).items}
    return found_clients, found_invoices


def expected(term: str) -> tuple[set[str], set[str]]:
    folded = fold(term.strip()) if term.strip() else ""
    by_client = {n for n, e in zip(NAMES, EMAILS, strict=True) if folded in fold(n) or folded in fold(e)}
    numbers = {
        f"Nº-{i:03d}-{n[:3]}"
        for i, (n, e) in enumerate(zip(NAMES, EMAILS, strict=True))
        if folded in fold(f"Nº-{i:03d}-{n[:3]}") or folded in fold(n) or folded in fold(e)
    }
    return by_client, numbers


TEXTS = NAMES + [e for e in EMAILS if e] + [f"Nº-{i:03d}-{n[:3]}" for i, n in enumerate(NAMES)]


@st.composite
def terms(draw: st.DrawFn) -> str:
    """A piece of a stored text (in another case, perhaps), or any short text."""
    if draw(st.booleans()):
        text = draw(st.sampled_from(TEXTS))
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        piece = text[start:end]
        return piece.upper() if draw(st.booleans()) else piece
    return draw(st.text(alphabet='aAbüÜßs"%_\\ .@-0ΣσİﬁN', min_size=1, max_size=5))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=terms())
def test_search_through_the_index_finds_what_a_scan_of_the_folded_text_finds(seeded: tuple[Services, str], term: str):
    services, account = seeded
    if not term.strip():
        return
    assert names_like(services, account, term.strip()) == expected(term)


def test_every_page_total_is_the_count_of_its_rows(services: Services):
    ids = busy_history(services)
    app, run, seller = services.app, services.execute, ids["seller"]
    run(lambda: app.send_invoice(seller, ids["second"], Sending()))
    run(lambda: app.record_payment(seller, ids["second"], Decimal("1.00")))
    third = run(lambda: app.create_invoice(seller, draft(ids["acme"])))
    run(lambda: app.send_invoice(seller, third, Sending()))
    run(lambda: app.void_invoice(seller, third, "twice"))
    read, account = services.read, str(seller)
    with services.read.engine.connect() as conn:
        rows = conn.execute(select(invoices.c.client_id, invoices.c.status).where(invoices.c.account_id == account))
        stored = [(str(c), str(s)) for c, s in rows]
        active = conn.execute(
            select(func.count()).where(clients.c.account_id == account, clients.c.is_active.is_(True))
        ).scalar_one()
    assert read.clients(account, 1, 20).total == active
    for client in [None, *{c for c, _ in stored}, str(UUID(int=0))]:
        for status in [None, "DRAFT", "SENT", "PARTIALLY_PAID", "VOID", "PAID"]:
            want = sum(1 for c, s in stored if client in (None, c) and status in (None, s))
            assert read.invoices(account, 1, 20, None, client, status).total == want, (client, status)
    live = read.invoices(account, 1, 20).total
    services.projector.rebuild()
    assert read.invoices(account, 1, 20).total == live
