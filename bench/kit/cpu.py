"""Where CPU time went, read from ``/proc``: a set of processes' user + system seconds, the
whole machine's busy seconds, and (for the PDF backlog) a split of one measurement into
server, worker, wrk, this script and every other process."""

import os
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            after = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(after[11]) + int(after[12])) / CLOCK_TICKS
    return total


def settle(pids: Sequence[int], most_seconds: float = 180.0) -> float:
    """Waits until the server is idle (under 5% of a core for half a second): wrk leaves
    requests in flight when it stops, and a slow route's queue would be measured as the
    next route's. Returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < most_seconds:
        before = cpu_seconds(pids)
        time.sleep(0.5)
        if cpu_seconds(pids) - before < 0.025:
            break
    return time.monotonic() - began


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores): user, nice, system, irq,
    softirq and steal from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(values[0:3]) + sum(values[5:8])) / CLOCK_TICKS


def process_cpu(process: subprocess.Popen[bytes] | None) -> float:
    """User + system CPU seconds of a running process (0 when there is none)."""
    if process is None or process.poll() is not None:
        return 0.0
    after_name = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


def usage(who: int) -> float:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True)
class Snapshot:
    at: float
    machine: float
    server: float
    worker: float
    children: float  # reaped children: wrk, once it has exited
    bench: float

    @classmethod
    def take(cls, server: subprocess.Popen[bytes], worker: subprocess.Popen[bytes] | None = None) -> "Snapshot":
        return cls(
            time.monotonic(),
            machine_busy(),
            process_cpu(server),
            process_cpu(worker),
            usage(resource.RUSAGE_CHILDREN),
            usage(resource.RUSAGE_SELF),
        )


@dataclass(frozen=True)
class Cpu:
    """Where the machine's CPU went during one wrk run, in cores (CPU seconds per second)."""

    server: float
    worker: float
    wrk: float
    bench: float
    other: float  # every other process on the machine, and interrupts

    @classmethod
    def between(cls, start: Snapshot, end: Snapshot) -> "Cpu":
        wall = end.at - start.at
        server, worker = end.server - start.server, end.worker - start.worker
        wrk, bench = end.children - start.children, end.bench - start.bench
        other = end.machine - start.machine - server - worker - wrk - bench
        return cls(*(max(value, 0.0) / wall for value in (server, worker, wrk, bench, other)))

    @property
    def total(self) -> float:
        return self.server + self.worker + self.wrk + self.bench + self.other

    def line(self) -> str:
        return (
            f"cores busy {self.total:.2f}: server {self.server:.2f}, worker {self.worker:.2f}, "
            f"wrk {self.wrk:.2f}, this script {self.bench:.2f}, other {self.other:.2f}"
        )
