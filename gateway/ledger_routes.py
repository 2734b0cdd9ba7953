"""REST endpoint of the tamper-evident ledger: the key's account's running digest."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import render
from gateway.handling import account_of, found, services_of
from gateway.jsonio import JSONResponse


async def ledger_digest(request: Request) -> Response:
    """``{"accountId", "position", "digest", "at"}``: what an auditor keeps, to prove later
    with ``cleverinvo ledger verify --digests`` that nothing at or before it changed."""
    services, account = services_of(request), str(account_of(request))
    await run_in_threadpool(services.ledger.catch_up)
    digest = found(await run_in_threadpool(services.ledger.digest, account), "No ledger entries for this account")
    at = render.timestamp(digest.at)
    return JSONResponse({"accountId": account, "position": digest.position, "digest": digest.digest, "at": at})


ROUTES = [
    Route("/api/v1/ledger/digest", ledger_digest, methods=["GET"]),
]
