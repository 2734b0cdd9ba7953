"""ETags and conditional requests through the real ASGI app (RFC 9110 §8.8.3, §13.1.1-2):
every invoice and client answer carries its record's ETag; If-None-Match gives 304 (weak
comparison, lists, ``*``); a write with a stale If-Match is 412 PRECONDITION_FAILED and changes
nothing; two integrators racing on one tag: exactly one wins."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gateway.services import Services
from tests.conftest import Api, assert_error, line, payload, stored_state

Row = dict[str, Any]  # a record as the API answers it


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


def _invoice(api: Api, acme: Row) -> str:
    return str(api.create_invoice(acme["id"], notes="as created")["id"])


def _tag(response: httpx.Response) -> str:
    assert response.status_code in (200, 201), (response.status_code, response.text[:300])
    found = response.headers["etag"]
    assert found.startswith('"v') and found.endswith('"'), found
    return str(found)


def _refused_412(response: httpx.Response) -> None:
    message = assert_error(response, 412)
    assert payload(response)["code"] == "PRECONDITION_FAILED"
    assert "version" in message


# --- ETags on answers ------------------------------------------------------------------


def test_every_invoice_and_client_answer_carries_its_etag_which_changes_with_the_answer(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    first = _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    assert _tag(api.get(f"/api/v1/invoices/{invoice_id}")) == first  # the same answer, the same tag
    assert first.startswith('"v1-')
    patched = api.patch(f"/api/v1/invoices/{invoice_id}", {"notes": "changed"})
    second = _tag(patched)
    assert second != first and second == _tag(api.get(f"/api/v1/invoices/{invoice_id}"))  # a write's is GET's
    client_tag = _tag(api.get(f"/api/v1/clients/{acme['id']}"))
    renamed = api.patch(f"/api/v1/clients/{acme['id']}", {"name": "Acme Renamed"})
    assert _tag(renamed) != client_tag and _tag(renamed) == _tag(api.get(f"/api/v1/clients/{acme['id']}"))
    # the invoice shows its client's name: its tag changes with it though its version does not
    third = _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    assert third != second and third.split("-")[0] == second.split("-")[0]


def test_lifecycle_writes_answer_with_the_invoices_new_etag(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    sent = api.post(f"/api/v1/invoices/{invoice_id}/send", {})
    assert _tag(sent) == _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    paid = api.request(
        "POST",
        f"/api/v1/invoices/{invoice_id}/payments",
        {"amount": "10.00"},
        headers={"If-Match": _tag(sent)},
    )
    assert _tag(paid) == _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    payment_id = payload(paid)["data"]["id"]
    reversed_ = api.request(
        "DELETE", f"/api/v1/invoices/{invoice_id}/payments/{payment_id}", headers={"If-Match": _tag(paid)}
    )
    assert _tag(reversed_) == _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    voided = api.request("POST", f"/api/v1/invoices/{invoice_id}/void", {}, headers={"If-Match": _tag(reversed_)})
    assert _tag(voided) == _tag(api.get(f"/api/v1/invoices/{invoice_id}"))


# --- If-None-Match ---------------------------------------------------------------------


@pytest.mark.parametrize("form", ["exact", "weak", "listed", "star"])
def test_if_none_match_gives_304_with_the_tag_and_no_body(api: Api, acme: Row, form: str) -> None:
    invoice_id = _invoice(api, acme)
    for path in (f"/api/v1/invoices/{invoice_id}", f"/api/v1/clients/{acme['id']}"):
        current = _tag(api.get(path))
        sent = {"exact": current, "weak": f"W/{current}", "listed": f'"other", W/"x", {current}', "star": "*"}[form]
        for method in ("GET", "HEAD"):
            response = api.request(method, path, headers={"If-None-Match": sent})
            assert response.status_code == 304, (path, method, response.text[:200])
            assert response.content == b"" and response.headers["etag"] == current


def test_if_none_match_of_an_older_tag_gets_the_new_answer(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    old = _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    api.patch(f"/api/v1/invoices/{invoice_id}", {"notes": "changed"})
    response = api.request("GET", f"/api/v1/invoices/{invoice_id}", headers={"If-None-Match": old})
    assert response.status_code == 200 and payload(response)["data"]["notes"] == "changed"


@pytest.mark.parametrize("form", ["weak", "star", "listed"])
def test_pdf_if_none_match_compares_weakly_and_takes_star(api: Api, acme: Row, form: str) -> None:
    invoice_id = _invoice(api, acme)
    path = f"/api/v1/invoices/{invoice_id}/pdf"
    current = api.get(path).headers["etag"]
    sent = {"weak": f"W/{current}", "star": "*", "listed": f'"stale", {current}'}[form]
    response = api.request("GET", path, headers={"If-None-Match": sent})
    assert response.status_code == 304 and response.content == b"" and response.headers["etag"] == current


# --- If-Match ------------------------------------------------------------------------


def _writes(invoice_id: str, client_id: str, payment_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "late"}),
        ("PUT", f"/api/v1/invoices/{invoice_id}", {"notes": "late"}),
        ("DELETE", f"/api/v1/invoices/{invoice_id}", None),
        ("POST", f"/api/v1/invoices/{invoice_id}/send", {}),
        ("POST", f"/api/v1/invoices/{invoice_id}/payments", {"amount": "1.00"}),
        ("DELETE", f"/api/v1/invoices/{invoice_id}/payments/{payment_id}", None),
        ("POST", f"/api/v1/invoices/{invoice_id}/void", {}),
        ("PATCH", f"/api/v1/clients/{client_id}", {"name": "late"}),
        ("PUT", f"/api/v1/clients/{client_id}", {"name": "late"}),
        ("DELETE", f"/api/v1/clients/{client_id}", None),
    ]


def test_a_stale_if_match_is_412_on_every_write_and_changes_nothing(api: Api, services: Services, acme: Row) -> None:
    draft = _invoice(api, acme)
    stale_invoice = _tag(api.get(f"/api/v1/invoices/{draft}"))
    stale_client = _tag(api.get(f"/api/v1/clients/{acme['id']}"))
    issued = _invoice(api, acme)
    api.post(f"/api/v1/invoices/{issued}/send", {})
    paid = api.post(f"/api/v1/invoices/{issued}/payments", {"amount": "5.00"})
    payment_id = payload(paid)["data"]["id"]
    stale_issued = '"v1-0000000000000000"'
    api.patch(f"/api/v1/invoices/{draft}", {"notes": "moved on"})
    api.patch(f"/api/v1/clients/{acme['id']}", {"email": "moved@acme.test"})
    before = stored_state(services)
    for method, path, body in _writes(draft, acme["id"], payment_id):
        record = f"/api/v1/clients/{acme['id']}" if "/clients/" in path else f"/api/v1/invoices/{draft}"
        stale = stale_client if "/clients/" in path else stale_invoice
        if "/payments" in path or path.endswith("/void"):  # actions of an issued invoice
            path, record, stale = path.replace(draft, issued), f"/api/v1/invoices/{issued}", stale_issued
        weak_current = f"W/{_tag(api.get(record))}"  # If-Match compares strongly: a weak tag never matches
        for sent in (stale, weak_current):
            _refused_412(api.request(method, path, body, headers={"If-Match": sent}))
        assert stored_state(services) == before, (method, path)


def test_a_current_or_star_if_match_lets_the_write_through(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    current = _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
    first = api.request("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "one"}, headers={"If-Match": current})
    assert first.status_code == 200, first.text
    listed = f'"v99-0000000000000000", {_tag(first)}'
    second = api.request("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "two"}, headers={"If-Match": listed})
    assert second.status_code == 200, second.text
    third = api.request("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "three"}, headers={"If-Match": "*"})
    assert third.status_code == 200 and api.invoice(invoice_id)["notes"] == "three"


def test_if_match_that_is_not_an_entity_tag_is_412(api: Api, services: Services, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    before = stored_state(services)
    for sent in ("v1", '"not ours"', '"v1-0000000000000000" garbage', ""):
        _refused_412(api.request("PATCH", f"/api/v1/invoices/{invoice_id}", {"notes": "x"}, headers={"If-Match": sent}))
    assert stored_state(services) == before


def test_if_match_star_on_a_missing_invoice_is_404(api: Api) -> None:
    missing = "/api/v1/invoices/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
    assert_error(api.request("PATCH", missing, {"notes": "x"}, headers={"If-Match": "*"}), 404)


# --- two integrators -------------------------------------------------------------------


def _race(api: Api, send: Callable[[str], httpx.Response]) -> list[httpx.Response]:
    """Both integrators send at once (a barrier lines them up), each with the tag they read."""
    barrier = threading.Barrier(2)

    def one(name: str) -> httpx.Response:
        barrier.wait(timeout=30)
        return send(name)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, ["alice", "bob"]))


def test_two_integrators_patch_with_the_same_if_match_exactly_one_wins(api: Api, services: Services, acme: Row) -> None:
    for _ in range(5):
        invoice_id = _invoice(api, acme)
        read = _tag(api.get(f"/api/v1/invoices/{invoice_id}"))
        history = f"/api/v1/invoices/{invoice_id}/history"
        events = len(payload(api.get(history))["data"])
        path = f"/api/v1/invoices/{invoice_id}"

        def patch(name: str, path: str = path, read: str = read) -> httpx.Response:
            return api.request("PATCH", path, {"notes": name}, headers={"If-Match": read})

        answers = _race(api, patch)
        statuses = sorted(response.status_code for response in answers)
        assert statuses == [200, 412], [(r.status_code, r.text[:200]) for r in answers]
        winner = next(response for response in answers if response.status_code == 200)
        loser = next(response for response in answers if response.status_code == 412)
        _refused_412(loser)
        assert len(payload(api.get(history))["data"]) == events + 1
        notes = api.invoice(invoice_id)["notes"]
        assert notes in ("alice", "bob") and winner.headers["etag"] == _tag(api.get(path))


def test_two_integrators_pay_with_the_same_if_match_exactly_one_payment_is_recorded(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    read = _tag(api.post(f"/api/v1/invoices/{invoice_id}/send", {}))
    path = f"/api/v1/invoices/{invoice_id}/payments"
    answers = _race(api, lambda _name: api.request("POST", path, {"amount": "10.00"}, headers={"If-Match": read}))
    assert sorted(response.status_code for response in answers) == [201, 412]
    assert len(payload(api.get(path))["data"]) == 1


def test_a_write_without_if_match_is_unconditional_as_before(api: Api, acme: Row) -> None:
    invoice_id = _invoice(api, acme)
    api.patch(f"/api/v1/invoices/{invoice_id}", {"notes": "one"})
    response = api.patch(f"/api/v1/invoices/{invoice_id}", {"notes": "two", "lineItems": [line()]})
    assert response.status_code == 200 and api.invoice(invoice_id)["notes"] == "two"
