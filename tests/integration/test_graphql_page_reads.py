"""A page of invoices read with the relations its rows select answers as each invoice read
alone does (``InvoicePage.read``: the page, its details and clients in one call)."""

import dataclasses
from decimal import Decimal
from typing import Any

from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.graphql.lines import LineItem
from gateway.services import Services
from tests.conftest import Api, Tenant
from tests.graphql_support import data
from usecases.views import LineView

ROW = """id invoiceNumber status total balanceDue notes poNumber sentAt version shareUrl pdfWarnings
  client { id name email } lineItems { description quantity unitPrice amount taxRate discountRate discount }"""


def _seed(services: Services, tenant: Tenant) -> None:
    app, account = services.app, tenant.account_id
    clients = [app.create_client(account, {"name": f"Client {n}", "email": f"c{n}@x.test"}) for n in range(3)]
    for n in range(7):
        lines = [LineItemDraft(f"Line {i}", Decimal(i + 1), Decimal("12.50"), Decimal(10)) for i in range(n % 4 + 1)]
        invoice = app.create_invoice(account, InvoiceDraft(clients[n % 3], lines, notes=f"note {n}"))
        if n % 2:
            app.send_invoice(account, invoice, Sending())
    services.projector.catch_up()


def test_a_pages_rows_are_the_invoices_as_read_one_by_one(api: Api, services: Services, tenant: Tenant) -> None:
    _seed(services, tenant)
    page = data(api, f"{{ invoices(limit: 5) {{ total data {{ {ROW} }} }} }}")["invoices"]
    assert page["total"] == 7 and len(page["data"]) == 5
    for row in page["data"]:
        alone = data(api, f'{{ invoice(id: "{row["id"]}") {{ {ROW} }} }}')["invoice"]
        assert row == alone


def test_fragments_and_edges_read_the_relations_too(api: Api, services: Services, tenant: Tenant) -> None:
    _seed(services, tenant)
    plain = data(api, "{ invoices(limit: 3) { data { id client { name } lineItems { amount } } } }")
    through = data(
        api,
        """query { invoices(limit: 3) { ...Rows edges { node { ... on Invoice { id client { name } } } } } }
        fragment Rows on InvoicePage { data { id ...Parts } }
        fragment Parts on Invoice { client { name } lineItems { amount } }""",
    )
    assert through["invoices"]["data"] == plain["invoices"]["data"]
    assert [edge["node"] for edge in through["invoices"]["edges"]] == [
        {"id": row["id"], "client": row["client"]} for row in plain["invoices"]["data"]
    ]


def test_a_clients_invoices_are_read_with_their_relations(api: Api, services: Services, tenant: Tenant) -> None:
    _seed(services, tenant)
    found = data(api, "{ clients(limit: 1) { data { name invoices { total data { id client { name } } } } } }")
    client = found["clients"]["data"][0]
    assert client["invoices"]["total"] >= 1
    assert {row["client"]["name"] for row in client["invoices"]["data"]} == {client["name"]}


def test_a_line_item_is_shown_from_the_read_models_line_itself() -> None:
    """``Invoice.lineItems`` hands GraphQL the views: every field of the type is an
    attribute of the view, of the same name."""
    definition: Any = LineItem.__strawberry_definition__  # type: ignore[attr-defined]
    names = {field.python_name for field in definition.fields}
    assert names <= {field.name for field in dataclasses.fields(LineView)}
    assert not definition.interfaces  # so GraphQL asks no is_type_of of the object it is given
