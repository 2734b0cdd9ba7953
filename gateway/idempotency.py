"""Safe retries: ``Idempotency-Key`` on every POST under /api/v1, as Stripe does it.

A pure ASGI middleware inside the API guard (it needs the account the guard found). For a
POST that carries the header it reads the whole body (within ``max_body_bytes``), claims
the key in the read-model database (``projections/idempotency.py``) and then:

- first time: runs the request, keeps the answer unless it is a server error that wrote
  nothing (5xx: the key is given up, so a retry runs again; a 503 marked ``Write-Saved``
  saved its write and is kept, so a retry does not write twice), and only then sends it;
- the same key, method, path and body again within 24 hours: sends the kept status,
  headers that matter and body, with ``Idempotent-Replayed: true``; nothing runs again;
- the same key for another method, path or body: 422;
- the same key while its first request is still running: 409.

Keys belong to the account, so two accounts may use the same string. Other methods, other
paths and GraphQL ignore the header.
"""

import hashlib
import logging
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import WRITE_SAVED
from gateway.jsonio import error_response
from gateway.services import Services
from projections.idempotency import (
    MAX_KEY_LENGTH,
    Claimed,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Replay,
    StoredResponse,
)

log = logging.getLogger("cleverinvo")

HEADER = "idempotency-key"
REPLAYED = b"idempotent-replayed"
PREFIX = "/api/v1/"
KEPT_HEADERS = frozenset({"content-type", "content-disposition", "location", "retry-after"})


def valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters (spaces inside are allowed, a blank key is not)."""
    return 0 < len(value) <= MAX_KEY_LENGTH and value.strip() != "" and all(" " <= c <= "~" for c in value)


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_whole_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class Captured:
    """An ASGI ``send`` that keeps the response instead of sending it."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))


class Idempotency:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.limit = services.settings.max_body_bytes
        self.store = IdempotencyStore(services.projector.writer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        account = scope.get("state", {}).get("account_id") if scope["type"] == "http" else None
        if account is None or scope["method"] != "POST" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        keys = headers.getlist(HEADER)
        if not keys:
            await self.app(scope, receive, send)
            return
        if len(keys) > 1:
            await error_response(400, "Send one Idempotency-Key header, not several")(scope, receive, send)
            return
        key = keys[0]
        if not valid_key(key):
            message = "Idempotency-Key must be 1 to 255 printable ASCII characters"
            await error_response(400, message)(scope, receive, send)
            return

        too_large = error_response(413, f"Request body is larger than {self.limit} bytes")
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await too_large(scope, receive, send)
            return
        try:
            body = await read_whole_body(receive, self.limit)
        except BodyTooLarge:
            await too_large(scope, receive, send)
            return
        except ClientGone:
            return  # nobody is waiting for an answer, and nothing ran

        query = scope.get("query_string", b"").decode("latin-1")
        request = f"POST {scope['path']}" + (f"?{query}" if query else "")
        digest = hashlib.sha256(body).hexdigest()
        claim = await run_in_threadpool(self.store.claim, str(account), key, request, digest)
        if isinstance(claim, Replay):
            await self._replay(claim.response, send)
        elif isinstance(claim, Mismatch):
            message = "This Idempotency-Key was used for another request (method, path or body); use a new key"
            await error_response(422, message)(scope, receive, send)
        elif isinstance(claim, InFlight):
            message = "A request with this Idempotency-Key is still in progress; retry later"
            await error_response(409, message, {"Retry-After": "1"})(scope, receive, send)
        else:
            await self._run(claim, scope, body, receive, send)

    async def _run(self, claim: Claimed, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to go, as usual

        captured = Captured()

        try:
            await self.app(scope, replay_body, captured)
        except BaseException:
            await self._release(claim)
            raise
        start = captured.start
        if start is None:
            await self._release(claim)
            return
        status = int(start["status"])
        content = b"".join(captured.chunks)
        saved = any(name.decode("latin-1").lower() == WRITE_SAVED.lower() for name, _ in start.get("headers", []))
        if status >= 500 and not saved:  # nothing took effect: a retry may run it again
            await self._release(claim)
        else:
            kept = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in start.get("headers", [])
                if name.decode("latin-1").lower() in KEPT_HEADERS
            ]
            try:
                if not await run_in_threadpool(self.store.complete, claim, StoredResponse(status, kept, content)):
                    log.warning("An idempotency key's claim ran out before its request finished")
            except Exception:  # the answer is real: send it, even if it could not be kept
                log.exception("Could not keep the answer of an idempotent request")
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})

    async def _release(self, claim: Claimed) -> None:
        with anyio.CancelScope(shield=True):  # give the key up even when the request was cancelled
            try:
                await run_in_threadpool(self.store.release, claim)
            except Exception:
                log.exception("Could not release an idempotency key")

    @staticmethod
    async def _replay(response: StoredResponse, send: Send) -> None:
        headers: list[Any] = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
        ]
        headers.append((b"content-length", str(len(response.body)).encode()))
        headers.append((REPLAYED, b"true"))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": False})
