"""API-key authentication: hash lookup, constant-time comparison, revocation honoured."""

from domain.keys import hash_key, looks_like_key, same_hash
from gateway.services import Services
from projections.views import KeyView


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not looks_like_key(token):
        return None
    return token


def authenticate(services: Services, token: str) -> KeyView | None:
    """The live key for ``token``, or None. A miss catches the read model up once, so a
    key created by another process (the CLI) works at once."""
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
