"""The invoices routes of API.md through the real ASGI app."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.conftest import (
    INVOICE_BRIEF_KEYS,
    INVOICE_DETAIL_KEYS,
    INVOICE_SUMMARY_KEYS,
    ISO_TIMESTAMP,
    LINE_KEYS,
    LIST_KEYS,
    Api,
    FakeClock,
    assert_error,
    invoice_body,
    line,
    payload,
    stored_state,
)

SEED = {
    "invoiceNumber": "INV-0042",
    "currency": "USD",
    "issueDate": "2024-06-01",
    "dueDate": "2024-07-01",
    "lineItems": [line("Web Development", 40, 125.00, 10)],
    "notes": "Thank you for your business",
    "terms": "Payment due within 30 days",
}
UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"


@pytest.fixture
def acme(api: Api) -> dict:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["invoiceNumber"] for item in payload(response)["data"]]


# --- POST /invoices ------------------------------------------------------------------


def test_create_invoice_is_201_with_id_number_total_and_draft_status(api: Api, acme):
    response = api.post("/api/v1/invoices", {"clientId": acme["id"], **SEED})
    assert response.status_code == 201
    body = payload(response)
    assert set(body) == {"data"} and set(body["data"]) > INVOICE_BRIEF_KEYS  # the reference's four, and more
    assert (body["data"]["invoiceNumber"], body["data"]["status"]) == ("INV-0042", "DRAFT")
    assert str(body["data"]["total"]) == "5500.00"
    # the whole detail, as GET answers it, with the same ETag: no second read needed
    read = api.get(f"/api/v1/invoices/{body['data']['id']}")
    assert body == payload(read) and response.headers["ETag"] == read.headers["ETag"]


def test_create_invoice_without_number_assigns_the_next_in_sequence(api: Api, acme):
    assigned = [api.create_invoice(acme["id"])["invoiceNumber"] for _ in range(3)]
    assert assigned == ["INV-0001", "INV-0002", "INV-0003"]


def test_create_invoice_defaults_usd_today_and_due_in_30_days(api: Api, acme, clock: FakeClock):
    detail = api.invoice(api.create_invoice(acme["id"])["id"])
    assert (detail["currency"], detail["issueDate"], detail["dueDate"]) == ("USD", "2024-06-15", "2024-07-15")


def test_create_invoice_due_date_defaults_to_30_days_after_the_issue_date_sent(api: Api, acme):
    detail = api.invoice(api.create_invoice(acme["id"], issueDate="2024-02-15")["id"])
    assert detail["dueDate"] == "2024-03-16"


def test_create_invoice_with_taken_number_is_409_regardless_of_case(api: Api, acme, services):
    api.create_invoice(acme["id"], invoiceNumber="INV-0042")
    before = stored_state(services)
    for number in ("INV-0042", "inv-0042"):
        assert_error(api.post("/api/v1/invoices", invoice_body(acme["id"], invoiceNumber=number)), 409)
    assert stored_state(services) == before


def test_number_of_a_deleted_invoice_can_be_used_again(api: Api, acme):
    first = api.create_invoice(acme["id"], invoiceNumber="INV-0042")
    api.delete(f"/api/v1/invoices/{first['id']}")
    assert api.create_invoice(acme["id"], invoiceNumber="INV-0042")["invoiceNumber"] == "INV-0042"


def test_another_account_may_use_the_same_number(api: Api, acme, http, open_tenant):
    api.create_invoice(acme["id"], invoiceNumber="INV-0042")
    other = Api(http, open_tenant("pro", name="Other"))
    theirs = other.create_client(name="Theirs")
    assert other.create_invoice(theirs["id"], invoiceNumber="INV-0042")["invoiceNumber"] == "INV-0042"
    assert other.create_invoice(theirs["id"])["invoiceNumber"] == "INV-0001"


@pytest.mark.parametrize("body", [{"lineItems": [line()]}, {"clientId": UNKNOWN_ID}])
def test_create_invoice_without_client_or_lines_is_400_naming_the_field(api: Api, body):
    missing = "clientId" if "lineItems" in body else "lineItems"
    assert assert_error(api.post("/api/v1/invoices", body), 400) == f"Missing required field: {missing}"


def test_create_invoice_for_a_deleted_client_is_400(api: Api, acme):
    api.delete(f"/api/v1/clients/{acme['id']}")
    assert_error(api.post("/api/v1/invoices", invoice_body(acme["id"])), 400)


def test_create_invoice_for_another_accounts_client_is_refused_like_an_unknown_one(api: Api, http, open_tenant):
    theirs = Api(http, open_tenant("pro", name="Other")).create_client(name="Theirs")
    foreign = assert_error(api.post("/api/v1/invoices", invoice_body(theirs["id"])), 400)
    unknown = assert_error(api.post("/api/v1/invoices", invoice_body(UNKNOWN_ID)), 400)
    assert foreign == unknown


def test_twenty_first_invoice_of_the_month_on_free_plan_is_403_until_next_month(http, open_tenant, clock, services):
    api = Api(http, open_tenant("free"))
    client_id = api.create_client(name="Acme")["id"]
    for _ in range(20):
        api.create_invoice(client_id)
    before = stored_state(services)
    assert_error(api.post("/api/v1/invoices", invoice_body(client_id)), 403)
    assert stored_state(services) == before
    clock.advance(days=20)
    assert api.create_invoice(client_id)["invoiceNumber"] == "INV-0021"


@pytest.mark.parametrize(
    ("currency", "total", "amount"),
    [
        ("USD", "5500.00", "5000.00"),
        ("JPY", "5500", "5000"),
        ("KWD", "5500.000", "5000.000"),
        ("eur", "5500.00", "5000.00"),
    ],
)
def test_totals_carry_the_currency_minor_unit_on_the_wire(api: Api, acme, currency, total, amount):
    created = api.create_invoice(acme["id"], currency=currency)
    assert f'"total":{total}' in api.post("/api/v1/invoices", invoice_body(acme["id"], currency=currency)).text
    detail = api.invoice(created["id"])
    assert detail["currency"] == currency.upper()
    assert (str(detail["total"]), str(detail["lineItems"][0]["amount"])) == (total, amount)


def test_numbers_are_echoed_at_the_scale_sent(api: Api, acme):
    sent = line("Hours", Decimal("1.50"), Decimal("125.00"), Decimal("7.5"))
    created = api.create_invoice(acme["id"], lineItems=[sent])
    item = api.invoice(created["id"])["lineItems"][0]
    assert (str(item["quantity"]), str(item["unitPrice"]), str(item["taxRate"]), str(item["amount"])) == (
        "1.50",
        "125.00",
        "7.5",
        "187.50",
    )


def test_totals_are_exact_decimals_half_up(api: Api, acme):
    lines = [line("a", 1, "0.1", 0), line("b", 1, "0.2", 0), line("c", 3, "0.335", "12.5")]
    detail = api.invoice(api.create_invoice(acme["id"], lineItems=lines)["id"])
    # 0.10 + 0.20 + 1.01 (1.005 half-up) = 1.31; tax 1.01 * 12.5% = 0.12625 -> 0.13
    assert [str(item["amount"]) for item in detail["lineItems"]] == ["0.10", "0.20", "1.01"]
    assert (str(detail["subtotal"]), str(detail["taxTotal"]), str(detail["total"])) == ("1.31", "0.13", "1.44")


def test_numbers_sent_as_json_strings_are_read_as_decimals(api: Api, acme):
    detail = api.invoice(api.create_invoice(acme["id"], lineItems=[line("a", "2", "10.25", "10")])["id"])
    assert str(detail["total"]) == "22.55"


# --- GET /invoices/{id} --------------------------------------------------------------


def test_get_invoice_is_the_full_detail(api: Api, acme):
    created = api.create_invoice(acme["id"], **SEED)
    response = api.get(f"/api/v1/invoices/{created['id']}")
    assert response.status_code == 200
    detail = payload(response)["data"]
    assert set(detail) >= INVOICE_DETAIL_KEYS
    assert [set(item) for item in detail["lineItems"]] == [LINE_KEYS]
    expected = {
        "id": created["id"],
        "clientId": acme["id"],
        "invoiceNumber": "INV-0042",
        "currency": "USD",
        "issueDate": "2024-06-01",
        "dueDate": "2024-07-01",
        "status": "DRAFT",
        "notes": SEED["notes"],
        "terms": SEED["terms"],
        "sentViaEmail": False,
        "sentAt": None,
        "paidAt": None,
        "client": {"name": "Acme Corp", "email": "billing@acme.test"},
    }
    assert {key: detail[key] for key in expected} == expected
    assert [detail[key] for key in ("subtotal", "taxTotal", "discountTotal", "total")] == [5000, 500, 0, 5500]
    assert detail["lineItems"] == [
        {
            "description": "Web Development",
            "quantity": 40,
            "unitPrice": 125,
            "amount": 5000,
            "taxRate": 10,
            "discountRate": 0,
            "discount": 0,
        }
    ]
    assert ISO_TIMESTAMP.fullmatch(detail["createdAt"])


def test_get_unknown_invoice_is_404(api: Api):
    assert_error(api.get(f"/api/v1/invoices/{UNKNOWN_ID}"), 404)


# --- PUT / PATCH /invoices/{id} ------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_draft_reprices_and_keeps_unsent_fields(api: Api, acme, method):
    created = api.create_invoice(acme["id"], **SEED)
    sent = {"dueDate": "2024-07-15", "notes": "Updated scope", "lineItems": [line("Web Development", 50, 125.00, 10)]}
    response = api.request(method, f"/api/v1/invoices/{created['id']}", sent)
    assert response.status_code == 200
    data = payload(response)["data"]
    assert set(data) > INVOICE_BRIEF_KEYS
    assert (data["id"], data["invoiceNumber"], str(data["total"]), data["status"]) == (
        created["id"],
        "INV-0042",
        "6875.00",
        "DRAFT",
    )
    read = api.get(f"/api/v1/invoices/{created['id']}")
    assert data == payload(read)["data"] and response.headers["ETag"] == read.headers["ETag"]  # the whole detail
    detail = api.invoice(created["id"])
    assert (detail["dueDate"], detail["notes"], detail["terms"], detail["issueDate"]) == (
        "2024-07-15",
        "Updated scope",
        SEED["terms"],
        "2024-06-01",
    )
    assert (str(detail["subtotal"]), str(detail["taxTotal"])) == ("6250.00", "625.00")


def test_update_changing_currency_reprices_at_the_new_minor_unit(api: Api, acme):
    created = api.create_invoice(acme["id"], **SEED)
    assert str(payload(api.patch(f"/api/v1/invoices/{created['id']}", {"currency": "KWD"}))["data"]["total"]) == (
        "5500.000"
    )
    detail = api.invoice(created["id"])
    assert (detail["currency"], str(detail["subtotal"]), str(detail["lineItems"][0]["amount"])) == (
        "KWD",
        "5000.000",
        "5000.000",
    )
    api.patch(f"/api/v1/invoices/{created['id']}", {"currency": "JPY"})
    assert str(api.invoice(created["id"])["total"]) == "5500"


def test_update_can_move_the_invoice_to_another_client(api: Api, acme):
    other = api.create_client(name="Globex", email="ap@globex.test")
    created = api.create_invoice(acme["id"])
    api.patch(f"/api/v1/invoices/{created['id']}", {"clientId": other["id"]})
    detail = api.invoice(created["id"])
    assert (detail["clientId"], detail["client"]) == (other["id"], {"name": "Globex", "email": "ap@globex.test"})
    assert numbers(api.get("/api/v1/invoices", clientId=acme["id"])) == []
    assert numbers(api.get("/api/v1/invoices", clientId=other["id"])) == ["INV-0001"]


def test_update_can_renumber_and_frees_the_old_number(api: Api, acme):
    created = api.create_invoice(acme["id"], invoiceNumber="OLD-1")
    data = payload(api.put(f"/api/v1/invoices/{created['id']}", {"invoiceNumber": "NEW-1"}))["data"]
    assert data["invoiceNumber"] == "NEW-1"
    assert api.create_invoice(acme["id"], invoiceNumber="OLD-1")["invoiceNumber"] == "OLD-1"


def test_update_to_a_taken_number_is_409_and_changes_nothing(api: Api, acme, services):
    api.create_invoice(acme["id"], invoiceNumber="TAKEN")
    mine = api.create_invoice(acme["id"], invoiceNumber="MINE")
    before = stored_state(services)
    assert_error(api.patch(f"/api/v1/invoices/{mine['id']}", {"invoiceNumber": "taken", "notes": "x"}), 409)
    assert stored_state(services) == before


@pytest.mark.parametrize(
    "body",
    [
        {"dueDate": "2024-05-31"},
        {"issueDate": "2024-07-02"},
        {"clientId": UNKNOWN_ID},
        {"lineItems": []},
        {"currency": "XYZ"},
        {"invoiceNumber": " "},
    ],
)
def test_update_breaking_a_rule_is_400_and_changes_nothing(api: Api, acme, services, body):
    created = api.create_invoice(acme["id"], **SEED)
    before = stored_state(services)
    assert_error(api.patch(f"/api/v1/invoices/{created['id']}", body), 400)
    assert stored_state(services) == before


def test_update_to_a_deleted_client_is_400(api: Api, acme):
    other = api.create_client(name="Gone")
    api.delete(f"/api/v1/clients/{other['id']}")
    created = api.create_invoice(acme["id"])
    assert_error(api.patch(f"/api/v1/invoices/{created['id']}", {"clientId": other["id"]}), 400)


def test_update_accepts_back_what_it_read(api: Api, acme):
    created = api.create_invoice(acme["id"], **SEED)
    detail = api.invoice(created["id"])
    response = api.put(f"/api/v1/invoices/{created['id']}", {**detail, "notes": "Sent back"})
    assert response.status_code == 200, response.text
    assert api.invoice(created["id"])["notes"] == "Sent back"


def test_update_unknown_invoice_is_404(api: Api):
    assert_error(api.patch(f"/api/v1/invoices/{UNKNOWN_ID}", {"notes": "x"}), 404)


# --- DELETE /invoices/{id} -----------------------------------------------------------


def test_delete_invoice_is_204_empty_then_gone(api: Api, acme):
    created = api.create_invoice(acme["id"])
    response = api.delete(f"/api/v1/invoices/{created['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_error(api.get(f"/api/v1/invoices/{created['id']}"), 404)
    assert_error(api.patch(f"/api/v1/invoices/{created['id']}", {"notes": "x"}), 404)
    assert_error(api.delete(f"/api/v1/invoices/{created['id']}"), 404)
    assert numbers(api.get("/api/v1/invoices")) == []


# --- GET /invoices -------------------------------------------------------------------


def test_list_invoices_is_the_list_envelope_of_summaries(api: Api, acme):
    api.create_invoice(acme["id"], **SEED)
    body = payload(api.get("/api/v1/invoices"))
    assert set(body) == LIST_KEYS | {"nextCursor"}
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (1, 1, 20, 1)
    item = body["data"][0]
    assert set(item) >= INVOICE_SUMMARY_KEYS and "lineItems" not in item
    assert item["client"] == {"name": "Acme Corp", "email": "billing@acme.test"}
    assert (item["invoiceNumber"], item["issueDate"], str(item["subtotal"]), str(item["total"])) == (
        "INV-0042",
        "2024-06-01",
        "5000.00",
        "5500.00",
    )
    assert ISO_TIMESTAMP.fullmatch(item["createdAt"])


def test_list_invoices_pages_newest_first_and_stably(api: Api, acme):
    for _ in range(5):
        api.create_invoice(acme["id"])
    pages = [payload(api.get("/api/v1/invoices", page=str(p), limit="2")) for p in (1, 2, 3)]
    listed = [item["invoiceNumber"] for page in pages for item in page["data"]]
    assert listed == ["INV-0005", "INV-0004", "INV-0003", "INV-0002", "INV-0001"]
    assert all((page["total"], page["totalPages"]) == (5, 3) for page in pages)
    assert payload(api.get("/api/v1/invoices", page="4", limit="2"))["data"] == []


def test_list_invoices_filters_by_client(api: Api, acme):
    other = api.create_client(name="Globex")
    api.create_invoice(acme["id"], invoiceNumber="A-1")
    api.create_invoice(other["id"], invoiceNumber="G-1")
    api.create_invoice(acme["id"], invoiceNumber="A-2")
    assert numbers(api.get("/api/v1/invoices", clientId=acme["id"])) == ["A-2", "A-1"]
    assert numbers(api.get("/api/v1/invoices", clientId=other["id"])) == ["G-1"]


@pytest.mark.parametrize("client_id", [UNKNOWN_ID, "not-a-uuid", "x" * 300])
def test_list_invoices_for_an_unknown_client_is_an_empty_list(api: Api, acme, client_id):
    api.create_invoice(acme["id"])
    body = payload(api.get("/api/v1/invoices", clientId=client_id))
    assert (body["data"], body["total"], body["totalPages"]) == ([], 0, 0)


def test_list_invoices_filters_by_status(api: Api, acme):
    api.create_invoice(acme["id"])
    assert numbers(api.get("/api/v1/invoices", status="DRAFT")) == ["INV-0001"]
    for status in ("SENT", "VIEWED", "PAID", "PARTIALLY_PAID", "OVERDUE"):
        assert numbers(api.get("/api/v1/invoices", status=status)) == []


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("inv-0042", ["INV-0042"]),
        ("INV-00", ["INV-0042", "INV-0007"]),
        ("MÜLLER", ["INV-0007"]),
        ("ACME.TEST", ["INV-0042"]),
        ("0007", ["INV-0007"]),
        ("zzz", []),
    ],
)
def test_search_invoices_by_number_client_name_or_email_case_insensitively(api: Api, acme, search, found):
    mueller = api.create_client(name="Müller GmbH", email="info@mueller.de")
    api.create_invoice(mueller["id"], invoiceNumber="INV-0007")
    api.create_invoice(acme["id"], invoiceNumber="INV-0042")
    assert numbers(api.get("/api/v1/invoices", search=search)) == found


def test_filters_combine(api: Api, acme):
    other = api.create_client(name="Globex")
    api.create_invoice(acme["id"], invoiceNumber="INV-0042")
    api.create_invoice(other["id"], invoiceNumber="INV-0043")
    response = api.get("/api/v1/invoices", clientId=acme["id"], status="DRAFT", search="inv-0042")
    assert numbers(response) == ["INV-0042"]
    assert numbers(api.get("/api/v1/invoices", clientId=other["id"], search="inv-0042")) == []


def test_renamed_client_shows_and_is_found_under_its_new_name_on_its_invoices(api: Api, acme):
    api.create_invoice(acme["id"])
    api.patch(f"/api/v1/clients/{acme['id']}", {"name": "Acme Corporation", "email": "ap@acme.test"})
    item = payload(api.get("/api/v1/invoices", search="corporation"))["data"][0]
    assert item["client"] == {"name": "Acme Corporation", "email": "ap@acme.test"}
    assert numbers(api.get("/api/v1/invoices", search="billing@")) == []


# --- another account -----------------------------------------------------------------


def test_another_accounts_invoice_is_404_everywhere_and_stays_unchanged(api: Api, http, open_tenant, services):
    other = Api(http, open_tenant("pro", name="Other"))
    theirs_client = other.create_client(name="Theirs")
    theirs = other.create_invoice(theirs_client["id"], invoiceNumber="THEIRS-1")
    path = f"/api/v1/invoices/{theirs['id']}"
    before = stored_state(services)
    assert_error(api.get(path), 404)
    assert_error(api.put(path, {"notes": "mine"}), 404)
    assert_error(api.patch(path, {"lineItems": [line()]}), 404)
    assert_error(api.delete(path), 404)
    assert numbers(api.get("/api/v1/invoices")) == []
    assert numbers(api.get("/api/v1/invoices", search="theirs")) == []
    assert numbers(api.get("/api/v1/invoices", clientId=theirs_client["id"])) == []
    assert stored_state(services) == before
    assert other.invoice(theirs["id"])["invoiceNumber"] == "THEIRS-1"


def test_totals_in_the_list_match_the_detail(api: Api, acme):
    created = api.create_invoice(acme["id"], lineItems=[line("a", "3", "19.99", "21"), line("b", "0.5", "80", "0")])
    detail = api.invoice(created["id"])
    item = payload(api.get("/api/v1/invoices"))["data"][0]
    for key in ("subtotal", "taxTotal", "discountTotal", "total"):
        assert item[key] == detail[key]
    assert detail["subtotal"] == sum(Decimal(line["amount"]) for line in detail["lineItems"])
    assert detail["total"] == detail["subtotal"] - detail["discountTotal"] + detail["taxTotal"]


# --- GET /invoices/{id}/pdf ----------------------------------------------------------


def test_invoice_pdf_is_an_attachment_named_after_the_number(api: Api, acme):
    created = api.create_invoice(acme["id"], **SEED)
    response = api.get(f"/api/v1/invoices/{created['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["content-disposition"] == 'attachment; filename="INV-0042.pdf"'
    assert response.content.startswith(b"%PDF")


def test_pdf_of_a_deleted_or_unknown_invoice_is_404(api: Api, acme):
    created = api.create_invoice(acme["id"])
    api.delete(f"/api/v1/invoices/{created['id']}")
    assert_error(api.get(f"/api/v1/invoices/{created['id']}/pdf"), 404)
    assert_error(api.get(f"/api/v1/invoices/{UNKNOWN_ID}/pdf"), 404)


def test_racing_posts_without_numbers_get_distinct_consecutive_numbers(api: Api, acme):
    start = threading.Barrier(8)

    def post(_: int) -> tuple[int, str]:
        start.wait()
        response = api.post("/api/v1/invoices", invoice_body(acme["id"]))
        return response.status_code, payload(response)["data"]["invoiceNumber"] if response.status_code == 201 else ""

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    assert sorted(results) == [(201, f"INV-{n:04d}") for n in range(1, 9)]


# --- query strings: a name no route reads is refused ----------------------------------------


def refusal(response, status: int) -> str:
    """The message of an error answer (which may carry a code and a field beside it)."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = payload(response)
    assert isinstance(body["error"], str) and body["error"].strip(), body
    return str(body["error"])


def _routes_under_api(http) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves under /api/v1 but the document itself
    (gateway/rest/contract/openapi.py, which needs no key and reads no parameter)."""
    found = []
    for route in http.app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1/") or path == "/api/v1/openapi.json":
            continue
        found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def test_every_api_route_refuses_a_query_parameter_it_does_not_read(api: Api, acme, services):
    invoice = api.create_invoice(acme["id"])
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", {}).status_code == 200
    paid = payload(api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": 10}))["data"]
    ids = {"client_id": acme["id"], "invoice_id": invoice["id"], "payment_id": paid["id"]}
    routes = _routes_under_api(api.http)
    assert ("GET", "/api/v1/ledger/digest") in routes and ("GET", "/api/v1/invoices/{invoice_id}/pdf") in routes
    before = stored_state(services)
    for method, path in routes:
        url = path.format(**ids)
        body = "{}" if method in ("POST", "PUT", "PATCH") else None
        response = api.request(method, url, content=body, params={"stauts": "PAID"})
        assert refusal(response, 400) == "Unknown query parameter: stauts", (method, path)
    assert stored_state(services) == before  # refused before anything ran


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/invoices", {"status": "PAID", "stauts": "PAID"}),
        ("/api/v1/clients", {"page": "1", "pgae": "2"}),
        ("/api/v1/ledger/digest", {"position": "50"}),
        ("/api/v1/events", {"after": "0", "offset": "3"}),
        ("/api/v1/invoices", {"": "x"}),
    ],
)
def test_a_misspelt_or_unknown_parameter_is_named_in_a_400(api: Api, path, query):
    unknown = next(name for name in query if name not in ("status", "page", "after"))
    assert refusal(api.get(path, **query), 400) == f"Unknown query parameter: {unknown}"


def test_the_parameters_each_list_reads_are_still_taken(api: Api, acme):
    created = api.create_invoice(acme["id"])
    query = {"page": "1", "limit": "5", "search": "INV", "clientId": acme["id"], "status": "DRAFT"}
    assert numbers(api.get("/api/v1/invoices", **query)) == [created["invoiceNumber"]]
    assert api.get("/api/v1/clients", page="1", limit="5", search="acme").status_code == 200
    assert api.get(f"/api/v1/invoices/{created['id']}", version="1").status_code == 200
    assert api.get("/api/v1/events", after="0", limit="5").status_code == 200
