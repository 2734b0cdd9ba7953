"""`cleverinvo serve` and `cleverinvo workers`: the API, and the followers beside it.

serve opens a default account on a first start (printing its key and the first owner's
link), then serves in one process or several (``gateway.cli.processes``), running
`cleverinvo workers` as a supervised child (``followers.runner``) unless told not to.
"""

import argparse
import contextlib
import os
import signal
import sys
from types import FrameType
from typing import TypeAlias
from uuid import UUID

from followers.runner import child_workers
from gateway.cli.accounts import public_url, welcome_url
from gateway.cli.server import server_config
from gateway.services import Services

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _processes(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"a number of processes from 1 to 64, not {text!r}")
    return int(text)


def add_commands(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="serve the REST API (and run the workers as a child process)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-workers", dest="followers", action="store_false", help="do not start workers (run them elsewhere)"
    )
    serve.add_argument(
        "--workers",
        dest="processes",
        type=_processes,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port (for PostgreSQL; read-your-writes holds in each)",
    )
    workers = commands.add_parser(
        "workers", help="run the workers: render PDFs, deliver emails, record overdue invoices"
    )
    workers.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, services: Services) -> int:
    if args.command == "serve":
        _serve(services, args.host, args.port, args.followers, args.processes)
    else:  # logging is set up by main
        services.run_workers(args.parent_pid)
    return 0


def worker_command() -> list[str]:
    """How serve starts its worker child: `cleverinvo workers`, watching this process."""
    return [sys.executable, "-m", "gateway.cli.main", "workers", "--parent-pid", str(os.getpid())]


def _default_account(services: Services) -> None:
    """A first start opens an account and prints its key; hosts starting at once open one."""
    usecases = services.usecases
    opened = usecases.accounts.open_default()
    if opened is None:
        _ownerless(services, [UUID(account.id) for account in usecases.accounts.listing()])
        return
    print(f"Created a default account {opened.account_id} (plan pro) and its API key:", flush=True)
    print(f"  {opened.key}", flush=True)
    print("Keep it: it is shown only this once.", flush=True)
    _first_owner_link(services, opened.account_id)


def _ownerless(services: Services, accounts: list[UUID]) -> None:
    """A later start while the only account still has no owner (its link was lost, or ran
    out): another first-run link, so the dashboard can still be reached with a browser alone
    (the first of them used makes the owner; then none works)."""
    if len(accounts) == 1 and not services.usecases.accounts.has_owners(accounts[0]):
        print("The account has no owner yet: here is another link (the first one used makes the owner).", flush=True)
        _first_owner_link(services, accounts[0])


def _first_owner_link(services: Services, account_id: UUID) -> None:
    link = services.usecases.owners.first_owner_link(account_id)
    print(f"The dashboard is at {public_url(services)}/dashboard. Choose its first owner's email and", flush=True)
    print(f"password at this one-time link (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):", flush=True)
    print(f"  {welcome_url(services, link.token)}", flush=True)


def _serve(services: Services, host: str, port: int, workers: bool, processes: int = 1) -> None:
    import uvicorn

    from gateway.app import create_app

    _default_account(services)
    if processes > 1:
        _serve_processes(services, host, port, workers, processes)
        return
    app = create_app(services.settings, services)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    # handler it found: make that an orderly exit, so the workers are stopped on the way out.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    config = server_config(app, services.settings, host, port)  # the JSON log first: the supervisor logs to it
    with contextlib.ExitStack() as stack:
        if workers:  # supervised: a child that dies is started again, and health shows it
            app.state.worker_child = stack.enter_context(child_workers(worker_command()))
        server = uvicorn.Server(config)
        server.run()
        if not server.started:  # the port was taken, say: uvicorn has logged why
            raise SystemExit(3)


def _serve_processes(services: Services, host: str, port: int, workers: bool, processes: int) -> None:
    """``processes`` API processes under uvicorn's supervisor (``gateway.cli.processes``); each
    opens its own services, so this one's are closed first."""
    from gateway.cli.processes import serve_in_processes

    services.close()
    with contextlib.ExitStack() as stack:
        if workers:
            stack.enter_context(child_workers(worker_command()))
        if not serve_in_processes(host, port, processes, supervised=workers):
            raise SystemExit(3)


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
