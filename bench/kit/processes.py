"""The processes a benchmark runs: a free loopback port, a command started with its output
in a file and stopped (SIGTERM, then SIGKILL), a wait until a URL answers 200, and what
``/proc`` says of a process's children and memory."""

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes], within: float, name: str | None = None) -> None:
    """SIGTERM, then SIGKILL if it has not exited ``within`` seconds (said when ``name`` is given)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(within)
        except subprocess.TimeoutExpired:
            if name is not None:
                print(f"  {name} ignored SIGTERM for {within:.0f} s: killed")
            process.kill()
            process.wait()


@contextmanager
def started(
    command: Sequence[str],
    env: dict[str, str],
    log: Path,
    *,
    cwd: str | Path,
    stop_within: float,
    name: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running in ``cwd`` with its output in ``log``; stopped on leaving."""
    with open(log, "wb") as out:  # a file, never a pipe nobody reads
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield process
    finally:
        stop(process, stop_within, name)


def wait_healthy(url: str, process: subprocess.Popen[bytes], within: float, every: float) -> None:
    """Polls ``url`` every ``every`` seconds until it answers 200; raises if ``process``
    exits first or nothing answers ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(every)
    raise RuntimeError(f"{url} did not answer within {within:.0f} s")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_pids(serve: subprocess.Popen[bytes]) -> tuple[list[int], list[int]]:
    """(API processes, worker processes): serve itself, or its uvicorn workers when it has
    some; `cleverinvo workers` is told by its command line."""
    api, workers = [serve.pid], []
    for child in children(serve.pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"workers" in command and b"--parent-pid" in command:
            workers.append(child)
        else:
            api.append(child)
            workers += [
                grandchild
                for grandchild in children(child)
                if b"--parent-pid" in Path(f"/proc/{grandchild}/cmdline").read_bytes()
            ]
    return api, workers
