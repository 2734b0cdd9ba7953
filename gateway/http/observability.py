"""Request ids and the request log: one JSON line per request, never a secret in it.

Each line holds the time, the request id, the account and key ids (when a key was
accepted), the method, the route *template* (``/api/v1/invoices/{invoice_id}``, never the
path: share links carry their token in it), the status, the duration in milliseconds, the
client's address, and the query string's values only for parameters known to be harmless.
No header, body or key is ever written; as a last guard, anything shaped like an API key
is masked in every log line, whoever wrote it.
"""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.keys import PREFIX
from gateway.http.jsonio import dumps, error_body

REQUEST_LOG = "cleverinvo.requests"
log = logging.getLogger(REQUEST_LOG)

# An id a caller sent is kept when it is 1 to 128 visible ASCII characters and not a key.
_SANE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
_KEY_SHAPED = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]+")
# Query parameters whose values are logged; every other one shows as "[redacted]".
LOGGED_QUERY_VALUES = frozenset({"page", "limit", "status", "clientId", "version", "asOf", "after"})
_REDACTED = "[redacted]"


def request_id_from(headers: Headers) -> str:
    """The caller's ``X-Request-ID`` when it is sane, else a new one."""
    sent = headers.get("x-request-id", "")
    if _SANE_REQUEST_ID.fullmatch(sent) and PREFIX not in sent:
        return sent
    return uuid.uuid4().hex


def loggable_query(query_string: bytes) -> dict[str, str]:
    """The query string with only harmless values kept; names are cut to 64 characters."""
    shown: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)[:20]:
        safe_name = mask_keys(name)[:64]
        shown[safe_name] = value[:64] if name in LOGGED_QUERY_VALUES and not _KEY_SHAPED.search(value) else _REDACTED
    return shown


def mask_keys(text: str) -> str:
    return _KEY_SHAPED.sub(PREFIX + _REDACTED, text)


def _route_template(scope: Scope) -> str | None:
    """The route that served the request, or that would have (a request the guard refused
    never reached the router): its path template, never the path itself."""
    route = scope.get("route")
    if route is None:
        app = scope.get("app")
        routes: list[BaseRoute] = list(getattr(getattr(app, "router", None), "routes", []))
        probe = {**scope, "path_params": {}}
        for candidate in routes:
            match, _ = candidate.matches(probe)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class RequestLog:
    """Outermost middleware: gives every request an id (``X-Request-ID`` on every response,
    refusals included) and logs it once, as JSON, when it is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        began = time.perf_counter()
        status: int | None = None
        echoed = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, echoed]}
            elif kind == "websocket.close" and status is None:
                status = 403  # closed before it was accepted: the server answers 403
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status is None and scope["type"] == "http":
                status = 500
                body = dumps(error_body("Internal server error", "INTERNAL"))
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 500, "headers": [*headers, echoed]})
                await send({"type": "http.response.body", "body": body})
            raise  # the server logs the fault itself
        finally:
            self._log(scope, request_id, status, began)

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int | None, began: float) -> None:
        state = scope.get("state") or {}
        fields: dict[str, Any] = {
            "requestId": request_id,
            "accountId": state.get("account_id"),
            "keyId": state.get("key_id"),
            "method": scope.get("method", "GET") if scope["type"] == "http" else "WEBSOCKET",
            "route": _route_template(scope),
            "status": status,
            "durationMs": round((time.perf_counter() - began) * 1000, 1),
            "client": (scope.get("client") or ("unknown",))[0],
        }
        if scope.get("query_string"):
            fields["query"] = loggable_query(scope["query_string"])
        log.info("request", extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's ``fields``, and
    an exception's traceback as one string. API keys are masked whatever wrote them."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask_keys(json.dumps(line, ensure_ascii=False, default=str))


def log_config(level: str = "INFO") -> dict[str, Any]:
    """``logging.config`` for the server: everything as JSON lines on stderr, uvicorn's own
    access log off (ours replaces it: uvicorn's writes the raw path and query string)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "cleverinvo": {"handlers": ["json"], "level": level, "propagate": False},
        },
    }
