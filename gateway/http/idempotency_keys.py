"""An idempotency key's life, whatever door it came through: ``Keys`` claims a key in the
read-model database (``storage/idempotency.py``), recovers one whose holder died (its
answer rebuilt from the events the request recorded, or the request run now), runs a
claimed request as the key's holder (beating meanwhile), and keeps or gives up the key
once it is done. REST's middleware (``gateway/http/idempotency.py``) and GraphQL's keyed
mutations (``run_once``, below: ``gateway/graphql/idempotent_mutations.py``) both call it.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool

from domain.actors import for_request
from domain.errors import ValidationError
from gateway.http.outages import classify, first_line
from gateway.http.unsettled import Pending, Unsettled
from gateway.services import Services
from projections.marked_events import MarkedEvent, marked_events
from storage.idempotency import (
    BEAT_EVERY,
    MAX_KEY_LENGTH,
    Abandoned,
    Claimed,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Replay,
    StoredResponse,
)
from usecases.errors import IdempotencyInFlight, IdempotencyKeyReused

log = logging.getLogger("cleverinvo")


def valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters (spaces inside are allowed, a blank key is not)."""
    return 0 < len(value) <= MAX_KEY_LENGTH and value.strip() != "" and all(" " <= c <= "~" for c in value)


Answer = Claimed | InFlight | Mismatch | Replay
Rebuild = Callable[[list[MarkedEvent]], StoredResponse]


@dataclass(frozen=True)
class Outcome:
    """What became of a failed request's key: ``rebuilt``, the answer made of the events it
    recorded (it took effect), or None; ``known``, False when the store could not tell."""

    rebuilt: StoredResponse | None
    known: bool


class Keys:
    """Claims keys, recovers those whose holder died, and runs a claimed request as its
    holder: what a door needs for an idempotency key, REST's middleware or a GraphQL
    mutation alike."""

    def __init__(self, services: Services, store: IdempotencyStore | None = None) -> None:
        self.services = services
        self.store = store or IdempotencyStore(services.projector.writer)
        self.pending = Pending()  # keys whose record a fault of the store left unfinished
        self._asked: dict[str, tuple[str, str]] = {}  # a claim's owner -> its request and body hash

    async def take(self, account: str, key: str, request: str, digest: str, rebuild: Rebuild) -> Answer:
        """The key for this request: ``Claimed`` (run it, inside ``running``, then ``keep``
        or ``release``), or what to answer instead. A claim left by a dead process is
        recovered here: ``rebuild`` makes the answer from the events its request recorded.
        A key this process could not finish the record of (``gateway/http/unsettled.py``) is
        answered from memory, or settled first; a store that still fails raises."""
        unsettled = self.pending.get(account, key)
        if unsettled is not None:
            if (unsettled.request, unsettled.digest) != (request, digest):
                return Mismatch()
            if unsettled.response is not None:
                return Replay(unsettled.response)
            await run_in_threadpool(self.pending.settle_now, unsettled)  # raises while the store fails
        for _attempt in range(5):
            position = await run_in_threadpool(self._position)
            claim = await run_in_threadpool(self.store.claim, account, key, request, digest, position)
            if isinstance(claim, Claimed):
                self._asked[claim.owner] = (request, digest)
            if not isinstance(claim, Abandoned):
                return claim
            recovered = await run_in_threadpool(self._recover, claim, rebuild)
            if isinstance(recovered, Claimed):
                self._asked[recovered.owner] = (request, digest)
            if recovered is not None:
                return recovered
        return InFlight()  # other retries kept recovering it first: this one retries later

    def _position(self) -> int:
        return self.services.app.recorder.max_notification_id() or 0

    def _recover(self, abandoned: Abandoned, rebuild: Rebuild) -> Replay | Claimed | None:
        """The first answer if the abandoned request took effect, else the key to run it
        now; None if another retry settled it first."""
        after = abandoned.position
        marked = marked_events(self.services.app, abandoned.owner, after) if after is not None else []
        if not marked:
            taken = self.store.take_over(abandoned, self._position())
            if taken is not None:
                log.warning("Idempotency key of a request whose process died: it took no effect, so it runs now")
            return taken
        try:
            self.services.projector.catch_up()  # a read after the retry's answer sees the write
        except Exception:
            log.exception("Read model did not catch up while recovering an idempotent request")
        response = rebuild(marked)
        if not self.store.settle(abandoned, response):
            return None
        log.warning(
            "Idempotency key of a request whose process died: it took effect (positions %s); its answer was rebuilt",
            ", ".join(str(m.position) for m in marked),
        )
        return Replay(response)

    @contextlib.asynccontextmanager
    async def running(self, claim: Claimed) -> AsyncIterator[None]:
        """Runs the block as the claim's holder: what it records carries the claim's
        reference, and the holder beats meanwhile (so a process elsewhere knows it runs)."""
        beating = asyncio.create_task(self._beat(claim))
        try:
            with for_request(claim.owner):
                yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def _beat(self, claim: Claimed) -> None:
        while True:
            await asyncio.sleep(BEAT_EVERY.total_seconds())
            try:
                if not await run_in_threadpool(self.store.beat, claim):
                    return  # taken over: nothing left to say
            except Exception as exc:  # a missed beat is not fatal; a few in a row let another retry in
                if classify(exc) is None:
                    log.exception("Could not beat for an idempotency key")
                else:  # the store's outage, answered and logged where the request meets it
                    log.warning("Could not beat for an idempotency key: %s", first_line(exc))

    async def keep(self, claim: Claimed, response: StoredResponse) -> None:
        request, digest = self._asked.pop(claim.owner, ("", ""))
        try:
            if not await run_in_threadpool(self.store.complete, claim, response):
                log.warning("An idempotency key's claim was taken over before its request finished")
        except Exception:  # the answer is real: send it, and keep it as soon as the store takes it
            log.exception("Could not keep the answer of an idempotent request; it is kept when the store allows")
            self.pending.add(Unsettled(claim, request, digest, response, lambda: self._complete(claim, response)))

    def _complete(self, claim: Claimed, response: StoredResponse) -> None:
        self.store.complete(claim, response)

    async def release(self, claim: Claimed, rebuild: Rebuild) -> Outcome:
        """Ends a claim whose request failed (an error, a 5xx): the key is given up, so a
        retry runs again, unless the request recorded events before it failed; then their
        rebuilt answer is kept (and returned), so a retry gets it and nothing runs twice.
        When the store cannot tell now, the claim is settled once it can
        (``gateway/http/unsettled.py``) and the outcome is not known."""
        request, digest = self._asked.pop(claim.owner, ("", ""))
        outcome = Outcome(None, known=False)
        with anyio.CancelScope(shield=True):  # even when the request was cancelled
            try:
                rebuilt = await run_in_threadpool(self._outcome, claim, rebuild)
            except Exception:
                log.exception("Could not tell whether a failed keyed request took effect; settled once the store can")
                self.pending.add(Unsettled(claim, request, digest, None, lambda: self._release(claim, rebuild)))
                return outcome
            outcome = Outcome(rebuilt, known=True)
            try:
                await run_in_threadpool(self._finish, claim, rebuilt)
            except Exception:
                log.exception("Could not finish a failed keyed request's key; finished once the store can")
                self.pending.add(Unsettled(claim, request, digest, rebuilt, lambda: self._finish(claim, rebuilt)))
        return outcome

    async def written(self, claim: Claimed, rebuild: Rebuild) -> StoredResponse | None:
        """The answer of a request known to have saved its write, rebuilt from its events;
        None when they cannot be read now (the request's own answer is kept instead)."""
        try:
            return await run_in_threadpool(self._outcome, claim, rebuild)
        except Exception:
            log.exception("Could not rebuild a saved keyed write's answer from its events")
            return None

    def _outcome(self, claim: Claimed, rebuild: Rebuild) -> StoredResponse | None:
        """The answer rebuilt from the events the claim's request recorded; None if none."""
        marked = marked_events(self.services.app, claim.owner, claim.position) if claim.position is not None else []
        if not marked:
            return None
        log.warning("An idempotent request failed after it took effect; a retry gets its answer rebuilt")
        return rebuild(marked)

    def _finish(self, claim: Claimed, rebuilt: StoredResponse | None) -> None:
        if rebuilt is None:
            self.store.release(claim)
        else:
            self.store.complete(claim, rebuilt)

    def _release(self, claim: Claimed, rebuild: Rebuild) -> None:
        self._finish(claim, self._outcome(claim, rebuild))


# A GraphQL mutation's keyed run: REST's guarantee, for a resolver to call.
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Once:
    value: Any  # a JSON value
    replayed: bool


def _stored(value: Any) -> StoredResponse:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return StoredResponse(200, [("content-type", JSON_TYPE)], body)


async def run_once(
    keys: Keys,
    account_id: str,
    key: str,
    operation: str,
    fingerprint: str,
    run: Callable[[], Awaitable[Any]],
    rebuild: Callable[[list[MarkedEvent]], Any],
) -> Once:
    """Runs ``run`` at most once for (account, key) and answers every retry alike: a
    GraphQL mutation's keyed run (``gateway/graphql/idempotent_mutations.py`` says how)."""
    if not valid_key(key):
        raise ValidationError("The idempotency key must be 1 to 255 printable ASCII characters", "idempotencyKey")
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()
    claim = await keys.take(account_id, key, f"GraphQL {operation}", digest, lambda marked: _stored(rebuild(marked)))
    if isinstance(claim, Replay):
        return Once(json.loads(claim.response.body), replayed=True)
    if isinstance(claim, Mismatch):
        raise IdempotencyKeyReused("This idempotency key was used for another operation or arguments; use a new key")
    if isinstance(claim, InFlight):
        raise IdempotencyInFlight("A request with this idempotency key is still in progress; retry later")
    return Once(await _first(keys, claim, run, rebuild), replayed=False)


async def _first(
    keys: Keys, claim: Claimed, run: Callable[[], Awaitable[Any]], rebuild: Callable[[list[MarkedEvent]], Any]
) -> Any:
    try:
        async with keys.running(claim):
            value = await run()
        stored = _stored(value)  # a value that is not JSON is the caller's mistake
    except BaseException:
        await keys.release(claim, lambda marked: _stored(rebuild(marked)))
        raise
    await keys.keep(claim, stored)
    return value
