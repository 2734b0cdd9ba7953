"""The API in several processes: `cleverinvo serve --workers N`.

uvicorn's supervisor binds the socket once, spawns N processes that each import the app
factory (``gateway.app:create_app``, which reads its settings from the environment and
builds its own services), and restarts a process that dies. Each process keeps its own
projector: after a write it catches the read model up to that write, so a client reads
its own writes whichever process answers next; the tracking row's lock and compare-and-set
let exactly one process apply each event.

serve's worker child is started beside them, by serve; each API process finds it among its
parent's children (``SUPERVISED_BY`` names serve), so its health answer says whether it
runs.

An API process waits for the database as serve does (``gateway.cli.startup``); one that still
cannot open the store says why in one line and exits 2, and uvicorn's supervisor starts
another (its own wait is the backoff). Exit 3 would be uvicorn's "failed to start", which
stops every process: for an outage that began after serve itself started, that is too much.

uvicorn sends its configuration to each spawned process by pickling it. Ours holds a
protocol class made at run time (the bounded request head), so it pickles as the recipe
instead: the spawned process makes the same configuration again from the environment.
"""

import logging
import os
import sys

import uvicorn
from starlette.applications import Starlette

from gateway.cli import startup
from gateway.settings import Settings

APP_FACTORY = "gateway.cli.processes:create_process_app"
SUPERVISED_BY = "CLEVERINVO_INTERNAL_WORKERS_PARENT"  # set by serve for its API processes only


def create_process_app() -> Starlette:
    """``gateway.app:create_app`` for one of serve's API processes: its health answer
    follows serve's worker child, when serve runs one."""
    from followers.runner import SiblingWorkers
    from gateway.app import create_app

    settings = Settings.from_env()
    try:
        startup.prepare(settings, logging.getLogger("cleverinvo.startup").warning)
        app = create_app(settings)
    except Exception as exc:  # the store could not be opened: one line, then uvicorn starts another
        message = startup.failure(exc, settings)
        if message is None:
            raise
        print(f"cleverinvo: {message}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    parent = os.environ.get(SUPERVISED_BY, "")
    if parent.isascii() and parent.isdigit() and int(parent) == os.getppid():
        app.state.worker_child = SiblingWorkers(int(parent))
    return app


class _Remade(uvicorn.Config):
    """A configuration that pickles as how to make it again (see the module's docstring)."""

    def __reduce__(self) -> tuple[object, tuple[str, int, int]]:
        return worker_config, (self.host, self.port, self.workers)


def worker_config(host: str, port: int, workers: int) -> uvicorn.Config:
    """``server_config`` for the factory, from the environment, in ``workers`` processes."""
    from gateway.cli.server import server_config

    config = server_config(APP_FACTORY, Settings.from_env(), host, port)
    config.factory = True
    config.workers = workers
    # A spawned process answers the supervisor's health check only once it has imported
    # everything; on a busy host that can take longer than uvicorn's 5 s.
    config.timeout_worker_healthcheck = 30
    config.__class__ = _Remade
    return config


def serve_in_processes(host: str, port: int, workers: int, supervised: bool = False) -> bool:
    """Runs ``workers`` API processes until a signal stops them; False if none could start
    (the port was taken, say: uvicorn has logged why). ``supervised``: this process runs the
    worker child, and the API processes' health follows it."""
    from uvicorn.supervisors import Multiprocess

    if supervised:
        os.environ[SUPERVISED_BY] = str(os.getpid())  # inherited by the processes spawned below

    config = worker_config(host, port, workers)
    try:
        socket = config.bind_socket()
    except SystemExit:  # uvicorn logs a taken port and exits
        return False
    Multiprocess(config, sockets=[socket]).run()
    return True
