"""API-key authentication: hash lookup, constant-time comparison, revocation honoured."""

import re

from domain.keys import PREFIX, hash_key, looks_like_key, same_hash
from gateway.services import Services
from projections.views import KeyView

# What a client means as a key: the prefix and the key alphabet, whatever the length. One
# of the wrong length is an unknown key (no key has that shape), not a malformed header.
_CANDIDATE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]+")


def bearer_token(header: str | None) -> str | None:
    """The key a ``Bearer cinv_...`` header carries, known or not; None for anything else."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or _CANDIDATE.fullmatch(token) is None:
        return None
    return token


def authenticate(services: Services, token: str) -> KeyView | None:
    """The live key for ``token``, or None. A miss catches the read model up once, so a
    key created by another process (the CLI) works at once. A token of a shape no key has
    is refused without a lookup."""
    if not looks_like_key(token):
        return None
    wanted = hash_key(token)
    found = services.read.key_by_hash(wanted)
    if found is None:
        services.projector.catch_up()
        found = services.read.key_by_hash(wanted)
    if found is None:
        return None
    key, stored = found
    if not same_hash(stored, wanted) or key.revoked_at is not None:
        return None
    return key
