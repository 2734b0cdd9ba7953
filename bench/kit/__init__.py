"""What the benchmark scripts (``bench/load.py``, ``bench/pdf.py``) are made of.

Shared by both: ``processes`` (ports, starting and stopping ``cleverinvo``, waiting for it
to answer, its child processes), ``cpu`` (where CPU time went, from ``/proc``), ``wrk``
(the load generator's scripts and how its output is read) and ``table`` (min / median /
max cells). Each script's own parts: ``load_seed`` and ``load_run`` (the 100,000-invoice
load), ``pdf_sample``, ``pdf_render``, ``pdf_rss`` and ``pdf_backlog`` (the PDF parts).

The scripts put the checkout's root first on ``sys.path`` and import these as
``bench.kit.<module>``; nothing here imports the application at import time, so a child
process may put other code under test before it.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
