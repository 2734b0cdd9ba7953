"""The clients routes of API.md through the real ASGI app."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import CLIENT_KEYS, ISO_TIMESTAMP, LIST_KEYS, Api, assert_error, payload, stored_state

ACME = {
    "name": "Acme Corp",
    "email": "billing@acme.test",
    "address": "123 Main St, New York, NY 10001",
    "taxId": "US-123456789",
    "phone": "+1-555-0100",
    "notes": "Net 30 terms",
}


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in payload(response)["data"]]


# --- POST /clients -------------------------------------------------------------------


def test_create_client_is_201_with_the_documented_shape(api: Api):
    response = api.post("/api/v1/clients", ACME)
    assert response.status_code == 201
    data = payload(response)["data"]
    assert set(payload(response)) == {"data"}
    assert set(data) == CLIENT_KEYS
    assert {key: data[key] for key in ACME} == ACME
    assert data["isActive"] is True
    assert ISO_TIMESTAMP.fullmatch(data["createdAt"]) and data["updatedAt"] == data["createdAt"]


def test_create_client_with_only_a_name_leaves_the_rest_null(api: Api):
    data = payload(api.post("/api/v1/clients", {"name": "Solo"}))["data"]
    assert {key: data[key] for key in ("email", "address", "taxId", "phone", "notes")} == dict.fromkeys(
        ("email", "address", "taxId", "phone", "notes")
    )


def test_create_client_trims_text_and_stores_blank_optional_fields_as_null(api: Api):
    data = api.create_client(name="  Acme Corp  ", phone="   ", notes="")
    assert (data["name"], data["phone"], data["notes"]) == ("Acme Corp", None, None)


def test_create_client_without_name_is_400_with_the_reference_message(api: Api):
    response = api.post("/api/v1/clients", {"email": "x@acme.test"})
    assert assert_error(response, 400) == "Missing required field: name"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a@@b.test", "a b@c.test", "@acme.test"])
def test_create_client_with_invalid_email_is_400(api: Api, email):
    assert_error(api.post("/api/v1/clients", {"name": "Acme", "email": email}), 400)


def test_create_client_ignores_fields_the_api_itself_returns(api: Api):
    sent = {**ACME, "id": "mine", "isActive": True, "createdAt": "2000-01-01T00:00:00.000Z", "updatedAt": "x"}
    data = payload(api.post("/api/v1/clients", sent))["data"]
    assert data["id"] != "mine" and data["isActive"] is True and data["createdAt"].startswith("20")


def test_sixth_client_over_free_plan_limit_is_403(http, open_tenant, services):
    api = Api(http, open_tenant("free"))
    for i in range(5):
        api.create_client(name=f"Client {i}")
    before = stored_state(services)
    assert "limit" in assert_error(api.post("/api/v1/clients", {"name": "Sixth"}), 403).lower()
    assert stored_state(services) == before


def test_deleted_client_frees_its_slot_on_the_free_plan(http, open_tenant):
    api = Api(http, open_tenant("free"))
    ids = [api.create_client(name=f"Client {i}")["id"] for i in range(5)]
    assert api.delete(f"/api/v1/clients/{ids[0]}").status_code == 204
    assert api.post("/api/v1/clients", {"name": "Sixth"}).status_code == 201


# --- GET /clients --------------------------------------------------------------------


def test_list_clients_is_the_list_envelope_with_defaults(api: Api):
    api.create_client(**ACME)
    body = payload(api.get("/api/v1/clients"))
    assert set(body) == LIST_KEYS | {"nextCursor"}
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (1, 1, 20, 1)
    assert set(body["data"][0]) == CLIENT_KEYS


def test_empty_list_has_zero_pages(api: Api):
    body = payload(api.get("/api/v1/clients"))
    assert (body["data"], body["total"], body["totalPages"]) == ([], 0, 0)


def test_list_clients_pages_newest_first_and_stably(api: Api):
    created = [api.create_client(name=f"Client {i}")["id"] for i in range(7)]
    pages = [payload(api.get("/api/v1/clients", page=str(p), limit="3")) for p in (1, 2, 3, 4)]
    assert [len(page["data"]) for page in pages] == [3, 3, 1, 0]
    assert all((page["total"], page["limit"], page["totalPages"]) == (7, 3, 3) for page in pages)
    assert [page["page"] for page in pages] == [1, 2, 3, 4]
    listed = [item["id"] for page in pages for item in page["data"]]
    assert listed == list(reversed(created))
    again = [
        item["id"] for p in (1, 2, 3) for item in payload(api.get("/api/v1/clients", page=str(p), limit="3"))["data"]
    ]
    assert again == listed


def test_list_clients_shows_only_active_ones(api: Api):
    kept = api.create_client(name="Kept")
    gone = api.create_client(name="Gone")
    api.delete(f"/api/v1/clients/{gone['id']}")
    assert names(api.get("/api/v1/clients")) == [kept["name"]]
    assert payload(api.get("/api/v1/clients"))["total"] == 1


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("acme", ["Acme Corp"]),
        ("ACME", ["Acme Corp"]),
        ("BILLING@ACME", ["Acme Corp"]),
        ("MÜLLER", ["Müller GmbH"]),
        ("müller", ["Müller GmbH"]),
        ("MU\u0308LLER", ["Müller GmbH"]),  # decomposed Ü finds the composed name
        ("STRASSE", ["Hauptstraße AG"]),
        ("ΣΟΦΊΑ", ["σοφία"]),
        ("  acme  ", ["Acme Corp"]),
        ("gmbh", ["Müller GmbH"]),
        ("nothing-like-it", []),
    ],
)
def test_search_clients_is_case_insensitive_beyond_ascii(api: Api, search, found):
    api.create_client(name="Acme Corp", email="billing@acme.test")
    api.create_client(name="Müller GmbH", email="info@mueller.test")
    api.create_client(name="Hauptstraße AG")
    api.create_client(name="σοφία")
    assert names(api.get("/api/v1/clients", search=search)) == found


def test_search_treats_like_wildcards_literally(api: Api):
    for name in ("100% Pure", "1000 Pure", "a_b", "axb", "back\\slash"):
        api.create_client(name=name)
    assert names(api.get("/api/v1/clients", search="100%")) == ["100% Pure"]
    assert names(api.get("/api/v1/clients", search="a_b")) == ["a_b"]
    assert names(api.get("/api/v1/clients", search="k\\s")) == ["back\\slash"]


def test_search_with_paging_counts_only_matches(api: Api):
    for i in range(3):
        api.create_client(name=f"Match {i}")
        api.create_client(name=f"Other {i}")
    body = payload(api.get("/api/v1/clients", search="match", limit="2"))
    assert (body["total"], body["totalPages"], [item["name"] for item in body["data"]]) == (
        3,
        2,
        ["Match 2", "Match 1"],
    )


# --- GET /clients/{id} ---------------------------------------------------------------


def test_get_client_returns_what_create_returned(api: Api):
    created = api.create_client(**ACME)
    response = api.get(f"/api/v1/clients/{created['id']}")
    assert response.status_code == 200
    assert payload(response) == {"data": created}


def test_get_deleted_client_still_answers_with_is_active_false(api: Api):
    created = api.create_client(**ACME)
    api.delete(f"/api/v1/clients/{created['id']}")
    data = payload(api.get(f"/api/v1/clients/{created['id']}"))["data"]
    assert data["isActive"] is False
    assert {key: data[key] for key in ACME} == ACME


def test_get_unknown_client_is_404(api: Api):
    assert_error(api.get("/api/v1/clients/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"), 404)


# --- PUT / PATCH /clients/{id} -------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_every_write_of_a_client_answers_what_get_answers_with_its_etag(api: Api, method):
    created = api.create_client(**ACME)
    if method == "POST":
        response = api.post("/api/v1/clients", {"name": "Other Co", "email": "other@acme.test"})
    else:
        response = api.request(method, f"/api/v1/clients/{created['id']}", {"phone": "+1-555-0300"})
    assert response.status_code == (201 if method == "POST" else 200)
    read = api.get(f"/api/v1/clients/{payload(response)['data']['id']}")
    assert payload(response) == payload(read) and response.headers["ETag"] == read.headers["ETag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_client_changes_what_was_sent_and_keeps_the_rest(api: Api, method):
    created = api.create_client(**ACME)
    sent = {"name": "Acme Corporation", "email": "billing@acme.test", "phone": "+1-555-0200"}
    response = api.request(method, f"/api/v1/clients/{created['id']}", sent)
    assert response.status_code == 200
    data = payload(response)["data"]
    assert data == {**created, **sent, "updatedAt": data["updatedAt"]}
    assert ISO_TIMESTAMP.fullmatch(data["updatedAt"]) and data["updatedAt"] >= created["createdAt"]
    assert payload(api.get(f"/api/v1/clients/{created['id']}"))["data"] == data


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_client_can_clear_an_optional_field_with_null(api: Api, method):
    created = api.create_client(**ACME)
    data = payload(api.request(method, f"/api/v1/clients/{created['id']}", {"notes": None, "phone": ""}))["data"]
    assert (data["notes"], data["phone"], data["address"]) == (None, None, ACME["address"])


@pytest.mark.parametrize("body", [{"name": None}, {"name": ""}, {"name": "   "}, {"email": "nope"}])
def test_update_client_cannot_drop_the_name_or_break_the_email(api: Api, services, body):
    created = api.create_client(**ACME)
    before = stored_state(services)
    assert_error(api.patch(f"/api/v1/clients/{created['id']}", body), 400)
    assert stored_state(services) == before


def test_update_client_accepts_back_what_it_read(api: Api):
    created = api.create_client(**ACME)
    response = api.put(f"/api/v1/clients/{created['id']}", {**created, "name": "Acme Corporation"})
    assert response.status_code == 200
    assert payload(response)["data"]["name"] == "Acme Corporation"


def test_update_with_empty_object_changes_nothing(api: Api):
    created = api.create_client(**ACME)
    response = api.patch(f"/api/v1/clients/{created['id']}", {})
    assert response.status_code == 200
    assert payload(response)["data"] == created


def test_update_is_active_false_removes_from_list_and_true_brings_back(api: Api):
    created = api.create_client(**ACME)
    off = payload(api.patch(f"/api/v1/clients/{created['id']}", {"isActive": False}))["data"]
    assert off["isActive"] is False and names(api.get("/api/v1/clients")) == []
    on = payload(api.put(f"/api/v1/clients/{created['id']}", {"isActive": True}))["data"]
    assert on["isActive"] is True and names(api.get("/api/v1/clients")) == ["Acme Corp"]


def test_reactivating_over_the_free_plan_limit_is_403(http, open_tenant, services):
    api = Api(http, open_tenant("free"))
    ids = [api.create_client(name=f"Client {i}")["id"] for i in range(5)]
    api.delete(f"/api/v1/clients/{ids[0]}")
    api.create_client(name="Took the slot")
    before = stored_state(services)
    assert_error(api.patch(f"/api/v1/clients/{ids[0]}", {"isActive": True}), 403)
    assert stored_state(services) == before


def test_update_unknown_client_is_404(api: Api):
    assert_error(api.put("/api/v1/clients/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11", {"name": "x"}), 404)


# --- DELETE /clients/{id} ------------------------------------------------------------


def test_delete_client_is_204_with_an_empty_body(api: Api):
    created = api.create_client(**ACME)
    response = api.delete(f"/api/v1/clients/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""


def test_delete_unknown_client_is_404(api: Api):
    assert_error(api.delete("/api/v1/clients/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"), 404)


def test_client_with_invoices_is_only_soft_deleted_and_its_invoices_keep_it(api: Api):
    created = api.create_client(**ACME)
    invoice = api.create_invoice(created["id"])
    assert api.delete(f"/api/v1/clients/{created['id']}").status_code == 204
    detail = api.invoice(invoice["id"])
    assert detail["clientId"] == created["id"]
    assert detail["client"] == {"name": "Acme Corp", "email": "billing@acme.test"}
    assert payload(api.get(f"/api/v1/clients/{created['id']}"))["data"]["isActive"] is False


# --- another account -----------------------------------------------------------------


def test_another_accounts_client_is_404_everywhere_and_stays_unchanged(api: Api, http, open_tenant, services):
    theirs = Api(http, open_tenant("pro", name="Someone else")).create_client(**ACME)
    path = f"/api/v1/clients/{theirs['id']}"
    before = stored_state(services)
    assert_error(api.get(path), 404)
    assert_error(api.put(path, {"name": "Mine"}), 404)
    assert_error(api.patch(path, {"isActive": False}), 404)
    assert_error(api.delete(path), 404)
    assert names(api.get("/api/v1/clients")) == []
    assert names(api.get("/api/v1/clients", search="acme")) == []
    assert stored_state(services) == before


def test_racing_posts_for_the_last_free_plan_slot_let_exactly_one_in(http, open_tenant):
    api = Api(http, open_tenant("free"))
    for i in range(4):
        api.create_client(name=f"Client {i}")
    start = threading.Barrier(8)

    def post(i: int) -> int:
        start.wait()
        return api.post("/api/v1/clients", {"name": f"Racer {i}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(post, range(8)))
    assert statuses == [201] + [403] * 7
    assert payload(api.get("/api/v1/clients"))["total"] == 5
