"""The load benchmark's wrk runs: a Lua script that sets the key, cycles through a route's
paths and bodies and counts statuses; the measure read from wrk's report, with the
server's CPU per request."""

import json
import re
import subprocess
from collections.abc import Sequence
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

    def cell(self) -> str:
        return f"{self.rps:8.1f} {self.p50:7.2f} {self.p99:7.2f}"


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
    base: str, route: Route, key: str, connections: int, seconds: int, folder: Path, pids: list[int]
) -> Measure:
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
    before = cpu_seconds(pids)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    used = cpu_seconds(pids) - before
    rps, p50, p99, requests, bad = parse_wrk(out, route.ok)
    return Measure(rps, p50, p99, used * 1000 / max(requests, 1), requests, bad)
