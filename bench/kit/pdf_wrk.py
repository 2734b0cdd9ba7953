"""The PDF backlog's wrk runs: a Lua script cycling ``GET /api/v1/invoices/{id}`` over a
fixed set of ids and counting statuses, wrk's report read back, and where each process
runs (``--pin``, ``--worker-nice``)."""

import re
from dataclasses import dataclass
from pathlib import Path

from bench.kit.wrk import in_ms, percentiles

WRK_SECONDS = 15

WRK_SCRIPT = """-- written by bench/pdf.py: GET /api/v1/invoices/{id} over a fixed set of ids
local ids = {%(ids)s}
local auth = "Bearer %(key)s"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
end

function request()
  counter = counter %% #ids + 1
  return wrk.format("GET", "/api/v1/invoices/" .. ids[counter], { ["Authorization"] = auth })
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


@dataclass(frozen=True)
class Wrk:
    p50_ms: float
    p99_ms: float
    rps: float
    requests: int
    seconds: float
    statuses: dict[int, int]
    socket_errors: str  # wrk's own line, or "" when it printed none
    non_2xx_3xx: int  # wrk's own count (status >= 400)

    @property
    def not_200(self) -> int:
        return sum(count for code, count in self.statuses.items() if code != 200)

    def line(self) -> str:
        odd = f"; non-200 {self.not_200} {dict(sorted(self.statuses.items()))}" if self.not_200 else ""
        errors = f"; {self.socket_errors}" if self.socket_errors else ""
        return (
            f"p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  {self.rps:7.1f} req/s  "
            f"({self.requests} requests in {self.seconds:.1f} s, 200: {self.statuses.get(200, 0)}{odd}{errors})"
        )


def parse_wrk(output: str) -> Wrk:
    latencies = percentiles(output)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if total is None or rps is None or 50 not in latencies or 99 not in latencies:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = re.search(r"^\s+(Socket errors:.*)$", output, re.M)
    non = re.search(r"^\s+Non-2xx or 3xx responses: (\d+)", output, re.M)
    statuses = {int(code): int(count) for code, count in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    return Wrk(
        p50_ms=latencies[50],
        p99_ms=latencies[99],
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=in_ms(total.group(2), total.group(3)) / 1000,
        statuses=statuses,
        socket_errors=errors.group(1) if errors else "",
        non_2xx_3xx=int(non.group(1)) if non else 0,
    )


@dataclass(frozen=True)
class Placement:
    """Where the processes run: by default wherever the scheduler puts them; --pin puts
    the server on CPU 0 and the worker and wrk on CPU 1; --worker-nice lowers the worker's
    priority. nice and taskset exec the command, so the pid stays the process's own."""

    nice: int = 0
    pin: bool = False

    def server(self, command: list[str]) -> list[str]:
        return (["taskset", "-c", "0"] if self.pin else []) + command

    def worker(self, command: list[str]) -> list[str]:
        niced = (["nice", "-n", str(self.nice)] if self.nice else []) + command
        return (["taskset", "-c", "1"] if self.pin else []) + niced

    def wrk(self, command: list[str]) -> list[str]:
        return (["taskset", "-c", "1"] if self.pin else []) + command

    def describe(self) -> str:
        pinned = "; server pinned to CPU 0, worker and wrk to CPU 1" if self.pin else ""
        return pinned + (f"; worker at nice {self.nice}" if self.nice else "")


def wrk_command(url: str, script: Path, seconds: int) -> list[str]:
    return ["wrk", "-t1", "-c4", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), url]
