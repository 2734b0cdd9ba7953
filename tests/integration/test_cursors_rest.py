"""Keyset pages of the REST lists: ``after`` takes a page's ``nextCursor``, and a walk that
follows the cursors sees every row once, in order, however many rows are written meanwhile
(offset pages repeat rows then). On SQLite and PostgreSQL (the fixtures run both)."""

import base64
import threading
from typing import Any

import pytest

from tests.conftest import Api, FakeClock, payload

LIST = "/api/v1/invoices"


def page(api: Api, path: str = LIST, **query: str) -> dict[str, Any]:
    response = api.get(path, **query)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = payload(response)
    return found


def walk(api: Api, path: str = LIST, between: Any = None, **query: str) -> list[str]:
    """Every id of a list, page after page by cursor; ``between`` runs after each page."""
    seen: list[str] = []
    body = page(api, path, **query)
    while True:
        seen += [item["id"] for item in body["data"]]
        if between is not None:
            between()
        if body["nextCursor"] is None:
            return seen
        body = page(api, path, **{**query, "after": body["nextCursor"]})


def refusal(response: Any) -> str:
    assert response.status_code == 400, response.text
    return str(payload(response)["error"])


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


def test_the_cursor_pages_are_the_offset_pages_when_nothing_is_written(api: Api, acme: dict[str, Any]) -> None:
    for _ in range(7):
        api.create_invoice(acme["id"])
    everything = [item["id"] for item in page(api, limit="100")["data"]]
    first = page(api, limit="3")
    assert first["nextCursor"] is not None and (first["total"], first["page"], first["totalPages"]) == (7, 1, 3)
    assert walk(api, limit="3") == everything
    last = page(api, limit="3", after=page(api, limit="3", page="2")["nextCursor"])
    assert [item["id"] for item in last["data"]] == everything[6:]
    assert last["nextCursor"] is None and (last["total"], last["limit"]) == (7, 3)
    assert page(api, limit="7")["nextCursor"] is None  # the whole list on one page


def test_walking_by_cursor_while_another_thread_creates_sees_every_earlier_row_once_in_order(
    api: Api, acme: dict[str, Any]
) -> None:
    """The clock stands still (tests/conftest.py), so every invoice has the same createdAt:
    the order is decided by the id alone, and new rows land all through the list, not only
    at its head. A page by offset then repeats the rows pushed down; a cursor does not."""
    for _ in range(24):
        api.create_invoice(acme["id"])
    before = [item["id"] for item in page(api, limit="100")["data"]]
    done, written = threading.Event(), threading.Semaphore(0)
    created: list[str] = []

    def create() -> None:
        while not done.is_set() and len(created) < 60:
            created.append(api.create_invoice(acme["id"])["id"])
            written.release()

    writer = threading.Thread(target=create)
    writer.start()
    try:
        # each page waits (boundedly) for one more write, so writes fall between every two pages
        walked = walk(api, limit="4", between=lambda: writer.is_alive() and written.acquire(timeout=60))
    finally:
        done.set()
        writer.join(timeout=60)
    assert len(created) >= 6, "the walk did not interleave with the writes"
    earlier = [row for row in walked if row in set(before)]
    assert earlier == before  # every row that was there: once each, in the list's order
    assert len(walked) == len(set(walked))  # and no row twice, new ones included


def test_offset_pages_repeat_rows_when_rows_are_written_between_them(
    api: Api, acme: dict[str, Any], clock: FakeClock
) -> None:
    """Why the cursor: written between two pages, newer invoices push the first page's rows
    onto the second. Following nextCursor instead, the next page is the next rows."""
    for _ in range(4):
        clock.advance(seconds=1)
        api.create_invoice(acme["id"])
    everything = [item["id"] for item in page(api, limit="100")["data"]]
    first = page(api, limit="2")
    for _ in range(2):
        clock.advance(seconds=1)
        api.create_invoice(acme["id"])
    by_offset = [item["id"] for item in page(api, limit="2", page="2")["data"]]
    by_cursor = [item["id"] for item in page(api, limit="2", after=first["nextCursor"])["data"]]
    assert by_offset == everything[:2]  # the first page again
    assert by_cursor == everything[2:4]


def test_newer_rows_come_before_the_cursor_when_time_moves(api: Api, acme: dict[str, Any], clock: FakeClock) -> None:
    for _ in range(5):
        clock.advance(seconds=1)
        api.create_invoice(acme["id"])
    first = page(api, limit="2")
    for _ in range(3):
        clock.advance(seconds=1)
        api.create_invoice(acme["id"])
    rest = walk(api, limit="2", after=first["nextCursor"])
    listed = {item["id"]: item["invoiceNumber"] for item in page(api, limit="100")["data"]}
    assert [listed[row] for row in rest] == ["INV-0003", "INV-0002", "INV-0001"]


def test_a_cursor_combines_with_every_filter(api: Api, acme: dict[str, Any]) -> None:
    globex = api.create_client(name="Globex", email="ap@globex.test")
    for n in range(6):
        api.create_invoice(acme["id"], invoiceNumber=f"A-{n}")
        api.create_invoice(globex["id"], invoiceNumber=f"G-{n}")
    sent = page(api, search="G-", limit="100")["data"][:3]
    for item in sent:
        assert api.post(f"{LIST}/{item['id']}/send", {}).status_code == 200
    for query in (
        {"clientId": acme["id"]},
        {"status": "SENT"},
        {"status": "DRAFT", "clientId": globex["id"]},
        {"search": "a-"},  # three characters and more: SQLite's trigram index
        {"search": "G"},  # shorter: the scan
        {"search": "globex.test", "status": "DRAFT"},
    ):
        everything = [item["id"] for item in page(api, limit="100", **query)["data"]]
        assert everything, query
        assert walk(api, limit="2", **query) == everything, query
        assert page(api, limit="2", **query)["total"] == len(everything)


def test_a_cursor_pages_the_clients_too(api: Api) -> None:
    for n in range(5):
        api.create_client(name=f"Client {n}")
    everything = [item["id"] for item in page(api, "/api/v1/clients", limit="100")["data"]]
    assert walk(api, "/api/v1/clients", limit="2") == everything
    assert walk(api, "/api/v1/clients", limit="1", search="client") == everything


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        "x" * 300,
        _cursor("2024-06-15T12:00:00|not-a-uuid"),
        _cursor("yesterday|6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"),
        _cursor("2024-06-15T12:00:00+00:00|6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"),
        _cursor("2024-06-15T12:00:00"),
        base64.urlsafe_b64encode(b"\xff\xfe|\x00").decode(),
    ],
)
def test_a_malformed_cursor_is_a_400(api: Api, acme: dict[str, Any], cursor: str) -> None:
    api.create_invoice(acme["id"])
    message = "Parameter 'after' must be a cursor this list gave (nextCursor or endCursor)"
    assert refusal(api.get(LIST, after=cursor)) == message
    assert refusal(api.get("/api/v1/clients", after=cursor)) == message


def test_a_cursor_and_a_page_number_together_are_a_400(api: Api, acme: dict[str, Any]) -> None:
    api.create_invoice(acme["id"])
    api.create_invoice(acme["id"])
    cursor = page(api, limit="1")["nextCursor"]
    assert refusal(api.get(LIST, after=cursor, page="2")) == "Give parameter 'page' or 'after', not both"
    assert len(page(api, after=cursor, page="1")["data"]) == 1  # page 1 is where a cursor starts anyway


def test_a_cursor_of_another_account_names_a_place_in_ones_own_list(
    api: Api, acme: dict[str, Any], http: Any, open_tenant: Any
) -> None:
    for _ in range(3):
        api.create_invoice(acme["id"])
    theirs = page(api, limit="1")["nextCursor"]
    other = Api(http, open_tenant("pro", "Other"))
    assert page(other, after=theirs)["data"] == []
    assert page(other, after=theirs)["nextCursor"] is None
