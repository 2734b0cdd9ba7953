"""API keys: ``cinv_`` + 43 url-safe characters (256 random bits), kept only as a hash.

A plain SHA-256 suffices: a key carries 256 bits of entropy, so there is nothing for a
slow, salted hash to protect against; it keeps lookups an indexed equality.
"""

import hashlib
import hmac
import re
import secrets

PREFIX = "cinv_"
_SHAPE = re.compile(r"cinv_[A-Za-z0-9_-]{32,128}")


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def looks_like_key(candidate: str) -> bool:
    return _SHAPE.fullmatch(candidate) is not None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def display_prefix(key: str) -> str:
    """What a listing may show of a key: enough to tell keys apart, nothing to use."""
    return key[: len(PREFIX) + 4]
