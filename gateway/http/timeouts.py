"""Bounds on slow clients: the request head, the request body, and idle connections.

uvicorn bounds only the idle time after a response (``timeout_keep_alive``), and cancels
that timer on any byte received: a connection that never sends anything, or sends a
request head a byte at a time, or never finishes its body, is otherwise kept open for
ever. So:

- ``head_bounded_h11`` is uvicorn's h11 protocol with one more timer: whenever no request
  is being served (a new connection, or after a response), a complete request head must
  arrive within the header timeout, however it trickles in; else the connection is closed
  (with a 408 when part of a head had arrived). Bytes no longer reset the clock.
  A head that grows past 16 KiB before it is complete is answered ``431`` (h11 finds it
  too long; uvicorn would say a plain-text 400).
- ``BodyTimeout`` is ASGI middleware: the whole body must arrive within the body timeout
  of the request's head; past it the request is answered ``408`` and the connection closed.
  Before that, the head itself is checked (``gateway.http.framing``: its size, and a body
  framed two ways), whichever protocol implementation parsed it.
"""

import asyncio
import time
from typing import Any

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.http import codes
from gateway.http.framing import MAX_HEAD_BYTES, framing_problem, raw_431, refuse
from gateway.http.jsonio import dumps, error_body

__all__ = ["MAX_HEAD_BYTES", "BodyTimeout", "head_bounded_h11"]

_TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _HeadBoundedH11(H11Protocol):
    head_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _upgraded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True  # the websocket protocol owns the connection from here
        self._stop_head_timer()
        super().handle_websocket_upgrade(event)

    def send_400_response(self, msg: str) -> None:
        """h11 refuses a head still incomplete past its bound (its hint: 431): say so."""
        buffered, _ = self.conn.trailing_data
        if len(buffered) > MAX_HEAD_BYTES and not self.transport.is_closing():
            self.transport.write(raw_431())
            self.transport.close()
            return
        super().send_400_response(msg)

    def _awaiting_head(self) -> bool:
        serving = self.cycle is not None and not self.cycle.response_complete
        return not (serving or self._upgraded or self.transport.is_closing())

    def _watch_head(self) -> None:
        if not self._awaiting_head():
            self._stop_head_timer()
        elif self._head_timer is None:  # the clock starts once, not at every byte
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._awaiting_head():
            return
        buffered, _ = self.conn.trailing_data
        if buffered and self.conn.their_state is h11.IDLE:  # part of a head came: say why
            self.transport.write(_TIMEOUT_408)
        self.transport.close()


def head_bounded_h11(head_timeout_seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, with request heads bounded to ``head_timeout_seconds``."""
    return type("HeadBoundedH11", (_HeadBoundedH11,), {"head_timeout": float(head_timeout_seconds)})


class BodyTimeout:
    """The request body must be received within ``seconds`` of the request's head, else
    ``408 {"error": ...}`` and the connection is closed. Only reading the body is bounded:
    waiting for a disconnect after it (streaming responses) is not."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = framing_problem(scope) if scope["type"] in ("http", "websocket") else None
        if problem is not None:
            await refuse(problem, scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.seconds
        body_done = timed_out = started = replaced = False

        async def bounded_receive() -> Message:
            nonlocal body_done, timed_out, replaced
            if timed_out:
                return {"type": "http.disconnect"}
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                timed_out, replaced = True, not started  # the app stops reading; its answer becomes the 408
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        sent_408 = False

        async def send_or_408(message: Message) -> None:
            nonlocal started, sent_408
            if not replaced:
                started = started or message["type"] == "http.response.start"
                await send(message)
            elif not sent_408:
                sent_408 = True
                await self._send_408(send)

        try:
            await self.app(scope, bounded_receive, send_or_408)
        except Exception:
            if not replaced:
                raise
        if replaced and not sent_408:  # the app gave up without answering
            await self._send_408(send)

    async def _send_408(self, send: Send) -> None:
        body = dumps(error_body(f"Request body not received within {self.seconds:g} seconds", codes.REQUEST_TIMEOUT))
        headers: list[Any] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 408, "headers": headers})
        await send({"type": "http.response.body", "body": body})
