"""Safe retries: ``Idempotency-Key`` on every POST under /api/v1, as Stripe does it.

A pure ASGI middleware inside the API guard (it needs the account the guard found). For a
POST that carries the header it reads the whole body (within ``max_body_bytes``), claims
the key in the read-model database (``storage/idempotency.py``) and then:

- first time: runs the request, keeps the answer unless it is a server error (5xx: the
  key is given up, so a retry runs again; a 503 marked ``Write-Saved`` saved its write and
  is kept, and so is the answer rebuilt from any events a failed request recorded, so a
  retry does not write twice), and only then sends it;
- the same key, method, path and body again within 24 hours: sends the kept status,
  headers that matter and body, with ``Idempotent-Replayed: true``; nothing runs again;
- the same key for another method, path or body: 422;
- the same key while its first request is still running: 409;
- the same key after the process running its first request died (a crash, a kill, a
  power cut): the request runs once. Its events carry the claim's reference in their seal
  (committed with them), so the store alone tells whether it took effect: if it did, its
  answer is rebuilt from them (``gateway/http/idempotency_recovery.py``) and kept; if not, it
  runs now. A holder on this host is known dead at once, one elsewhere once it has not
  beaten for a few seconds (``storage/idempotency.py``).

Keys belong to the account, so two accounts may use the same string. Other methods, other
paths and GraphQL ignore the header (a GraphQL mutation calls ``Keys``, of
``gateway/http/idempotency_keys.py``, itself, through
``gateway/graphql/idempotent_mutations.py``).
"""

import asyncio
import hashlib
import logging
import os
import signal
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http import codes
from gateway.http.auth import pending
from gateway.http.errors import WRITE_SAVED
from gateway.http.idempotency_keys import Keys, Rebuild, valid_key
from gateway.http.idempotency_recovery import Answers, rebuild
from gateway.http.jsonio import error_response, receive_bounded, replaying
from gateway.http.outages import answering, classify, first_line
from gateway.http.problems import PayloadTooLarge
from gateway.services import Services
from projections.marked_events import MarkedEvent
from storage.idempotency import Claimed, InFlight, Mismatch, Replay, StoredResponse

log = logging.getLogger("cleverinvo")
# For the crash tests alone (tests/e2e/test_idempotency_crash.py): the process kills itself
# (SIGKILL) once this many keyed requests have had a 2xx answer, after their commands
# committed and before their answers are kept or sent. Never set it in production.
KILL_AFTER_WRITES = "CLEVERINVO_TEST_KILL_AFTER_KEYED_WRITES"
# For the fault tests alone (tests/e2e/test_idempotency_faults.py): at that same point, a keyed
# request touches ``held-<n>`` in this folder and waits until the folder has a file ``open``,
# so a test can fill the disk or cut the database between a commit and keeping its answer.
WRITE_GATE = "CLEVERINVO_TEST_KEYED_WRITE_GATE"

HEADER = "idempotency-key"
REPLAYED = b"idempotent-replayed"
PREFIX = "/api/v1/"
KEPT_HEADERS = frozenset({"content-type", "content-disposition", "location", "retry-after", "etag"})


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


def _header(start: Message, name: str) -> str | None:
    """The value of header ``name`` in a captured response start, lower-cased; None if absent."""
    wanted = name.lower().encode("latin-1")
    return next((value.decode("latin-1").lower() for key, value in start.get("headers", []) if key == wanted), None)


class Idempotency:
    def __init__(self, app: ASGIApp, services: Services, answers: Answers) -> None:
        self.app = app
        self.services = services
        self.answers = answers  # how the REST door words the answers a retry may need again
        self.limit = services.settings.max_body_bytes
        self.keys = Keys(services)
        self.store = self.keys.store
        kill_after = os.environ.get(KILL_AFTER_WRITES, "")
        self._kill_after = int(kill_after) if kill_after.isdigit() else None
        self._written = 0
        gate = os.environ.get(WRITE_GATE, "").strip()
        self._gate = Path(gate) if gate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        account = scope.get("state", {}).get("account_id") if scope["type"] == "http" else None
        if account is None:  # not the API's (the guard answers a store's fault on the API's paths)
            await answering(self.app, scope, receive, send)  # a store's fault is an outage, not a 500
            return
        keys = Headers(scope=scope).getlist(HEADER) if scope["method"] == "POST" else []
        if not keys or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        check = pending()
        if check is not None:  # a remembered key is known live before its key is claimed
            await run_in_threadpool(check.run)
        if len(keys) > 1:
            await error_response(400, "Send one Idempotency-Key header, not several")(scope, receive, send)
            return
        key = keys[0]
        if not valid_key(key):
            message = "Idempotency-Key must be 1 to 255 printable ASCII characters"
            await error_response(400, message)(scope, receive, send)
            return

        try:
            body = await receive_bounded(scope, receive, self.limit)
        except PayloadTooLarge as too_large:
            await error_response(413, too_large.message)(scope, receive, send)
            return
        except ClientDisconnect:
            return  # nobody is waiting for an answer, and nothing ran

        query = scope.get("query_string", b"").decode("latin-1")
        request = f"POST {scope['path']}" + (f"?{query}" if query else "")
        digest = hashlib.sha256(body).hexdigest()
        account_id = UUID(str(account))

        def rebuilt(marked: list[MarkedEvent]) -> StoredResponse:
            return rebuild(self.services, scope, account_id, marked, self.answers)

        try:
            claim = await self.keys.take(str(account), key, request, digest, rebuilt)
        except Exception as exc:  # the key could not be claimed or settled: nothing ran
            outage = classify(exc, "GET")
            if outage is None:
                raise
            log.warning("Idempotency-Key not claimed: %s (%s)", outage.code, first_line(exc))
            answer = error_response(
                outage.status, outage.message, {**outage.headers, WRITE_SAVED: "false"}, code=outage.code
            )
            await answer(scope, receive, send)
            return
        if isinstance(claim, Replay):
            await self._replay(claim.response, send)
        elif isinstance(claim, Mismatch):
            message = "This Idempotency-Key was used for another request (method, path or body); use a new key"
            await error_response(422, message, code=codes.IDEMPOTENCY_KEY_REUSED)(scope, receive, send)
        elif isinstance(claim, InFlight):
            message = "A request with this Idempotency-Key is still in progress; retry later"
            await error_response(409, message, {"Retry-After": "1"}, code=codes.IDEMPOTENCY_IN_FLIGHT)(
                scope, receive, send
            )
        else:
            await self._run(claim, rebuilt, scope, body, receive, send)

    async def _run(
        self, claim: Claimed, rebuilt: Rebuild, scope: Scope, body: bytes, receive: Receive, send: Send
    ) -> None:
        captured = Captured()

        try:
            async with self.keys.running(claim):
                await answering(self.app, scope, replaying(body, receive), captured)
        except BaseException:
            await self.keys.release(claim, rebuilt)
            raise
        start = captured.start
        if start is None:
            await self.keys.release(claim, rebuilt)
            return
        status = int(start["status"])
        content = b"".join(captured.chunks)
        saved = _header(start, WRITE_SAVED)
        if status >= 500 and saved == "true":
            # Saved, only not readable yet (the read model is late): answered with the write as
            # its events make it, never as an error, and kept so the retry gets the same answer.
            written = await self.keys.written(claim, rebuilt)
            if written is not None:
                await self.keys.keep(claim, written)
                await self._replay(written, send, replayed=False)
                return
        if status >= 500 and saved != "true":  # nothing took effect, unless its events say otherwise
            outcome = await self.keys.release(claim, rebuilt)
            if outcome.rebuilt is not None:
                # It took effect after all (the error came after its commit): never answered
                # as an error; the retry gets this same answer.
                log.warning("A keyed request's error hid a saved write: answered with the write instead")
                await self._replay(outcome.rebuilt, send, replayed=False)
                return
        else:
            kept = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in start.get("headers", [])
                if name.decode("latin-1").lower() in KEPT_HEADERS
            ]
            self._crash_test_point(status)
            await self._gate_test_point(status)
            await self.keys.keep(claim, StoredResponse(status, kept, content))
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})

    def _crash_test_point(self, status: int) -> None:
        """Where the crash tests kill the process: after a command committed, before its
        answer is kept or sent (see KILL_AFTER_WRITES)."""
        if self._kill_after is None or not 200 <= status < 300:
            return
        self._written += 1
        if self._written >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    async def _gate_test_point(self, status: int) -> None:
        """Where the fault tests hold a request (see WRITE_GATE)."""
        if self._gate is None or not 200 <= status < 300:
            return
        self._written += 1
        (self._gate / f"held-{self._written}").touch()
        while not (self._gate / "open").exists():
            await asyncio.sleep(0.02)

    @staticmethod
    async def _replay(response: StoredResponse, send: Send, *, replayed: bool = True) -> None:
        headers: list[Any] = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
        ]
        headers.append((b"content-length", str(len(response.body)).encode()))
        if replayed:
            headers.append((REPLAYED, b"true"))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": False})
