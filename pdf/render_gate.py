"""A test hook at the process boundary, to catch a process in the middle of a render.

With ``CLEVERINVO_TEST_RENDER_GATE=<folder>`` in its environment, a process announces every
render it starts (a file ``rendering-<pid>`` in the folder) and holds it there until the
folder has a file named ``open``. A test can then kill a worker mid-render, on purpose and
every time, instead of hoping a sleep lands inside one. Unset (always, outside tests), the
renderer is left as it is.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from pdf.document import InvoiceDocument

ENV = "CLEVERINVO_TEST_RENDER_GATE"
POLL_SECONDS = 0.02

Renderer = Callable[[InvoiceDocument], bytes]


def gated(renderer: Renderer, folder: Path) -> Renderer:
    """``renderer``, held at the gate in ``folder`` before each render."""

    def render(source: InvoiceDocument) -> bytes:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"rendering-{os.getpid()}").touch()
        while not (folder / "open").exists():
            time.sleep(POLL_SECONDS)
        return renderer(source)

    return render


def from_environment(renderer: Renderer) -> Renderer:
    """``renderer``, gated when the environment asks for it."""
    folder = os.environ.get(ENV, "").strip()
    return gated(renderer, Path(folder)) if folder else renderer
