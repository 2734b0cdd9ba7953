"""PDF benchmarks: our borb renderer against reportlab, memory over many renders, and the
API's latency while a worker process renders a backlog.

Run by hand: python bench/pdf.py   (needs the bench extra: pip install -e ".[bench]")

Three parts, all run by default; pick some with --only render|rss|backlog (repeatable):

- render: for a 1-page (10 lines) and a 5-page invoice, our renderer warm (font subset
  cached for the invoice's characters) and cold (a new character set), reportlab with the
  same DejaVu font embedded, and the ratios; then GET /pdf served from the cache against
  GET /invoices/{id} through the real ASGI app.
- rss: a fresh Python process renders a 10-line invoice 1,000 times and reports its RSS
  (from /proc/self/statm) at start and after 1, 100, 500 and 1,000 renders.
- backlog: a fresh data directory seeded through the application with 1,000 invoices of
  1-20 lines and no PDF; `cleverinvo serve --no-workers` on a free loopback port;
  GET /api/v1/invoices/{id} measured with wrk (1 thread, 4 connections) first with no
  backlog (15 s), then while one `cleverinvo workers` process renders the backlog (one wrk
  run lengthened to cover the backlog, stopped with SIGINT the moment the last PDF is
  stored), and the worker's throughput; beside each measurement, where the machine's CPU
  went (server, worker, wrk, this script, other processes). Repeated --runs times
  (default 3); reports min/median/max. --pin puts the server on CPU 0 and the worker and
  wrk on CPU 1; --worker-nice N runs the worker under nice; --worker-alone also times the
  backlog with no server. Needs wrk (Debian package `wrk`). Load only goes to 127.0.0.1.

The parts are in bench/kit: pdf_render, pdf_rss and pdf_backlog (with pdf_sample, the
invoice they render, pdf_seed and pdf_wrk).
"""

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.kit.pdf_backlog import bench_backlog  # noqa: E402
from bench.kit.pdf_render import bench_render  # noqa: E402
from bench.kit.pdf_rss import bench_rss, rss_child  # noqa: E402
from bench.kit.pdf_wrk import WRK_SECONDS, Placement  # noqa: E402


def describe_machine() -> None:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{datetime.now():%Y-%m-%d %H:%M}  {cores} cores ({usable} usable)  load {load}  "
        f"Python {platform.python_version()}  borb {version('borb')}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only", action="append", choices=("render", "rss", "backlog"), help="run only this part (repeatable)"
    )
    parser.add_argument("--runs", type=int, default=3, help="backlog measurements (default 3)")
    parser.add_argument("--invoices", type=int, default=1000, help="invoices in the backlog (default 1000)")
    parser.add_argument("--seconds", type=int, default=WRK_SECONDS, help="idle wrk run, seconds (default 15)")
    parser.add_argument("--renders", type=int, default=1000, help="renders in the RSS process (default 1000)")
    parser.add_argument(
        "--worker-alone", action="store_true", help="also time one backlog rendered with no server and no wrk"
    )
    parser.add_argument("--worker-nice", type=int, default=0, metavar="N", help="run the worker under nice -n N")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, worker and wrk on CPU 1 (taskset)")
    parser.add_argument("--rss-child", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return
    parts = args.only or ["render", "rss", "backlog"]
    describe_machine()
    if "render" in parts:
        bench_render()
    if "rss" in parts:
        bench_rss(args.renders)
    if "backlog" in parts:
        place = Placement(args.worker_nice, args.pin)
        bench_backlog(args.runs, args.invoices, args.seconds, args.worker_alone, place)


if __name__ == "__main__":
    main()
