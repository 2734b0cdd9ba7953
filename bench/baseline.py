"""The bare Starlette app that bench/load.py measures beside CleverInvo, in the same run.

One route, GET /baseline, answers a JSON body shaped like an invoice detail (about the
same size: a dozen fields, five lines, a client) with Starlette's own JSONResponse: no
middleware, no database, no thread pool. It runs under uvicorn with the very settings
`cleverinvo serve` uses (``gateway.cli.server.server_config``), so the difference between the two
is the application, not the server stack.

Run by bench/load.py as: python bench/baseline.py --port N
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))  # the server settings of the code under test

BODY = {
    "data": {
        "id": "6f1c0e3a-8a55-4a4e-9d7e-1f2a3b4c5d6e",
        "invoiceNumber": "INV-004242",
        "clientId": "0b8e7c3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "currency": "USD",
        "issueDate": "2024-06-01",
        "dueDate": "2024-07-01",
        "status": "SENT",
        "lineItems": [
            {
                "description": f"Web development sprint {i}",
                "quantity": 40,
                "unitPrice": "125.00",
                "taxRate": "10",
                "amount": "5000.00",
            }
            for i in range(1, 6)
        ],
        "subtotal": "25000.00",
        "taxTotal": "2500.00",
        "discountTotal": "0.00",
        "total": "27500.00",
        "amountPaid": "0.00",
        "balanceDue": "27500.00",
        "notes": "Thank you for your business",
        "terms": "Payment due within 30 days",
        "client": {"name": "Müller GmbH", "email": "billing@mueller.test"},
        "createdAt": "2024-06-01T09:30:00.000Z",
        "updatedAt": "2024-06-01T09:30:00.000Z",
    }
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gateway.cli.server import server_config
    from gateway.settings import Settings

    async def baseline(_request: Request) -> JSONResponse:
        return JSONResponse(BODY)

    app = Starlette(routes=[Route("/baseline", baseline)])
    config = server_config(app, Settings.from_env(), args.host, args.port, configure_logging=False)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
