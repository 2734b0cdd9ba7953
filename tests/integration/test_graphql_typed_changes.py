"""History and feed entries' changes, typed per event type (gateway/graphql/changes.py, from
usecases/change_shapes.py): a union discriminated by the event, beside the JSON fields that
stay as they were. Through a whole invoice's and client's life, every typed value reads as
its JSON twin does, and each entry is the member its record kind and type name."""

from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, GraphQLUnionType, get_named_type

from gateway.graphql.schema import build_schema
from tests.conftest import Api
from tests.graphql_support import data
from usecases.change_shapes import SHAPES, shape_of

SCHEMA: GraphQLSchema = build_schema()._schema


def selection(kind: Any) -> str:
    """Every field of an object type, objects followed down."""
    parts = []
    for name, field in kind.fields.items():
        inner = get_named_type(field.type)
        parts.append(f"{name} {{ {selection(inner)} }}" if isinstance(inner, GraphQLObjectType) else name)
    return " ".join(parts)


def every_member(union: str) -> str:
    """Every field of every member: the record's fields once, on each kind's interface, then
    what each event type adds (as a client would write it, well within the token limit)."""
    found = SCHEMA.type_map[union]
    assert isinstance(found, GraphQLUnionType)
    kinds = {kind.name: kind for member in found.types for kind in member.interfaces}
    named = {name for kind in kinds.values() for name in kind.fields}
    parts = [f"... on {name} {{ {selection(kind)} }}" for name, kind in sorted(kinds.items())]
    for member in found.types:
        shared = {name for kind in member.interfaces for name in kind.fields}
        own = [(name, field) for name, field in member.fields.items() if name not in shared]
        if own:  # a carried field named as a record's (a send's email) is aliased: its type differs
            text = " ".join(
                f"{CARRIED + name if name in named else ''}{':' if name in named else ''}{name}"
                + (
                    f" {{ {selection(inner)} }}"
                    if isinstance(inner := get_named_type(field.type), GraphQLObjectType)
                    else ""
                )
                for name, field in own
            )
            parts.append(f"... on {member.name} {{ {text} }}")
    return " ".join(parts)


CARRIED = "carried_"
ENTRY = "type changes previous typedChanges {{ __typename {members} }}"


def test_the_unions_hold_one_member_per_shape() -> None:
    history, feed = SCHEMA.type_map["HistoryChanges"], SCHEMA.type_map["FeedChanges"]
    assert isinstance(history, GraphQLUnionType) and isinstance(feed, GraphQLUnionType)
    assert {m.name for m in feed.types} == {shape.name + "Changes" for shape in SHAPES}
    assert {m.name for m in history.types} == {s.name + "Changes" for s in SHAPES if s.resource != "account"}
    # the JSON fields stay, beside the typed one
    for name in ("HistoryEntry", "AccountEvent"):
        kind = SCHEMA.type_map[name]
        assert isinstance(kind, GraphQLObjectType)
        assert (str(kind.fields["changes"].type), str(kind.fields["previous"].type)) == ("JSON!", "JSON!")


def test_the_fields_are_typed_as_the_detail_types_them() -> None:
    created, updated = SCHEMA.type_map["InvoiceCreatedChanges"], SCHEMA.type_map["InvoiceUpdatedChanges"]
    assert isinstance(created, GraphQLObjectType) and isinstance(updated, GraphQLObjectType)
    # the old values: one type per kind of record, empty in a created event
    assert str(created.fields["previous"].type) == str(updated.fields["previous"].type) == "InvoicePrevious!"
    assert [kind.name for kind in created.interfaces] == ["InvoiceChange"]
    # the record's fields are the interface's in every event type, so they merge across members
    assert str(created.fields["total"].type) == str(updated.fields["total"].type) == "Decimal"
    assert str(created.fields["currency"].type) == "Currency"
    assert str(created.fields["status"].type) == "InvoiceStatus"
    assert str(created.fields["lineItems"].type) == "[LineItem!]"
    sent = SCHEMA.type_map["InvoiceSentChanges"]
    assert isinstance(sent, GraphQLObjectType)
    assert str(sent.fields["to"].type) == "[String!]!" and str(sent.fields["send"].type) == "Int!"
    plan = SCHEMA.type_map["AccountPlanChangedChanges"]
    assert isinstance(plan, GraphQLObjectType) and str(plan.fields["plan"].type) == "Plan"


def same_as_json(typed: dict[str, Any], changes: dict[str, Any], previous: dict[str, Any]) -> None:
    """Each typed value is its JSON twin, and what the JSON leaves out is null."""
    typed = {key.removeprefix(CARRIED): value for key, value in typed.items()}
    for key, value in changes.items():
        assert typed[key] == value, (typed["__typename"], key)
    record = set(typed["changedFields"])
    assert record == {key for key in changes if key in record}
    for key in set(typed) - set(changes) - {"__typename", "changedFields", "previous"}:
        assert typed[key] is None, (typed["__typename"], key)
    if "previous" in typed:
        for key, value in typed["previous"].items():
            assert value == previous.get(key), (typed["__typename"], "previous", key)


@pytest.fixture
def lives(api: Api) -> dict[str, str]:
    """An invoice through every step an API key can take, another voided, a draft deleted,
    and a client edited, deleted and restored."""
    client = api.create_client(name="Acme", email="ap@acme.test")
    invoice = api.create_invoice(client["id"], notes="Thanks")
    assert api.patch(f"/api/v1/invoices/{invoice['id']}", {"notes": None, "terms": "Net 30"}).status_code == 200
    sending = {"email": True, "cc": ["boss@acme.test"], "message": "Hi"}
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", sending).status_code == 200
    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "100.50", "method": "card"})
    assert paid.status_code == 201
    payment_id = paid.json()["data"]["id"]
    assert api.delete(f"/api/v1/invoices/{invoice['id']}/payments/{payment_id}").status_code == 200
    voided = api.create_invoice(client["id"])
    assert api.post(f"/api/v1/invoices/{voided['id']}/send", {}).status_code == 200
    assert api.post(f"/api/v1/invoices/{voided['id']}/void", {"reason": "Wrong client"}).status_code == 200
    draft = api.create_invoice(client["id"])
    assert api.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    assert api.patch(f"/api/v1/clients/{client['id']}", {"phone": "+1 555 0100"}).status_code == 200
    assert api.delete(f"/api/v1/clients/{client['id']}").status_code == 204
    assert api.patch(f"/api/v1/clients/{client['id']}", {"isActive": True}).status_code == 200
    return {"client": client["id"], "invoice": invoice["id"], "voided": voided["id"]}


def test_history_entries_read_the_same_typed_and_as_json(api: Api, lives: dict[str, str]) -> None:
    entry = ENTRY.format(members=every_member("HistoryChanges"))
    found = data(
        api,
        f"""query($i: ID!, $v: ID!, $c: ID!) {{ invoice(id: $i) {{ history {{ {entry} }} }}
            voided: invoice(id: $v) {{ history {{ {entry} }} }} client(id: $c) {{ history {{ {entry} }} }} }}""",
        {"i": lives["invoice"], "v": lives["voided"], "c": lives["client"]},
    )
    seen = set()
    for kind, entries in (
        ("invoice", found["invoice"]["history"] + found["voided"]["history"]),
        ("client", found["client"]["history"]),
    ):
        for told in entries:
            shape = shape_of(kind, told["type"])
            assert shape is not None and told["typedChanges"]["__typename"] == shape.name + "Changes"
            same_as_json(told["typedChanges"], told["changes"], told["previous"])
            seen.add(shape.name)
    assert seen >= {
        "InvoiceCreated",
        "InvoiceUpdated",
        "InvoiceSent",
        "InvoicePaymentRecorded",
        "InvoicePaymentReversed",
        "InvoiceVoided",
        "ClientCreated",
        "ClientUpdated",
        "ClientDeactivated",
        "ClientReactivated",
    }


def test_feed_events_read_the_same_typed_and_as_json(api: Api, lives: dict[str, str]) -> None:
    entry = ENTRY.format(members=every_member("FeedChanges"))
    body = data(api, f"{{ events(limit: 500) {{ data {{ resource {{ type }} {entry} }} }} }}")
    seen = set()
    for told in body["events"]["data"]:
        kind = told["resource"]["type"]
        shape = shape_of(kind, told["type"])
        assert shape is not None and told["typedChanges"]["__typename"] == shape.name + "Changes"
        same_as_json(told["typedChanges"], told["changes"], told["previous"])
        seen.add(shape.name)
    assert {"AccountCreated", "AccountApiKeyIssued", "InvoiceDeleted", "InvoicePaymentRecorded"} <= seen


def test_a_cleared_field_is_named_changed_and_null(api: Api, lives: dict[str, str]) -> None:
    found = data(
        api,
        """query($i: ID!) { invoice(id: $i) { history { type typedChanges { __typename
             ... on InvoiceUpdatedChanges { changedFields notes terms total previous { notes terms total } } } } } }""",
        {"i": lives["invoice"]},
    )
    [updated] = [e["typedChanges"] for e in found["invoice"]["history"] if e["type"] == "updated"]
    assert set(updated["changedFields"]) >= {"notes", "terms"} and "total" not in updated["changedFields"]
    assert (updated["notes"], updated["terms"], updated["total"]) == (None, "Net 30", None)
    assert updated["previous"] == {"notes": "Thanks", "terms": None, "total": None}


def test_the_readmes_timeline_query_runs(api: Api, lives: dict[str, str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [query] = [block for block in readme.split("```graphql\n") if block.startswith("query Timeline")]
    found = data(api, query.split("```")[0], {"id": lives["invoice"]})
    by_type = {entry["typedChanges"]["__typename"]: entry["typedChanges"] for entry in found["invoice"]["history"]}
    assert by_type["InvoiceSentChanges"]["cc"] == ["boss@acme.test"]
    assert by_type["InvoiceSentChanges"]["previous"] == {"status": "DRAFT"}
    assert by_type["InvoicePaymentRecordedChanges"]["payment"]["amount"] == "100.50"
    assert "status" in by_type["InvoiceCreatedChanges"]["changedFields"]
