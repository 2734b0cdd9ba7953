"""Deterministic ids for index and quota aggregates (the uniqueness-by-id pattern)."""

from uuid import UUID, uuid5

NAMESPACE = UUID("8d7f7f0e-3c5b-4f7e-9a51-1c0a6e2b9d44")


def derived_id(*parts: object) -> UUID:
    return uuid5(NAMESPACE, "/".join(str(part) for part in parts))
