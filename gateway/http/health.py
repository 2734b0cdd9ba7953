"""What `GET /healthz` and `GET /readyz` say: liveness apart from readiness.

``/healthz`` is liveness: this process answers, so it is 200 with ``"status": "ok"`` (as it
always was) whatever else it reports beside. Beside it: whether the database answers, the
store's head, each follower of the store with its position and how far behind the head it
is, the worker process serve runs (alive, pid, restarts) and the streams this process found
unverifiable (domain/integrity.py). ``/readyz`` is readiness, for a load balancer or a
Kubernetes readiness probe: 200 only when the database answers and would take a write, the
data directory has at least CLEVERINVO_READY_MIN_FREE_MB free, Redis (where configured)
answers within its short timeouts (gateway/http/ratelimit.py), serve's worker child (if it runs
one) is alive and every follower is within ``MAX_LAG`` events of the head; else 503 with
the same body, ``failing`` naming each check that failed. ``/healthz``'s ``ready`` and
``failing`` are the same verdict.

Neither waits on the database longer than ``PROBE_SECONDS``: a database that does not answer
is ``{"ok": false, "error": "TimeoutError"}`` and the probe answers, and one probe at a time
waits on it. ``clock`` says how the host's clock stands against the recorded times
(domain/timeline.py): how far it is behind the latest one now, the largest step back seen
and how many saves were held past the clock. It never fails readiness: times are kept in
order whatever the clock does, and a host taken out for it would not set its clock right.

The followers are read from the shared tables, so a host that runs no workers
(``serve --no-workers``) still says how far the workers elsewhere are.
"""

import logging
import shutil
import threading
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain import integrity
from followers.runner import ChildState
from gateway.http.jsonio import JSONResponse
from gateway.http.ratelimit import redis_options
from gateway.services import Services
from gateway.settings import Settings
from usecases.wire import timestamp

log = logging.getLogger("cleverinvo.health")
MAX_LAG = 1000  # events a follower may be behind the head and the service still ready
OVERDUE_LOOK = 1000  # invoices counted at most as waiting for the overdue sweep
MB = 1024 * 1024
MS = timedelta(milliseconds=1)
PROBE_SECONDS = 2.0  # the most a probe waits on the database before it says it did not answer


class ChildSource(Protocol):
    def state(self) -> ChildState: ...


# Wire names of the followers, in the order they are shown, and where their position is read.
FOLLOWERS = ("readModel", "pdfRendering", "emailDelivery", "ledgerDigest")


def _positions(services: Services) -> dict[str, int]:
    work = services.work_positions()
    return {
        "readModel": services.projector.position(),
        "pdfRendering": work.get("pdf", 0),
        "emailDelivery": work.get("email", 0),
        "ledgerDigest": services.ledger.position(),
    }


def _child(child: ChildSource | None) -> dict[str, Any]:
    if child is None:  # serve --no-workers, serve --workers N's API processes, tests
        return {"supervised": False}
    state = child.state()
    return {
        "supervised": True,
        "alive": state.alive,
        "pid": state.pid,
        "restarts": state.restarts,
        "lastExitCode": state.last_exit,
    }


def _integrity() -> dict[str, Any]:
    found = integrity.failures()
    listed = [{"stream": f.stream, "reason": f.reason, "at": f.at.isoformat()} for f in found]
    return {"ok": not found, "failures": listed}


def _free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def _disk(services: Services) -> dict[str, Any]:
    settings = services.settings
    least = settings.ready_min_free_mb
    try:
        free = _free_bytes(settings.data_dir) // MB
    except OSError as exc:
        return {"ok": False, "error": type(exc).__name__, "minFreeMb": least}
    return {"ok": free >= least, "freeMb": free, "minFreeMb": least}


def _writable(services: Services) -> str | None:
    """Why the database would not take a write now; None if it would."""
    try:
        services.check_writable()
    except Exception as exc:
        log.warning("Readiness: the database does not take writes: %s", exc)
        return type(exc).__name__
    return None


def check_redis(settings: Settings) -> bool:
    """Pings Redis with the request path's short timeouts (gateway/http/ratelimit.py); False if
    no Redis is configured, raises if it does not answer."""
    if not settings.redis_url:
        return False
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    options = redis_options(settings.redis_timeout_ms / 1000)
    options["retry"] = Retry(NoBackoff(), 0)  # the sync client's own Retry
    client = redis.Redis.from_url(settings.redis_url, **options)
    try:
        client.ping()
    finally:
        client.close()
    return True


def _redis(services: Services) -> dict[str, Any] | None:
    """Redis's answer to a ping; None when no Redis is configured."""
    try:
        return {"ok": True} if check_redis(services.settings) else None
    except Exception as exc:  # refused, timed out (frozen), or any redis error: not ready
        log.warning("Readiness: Redis did not answer: %s", type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}


def _database(services: Services) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """The database's part of the answer: its own entry, what fails, the head and followers."""
    failing: list[str] = []
    try:
        head = services.app.recorder.max_notification_id() or 0
        positions = _positions(services)
        pending = len(services.read.overdue_candidates(services.app.clock().date(), OVERDUE_LOOK))
    except Exception as exc:  # the database is down or refusing: say so, stay alive
        log.warning("Health: the database did not answer: %s", type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}, ["database"], {"followers": []}
    refused = _writable(services)
    failing += ["database"] if refused else []
    followers: list[dict[str, Any]] = [
        {"name": name, "position": positions[name], "behind": max(0, head - positions[name])} for name in FOLLOWERS
    ]
    followers.append({"name": "overdueSweep", "pending": pending})
    failing += [f"follower:{f['name']}" for f in followers if f.get("behind", 0) > MAX_LAG]
    entry = {"ok": True} if refused is None else {"ok": False, "error": refused}
    return entry, failing, {"head": head, "followers": followers}


# One database probe at a time per service: a probe stuck on a database that does not answer
# keeps its thread, and the next probes answer at once instead of stacking threads behind it.
_probes: "weakref.WeakKeyDictionary[Services, threading.Lock]" = weakref.WeakKeyDictionary()
_probes_guard = threading.Lock()


def _bounded_database(services: Services) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """``_database`` answered within ``PROBE_SECONDS``; a database that hangs (a host that
    vanished, a lock held) is reported as a ``TimeoutError`` instead of hanging the probe."""
    with _probes_guard:
        lock = _probes.setdefault(services, threading.Lock())
    if not lock.acquire(blocking=False):  # the last probe is still waiting on the database
        return _timed_out()
    done: Future[tuple[dict[str, Any], list[str], dict[str, Any]]] = Future()

    def probe() -> None:
        try:
            done.set_result(_database(services))
        except BaseException as exc:  # never lost: the waiting side reports it
            done.set_exception(exc)
        finally:
            lock.release()

    threading.Thread(target=probe, name="readiness-probe", daemon=True).start()
    try:
        return done.result(timeout=PROBE_SECONDS)
    except FutureTimeout:
        log.warning("Readiness: the database did not answer within %.1f s", PROBE_SECONDS)
        return _timed_out()


def _timed_out() -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    return {"ok": False, "error": "TimeoutError"}, ["database"], {"followers": []}


def _clock(services: Services) -> dict[str, Any]:
    """The clock against the recorded times (domain/timeline.py): informative, never failing
    readiness, since recorded times are held in order whatever the clock does."""
    state = services.app.timeline.state()
    return {
        "behindMs": state.behind // MS,
        "largestStepBackMs": state.largest_step_back // MS,
        "clampedSaves": state.clamped_saves,
        "latestRecordedAt": timestamp(state.latest),
    }


def report(services: Services, child: ChildSource | None) -> dict[str, Any]:
    """The health answer; never raises, and never waits on the database longer than
    ``PROBE_SECONDS`` (a database that does not answer is reported)."""
    answer: dict[str, Any] = {"status": "ok"}
    database, failing, found = _bounded_database(services)
    answer["database"] = database
    if "head" in found:
        answer["head"] = found["head"]
    disk = _disk(services)
    failing += [] if disk["ok"] else ["disk"]
    redis = _redis(services)
    if redis is not None:
        answer["redis"] = redis
        failing += [] if redis["ok"] else ["redis"]
    workers = _child(child)
    if workers["supervised"] and not workers["alive"]:
        failing.append("workers")
    answer.update(
        ready=not failing,
        failing=failing,
        workers=workers,
        followers=found["followers"],
        integrity=_integrity(),
        disk=disk,
        clock=_clock(services),
    )
    return answer


async def readyz(request: Request) -> Response:
    """Readiness: 200 when every check passes, else 503; the body is /healthz's."""
    services: Services = request.app.state.services
    child = getattr(request.app.state, "worker_child", None)  # set by `cleverinvo serve`
    answer = await run_in_threadpool(report, services, child)
    return JSONResponse(answer, status_code=200 if answer["ready"] else 503)


ROUTES = [Route("/readyz", readyz, methods=["GET"])]
