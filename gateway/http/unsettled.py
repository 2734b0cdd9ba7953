"""Keyed requests that finished while their idempotency record could not be finished: the
disk was full or the database gone when the answer was to be kept, or when a failed
request's key was to be given up or settled from its events.

Such a key's row still says "in flight", held by this very process, which is alive: left
so, every retry would get 409 until the claim grew old (minutes), and the first answer
would be lost. So this process remembers each one here and:

- answers a retry with the same key from memory when it knows the first answer (it kept
  the response), without asking the store;
- otherwise settles the key first, as a dead holder's key is settled
  (``gateway.http.idempotency_keys.Keys``: the store's events say whether the request took effect),
  before running the retry; if the store still cannot be written, the retry gets that
  outage (nothing runs);
- retries finishing each record in a thread every ``EVERY`` seconds, so a process
  elsewhere waits no longer than the fault plus a second.

Memory only: if this process dies, its row's holder is gone and any retry recovers it from
the store (``storage/idempotency.py``).
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from storage.idempotency import Claimed, StoredResponse

log = logging.getLogger("cleverinvo")
EVERY = 1.0  # seconds between attempts to finish the records


@dataclass(frozen=True)
class Unsettled:
    claim: Claimed
    request: str
    digest: str
    response: StoredResponse | None  # the answer to keep; None: the events must tell
    finish: Callable[[], None]  # finishes the record; raises while the store cannot


class Pending:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Unsettled] = {}
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def add(self, entry: Unsettled) -> None:
        with self._lock:
            self._entries[(entry.claim.account_id, entry.claim.key)] = entry
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="idempotency-settle", daemon=True)
                self._thread.start()

    def get(self, account_id: str, key: str) -> Unsettled | None:
        with self._lock:
            return self._entries.get((account_id, key))

    def settle(self, entry: Unsettled) -> bool:
        """Tries to finish ``entry``'s record now; True once it is finished (by this call or
        an earlier one)."""
        with self._lock:
            if self._entries.get((entry.claim.account_id, entry.claim.key)) is not entry:
                return True
        try:
            self.settle_now(entry)
        except Exception as exc:
            log.warning("An idempotency record is still unfinished: %s", (str(exc).strip() or type(exc).__name__)[:200])
            return False
        log.info("An idempotency record left unfinished by a fault of the store is finished now")
        return True

    def settle_now(self, entry: Unsettled) -> None:
        """Finishes ``entry``'s record now, or raises what the store raises."""
        entry.finish()
        with self._lock:
            if self._entries.get((entry.claim.account_id, entry.claim.key)) is entry:
                del self._entries[(entry.claim.account_id, entry.claim.key)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(EVERY):
            with self._lock:
                entries = list(self._entries.values())
                if not entries:
                    self._thread = None
                    return
            for entry in entries:
                self.settle(entry)
