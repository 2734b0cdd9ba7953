"""The service's cost model: what a GraphQL query may ask for in one request.

The measure is :mod:`gateway.graphql.limits`'s; here are the service's numbers for it.

- A **record** the answer may hold counts 1: a client, an invoice, a payment, a history
  entry, an event of the feed, a page (``ClientPage``, ``InvoicePage``, ``EventPage``),
  the ledger digest. Each is a row (or a stream) the service reads.
- A **part** of a record counts 0: it comes with the record, from the same read (an
  invoice's ``lineItems``, an entry's ``actor`` and ``typedChanges``, an event's
  ``resource``, a page's ``pageInfo`` and ``edges``). What a part selects still counts (an edge's
  ``node`` is an invoice).
- A field with ``limit`` (or ``first``) multiplies what it selects by that number, as the
  query, its variables or the field's default give it: a page of 100 counts its rows 100
  times. A history has no limit and counts as :data:`HISTORY_SIZE` entries; any other
  list without one counts as one item.
- Scalars and enums are free.

The budget, :data:`MAX_COST`, is set so that whatever one REST request serves fits in one
GraphQL query, at REST's largest page, with each item's relations one level down:

- ``events(limit: 500)`` with every field (REST's largest feed page): 1 + 500 = 501;
- ``invoices(limit: 100)`` with every detail field, lines, client and payments:
  1 + 100 × 3 = 301, and with each invoice's history too: 1 + 100 × 13 = 1,301;
- ``clients(limit: 100)`` with each client's history: 1 + 100 × 11 = 1,101.

Pages inside pages multiply: ``clients(limit: 100) { data { invoices(limit: 100) { data
{ history { type } } } } }`` costs 1 + 100 × (1 + 1 + 100 × 11) = 110,201 and is refused
before anything runs, as is any nesting of lists that would read thousands of records.
"""

from gateway.graphql.changes import CHANGE_TYPES
from gateway.graphql.limits import GraphQLLimits

MAX_COST = 2_000
HISTORY_SIZE = 10  # entries assumed for a history: it is read whole, one record at a time
LIST_SIZES = {"Invoice.history": HISTORY_SIZE, "Client.history": HISTORY_SIZE}
# The schema's object types that are parts of another (a test holds every type to one side).
PART_TYPES = frozenset({"Actor", "Resource", "LineItem", "PageInfo", "ClientEdge", "InvoiceEdge"}) | CHANGE_TYPES
RECORD_TYPES = frozenset(
    {
        "Client",
        "Invoice",
        "Payment",
        "HistoryEntry",
        "AccountEvent",
        "ClientPage",
        "InvoicePage",
        "EventPage",
        "LedgerDigest",
    }
)


def query_limits(introspection: bool = True) -> GraphQLLimits:
    """The limits the service runs with: the defaults, with this budget, sizes and parts."""
    return GraphQLLimits(introspection=introspection, max_cost=MAX_COST, list_sizes=LIST_SIZES, part_types=PART_TYPES)
