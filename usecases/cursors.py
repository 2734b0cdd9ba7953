"""Keyset cursors: where a list's page starts, as an opaque string both doors hand out
(REST ``nextCursor``, GraphQL ``endCursor`` and each edge's ``cursor``) and take back
(REST ``after``, GraphQL ``after``).

A cursor is the base64url (RFC 4648 section 5, without padding) of the row's sort key,
``<created_at>|<id>``. It is opaque to clients, not secret: all it can name is a place in
the account's own list, so an edited cursor starts the page somewhere else in that list,
never in another account's. Anything that does not decode to such a key is refused with
the same message through either door.
"""

import base64
import binascii
import re
from datetime import datetime
from uuid import UUID

from domain.errors import ValidationError
from projections.views import SortKey

_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,200}")  # RFC 4648 section 5, unpadded; well past any key


def encode(key: SortKey) -> str:
    text = f"{key.created_at.isoformat(timespec='microseconds')}|{key.id}"
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode(cursor: str, wire: str = "after") -> SortKey:
    problem = ValidationError(f"Parameter '{wire}' must be a cursor this list gave (nextCursor or endCursor)")
    if not _ALPHABET.fullmatch(cursor):
        raise problem
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        moment, _, key_id = text.partition("|")
        created_at = datetime.fromisoformat(moment)
        canonical = str(UUID(key_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problem from None
    if created_at.tzinfo is not None or key_id != canonical:  # not what encode writes
        raise problem
    return SortKey(created_at, canonical)
