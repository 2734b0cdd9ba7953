"""Talking GraphQL to the real ASGI app, as a frontend would."""

from typing import Any

from tests.conftest import Api


def gql(api: Api, query: str, variables: dict[str, Any] | None = None, *, status: int = 200) -> dict[str, Any]:
    """The whole response body of one operation sent with the tenant's key."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    headers = dict(api.tenant.headers) if api.tenant else {}
    response = api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == status, (response.status_code, response.text[:500])
    found: dict[str, Any] = response.json()
    return found


def data(api: Api, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of an operation that must succeed."""
    body = gql(api, query, variables)
    assert not body.get("errors"), body["errors"]
    found: dict[str, Any] = body["data"]
    return found


def error(api: Api, query: str, variables: dict[str, Any] | None = None, *, status: int = 200) -> tuple[str, str]:
    """(code, message) of the only error of an operation that must fail."""
    body = gql(api, query, variables, status=status)
    errors = body.get("errors") or []
    assert len(errors) == 1, body
    return errors[0]["extensions"]["code"], errors[0]["message"]


CLIENT_FIELDS = "id name email address taxId phone notes isActive createdAt updatedAt"
LINE_FIELDS = "description quantity unitPrice amount taxRate discountRate discount"
INVOICE_FIELDS = f"""id clientId invoiceNumber currency issueDate dueDate subtotal taxTotal discountTotal total
status amountPaid balanceDue createdAt updatedAt lineItems {{ {LINE_FIELDS} }} notes terms poNumber sentViaEmail sentAt
paidAt viewedAt overdueAt voidedAt voidReason shareUrl emailStatus emailError pdfWarnings
client {{ name email }}"""
PAYMENT_FIELDS = "id amount date method reference createdAt reversedAt"
