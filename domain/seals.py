"""The ledger's hashing, as ``domain/ledger.py`` describes it: canonical JSON and the hash
of one event. Apart so that sealing (``domain.ledger``) and checking seals as streams are
read (``domain.verifying``) share it."""

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
LEDGER = "_ledger"


def _no_floats(text: str) -> Any:
    raise ValueError(f"an event holds a floating-point number ({text}); the ledger hashes only exact values")


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON for values without floats: what the hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def parse_state(state: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(state, parse_float=_no_floats)
    return parsed


def event_hash(aggregate_id: str, version: int, topic: str, state: dict[str, Any]) -> str:
    """The hash of one event; ``state`` as stored, without ``_ledger.hash`` (if it has one)."""
    ledger = state.get(LEDGER)
    if isinstance(ledger, dict) and "hash" in ledger:
        state = {**state, LEDGER: {k: v for k, v in ledger.items() if k != "hash"}}
    body = {"aggregateId": aggregate_id, "version": version, "topic": topic, "state": state}
    return hashlib.sha256(canonical(body)).hexdigest()
