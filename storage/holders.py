"""Who holds a claim: this process, named so that any other process can tell whether it
still runs.

A holder is ``<host>/<boot id>/<pid namespace>/<pid>/<start time>``. A process that shares
the holder's kernel boot and pid namespace (the same host, the same container) knows at
once: the holder runs while ``/proc/<pid>/stat`` exists with the same start time (a pid
is reused only by a process started later) and is not a zombie. Any other process
(another host or container) cannot look, and says so (``None``): it judges by the
holder's heartbeat instead. Off Linux nothing can be looked up, and heartbeats decide.
"""

import os
import socket
from functools import cache
from pathlib import Path

PROC = Path("/proc")
GONE_STATES = frozenset("ZXx")  # zombie, dead: proc(5), /proc/[pid]/stat field 3


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks after boot) of ``pid``; None if there is none.

    proc(5): the second field (the command) is in parentheses and may hold spaces and
    parentheses itself, so the fields are counted after its last ``)``; state is field 3,
    starttime field 22."""
    text = _read(PROC / str(pid) / "stat")
    _, closing, rest = text.rpartition(")")
    fields = rest.split()
    if not closing or len(fields) < 20:
        return None
    return fields[0], fields[19]


@cache
def _namespace() -> tuple[str, str]:
    """(boot id, pid namespace) of this process; empty strings where there is no /proc."""
    boot = _read(PROC / "sys" / "kernel" / "random" / "boot_id")
    try:
        space = os.readlink(PROC / "self" / "ns" / "pid")
    except OSError:
        space = ""
    return boot, space


@cache
def _holder_of(pid: int) -> str:
    # Cached per pid: a process forked after the first claim (uvicorn's workers) is named anew.
    boot, space = _namespace()
    found = _stat(pid)
    started = found[1] if found else ""
    return "/".join((socket.gethostname(), boot, space, str(pid), started))


def this_process() -> str:
    """This process as a holder (at most 255 characters)."""
    return _holder_of(os.getpid())[:255]


def runs(holder: str) -> bool | None:
    """Whether ``holder`` still runs: True or False when this process can look, None when
    it cannot (another host or container, or no /proc)."""
    parts = holder.rsplit("/", 4)
    if len(parts) != 5:
        return None
    _host, boot, space, pid, started = parts
    here_boot, here_space = _namespace()
    if not (boot and space and started and pid.isdigit()) or (boot, space) != (here_boot, here_space):
        return None
    found = _stat(int(pid))
    return found is not None and found[0] not in GONE_STATES and found[1] == started
