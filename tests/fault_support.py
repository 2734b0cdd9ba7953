"""Real faults for the outage tests: a small tmpfs as a full disk (root only), and a
`cleverinvo serve` whose log lives outside its data directory (so a full disk does not eat
its log)."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tests.e2e.test_operations import Server, serving
from tests.outside_tools import missing


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


def serving_outside(data: Path, log_dir: Path, **env: str) -> AbstractContextManager[Server]:
    """`cleverinvo serve --no-workers` on ``data``, its output in ``log_dir`` (outside a data
    directory a test fills), ready whatever the data directory's free space."""
    return serving(data, log_dir, **{"CLEVERINVO_READY_MIN_FREE_MB": "0", **env})
