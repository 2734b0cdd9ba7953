"""The invoice's life through the real ASGI app: send, void, payments, the status filter,
tenant isolation, bad bodies on every new route, and a rebuild after a full lifecycle."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from simplejson import RawJSON

from domain.lifecycle import DRAFT, OVERDUE, PAID, PARTIALLY_PAID, SENT, STATUSES, VIEWED, VOID
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import (
    INVOICE_DETAIL_KEYS,
    INVOICE_SUMMARY_KEYS,
    TODAY,
    Api,
    FakeClock,
    Tenant,
    TestClient,
    assert_error,
    dump_read_model,
    line,
    payload,
    stored_state,
)

SHARE_URL = re.compile(r"http://testserver/i/([A-Za-z0-9_-]{22,})")
PAYMENT_KEYS = {"id", "amount", "date", "method", "reference", "createdAt", "reversedAt"}
BALANCE_KEYS = {"id", "status", "amountPaid", "balanceDue", "paidAt"}
UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
PAST_DUE = {"issueDate": "2024-05-01", "dueDate": "2024-05-31"}  # before the FakeClock's 2024-06-15


def path(invoice_id: str, tail: str = "") -> str:
    return f"/api/v1/invoices/{invoice_id}{tail}"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    return payload(response)["data"]


class Lifecycle:
    """Brings invoices into any status through HTTP, the way a user would."""

    def __init__(self, api: Api, services: Services, client_id: str) -> None:
        self.api = api
        self.services = services
        self.client_id = client_id

    def draft(self, **fields: Any) -> str:
        return str(self.api.create_invoice(self.client_id, **fields)["id"])

    def send(self, invoice_id: str, body: Any = None) -> dict[str, Any]:
        return ok(self.api.post(path(invoice_id, "/send"), body))  # type: ignore[no-any-return]

    def pay(self, invoice_id: str, amount: Any, **fields: Any) -> dict[str, Any]:
        return ok(self.api.post(path(invoice_id, "/payments"), {"amount": amount, **fields}), 201)  # type: ignore[no-any-return]

    def in_status(self, status: str) -> str:
        invoice_id = self.draft(**(PAST_DUE if status == OVERDUE else {}))  # only it is swept
        if status == DRAFT:
            return invoice_id
        detail = self.send(invoice_id)
        if status == VIEWED:
            token = SHARE_URL.fullmatch(detail["shareUrl"]).group(1)  # type: ignore[union-attr]
            assert self.api.http.get(f"/i/{token}").status_code == 200
        elif status == PARTIALLY_PAID:
            self.pay(invoice_id, 1000)
        elif status == PAID:
            self.pay(invoice_id, RawJSON("5500.00"))
        elif status == OVERDUE:
            self.services.overdue_sweep().sweep()
        elif status == VOID:
            ok(self.api.post(path(invoice_id, "/void"), {"reason": "Duplicate"}))
        assert self.api.invoice(invoice_id)["status"] == status
        return invoice_id


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


@pytest.fixture
def life(api: Api, services: Services, acme) -> Lifecycle:
    return Lifecycle(api, services, acme["id"])


# --- send ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, {}, {"email": False}, {"message": "Thanks!"}])
def test_send_a_draft_is_200_with_the_detail(life: Lifecycle, body):
    invoice_id = life.draft()
    detail = life.send(invoice_id, body)
    assert set(detail) == INVOICE_DETAIL_KEYS | {"updatedAt"}
    assert (detail["id"], detail["status"], detail["sentAt"]) == (invoice_id, SENT, "2024-06-15T12:00:00.000Z")
    assert SHARE_URL.fullmatch(detail["shareUrl"]), detail["shareUrl"]
    assert (detail["sentViaEmail"], detail["emailStatus"], detail["emailError"]) == (False, None, None)
    assert (str(detail["amountPaid"]), str(detail["balanceDue"])) == ("0.00", "5500.00")
    assert (detail["viewedAt"], detail["overdueAt"], detail["voidedAt"], detail["paidAt"]) == (None,) * 4
    assert life.api.invoice(invoice_id) == detail


def test_a_draft_has_no_share_url(life: Lifecycle):
    assert life.api.invoice(life.draft())["shareUrl"] is None


def test_share_url_uses_the_configured_public_url(make_settings, clock: FakeClock, tmp_path: Path):
    settings = make_settings(CLEVERINVO_PUBLIC_URL="https://billing.example.test/")
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            account = services.execute(lambda: services.app.open_account("Seller", "pro"))
            key_id, key = services.execute(lambda: services.app.issue_api_key(account))
            api = Api(http, Tenant(account, key_id, key))
            invoice_id = api.create_invoice(api.create_client()["id"])["id"]
            url = ok(api.post(path(invoice_id, "/send"), None))["shareUrl"]
            assert re.fullmatch(r"https://billing\.example\.test/i/[A-Za-z0-9_-]{22,}", url), url
    finally:
        services.close()


@pytest.mark.parametrize("status", [SENT, VIEWED, PARTIALLY_PAID, OVERDUE])
def test_a_resend_is_200_and_keeps_status_sent_at_and_link(life: Lifecycle, clock: FakeClock, status):
    invoice_id = life.in_status(status)
    before = life.api.invoice(invoice_id)
    clock.advance(days=1)
    after = life.send(invoice_id, {"message": "A reminder"})
    assert (after["status"], after["sentAt"], after["shareUrl"]) == (status, before["sentAt"], before["shareUrl"])


@pytest.mark.parametrize("status", [PAID, VOID])
def test_send_a_paid_or_void_invoice_is_409(life: Lifecycle, services: Services, status):
    invoice_id = life.in_status(status)
    before = stored_state(services)
    message = assert_error(life.api.post(path(invoice_id, "/send"), None), 409)
    assert message.startswith(f"Cannot send a {status} invoice; ")
    assert stored_state(services) == before


def test_send_by_email_queues_it(life: Lifecycle):
    detail = life.send(life.draft(), {"email": True, "cc": ["boss@acme.test"], "message": "Hi"})
    assert (detail["sentViaEmail"], detail["emailStatus"], detail["emailError"]) == (True, "queued", None)


def test_send_by_email_on_the_free_plan_is_403(http, open_tenant, services: Services):
    api = Api(http, open_tenant("free"))
    invoice_id = api.create_invoice(api.create_client(email="billing@acme.test")["id"])["id"]
    before = stored_state(services)
    message = assert_error(api.post(path(invoice_id, "/send"), {"email": True}), 403)
    assert message.startswith("Plan limit reached: ") and "email" in message
    assert stored_state(services) == before
    assert ok(api.post(path(invoice_id, "/send"), {"email": False}))["status"] == SENT  # recording a send is free


def test_send_by_email_to_a_client_without_an_address_needs_to(api: Api, services: Services):
    invoice_id = api.create_invoice(api.create_client(name="No Mail Ltd")["id"])["id"]
    before = stored_state(services)
    for body in ({"email": True}, {"email": True, "to": []}, {"email": True, "cc": ["boss@acme.test"]}):
        assert "email address" in assert_error(api.post(path(invoice_id, "/send"), body), 400)
    assert stored_state(services) == before
    detail = ok(api.post(path(invoice_id, "/send"), {"email": True, "to": ["someone@nomail.test"]}))
    assert detail["emailStatus"] == "queued"


# --- void and delete ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [SENT, VIEWED, PARTIALLY_PAID, OVERDUE])
def test_void_an_issued_invoice_is_200_with_the_detail(life: Lifecycle, clock: FakeClock, status):
    invoice_id = life.in_status(status)
    clock.advance(minutes=1)
    detail = ok(life.api.post(path(invoice_id, "/void"), {"reason": "Wrong client"}))
    assert set(detail) == INVOICE_DETAIL_KEYS | {"updatedAt"}
    assert (detail["status"], detail["voidReason"], detail["voidedAt"]) == (
        VOID,
        "Wrong client",
        "2024-06-15T12:01:00.000Z",
    )
    assert detail["shareUrl"] is not None
    assert str(detail["balanceDue"]) == "0.00"  # nothing is owed on a void invoice
    [item] = payload(life.api.get("/api/v1/invoices", status=VOID))["data"]
    assert str(item["balanceDue"]) == "0.00"


def test_void_without_a_body_or_reason(life: Lifecycle):
    for body in (None, {}, {"reason": None}):
        invoice_id = life.in_status(SENT)
        detail = ok(life.api.post(path(invoice_id, "/void"), body))
        assert (detail["status"], detail["voidReason"]) == (VOID, None)


@pytest.mark.parametrize(
    ("status", "why"),
    [(DRAFT, "a draft is deleted, not voided"), (PAID, "it is paid in full"), (VOID, "it is void")],
)
def test_void_a_draft_a_paid_or_a_void_invoice_is_409(life: Lifecycle, services: Services, status, why):
    invoice_id = life.in_status(status)
    before = stored_state(services)
    message = assert_error(life.api.post(path(invoice_id, "/void"), None), 409)
    assert message == f"Cannot void a {status} invoice; {why}"
    assert stored_state(services) == before


@pytest.mark.parametrize("status", [s for s in STATUSES if s != DRAFT])
def test_delete_an_issued_invoice_is_409_pointing_to_void(life: Lifecycle, services: Services, status):
    invoice_id = life.in_status(status)
    before = stored_state(services)
    message = assert_error(life.api.delete(path(invoice_id)), 409)
    assert message.startswith(f"Cannot delete {'an' if status[0] in 'AEIOU' else 'a'} {status} invoice; ")
    assert ("void it instead" in message) == (status in (SENT, VIEWED, PARTIALLY_PAID, OVERDUE))
    assert stored_state(services) == before
    assert life.api.invoice(invoice_id)["status"] == status


def test_delete_a_draft_is_204(life: Lifecycle):
    invoice_id = life.draft()
    assert life.api.delete(path(invoice_id)).status_code == 204
    assert_error(life.api.get(path(invoice_id)), 404)


@pytest.mark.parametrize("status", [s for s in STATUSES if s != DRAFT])
def test_edit_an_issued_invoice_is_409(life: Lifecycle, services: Services, status):
    invoice_id = life.in_status(status)
    before = stored_state(services)
    for method in ("PUT", "PATCH"):
        message = assert_error(life.api.request(method, path(invoice_id), {"notes": "Changed"}), 409)
        assert message.endswith(f" {status} invoice; only DRAFT invoices can be changed")
    assert stored_state(services) == before


# --- payments ------------------------------------------------------------------------------


def test_record_list_and_reverse_payments(life: Lifecycle, clock: FakeClock):
    invoice_id = life.in_status(SENT)
    first = life.pay(invoice_id, RawJSON("1500.50"), date="2024-06-10", method="bank transfer", reference="TX-1")
    assert set(first) == PAYMENT_KEYS | {"invoice"} and set(first["invoice"]) == BALANCE_KEYS
    assert (str(first["amount"]), first["date"], first["method"], first["reference"]) == (
        "1500.50",
        "2024-06-10",
        "bank transfer",
        "TX-1",
    )
    assert (first["createdAt"], first["reversedAt"]) == ("2024-06-15T12:00:00.000Z", None)
    assert first["invoice"] == {
        "id": invoice_id,
        "status": PARTIALLY_PAID,
        "amountPaid": Decimal("1500.50"),
        "balanceDue": Decimal("3999.50"),
        "paidAt": None,
    }

    clock.advance(days=1)
    second = life.pay(invoice_id, "3999.50")  # a number as text is read exactly too
    assert second["date"] == "2024-06-16"  # today, by the application's clock
    assert second["invoice"]["status"] == PAID and second["invoice"]["paidAt"] == "2024-06-16T12:00:00.000Z"
    assert str(second["invoice"]["balanceDue"]) == "0.00"

    listed = ok(life.api.get(path(invoice_id, "/payments")))
    assert [p["id"] for p in listed] == [first["id"], second["id"]]
    assert all(set(p) == PAYMENT_KEYS for p in listed)

    clock.advance(hours=1)
    reversed_ = ok(life.api.delete(path(invoice_id, f"/payments/{second['id']}")))
    assert reversed_["id"] == second["id"] and reversed_["reversedAt"] == "2024-06-16T13:00:00.000Z"
    assert reversed_["invoice"]["status"] == PARTIALLY_PAID and reversed_["invoice"]["paidAt"] is None
    assert str(reversed_["invoice"]["amountPaid"]) == "1500.50"
    listed = ok(life.api.get(path(invoice_id, "/payments")))
    assert [(p["id"], p["reversedAt"] is not None) for p in listed] == [(first["id"], False), (second["id"], True)]

    detail = life.api.invoice(invoice_id)
    assert (detail["status"], str(detail["amountPaid"]), str(detail["balanceDue"]), detail["paidAt"]) == (
        PARTIALLY_PAID,
        "1500.50",
        "3999.50",
        None,
    )


def test_reversing_a_payment_twice_is_409(life: Lifecycle, services: Services):
    invoice_id = life.in_status(SENT)
    payment = life.pay(invoice_id, 100)
    ok(life.api.delete(path(invoice_id, f"/payments/{payment['id']}")))
    before = stored_state(services)
    message = assert_error(life.api.delete(path(invoice_id, f"/payments/{payment['id']}")), 409)
    assert message.startswith("Cannot reverse a payment on a SENT invoice; ") and "already reversed" in message
    assert stored_state(services) == before


def test_payment_on_a_draft_is_409_send_it_first(life: Lifecycle, services: Services):
    invoice_id = life.draft()
    before = stored_state(services)
    message = assert_error(life.api.post(path(invoice_id, "/payments"), {"amount": 10}), 409)
    assert message == "Cannot record a payment on a DRAFT invoice; send it first"
    assert stored_state(services) == before
    assert ok(life.api.get(path(invoice_id, "/payments"))) == []


@pytest.mark.parametrize("status", [PAID, VOID])
def test_payment_on_a_paid_or_void_invoice_is_409(life: Lifecycle, status):
    invoice_id = life.in_status(status)
    assert assert_error(life.api.post(path(invoice_id, "/payments"), {"amount": 1}), 409).startswith(
        f"Cannot record a payment on a {status} invoice; "
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (RawJSON("5500.01"), "at most the balance due (5500.00 USD)"),
        (RawJSON("1e30"), "at most the balance due"),
        (RawJSON("10.001"), "at most 2 decimal places in USD"),
        (0, "greater than 0"),
        (RawJSON("-5"), "greater than 0"),
    ],
)
def test_bad_payment_amounts_are_400(life: Lifecycle, services: Services, amount, message):
    invoice_id = life.in_status(SENT)
    before = stored_state(services)
    assert message in assert_error(life.api.post(path(invoice_id, "/payments"), {"amount": amount}), 400)
    assert stored_state(services) == before


def test_payment_in_a_currency_without_decimals(life: Lifecycle):
    invoice_id = life.draft(currency="JPY")
    life.send(invoice_id)
    assert_error(life.api.post(path(invoice_id, "/payments"), {"amount": RawJSON("10.5")}), 400)
    paid = life.pay(invoice_id, RawJSON("1000.0"))  # 1000.0 is a whole number of yen
    assert str(paid["amount"]) == "1000" and str(paid["invoice"]["balanceDue"]) == "4500"


@pytest.mark.parametrize("status", [OVERDUE, PAID])
def test_the_status_a_payment_or_reversal_leads_to_is_in_the_answer(life: Lifecycle, status):
    invoice_id = life.in_status(OVERDUE)
    paid = life.pay(invoice_id, 100 if status == OVERDUE else RawJSON("5500.00"))
    assert paid["invoice"]["status"] == status
    reversed_ = ok(life.api.delete(path(invoice_id, f"/payments/{paid['id']}")))
    assert reversed_["invoice"]["status"] == OVERDUE


# --- the list --------------------------------------------------------------------------------


def test_the_status_filter_finds_every_status_including_void(life: Lifecycle):
    ids = {status: life.in_status(status) for status in STATUSES}
    for status, invoice_id in ids.items():
        listed = payload(life.api.get("/api/v1/invoices", status=status))["data"]
        assert [item["id"] for item in listed] == [invoice_id], status
        assert listed[0]["status"] == status
    everything = payload(life.api.get("/api/v1/invoices", limit="100"))
    assert everything["total"] == len(STATUSES)


def test_list_items_and_detail_carry_amount_paid_and_balance_due(life: Lifecycle):
    invoice_id = life.in_status(SENT)
    life.pay(invoice_id, RawJSON("1234.56"))
    [item] = payload(life.api.get("/api/v1/invoices"))["data"]
    assert set(item) == INVOICE_SUMMARY_KEYS | {"updatedAt"}
    assert (str(item["amountPaid"]), str(item["balanceDue"]), item["status"]) == ("1234.56", "4265.44", PARTIALLY_PAID)
    draft = payload(life.api.get("/api/v1/invoices", status=DRAFT))["data"]
    assert draft == []
    detail = life.api.invoice(life.draft())
    assert (str(detail["amountPaid"]), str(detail["balanceDue"])) == ("0.00", "5500.00")


# --- status is not a field ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("wanted", [SENT, PAID, VOID, "sent", 5, None])
def test_setting_status_by_an_update_is_refused_and_changes_nothing(
    life: Lifecycle, services: Services, method, wanted
):
    invoice_id = life.draft()
    before = stored_state(services)
    message = assert_error(life.api.request(method, path(invoice_id), {"status": wanted, "notes": "x"}), 400)
    assert "status" in message and "/send" in message
    assert stored_state(services) == before
    assert life.api.invoice(invoice_id)["status"] == DRAFT


def test_a_status_sent_back_unchanged_is_accepted(life: Lifecycle):
    invoice_id = life.draft()
    response = life.api.patch(path(invoice_id), {"status": DRAFT, "notes": "Changed"})
    assert ok(response)["status"] == DRAFT
    detail = life.api.invoice(invoice_id)
    assert detail["notes"] == "Changed"
    detail.pop("id")
    assert ok(life.api.put(path(invoice_id), detail))["status"] == DRAFT  # the whole detail, as read


# --- tenant isolation ------------------------------------------------------------------------


def test_another_accounts_key_gets_404_on_every_lifecycle_route(life: Lifecycle, http, open_tenant, services):
    mine = life.in_status(SENT)
    payment = life.pay(mine, 100)["id"]
    theirs = Api(http, open_tenant("pro", name="Other"))
    before = stored_state(services)
    requests = [
        ("POST", path(mine, "/send"), None),
        ("POST", path(mine, "/send"), {"email": True, "to": ["x@evil.test"]}),
        ("POST", path(mine, "/void"), {"reason": "gotcha"}),
        ("POST", path(mine, "/payments"), {"amount": 1}),
        ("GET", path(mine, "/payments"), None),
        ("DELETE", path(mine, f"/payments/{payment}"), None),
        ("GET", path(mine), None),
        ("GET", path(mine, "/pdf"), None),
    ]
    for method, url, body in requests:
        assert_error(theirs.request(method, url, body), 404)
    assert stored_state(services) == before
    assert [p["id"] for p in ok(life.api.get(path(mine, "/payments")))] == [payment]


def test_every_lifecycle_route_needs_a_key(life: Lifecycle, anonymous: Api):
    invoice_id = life.in_status(SENT)
    for method, url in [
        ("POST", path(invoice_id, "/send")),
        ("POST", path(invoice_id, "/void")),
        ("POST", path(invoice_id, "/payments")),
        ("GET", path(invoice_id, "/payments")),
        ("DELETE", path(invoice_id, f"/payments/{UNKNOWN_ID}")),
    ]:
        assert_error(anonymous.request(method, url, {}), 401)


# --- bad input on every new route: a 4xx with {"error"}, and nothing stored -------------------


@dataclass
class World:
    services: Services
    api: Api
    draft: str
    sent: str
    payment: str
    other_sent: str
    other_payment: str


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = Settings.from_env(
        {
            "CLEVERINVO_DATA_DIR": str(tmp_path_factory.mktemp("lifecycle")),
            "CLEVERINVO_RATE_LIMIT": "100000/minute",
            "CLEVERINVO_MAX_BODY_BYTES": "16384",
        }
    )
    services = Services(settings, clock=FakeClock(TODAY))

    def door(http: TestClient, name: str) -> Api:
        account_id = services.execute(lambda: services.app.open_account(name, "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
        return Api(http, Tenant(account_id, key_id, key))

    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        api, other = door(http, "Seller"), door(http, "Other")
        mine = Lifecycle(api, services, api.create_client(email="billing@acme.test")["id"])
        theirs = Lifecycle(other, services, other.create_client(name="Theirs")["id"])
        sent, other_sent = mine.in_status(SENT), theirs.in_status(SENT)
        payment, other_payment = mine.pay(sent, 100)["id"], theirs.pay(other_sent, 100)["id"]
        yield World(services, api, mine.draft(), sent, payment, other_sent, other_payment)
    services.close()


@pytest.fixture
def world(shared: World) -> Iterator[World]:
    before = stored_state(shared.services)
    yield shared
    assert stored_state(shared.services) == before


NOT_AN_OBJECT = [
    b"[]",
    b"{",
    b"null",
    b"1",
    b'"email"',
    b"\xff",
    b'{"email": NaN}',
    b'{"amount": 1e99999999999999999999}',
]
SEND_CASES = [
    {"bogus": 1},
    {"email": "yes"},
    {"email": 1},
    {"email": None},
    {"email": True, "to": "billing@acme.test"},
    {"email": True, "to": [1]},
    {"email": True, "to": [None]},
    {"email": True, "to": ["not-an-address"]},
    {"email": True, "to": [""]},
    {"email": True, "to": ["a@b.test\r\nBcc: x@evil.test"]},
    {"email": True, "to": ["\ud800@acme.test"]},
    {"email": True, "to": [f"p{i}@acme.test" for i in range(21)]},
    {"email": True, "cc": {"a": "b"}},
    {"email": True, "cc": ["also not an address"]},
    {"to": ["billing@acme.test"]},
    {"email": False, "cc": ["boss@acme.test"]},
    {"message": 5},
    {"message": ["hi"]},
    {"message": "a\u0000b"},
    {"message": "x" * 5001},
    {"message": "\udc00"},
]
VOID_CASES = [{"bogus": 1}, {"reason": 5}, {"reason": ["x"]}, {"reason": "a\u0000"}, {"reason": "x" * 5001}]
PAYMENT_CASES = [
    {},
    {"bogus": 1, "amount": 1},
    {"amount": None},
    {"amount": "abc"},
    {"amount": "1e5"},
    {"amount": True},
    {"amount": [1]},
    {"amount": {"value": 1}},
    {"amount": RawJSON("Infinity")},
    {"amount": RawJSON("-Infinity")},
    {"amount": 0},
    {"amount": RawJSON("-0.00")},
    {"amount": -1},
    {"amount": RawJSON("1e-999999999")},
    {"amount": RawJSON("9" * 5000)},
    {"amount": RawJSON("0.001")},
    {"amount": RawJSON("5400.01")},  # 100.00 of 5500.00 is paid
    {"amount": 1, "date": "2024-13-01"},
    {"amount": 1, "date": "2024-02-30"},
    {"amount": 1, "date": "15/06/2024"},
    {"amount": 1, "date": 20240615},
    {"amount": 1, "date": ""},
    {"amount": 1, "method": 5},
    {"amount": 1, "method": "x" * 256},
    {"amount": 1, "method": "cash\u0000"},
    {"amount": 1, "reference": ["x"]},
    {"amount": 1, "reference": "x" * 256},
    {"amount": 1, "reference": "\ud800"},
]


def _cases(route: str, cases: list[Any]) -> list[Any]:
    return [pytest.param(route, case, id=f"{route}-{i}") for i, case in enumerate(cases)]


@pytest.mark.parametrize(
    ("route", "body"), _cases("/send", SEND_CASES) + _cases("/void", VOID_CASES) + _cases("/payments", PAYMENT_CASES)
)
def test_bad_body_is_400_and_writes_nothing(world: World, route, body):
    message = assert_error(world.api.post(path(world.sent, route), body), 400)
    if "bogus" in body:
        assert message == "Unknown field: bogus"


@pytest.mark.parametrize("raw", NOT_AN_OBJECT, ids=repr)
@pytest.mark.parametrize("route", ["/send", "/void", "/payments"])
def test_body_that_is_not_a_json_object_is_400(world: World, route, raw):
    assert_error(world.api.request("POST", path(world.sent, route), content=raw), 400)


@pytest.mark.parametrize("route", ["/send", "/void", "/payments"])
def test_body_over_the_limit_is_413(world: World, route):
    raw = b'{"message": "' + b"x" * 17000 + b'"}'
    assert_error(world.api.request("POST", path(world.sent, route), content=raw), 413)


ODD_IDS = [UNKNOWN_ID, "nope", "00000000-0000-0000-0000-000000000000", "%00", "a" * 500, "<other>", "<draft>"]


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize(
    ("method", "tail", "body"),
    [
        ("POST", "/send", None),
        ("POST", "/void", None),
        ("POST", "/payments", {"amount": 1}),
        ("GET", "/payments", None),
        ("DELETE", "/payments/<payment>", None),
    ],
)
def test_unknown_malformed_or_foreign_invoice_is_404(world: World, method, tail, body, odd):
    if odd == "<draft>":
        if method != "DELETE":
            return  # a draft is a real invoice of the account: covered elsewhere
        invoice_id = world.draft
    else:
        invoice_id = {"<other>": world.other_sent}.get(odd, odd)
    url = path(invoice_id, tail.replace("<payment>", world.payment))
    assert_error(world.api.request(method, url, body), 404)


@pytest.mark.parametrize("payment", [UNKNOWN_ID, "nope", "%00", "<other>"])
def test_unknown_malformed_or_foreign_payment_is_404(world: World, payment):
    payment_id = world.other_payment if payment == "<other>" else payment
    assert_error(world.api.delete(path(world.sent, f"/payments/{payment_id}")), 404)


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("GET", "/send"),
        ("PUT", "/send"),
        ("DELETE", "/send"),
        ("GET", "/void"),
        ("PATCH", "/void"),
        ("PUT", "/payments"),
        ("DELETE", "/payments"),
        ("GET", "/payments/<payment>"),
        ("PUT", "/payments/<payment>"),
        ("POST", "/payments/<payment>"),
    ],
)
def test_wrong_method_is_405(world: World, method, tail):
    response = world.api.request(method, path(world.sent, tail.replace("<payment>", world.payment)), {})
    assert_error(response, 405)
    assert method not in response.headers["allow"]


# --- the read model after a full lifecycle ------------------------------------------------------


def test_rebuild_after_a_full_lifecycle_gives_identical_rows(life: Lifecycle, services: Services, clock: FakeClock):
    paid_late = life.draft(**PAST_DUE, lineItems=[{**line(), "discountRate": 10}])
    life.send(paid_late, {"email": True, "message": "Here it is"})
    services.email_worker().run_once()  # into the outbox: EmailDelivered
    token = SHARE_URL.fullmatch(life.api.invoice(paid_late)["shareUrl"]).group(1)  # type: ignore[union-attr]
    life.api.http.get(f"/i/{token}")  # VIEWED
    first = life.pay(paid_late, 1000)
    services.overdue_sweep().sweep()  # OVERDUE
    clock.advance(days=1)
    life.pay(paid_late, RawJSON("3950.00"))  # PAID
    ok(life.api.delete(path(paid_late, f"/payments/{first['id']}")))  # OVERDUE again
    life.send(paid_late)  # a re-send
    voided = life.in_status(PARTIALLY_PAID)
    ok(life.api.post(path(voided, "/void"), {"reason": "Duplicate"}))
    life.in_status(PAID)
    deleted = life.draft()
    life.api.delete(path(deleted))
    life.draft()
    assert life.api.invoice(paid_late)["status"] == OVERDUE

    live = dump_read_model(services)
    position = services.projector.position()
    assert services.projector.rebuild() == position
    assert dump_read_model(services) == live
    assert len(live["invoice_payments"]) == 4
