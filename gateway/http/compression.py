"""Compressed JSON answers: gzip, or brotli where the client asks for it (RFC 9110 §8.4,
§12.5.3), as a pure ASGI middleware.

- Only a JSON answer (``application/json``, ``application/*+json``) of at least
  :data:`MIN_BYTES` whose whole body comes in one message is compressed: PDFs, pages,
  streams (several body messages: an event stream, a download) and websockets pass as they
  are, and so does an answer already encoded or marked ``Cache-Control: no-transform``
  (RFC 9111 §5.2.2.6).
- Every JSON answer says ``Vary: Accept-Encoding``, so a cache keeps one per encoding.
- A compressed representation is another representation, so it must not carry the
  identity one's strong ETag (RFC 9110 §8.8.3): ``"abc"`` becomes ``"abc-gzip"`` or
  ``"abc-br"``. A weak tag stays as it is (weak comparison holds across encodings). Tags
  sent back in ``If-None-Match`` or ``If-Match`` lose the suffix before the application
  compares them, so a client's conditional request works with whichever tag it was given,
  and a 304 carries back the tag the client sent.
"""

import gzip
import importlib
from collections.abc import Callable
from types import ModuleType

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.negotiation import qualities

MIN_BYTES = 1024  # below about one packet, compressing saves nothing worth the CPU
GZIP_LEVEL = 6
BROTLI_QUALITY = 5  # a dynamic answer: brotli's fast range compresses better than gzip at 6
SUFFIXES = ("-gzip", "-br")
CONDITIONS = (b"if-none-match", b"if-match")


def _brotli() -> ModuleType | None:
    """The brotli module, when installed (without it only gzip is offered)."""
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


BROTLI = _brotli()


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)  # mtime 0: the same bytes each time


def _br(body: bytes) -> bytes:
    assert BROTLI is not None
    found: bytes = BROTLI.compress(body, quality=BROTLI_QUALITY)
    return found


CODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": _gzip, **({"br": _br} if BROTLI is not None else {})}


def chosen_coding(accept_encoding: str | None) -> str | None:
    """The coding to answer in: the one of ours the client weighs highest (brotli on a tie),
    or None for identity (RFC 9110 §12.5.3; ``*`` stands for any coding not named)."""
    if not accept_encoding:
        return None
    weights = qualities(accept_encoding)
    best: tuple[float, str] | None = None
    for coding in ("br", "gzip"):
        if coding not in CODERS:
            continue
        weight = weights.get(coding, weights.get("*", 0.0))
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, coding)
    return best[1] if best else None


def _tagged(etag: str, coding: str) -> str:
    """The tag of the ``coding`` representation: a strong tag gets the coding's suffix."""
    if etag.startswith("W/") or not (len(etag) >= 2 and etag.startswith('"') and etag.endswith('"')):
        return etag
    return f'{etag[:-1]}-{coding}"'


def _untagged(value: str) -> tuple[str, str | None]:
    """A conditional header's tags without our suffixes, and the coding one of them named."""
    found: str | None = None
    tags = []
    for tag in value.split(","):
        tag = tag.strip()
        for suffix in SUFFIXES:
            if tag.endswith(f'{suffix}"'):
                tag, found = f'{tag[: -len(suffix) - 1]}"', suffix[1:]
                break
        tags.append(tag)
    return ", ".join(tags), found


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class Compression:
    """The middleware; see the module's description."""

    def __init__(self, app: ASGIApp, min_bytes: int = MIN_BYTES) -> None:
        self.app = app
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = chosen_coding(Headers(scope=scope).get("accept-encoding"))
        scope, named = self._conditions(scope)
        start: Message | None = None

        async def sending(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            held, start = start, None
            await self._answer(held, message, coding, named, send)

        await self.app(scope, receive, sending)

    @staticmethod
    def _conditions(scope: Scope) -> tuple[Scope, str | None]:
        """``scope`` with our suffixes taken off the conditional headers' tags."""
        named: str | None = None
        headers: list[tuple[bytes, bytes]] = []
        changed = False
        for name, value in scope["headers"]:
            if name.lower() in CONDITIONS:
                plain, found = _untagged(value.decode("latin-1"))
                if found is not None:
                    named, changed = found, True
                    value = plain.encode("latin-1")
            headers.append((name, value))
        return ({**scope, "headers": headers} if changed else scope), named

    async def _answer(self, start: Message, first: Message, coding: str | None, named: str | None, send: Send) -> None:
        """Sends ``start`` and the first body message, compressed when it should be."""
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        status: int = start["status"]
        if status == 304 and named and "etag" in headers:
            headers["etag"] = _tagged(headers["etag"], named)  # the tag the client holds
        if not _is_json(headers.get("content-type", "")):
            await send({**start, "headers": headers.raw})
            await send(first)
            return
        headers.add_vary_header("Accept-Encoding")
        body: bytes = first.get("body", b"")
        eligible = (
            coding is not None
            and status not in (204, 206, 304)
            and "content-encoding" not in headers
            and "no-transform" not in headers.get("cache-control", "").lower()
            and not first.get("more_body", False)
            and len(body) >= self.min_bytes
        )
        if eligible and coding is not None:
            body = CODERS[coding](body)
            headers["content-encoding"] = coding
            headers["content-length"] = str(len(body))
            if "etag" in headers:
                headers["etag"] = _tagged(headers["etag"], coding)
            first = {**first, "body": body}
        await send({**start, "headers": headers.raw})
        await send(first)
