"""A request's head, checked from the ASGI scope before anything reads its body, so the
rules hold under whichever HTTP implementation uvicorn runs (h11 or httptools):

- its size: at most MAX_HEAD_BYTES (16 KiB) of request line and header fields, else
  ``431 Request Header Fields Too Large`` (RFC 6585 §5). h11 bounds only a head that is
  still incomplete (one that arrives whole in one read is parsed at any size), httptools
  not at all;
- its framing: ``Content-Length`` beside ``Transfer-Encoding`` is refused with 400 and the
  connection closed (RFC 9112 §6.3: such a message "ought to be handled as an error", and
  the server "MUST close the connection after responding"): two readers of one request
  that disagree on where its body ends are how requests are smuggled (§11.2). h11 passes
  such a request on as chunked, httptools refuses it itself (a plain-text 400).
  ``Content-Length`` given twice with different values is refused the same way.
"""

from typing import Any

from starlette.types import Receive, Scope, Send

from gateway.http import codes
from gateway.http.jsonio import dumps, error_body
from gateway.http.problems import BadRequest, HeadersTooLarge, HttpProblem

# h11's own default for an incomplete head, stated here so it does not move with a dependency.
MAX_HEAD_BYTES = 16 * 1024

HEAD_TOO_LARGE = f"Request head is larger than {MAX_HEAD_BYTES} bytes"
SMUGGLING = "Send Content-Length or Transfer-Encoding, not both (RFC 9112 §6.3)"
LENGTHS_DIFFER = "Content-Length is given more than once, with different values"


def head_size(scope: Scope) -> int:
    """The bytes of the request line and header fields as sent (``name: value`` lines,
    CRLF-terminated, and the empty line that ends them)."""
    target = len(scope.get("raw_path") or scope["path"].encode())
    query = scope.get("query_string", b"")
    line = len(scope.get("method", "GET")) + 1 + target + (1 + len(query) if query else 0) + len(" HTTP/1.1\r\n")
    fields = sum(len(name) + 2 + len(value) + 2 for name, value in scope.get("headers", []))
    return line + fields + 2


def framing_problem(scope: Scope) -> HttpProblem | None:
    """Why the request's head must be refused, if it must."""
    if head_size(scope) > MAX_HEAD_BYTES:
        return HeadersTooLarge(HEAD_TOO_LARGE)
    lengths = {
        bytes(value).strip() for name, value in scope.get("headers", []) if bytes(name).lower() == b"content-length"
    }
    chunked = any(bytes(name).lower() == b"transfer-encoding" for name, _ in scope.get("headers", []))
    if lengths and chunked:
        return BadRequest(SMUGGLING)
    if len(lengths) > 1:
        return BadRequest(LENGTHS_DIFFER)
    return None


async def refuse(problem: HttpProblem, scope: Scope, receive: Receive, send: Send) -> None:
    """The refusal, as JSON, closing the connection: the rest of the request is never read."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": problem.message[:120]})
        return
    meaning = codes.meaning_of(problem) or codes.by_status(problem.status)
    body = dumps(error_body(problem.message, meaning.code))
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def raw_431() -> bytes:
    """The whole 431 answer, for a protocol that must write it before any scope exists."""
    body = dumps(error_body(HEAD_TOO_LARGE, codes.HEADERS_TOO_LARGE))
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body
