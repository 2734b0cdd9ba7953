"""Real faults for the outage tests: a small tmpfs as a full disk (root only), and a
`cleverinvo serve` whose log lives outside its data directory (so a full disk does not eat
its log)."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.outside_tools import missing
from tests.test_operations import ROOT, Server, free_port, until


def need_root_mount() -> None:
    """Mounting a tmpfs needs root (CI runs as root): fail there, skip elsewhere."""
    if os.geteuid() != 0 or shutil.which("mount") is None or shutil.which("umount") is None:
        missing("root with mount(8), to mount a small tmpfs as a full disk", "run the tests as root, as CI does")


@contextmanager
def tmpfs(path: Path, megabytes: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        for _attempt in range(50):  # a server killed a moment ago may still hold a file open
            if subprocess.run(["umount", str(path)], check=False, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


def fill(folder: Path) -> Path:
    """Writes a file in ``folder`` until the file system is full; returns it (remove it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


@contextmanager
def serving_outside(data: Path, log_dir: Path, **env: str) -> Iterator[Server]:
    """`cleverinvo serve --no-workers` on ``data``, its output in ``log_dir``."""
    port = free_port()
    output = log_dir / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--no-workers", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "CLEVERINVO_DATA_DIR": str(data), "CLEVERINVO_READY_MIN_FREE_MB": "0", **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, output)

    def healthy() -> bool:
        assert process.poll() is None, server.text()
        try:
            return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        until(healthy, 60, "the server to start")
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
