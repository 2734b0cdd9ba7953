"""JSON in and out: exact decimals both ways, bounded bodies, an error for every bad byte.

Out: msgspec writes the contract's response Structs (and plain dicts and lists), decimals
as JSON numbers at the scale they hold (125.00 stays 125.00). In: simplejson reads every
number as a Decimal, exactly as written, and keeps what JSON allows in strings (a lone
surrogate escape is the domain's to refuse, by field name).
"""

from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import simplejson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.contract.responses import Problem
from gateway.problems import BadRequest, HttpProblem, PayloadTooLarge


class UnsupportedMediaType(HttpProblem):
    status = 415


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


ENCODER = msgspec.json.Encoder(decimal_format="number")


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON of a Struct, dict, list or value."""
    return ENCODER.encode(payload)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error; its headers are hardened like every API answer (refusals never reach the
    guard's own hardening, which wraps only what it lets through)."""
    shown = message.encode("utf-8", "replace").decode("utf-8")  # a client's lone surrogate, quoted back
    return JSONResponse(Problem(error=shown), status_code=status, headers=hardened(headers))


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


def _shown(text: str) -> str:
    """A client's text, safe and short enough to quote back."""
    printable = "".join(char if char.isprintable() else "?" for char in text[:64])
    return repr(printable) if printable else "an empty type"


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    check_json_content_type(request.headers.get("content-type"))
    body = await read_body(request, limit)
    if not body.strip():
        raise BadRequest("Request body must be a JSON object")
    try:
        value = simplejson.loads(
            body.decode("utf-8"), parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constants
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("Request body is not valid JSON") from None
    except InvalidOperation:  # an exponent beyond Decimal's range: 1e9999999999999999999
        raise BadRequest("Request body holds a number out of range") from None
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value
