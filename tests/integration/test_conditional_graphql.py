"""GraphQL mutations' ``expectedVersion``: REST's If-Match in the other door. A stale one is
CONFLICT naming the version the record is at, and changes nothing; the current one writes."""

from typing import Any

from gateway.services import Services
from tests.conftest import Api, stored_state
from tests.graphql_support import data, error

INVOICE = (
    'mutation($id: ID!, $v: Int) { updateInvoice(id: $id, input: {notes: "n"}, expectedVersion: $v) { version notes } }'
)
MUTATIONS = {
    "updateInvoice": 'updateInvoice(id: $id, input: {notes: "late"}, expectedVersion: $v) { id }',
    "deleteInvoice": "deleteInvoice(id: $id, expectedVersion: $v)",
    "sendInvoice": "sendInvoice(id: $id, expectedVersion: $v) { id }",
    "voidInvoice": "voidInvoice(id: $id, expectedVersion: $v) { id }",
    "recordPayment": 'recordPayment(id: $id, input: {amount: "1.00"}, expectedVersion: $v) { id }',
}


def _invoice(api: Api) -> tuple[str, str]:
    client = api.create_client(name="Acme Corp", email="billing@acme.test")
    return str(api.create_invoice(client["id"])["id"]), str(client["id"])


def _version(api: Api, invoice_id: str) -> int:
    found: dict[str, Any] = data(api, "query($id: ID!) { invoice(id: $id) { version } }", {"id": invoice_id})
    return int(found["invoice"]["version"])


def test_update_invoice_with_the_current_version_writes_and_a_stale_one_is_conflict(api: Api) -> None:
    invoice_id, _client = _invoice(api)
    version = _version(api, invoice_id)
    written = data(api, INVOICE, {"id": invoice_id, "v": version})["updateInvoice"]
    assert written["version"] == version + 1 and written["notes"] == "n"
    code, message = error(api, INVOICE, {"id": invoice_id, "v": version})
    assert code == "CONFLICT" and f"at version {version + 1}" in message and str(version) in message


def test_every_mutation_with_a_stale_expected_version_is_conflict_and_changes_nothing(
    api: Api, services: Services
) -> None:
    invoice_id, client_id = _invoice(api)
    sent, _ = _invoice(api)
    api.post(f"/api/v1/invoices/{sent}/send", {})
    paid = api.post(f"/api/v1/invoices/{sent}/payments", {"amount": "1.00"}).json()["data"]["id"]
    before = stored_state(services)
    for name, field in MUTATIONS.items():
        target = sent if name in ("voidInvoice", "recordPayment") else invoice_id
        stale = _version(api, target) - 1
        code, message = error(api, f"mutation($id: ID!, $v: Int) {{ {field} }}", {"id": target, "v": stale})
        assert code == "CONFLICT" and "version" in message, (name, message)
    reverse = (
        "mutation($id: ID!, $p: ID!, $v: Int) { reversePayment(id: $id, paymentId: $p, expectedVersion: $v) { id } }"
    )
    code, _message = error(api, reverse, {"id": sent, "p": paid, "v": 1})
    assert code == "CONFLICT"
    for mutation in (
        'updateClient(id: $id, input: {name: "x"}, expectedVersion: $v) { id }',
        "deleteClient(id: $id, expectedVersion: $v)",
    ):
        code, _message = error(api, f"mutation($id: ID!, $v: Int) {{ {mutation} }}", {"id": client_id, "v": 7})
        assert code == "CONFLICT"
    assert stored_state(services) == before


def test_a_client_mutation_with_its_histories_last_version_writes(api: Api) -> None:
    _invoice_id, client_id = _invoice(api)
    history = api.get(f"/api/v1/clients/{client_id}/history").json()["data"]
    version = int(history[-1]["version"])
    mutation = (
        'mutation($id: ID!, $v: Int) { updateClient(id: $id, input: {name: "Renamed"}, expectedVersion: $v) { name } }'
    )
    assert data(api, mutation, {"id": client_id, "v": version})["updateClient"]["name"] == "Renamed"
    assert error(api, mutation, {"id": client_id, "v": version})[0] == "CONFLICT"
