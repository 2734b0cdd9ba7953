"""What `GET /healthz` and `GET /readyz` say: liveness apart from readiness.

``/healthz`` is liveness: this process answers, so it is 200 with ``"status": "ok"`` (as it
always was) whatever else it reports beside. Beside it: whether the database answers, the
store's head, each follower of the store with its position and how far behind the head it
is, the worker process serve runs (alive, pid, restarts) and the streams this process found
unverifiable (domain/integrity.py). ``/readyz`` is readiness: 200 only when the database
answers, serve's worker child (if it runs one) is alive and every follower is within
``MAX_LAG`` events of the head; else 503 naming each failing check.

The followers are read from the shared tables, so a host that runs no workers
(``serve --no-workers``) still says how far the workers elsewhere are.
"""

import logging
from typing import Any, Protocol

from domain import integrity
from gateway.services import Services
from gateway.workers import ChildState

log = logging.getLogger("cleverinvo.health")
MAX_LAG = 1000  # events a follower may be behind the head and the service still ready
OVERDUE_LOOK = 1000  # invoices counted at most as waiting for the overdue sweep


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


def report(services: Services, child: ChildSource | None) -> dict[str, Any]:
    """The health answer; never raises (a database that does not answer is reported)."""
    answer: dict[str, Any] = {"status": "ok"}
    failing: list[str] = []
    try:
        head = services.app.recorder.max_notification_id() or 0
        positions = _positions(services)
        pending = len(services.read.overdue_candidates(services.app.clock().date(), OVERDUE_LOOK))
    except Exception as exc:  # the database is down or refusing: say so, stay alive
        log.warning("Health: the database did not answer: %s", type(exc).__name__)
        answer["database"] = {"ok": False, "error": type(exc).__name__}
        failing.append("database")
        followers: list[dict[str, Any]] = []
    else:
        answer["database"] = {"ok": True}
        answer["head"] = head
        followers = [
            {"name": name, "position": positions[name], "behind": max(0, head - positions[name])} for name in FOLLOWERS
        ]
        followers.append({"name": "overdueSweep", "pending": pending})
        failing += [f"follower:{f['name']}" for f in followers if f.get("behind", 0) > MAX_LAG]
    workers = _child(child)
    if workers["supervised"] and not workers["alive"]:
        failing.append("workers")
    answer.update(
        ready=not failing,
        failing=failing,
        workers=workers,
        followers=followers,
        integrity=_integrity(),
    )
    return answer
