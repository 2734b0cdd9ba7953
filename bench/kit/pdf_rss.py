"""``bench/pdf.py --only rss``: the RSS of a fresh process rendering one 10-line invoice
many times (from ``/proc/self/statm``), at start and after 1, 100, 500 and 1,000 renders."""

import os
import subprocess
import sys
import time

from bench.kit import ROOT
from bench.kit.pdf_sample import invoice
from pdf.layout import render

SCRIPT = ROOT / "bench" / "pdf.py"  # the fresh process runs it with --rss-child
RSS_CHECKPOINTS = (1, 100, 500, 1000)
RSS_SECONDS = 900.0  # the child gives up (and says so) past this


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_child(renders: int) -> None:
    """Runs in the fresh process: renders one 10-line invoice ``renders`` times."""
    source = invoice(10)
    checkpoints = sorted({n for n in RSS_CHECKPOINTS if n < renders} | {renders})
    print(f"  start (imports done, nothing rendered)  RSS {rss_mb():7.1f} MB", flush=True)
    started = time.monotonic()
    deadline = started + RSS_SECONDS
    for done in range(1, renders + 1):
        render(source)
        if done in checkpoints:
            elapsed = time.monotonic() - started
            print(f"  after {done:>5} renders ({elapsed:6.1f} s)      RSS {rss_mb():7.1f} MB", flush=True)
        if time.monotonic() > deadline:
            print(f"  stopped after {done} renders: over {RSS_SECONDS:.0f} s", flush=True)
            return


def bench_rss(renders: int) -> None:
    print(f"RSS of a fresh process rendering a 10-line invoice {renders} times (pdf.layout.render):", flush=True)
    command = [sys.executable, str(SCRIPT), "--rss-child", str(renders)]
    result = subprocess.run(command, cwd=ROOT, timeout=RSS_SECONDS + 60, check=False)
    if result.returncode != 0:
        print(f"  the RSS process exited with {result.returncode}")
