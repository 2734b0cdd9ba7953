"""The load benchmark's wrk runs: a Lua script that sets the key, cycles through a route's
paths and bodies and counts statuses; the measure read from wrk's report, with the
server's CPU per request."""

import json
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.kit.cpu import cpu_seconds
from bench.kit.load_routes import Route
from bench.kit.wrk import percentiles

LUA = """-- written by bench/load.py
local paths = {%(paths)s}
local bodies = {%(bodies)s}
local method = "%(method)s"
local headers = {["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
end

function request()
  counter = counter + 1
  local body = nil
  if #bodies > 0 then body = bodies[counter %% #bodies + 1] end
  return wrk.format(method, paths[counter %% #paths + 1], headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %%d %%d\\n", code, count))
    end
  end
end
"""


def lua_list(values: Sequence[str]) -> str:
    return ", ".join(json.dumps(v) for v in values)  # JSON strings are Lua strings here (ASCII escapes)


@dataclass(frozen=True)
class Measure:
    rps: float
    p50: float
    p99: float
    cpu_ms: float  # API process CPU per request
    requests: int
    bad: int  # answers other than the route's success status, and socket errors
    workers_cpu_ms: float = 0.0  # the `workers` processes' CPU per request, their backlog drained
    load: float = 0.0  # the machine's 1-minute load average when wrk ended
    workers_window_ms: float = 0.0  # the part of workers_cpu_ms spent while wrk ran

    @property
    def cost_ms(self) -> float:
        """CPU per request, server and workers."""
        return self.cpu_ms + self.workers_cpu_ms

    def cell(self) -> str:
        return f"{self.rps:8.1f} {self.p50:7.2f} {self.p99:7.2f}"

    def line(self) -> str:
        """What a run prints of one measure: req/s, p50, p99, CPU, load average."""
        workers = ""
        if self.workers_cpu_ms:
            workers = f" + workers {self.workers_cpu_ms:6.2f} ({self.workers_window_ms:.2f} while wrk ran)"
        return f"{self.cell()}  cpu {self.cpu_ms:6.2f} ms{workers}  load {self.load:4.1f}"


def parse_wrk(output: str, ok: int) -> tuple[float, float, float, int, int]:
    pct = percentiles(output)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if total is None or rps is None or 50 not in pct or 99 not in pct:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    statuses = {int(c): int(n) for c, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = sum(n for c, n in statuses.items() if c != ok) + (sum(int(x) for x in errors.groups()) if errors else 0)
    return float(rps.group(1)), pct[50], pct[99], int(total.group(1)), bad


def run_wrk(
    base: str,
    route: Route,
    key: str,
    connections: int,
    seconds: int,
    folder: Path,
    pids: list[int],
    workers: Sequence[int] = (),
    drained: Callable[[], object] = lambda: None,
) -> Measure:
    """One wrk run. The CPU of ``workers`` (the PDF worker and the other followers) is read
    again once ``drained`` returns after wrk stops, so the renders a create left behind count."""
    script = folder / f"{route.name}.lua"
    script.write_text(
        LUA % {"paths": lua_list(route.paths), "bodies": lua_list(route.bodies), "method": route.method, "key": key}
    )
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
        base + route.paths[0],
    ]
    before, workers_before = cpu_seconds(pids), cpu_seconds(workers)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    used, load, window = cpu_seconds(pids) - before, os.getloadavg()[0], cpu_seconds(workers) - workers_before
    if workers:
        drained()
    workers_used = cpu_seconds(workers) - workers_before
    rps, p50, p99, requests, bad = parse_wrk(out, route.ok)
    per = 1000 / max(requests, 1)
    return Measure(rps, p50, p99, used * per, requests, bad, workers_used * per, load, window * per)
