"""JSON in and out: exact decimals both ways, bounded bodies, an error for every bad byte.

Out: msgspec writes the contract's response Structs (and plain dicts and lists), decimals
as JSON numbers at the scale they hold (125.00 stays 125.00). In: simplejson reads every
number as a Decimal, exactly as written, and keeps what JSON allows in strings (a lone
surrogate escape is the domain's to refuse, by field name). A body is refused, with a
message saying why, when it is not UTF-8 (RFC 8259 §8.1), holds an object with a name
twice (§4 leaves such an object's meaning to each reader: a request means one thing), or
nests deeper than MAX_DEPTH (§9 lets a reader bound it; Python's own recursion would
otherwise decide, differently in each place).
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import simplejson
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from gateway.http import codes
from gateway.http.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = ["UnsupportedMediaType"]  # raised here; its home is gateway.http.problems

# Deeper than any body of the contract nests (an invoice's line: 3 levels), far from Python's
# recursion limit.
MAX_DEPTH = 32


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _Duplicate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Duplicate(name)
            seen.add(name)
    return found


def _depth_over(value: Any, most: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``most`` deep (without recursion)."""
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > most:
            return True
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(body: bytes | str, *, what: str = "Request body", exact_ints: bool = True) -> Any:
    """``body`` as JSON: numbers as Decimal (integers too, with ``exact_ints``), or
    BadRequest saying why it cannot be taken."""
    parse_int: Callable[[str], Any] = Decimal if exact_ints else int
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not valid UTF-8") from None
    try:
        value = simplejson.loads(
            text,
            parse_float=Decimal,
            parse_int=parse_int,
            parse_constant=_no_constants,
            object_pairs_hook=_unique,
        )
    except _Duplicate as duplicate:
        raise BadRequest(f"{what} holds the name {_quoted(duplicate.name)} twice in one object") from None
    except RecursionError:
        raise BadRequest(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise BadRequest(f"{what} is not valid JSON") from None
    except InvalidOperation:  # an exponent beyond Decimal's range: 1e9999999999999999999
        raise BadRequest(f"{what} holds a number out of range") from None
    if _depth_over(value, MAX_DEPTH):
        raise BadRequest(f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON of a Struct, dict, list or value."""
    return ENCODER.encode(payload)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_body(message: str, code: str, field: str | None = None) -> dict[str, str]:
    """``{"error": <for people>, "code": <for programs>, "field"?: <the body's path>}``."""
    body = {"error": _clean(message), "code": code}
    if field is not None:
        body["field"] = _clean(field)
    return body


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")  # a client's lone surrogate, quoted back


def error_response(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    code: str | None = None,
    field: str | None = None,
) -> JSONResponse:
    """An error: ``{"error", "code", "field"?}``, where ``code`` defaults to what the status
    means (``gateway.http.codes.BY_STATUS``); its headers are hardened like every API answer
    (refusals never reach the guard's own hardening, which wraps only what it lets through)."""
    body = error_body(message, code or codes.by_status(status).code, field)
    return JSONResponse(body, status_code=status, headers=hardened(headers))


# What every API answer carries: data for a program, never sniffed into something a browser
# renders, never kept by a shared cache (a PDF sets its own Cache-Control, with its ETag).
HARDENING = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def hardened(headers: dict[str, str] | None = None) -> dict[str, str]:
    """``headers`` with HARDENING under them."""
    return {**HARDENING, **(headers or {})}


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Request body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadRequest("The request body was cut off") from None
    return b"".join(chunks)


async def receive_bounded(scope: Scope, receive: Receive, limit: int) -> bytes:
    """An ASGI request's whole body, or PayloadTooLarge as soon as it is known to exceed
    ``limit``: from ``Content-Length`` before any of it is read, or while it arrives
    (chunked); ClientDisconnect if the client goes first."""
    too_large = f"Request body is larger than {limit} bytes"
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for an app reading a body already read: the body once, then what the
    client does next (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


JSON_ONLY = "Request body must be sent as Content-Type: application/json"


def check_json_content_type(content_type: str | None) -> None:
    """``application/json``, with parameters or not (a charset must be UTF-8, as JSON is);
    any other declared type is refused before the body is read. A body sent with no type
    at all is read as JSON, as it always was."""
    if content_type is None:
        return
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != "application/json":
        raise UnsupportedMediaType(f"{JSON_ONLY}, not {_shown(media_type)}")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"{JSON_ONLY} in UTF-8, not {_shown(value.strip())}")


def _quoted(name: str) -> str:
    """A client's name, safe and short enough to quote back."""
    return repr("".join(char if char.isprintable() else "?" for char in name[:64]))


def _shown(text: str) -> str:
    """A client's text, safe and short enough to quote back."""
    printable = "".join(char if char.isprintable() else "?" for char in text[:64])
    return repr(printable) if printable else "an empty type"


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    check_json_content_type(request.headers.get("content-type"))
    body = await read_body(request, limit)
    if not body.strip():
        raise BadRequest("Request body must be a JSON object")
    value = parse_json(body)
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value
