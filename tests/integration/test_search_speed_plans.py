"""A search through the index answers as the scan does, whichever plan reads its page.

``ReadModel._searched`` reads a narrow term's matches whole and sorts them itself, and a
broad term's (more than ``PROBE`` matches) by counting them and then either walking the
list's index or sorting the matches (``projections.search.walks``). The plans are chosen
by cost, never by meaning: here each is forced in turn (a probe of 2 matches, a walk
always or never) and every page, filter and cursor is compared with the scan's answer
(the ``LIKE`` over the folded columns, the reference the index stands in for).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from domain.invoice import Sending
from gateway.services import Services
from projections import paging
from projections import search as searching
from projections.views import SortKey
from tests.integration.test_projection import draft

STEMS = ["Müller GmbH", "MÜLLER & Söhne", "Straße AG", "Acme Ltd", "Zürich GmbH"]
TERMS = ["müller", "MÜLLER ", "gmbh", "straße", "STRASSE", "acme", "inv-", "nº-0", "ü", "@x", "billing1", "zzz"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, str, list[str]]]:
    """One account's 15 clients and 45 invoices (a third sent), read-only for every test."""
    from gateway.settings import Settings

    folder = tmp_path_factory.mktemp("plans")
    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(folder)}))
    app = services.app
    account = app.open_account("Seller", "business")
    clients = [
        app.create_client(account, {"name": f"{STEMS[n % len(STEMS)]} {n}", "email": f"billing{n}@x{n % 4}.test"})
        for n in range(15)
    ]
    for n in range(45):
        invoice = app.create_invoice(account, draft(clients[n % 15], f"INV-{n:03d}"))
        if n % 3 == 0:
            app.send_invoice(account, invoice, Sending())
    app.create_invoice(account, draft(clients[0], "Nº-0001"))
    services.projector.catch_up()
    yield services, str(account), [str(c) for c in clients]
    services.close()


def _pages(services: Services, account: str, term: str, **filters: Any) -> list[tuple[Any, ...]]:
    """Every way of paging one search: offset pages of 7, then keyset pages of 5."""
    read = services.read
    found: list[tuple[Any, ...]] = []
    for page in range(1, 10):
        got = read.invoices(account, page, 7, term, **filters)
        found.append(("page", page, got.total, [i.id for i in got.items], got.has_next))
    start: SortKey | None = None
    for _ in range(12):
        got = read.invoices(account, 1, 5, term, **filters, start=start)
        found.append(("after", got.total, [i.id for i in got.items], got.has_next))
        if not got.items:
            break
        start = SortKey.of(got.items[-1])
    clients = read.clients(account, 1, 4, term)
    found.append(("clients", clients.total, [c.id for c in clients.items]))
    return found


def _scanned(monkeypatch: pytest.MonkeyPatch, services: Services, account: str, term: str, **filters: Any) -> Any:
    """The scan's answer: the same reads with the index switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(searching, "indexed", lambda *_args: False)
        return _pages(services, account, term, **filters)


PLANS = {
    "narrow: every match sorted here": {"PROBE": 1000, "WALK_ADVANTAGE": 10},
    "broad: count, then walk the list": {"PROBE": 2, "WALK_ADVANTAGE": 10**9},
    "broad: count, then sort the matches": {"PROBE": 2, "WALK_ADVANTAGE": 0},
}


@pytest.mark.parametrize("plan", list(PLANS))
@pytest.mark.parametrize("term", TERMS)
def test_every_plan_pages_a_search_as_the_scan_does(
    seeded: tuple[Services, str, list[str]], monkeypatch: pytest.MonkeyPatch, plan: str, term: str
) -> None:
    services, account, clients = seeded
    knobs = PLANS[plan]
    for filters in ({}, {"status": "SENT"}, {"status": "DRAFT"}, {"client_id": clients[0]}):
        expected = _scanned(monkeypatch, services, account, term, **filters)
        with monkeypatch.context() as patch:
            patch.setattr(paging, "PROBE", knobs["PROBE"])
            patch.setattr(searching, "WALK_ADVANTAGE", knobs["WALK_ADVANTAGE"])
            assert _pages(services, account, term, **filters) == expected, (plan, term, filters)


def test_a_search_past_its_last_page_still_counts_every_match(
    seeded: tuple[Services, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, account, _ = seeded
    for probe in (2, 1000):
        with monkeypatch.context() as patch:
            patch.setattr(paging, "PROBE", probe)
            got = services.read.invoices(account, 500, 20, "inv-")
        assert (got.items, got.total) == ([], 45)


@pytest.mark.parametrize(
    ("listed", "found", "reach", "walk"),
    [
        (100_000, 5_000, 20, True),  # "MÜLLER": page 1 after some 400 rows of the list
        (100_000, 5_000, 4_000, False),  # page 200 of it: sorting 5,000 is cheaper
        (100_000, 300, 20, False),  # a few hundred matches: read and sorted
        (1_000, 800, 20, True),
        (100_000, 0, 20, False),
    ],
)
def test_a_broad_terms_first_pages_walk_the_list_and_a_narrow_terms_matches_are_sorted(
    listed: int, found: int, reach: int, walk: bool
) -> None:
    assert searching.walks(listed, found, reach) is walk
