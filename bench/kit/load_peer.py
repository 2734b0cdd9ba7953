"""The plain peer in the load benchmark (issue 26): its database copied from the run's read
model, whether it answers the same JSON as ours, and the table of ours against it."""

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.kit import ROOT
from bench.kit.load_routes import Route, check
from bench.kit.load_wrk import Measure
from bench.kit.table import spread

PEER = ROOT / "bench" / "peer.py"


def copy_data(data: Path, target: Path, env: dict[str, str]) -> str:
    """The peer's SQLite file, filled from ``data``'s read model (the same clients, keys,
    invoices and lines ours serves). Returns what the copy said."""
    command = [sys.executable, str(PEER), "--copy-from", str(data), "--db", str(target)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def command(target: Path, port: int) -> list[str]:
    return [sys.executable, str(PEER), "--db", str(target), "--port", str(port)]


def same_answers(ours: str, peer: str, key: str, routes: Sequence[Route]) -> list[str]:
    """The read routes the peer answers differently from ours (first path, parsed JSON;
    ``shareUrl`` compared without its port, the two listen on different ones)."""
    differ = []
    for route in routes:
        if route.method != "GET":
            continue
        theirs, mine = json.loads(check(peer, key, route)), json.loads(check(ours, key, route))
        if _without_ports(theirs) != _without_ports(mine):
            differ.append(route.name)
    return differ


def _without_ports(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ports(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ports(v) for v in value]
    if isinstance(value, str) and value.startswith("http://127.0.0.1:"):
        return value.split("/", 3)[-1]
    return value


def report(runs: Sequence[dict[tuple[str, int], Measure]], peers: Sequence[dict[tuple[str, int], Measure]]) -> None:
    """Ours against the peer, route by route: requests/s, CPU per request (ours counts the
    workers' CPU for a create), and both ratios, min / median / max over the runs."""
    print("\nours vs the plain peer (bench/peer.py), same run, same data; min / median / max of the runs")
    print("cost = CPU ms per request: server, plus for a create the workers' (PDF) CPU until their backlog drained")
    print(
        f"{'route':<16}{'conn':>5}  {'ours req/s':>22}  {'peer req/s':>22}  {'ours/peer req/s':>20}  "
        f"{'ours cost':>20}  {'peer cost':>20}  {'ours/peer cost':>20}  {'load':>11}"
    )
    for name, connections in peers[0]:
        ours = [r[(name, connections)] for r in runs]
        theirs = [p[(name, connections)] for p in peers]
        rps = [o.rps / t.rps for o, t in zip(ours, theirs, strict=True)]
        cost = [o.cost_ms / t.cost_ms for o, t in zip(ours, theirs, strict=True)]
        loads = [m.load for m in (*ours, *theirs)]
        print(
            f"{name:<16}{connections:>5}  {spread([o.rps for o in ours], '6.1f'):>22}  "
            f"{spread([t.rps for t in theirs], '6.1f'):>22}  {spread(rps, '.2f'):>20}  "
            f"{spread([o.cost_ms for o in ours], '.2f'):>20}  {spread([t.cost_ms for t in theirs], '.2f'):>20}  "
            f"{spread(cost, '.2f'):>20}  {min(loads):>5.1f}-{max(loads):<5.1f}"
        )
