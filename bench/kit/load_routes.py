"""What the load benchmark measures: each route (a name, a method, the paths and bodies wrk
cycles through, the status that counts as success) over the seeded data set."""

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    paths: list[str]
    bodies: list[str] = field(default_factory=list)
    ok: int = 200
    baseline: bool = False
    peer: bool = False  # bench/peer.py answers it too (the same JSON), measured beside ours

    @property
    def writes(self) -> bool:
        """A create: measured at ``--post-connections``, its cost counting the workers' CPU."""
        return self.ok == 201


def routes(info: dict[str, Any]) -> list[Route]:
    inv, cli = info["invoices"], info["clients"]
    q = urllib.parse.quote

    def search(terms: list[str]) -> list[str]:
        return [f"/api/v1/invoices?search={q(t)}" for t in terms]

    bodies = []
    for n, count in enumerate((1, 5, 10, 20)):
        items = [
            {"description": f"Load line {i}", "quantity": 2, "unitPrice": 12.5, "taxRate": 10} for i in range(count)
        ]
        bodies.append(json.dumps({"clientId": cli[n], "lineItems": items, "notes": "bench"}))
    client_bodies = [json.dumps({"name": f"Load Client {n}", "email": f"load{n}@bench.test"}) for n in range(10)]
    graphql = json.dumps(
        {
            "query": "query($p: Int!) { invoices(page: $p, limit: 20) { total totalPages data { id invoiceNumber "
            "status total balanceDue client { name email } lineItems { description amount } } } }",
            "variables": {"p": 1},
        }
    )
    return [
        Route("baseline", "GET", ["/baseline"], baseline=True),
        Route("clients-page", "GET", ["/api/v1/clients?page=1&limit=20"]),
        Route("clients-search", "GET", [f"/api/v1/clients?search={q(t)}" for t in info["terms_name"]]),
        Route("client", "GET", [f"/api/v1/clients/{c}" for c in cli]),
        Route("invoices-page", "GET", ["/api/v1/invoices?page=1&limit=20"], peer=True),
        Route("invoices-status-p200", "GET", ["/api/v1/invoices?status=DRAFT&page=200"]),
        Route("invoices-client", "GET", [f"/api/v1/invoices?clientId={c}" for c in cli]),
        Route("search-name", "GET", search(info["terms_name"])),
        Route("search-number", "GET", search(info["terms_number"])),
        Route("search-email", "GET", search(info["terms_email"])),
        Route("detail", "GET", [f"/api/v1/invoices/{i}" for i in inv], peer=True),
        Route("payments", "GET", [f"/api/v1/invoices/{i}/payments" for i in inv]),
        Route("history", "GET", [f"/api/v1/invoices/{i}/history" for i in inv]),
        Route("pdf-cached", "GET", [f"/api/v1/invoices/{inv[0]}/pdf"]),
        Route("graphql-page", "POST", ["/graphql"], [graphql]),
        Route("post-client", "POST", ["/api/v1/clients"], client_bodies, ok=201),
        Route("post-invoice", "POST", ["/api/v1/invoices"], bodies, ok=201, peer=True),
    ]


def check(base: str, key: str, route: Route) -> bytes:
    """Calls the route's first path once (the key works, it answers its success status);
    returns the body."""
    request = urllib.request.Request(
        base + route.paths[0],
        method=route.method,
        data=route.bodies[0].encode() if route.bodies else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        if answer.status != route.ok:
            raise RuntimeError(f"{route.method} {route.paths[0]} answered {answer.status}")
        body: bytes = answer.read()
        return body
