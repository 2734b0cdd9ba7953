"""ETags of invoices and clients, and the conditional requests that use them (RFC 9110 §8.8.3,
§13.1.1-2).

A tag is ``"v<version>-<digest>"``: the record's version (its events counted from 1) and the
first 16 hex digits of the SHA-256 of its JSON as ``GET`` answers it. The digest makes the
tag change whenever that answer does, including what it shows of other records (an invoice
shows its client's name and email, and warnings about its seller's); the version is what a
write's precondition compares. So:

- ``If-None-Match`` on a GET (or HEAD) compares whole tags, weakly (§13.1.2: ``W/`` is
  ignored), takes a list and ``*``; a match is 304 with the tag.
- ``If-Match`` on a write compares the version part of each strong tag listed (§13.1.1: a
  weak tag never matches); ``*`` matches any record that exists. The comparison is made in
  the command, on the aggregate it loads (``domain.versions``), so it is atomic with the
  save; a mismatch is 412 ``PRECONDITION_FAILED`` and changes nothing.
"""

import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response

from domain.versions import Expected
from gateway.http.jsonio import JSONResponse
from gateway.http.methods import reads

_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
_OURS = re.compile(r'"v([0-9]{1,18})-[0-9a-f]{16}"')
_DIGITS = 16


def tag(version: int, body: bytes | memoryview) -> str:
    """The strong ETag of a record at ``version`` whose GET answer is ``body``."""
    return f'"v{version}-{hashlib.sha256(body).hexdigest()[:_DIGITS]}"'


def _listed(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) for each entity tag of an If-Match / If-None-Match value; None
    for ``*``. A value that is not a list of entity tags lists none (matches nothing)."""
    if header.strip() == "*":
        return None
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        if not header[position:].strip(" \t,"):
            break
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return []
        found.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return found


def none_match(request: Request, current: str) -> bool:
    """True when If-None-Match names ``current`` (weak comparison, lists, ``*``)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    listed = _listed(header)
    if listed is None:
        return True
    opaque = current.removeprefix("W/")
    return any(sent == opaque for _weak, sent in listed)


def expected(request: Request) -> Expected:
    """The versions If-Match accepts: None without one, or for ``*``; otherwise those of its
    strong tags of our shape (none at all if it lists no such tag: the write is refused)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    listed = _listed(header)
    if listed is None:
        return None
    versions = set()
    for weak, sent in listed:
        ours = _OURS.fullmatch(sent)
        if ours is not None and not weak:
            versions.add(int(ours.group(1)))
    return frozenset(versions)


def not_modified(current: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=304, headers={"ETag": current, **(headers or {})})


def answer(request: Request, response: JSONResponse, current: str | None) -> Response:
    """``response`` with its record's ETag (when known), or 304 to a GET or HEAD whose
    If-None-Match names it."""
    if current is None:
        return response
    if reads(request) and none_match(request, current):
        return not_modified(current)
    response.headers["ETag"] = current
    return response
