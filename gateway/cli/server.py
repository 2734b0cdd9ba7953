"""How `cleverinvo serve` runs uvicorn, in one process or several (tests run the very same)."""

from typing import TYPE_CHECKING

from gateway.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp


def server_config(
    app: "ASGIApp | str", settings: Settings, host: str, port: int, *, configure_logging: bool = True
) -> "uvicorn.Config":
    """How `cleverinvo serve` runs uvicorn (tests run the very same).

    - Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from
      CLEVERINVO_TRUSTED_PROXIES; with none, never (uvicorn's default trusts loopback, so
      anyone on the host could pick the address the rate limits see).
    - Request heads must arrive within CLEVERINVO_HEADER_TIMEOUT_SECONDS and be at most
      16 KiB; idle connections close after CLEVERINVO_KEEP_ALIVE_SECONDS; bodies are
      bounded by the app (``gateway.http.timeouts.BodyTimeout``).
    - A stop (SIGTERM, SIGINT) finishes the requests in flight, for at most
      CLEVERINVO_SHUTDOWN_TIMEOUT_SECONDS.
    - uvicorn's access log is off: ours (``gateway.http.observability``) never writes a key.
    - asyncio and h11, chosen (bench/README.md, "Server stack"): uvloop and httptools saved
      under 10% of a request's CPU here, httptools would drop the head bounds above, and
      uvicorn would pick uvloop by itself whenever something installs it.
    """
    import uvicorn

    from gateway.http.observability import log_config
    from gateway.http.timeouts import MAX_HEAD_BYTES, head_bounded_h11

    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http=head_bounded_h11(settings.header_timeout_seconds),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        access_log=False,
        log_config=log_config() if configure_logging else None,
        log_level="info" if configure_logging else None,
        server_header=False,
    )
