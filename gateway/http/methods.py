"""Which HTTP methods read. Starlette routes HEAD to every route that takes GET, with the
same handler, so a handler tells a read from a write by this set, never by ``== "GET"``:
HEAD is GET without the body (RFC 9110 §9.3.2), and both are safe (§9.2.1), never a write."""

from starlette.requests import Request

SAFE = frozenset({"GET", "HEAD"})


def reads(request: Request) -> bool:
    """True for GET and HEAD: the handler answers as GET does and changes nothing."""
    return request.method in SAFE
