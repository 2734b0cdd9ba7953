"""The list types: today's page fields (``data``, ``total``, ``page``, ``limit``,
``totalPages``, as REST's envelope) and, beside them, a Relay connection's (``edges``,
``pageInfo``, ``totalCount``), so a frontend library built on either reads them."""

import strawberry

from gateway.graphql.types import Client, Invoice
from usecases import cursors
from usecases.views import ClientView, InvoiceSummary, Page, SortKey

field = strawberry.field


@strawberry.type(description="Where a page of a connection stands (Relay's Cursor Connections Specification).")
class PageInfo:
    has_next_page: bool = field(description="Whether rows follow this page: ask for them with after: endCursor.")
    has_previous_page: bool = field(description="Whether rows come before this page (it started after a cursor).")
    start_cursor: str | None = field(description="The first edge's cursor; null on an empty page.")
    end_cursor: str | None = field(description="The last edge's cursor; null on an empty page.")


@strawberry.type(description="A client and where it stands in the list.")
class ClientEdge:
    node: Client = field(description="The client.")
    cursor: str = field(description="Pass as `after` for the rows that follow this one.")


@strawberry.type(description="An invoice and where it stands in the list.")
class InvoiceEdge:
    node: Invoice = field(description="The invoice.")
    cursor: str = field(description="Pass as `after` for the rows that follow this one.")


def _listed(result: Page[ClientView] | Page[InvoiceSummary]) -> dict[str, object]:
    """The fields both page types fill the same way, their rows' cursors included."""
    keys = [cursors.encode(SortKey.of(view)) for view in result.items]
    more = result.has_next and bool(keys)
    return {
        "total": result.total,
        "page": result.page,
        "limit": result.limit,
        "total_pages": result.total_pages,
        "next_cursor": keys[-1] if more else None,
        "total_count": result.total,
        "page_info": PageInfo(
            has_next_page=more,
            has_previous_page=result.page > 1 or result.more is not None,  # a keyset page starts after a row
            start_cursor=keys[0] if keys else None,
            end_cursor=keys[-1] if keys else None,
        ),
        "row_cursors": keys,
    }


@strawberry.type(description="A page of active clients, newest first.")
class ClientPage:
    data: list[Client] = field(description="The clients of this page.")
    total: int = field(description="How many match, on every page.")
    page: int = field(description="This page's number (1 for a page after a cursor).")
    limit: int = field(description="Rows per page.")
    total_pages: int = field(description="How many pages: ceil(total / limit).")
    next_cursor: str | None = field(description="The `after` of the following page; null on the last page.")
    total_count: int = field(description="How many match (the connection's name for total).")
    page_info: PageInfo = field(description="Where this page stands, for the following one.")
    row_cursors: strawberry.Private[list[str]]

    @strawberry.field(description="The clients of this page, each with its cursor.")
    def edges(self) -> list[ClientEdge]:
        return [ClientEdge(node=node, cursor=key) for node, key in zip(self.data, self.row_cursors, strict=True)]

    @classmethod
    def of(cls, result: Page[ClientView]) -> "ClientPage":
        nodes = [Client.of(view) for view in result.items]
        return cls(data=nodes, **_listed(result))  # type: ignore[arg-type]


@strawberry.type(description="A page of invoices, newest first.")
class InvoicePage:
    data: list[Invoice] = field(description="The invoices of this page.")
    total: int = field(description="How many match, on every page.")
    page: int = field(description="This page's number (1 for a page after a cursor).")
    limit: int = field(description="Rows per page.")
    total_pages: int = field(description="How many pages: ceil(total / limit).")
    next_cursor: str | None = field(description="The `after` of the following page; null on the last page.")
    total_count: int = field(description="How many match (the connection's name for total).")
    page_info: PageInfo = field(description="Where this page stands, for the following one.")
    row_cursors: strawberry.Private[list[str]]

    @strawberry.field(description="The invoices of this page, each with its cursor.")
    def edges(self) -> list[InvoiceEdge]:
        return [InvoiceEdge(node=node, cursor=key) for node, key in zip(self.data, self.row_cursors, strict=True)]

    @classmethod
    def of(cls, result: Page[InvoiceSummary]) -> "InvoicePage":
        nodes = [Invoice.of(view) for view in result.items]
        return cls(data=nodes, **_listed(result))  # type: ignore[arg-type]
