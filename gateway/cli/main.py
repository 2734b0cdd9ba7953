"""The `cleverinvo` command line: serve, accounts, keys, projections, ledger."""

import argparse
import contextlib
import logging
import logging.config
import os
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from types import FrameType
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactoryError

from database.engines import exclusive
from database.schema import SchemaTooNew
from domain.account import DETAILS
from domain.actors import acting_as, command_line
from domain.errors import DomainError
from domain.owners import check_owner_email
from domain.plans import Plan
from followers.runner import child_workers, run_workers
from gateway.cli import ledger as ledger_cli
from gateway.cli import startup
from gateway.cli.startup import one_line
from gateway.services import DEFAULT_PUBLIC_URL, Services
from gateway.settings import Settings, SettingsError

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp


def package_version() -> str:
    """The installed cleverinvo's version."""
    try:
        return version("cleverinvo")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def server_config(
    app: "ASGIApp | str", settings: Settings, host: str, port: int, *, configure_logging: bool = True
) -> "uvicorn.Config":
    """How `cleverinvo serve` runs uvicorn (tests run the very same).

    - Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from
      CLEVERINVO_TRUSTED_PROXIES; with none, never (uvicorn's default trusts loopback, so
      anyone on the host could pick the address the rate limits see).
    - Request heads must arrive within CLEVERINVO_HEADER_TIMEOUT_SECONDS and be at most
      16 KiB; idle connections close after CLEVERINVO_KEEP_ALIVE_SECONDS; bodies are
      bounded by the app (``gateway.http.timeouts.BodyTimeout``).
    - A stop (SIGTERM, SIGINT) finishes the requests in flight, for at most
      CLEVERINVO_SHUTDOWN_TIMEOUT_SECONDS.
    - uvicorn's access log is off: ours (``gateway.http.observability``) never writes a key.
    - asyncio and h11, chosen (bench/README.md, "Server stack"): uvloop and httptools saved
      under 10% of a request's CPU here, httptools would drop the head bounds above, and
      uvicorn would pick uvloop by itself whenever something installs it.
    """
    import uvicorn

    from gateway.http.observability import log_config
    from gateway.http.timeouts import MAX_HEAD_BYTES, head_bounded_h11

    proxies = list(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http=head_bounded_h11(settings.header_timeout_seconds),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        access_log=False,
        log_config=log_config() if configure_logging else None,
        log_level="info" if configure_logging else None,
        server_header=False,
    )


def _processes(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"a number of processes from 1 to 64, not {text!r}")
    return int(text)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an id: {text!r}") from None


def _detail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="seller address shown on invoices")
    parser.add_argument("--email", help="seller email shown on invoices")
    parser.add_argument("--tax-id", dest="tax_id", help="seller tax id shown on invoices")
    parser.add_argument("--phone", help="seller phone shown on invoices")


def _given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, str | None]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cleverinvo",
        description="CleverInvo invoicing service. Honours CLEVERINVO_DATA_DIR and CLEVERINVO_DATABASE_URL.",
    )
    parser.add_argument("--version", action="version", version=f"cleverinvo {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

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

    accounts = commands.add_parser("accounts", help="manage accounts").add_subparsers(dest="action", required=True)
    create = accounts.add_parser("create", help="open an account; prints its id last")
    create.add_argument("name")
    create.add_argument("--plan", choices=[plan.value for plan in Plan], default=Plan.FREE.value)
    create.add_argument("--locale", default="en", help="language of its invoices: en or es")
    create.add_argument("--owner-email", help="add an owner who signs in to the dashboard; prints their one-time link")
    _detail_options(create)
    accounts.add_parser("list", help="list accounts")
    change = accounts.add_parser("update", help="change name, plan, locale or seller details ('' clears one)")
    change.add_argument("account_id", type=_uuid)
    change.add_argument("--name")
    change.add_argument("--plan", choices=[plan.value for plan in Plan])
    change.add_argument("--locale")
    _detail_options(change)

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    key_create = keys.add_parser("create", help="issue a key; prints the key last (shown only this once)")
    key_create.add_argument("account_id", type=_uuid)
    key_create.add_argument("--name", default="")
    key_list = keys.add_parser("list", help="list an account's keys")
    key_list.add_argument("account_id", type=_uuid)
    key_revoke = keys.add_parser("revoke", help="revoke a key at once")
    key_revoke.add_argument("key_id", type=_uuid)

    owners = commands.add_parser("owners", help="manage who signs in to the dashboard").add_subparsers(
        dest="action", required=True
    )
    invite = owners.add_parser("invite", help="add an owner (or renew their link); prints a one-time link last")
    invite.add_argument("account_id", type=_uuid)
    invite.add_argument("email")
    owners_list = owners.add_parser("list", help="list an account's owners")
    owners_list.add_argument("account_id", type=_uuid)

    invoices = commands.add_parser("invoices", help="manage invoices").add_subparsers(dest="action", required=True)
    invoices.add_parser("mark-overdue", help="record every sent invoice past its due date with a balance as overdue")

    projections = commands.add_parser("projections", help="manage read models").add_subparsers(
        dest="action", required=True
    )
    projections.add_parser("rebuild", help="drop the read models and rebuild them from the events")
    ledger_cli.add_commands(commands)

    db = commands.add_parser("db", help="the database's schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate the database to this version's schema (every start does it too)")
    return parser


def _db_upgrade(settings: Settings) -> int:
    """Migrates without opening the event store (``database.schema``)."""
    from database.engines import make_engine
    from database.schema import upgrade

    engine = make_engine(settings.database_url, writer=True)
    try:
        print(f"database schema at {upgrade(engine)}")
    finally:
        engine.dispose()
    return 0


def _default_account(services: Services) -> None:
    """A first start opens an account and prints its key; hosts starting at once open one."""
    with exclusive(services.projector.writer, "default-account"):
        services.projector.catch_up()  # another host may have opened it a moment ago
        existing = services.read.accounts()
        if existing:
            _ownerless(services, [UUID(account.id) for account in existing])
            return
        account_id = services.execute(lambda: services.app.open_account("Default account", Plan.PRO.value))
        _, key = services.execute(lambda: services.app.issue_api_key(account_id, "default"))
    print(f"Created a default account {account_id} (plan pro) and its API key:", flush=True)
    print(f"  {key}", flush=True)
    print("Keep it: it is shown only this once.", flush=True)
    _first_owner_link(services, account_id)


def _ownerless(services: Services, accounts: list[UUID]) -> None:
    """A later start while the only account still has no owner (its link was lost, or ran
    out): another first-run link, so the dashboard can still be reached with a browser alone
    (the first of them used makes the owner; then none works)."""
    if len(accounts) == 1 and not services.app.get_account(accounts[0]).owners:
        print("The account has no owner yet: here is another link (the first one used makes the owner).", flush=True)
        _first_owner_link(services, accounts[0])


def _first_owner_link(services: Services, account_id: UUID) -> None:
    link = services.usecases.owners.first_owner_link(account_id)
    print(f"The dashboard is at {_public_url(services)}/dashboard. Choose its first owner's email and", flush=True)
    print(f"password at this one-time link (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):", flush=True)
    print(f"  {_welcome_url(services, link.token)}", flush=True)


def _public_url(services: Services) -> str:
    return (services.settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")


def _welcome_url(services: Services, token: str) -> str:
    """Where an owner sets their password (``gateway.dashboard``)."""
    return f"{_public_url(services)}/dashboard/welcome/{token}"


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
            app.state.worker_child = stack.enter_context(child_workers())
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
            stack.enter_context(child_workers())
        if not serve_in_processes(host, port, processes, supervised=workers):
            raise SystemExit(3)


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _run(args: argparse.Namespace, services: Services) -> int:
    if args.command == "ledger":
        return ledger_cli.run(args, services)
    if args.command == "serve":
        _serve(services, args.host, args.port, args.followers, args.processes)
    elif args.command == "workers":  # logging is set up by main (_say)
        run_workers(services, args.parent_pid)
    elif args.command == "accounts" and args.action == "create":
        details = _given(args, DETAILS)
        owner = check_owner_email(args.owner_email) if args.owner_email is not None else None
        if owner is not None and services.app.owner_by_email(owner) is not None:
            raise DomainError("This email already signs in to an account")
        account_id = services.execute(lambda: services.app.open_account(args.name, args.plan, args.locale, details))
        if owner is not None:
            link = services.usecases.owners.invite(account_id, owner)
            print(f"{owner} sets a password at this one-time link (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
            print(f"  {_welcome_url(services, link.token)}")
        print(account_id)
    elif args.command == "accounts" and args.action == "update":
        values = _given(args, ("name", "locale", *DETAILS))
        services.execute(lambda: services.app.update_account(args.account_id, values))
        if args.plan:
            services.execute(lambda: services.app.change_plan(args.account_id, args.plan))
        print(f"updated {args.account_id}")
    elif args.command == "accounts":
        for account in services.read.accounts():
            print(f"{account.id}  {account.plan:<8}  {account.locale}  {account.name}")
    elif args.command == "keys" and args.action == "create":
        print(services.usecases.keys.create(args.account_id, args.name).secret)
    elif args.command == "keys" and args.action == "list":
        services.app.get_account(args.account_id)
        for view in services.read.keys(str(args.account_id)):
            state = f"revoked {view.revoked_at:%Y-%m-%d}" if view.revoked_at else "active"
            print(f"{view.id}  {view.prefix}…  {state:<18}  {view.name}")
    elif args.command == "keys" and args.action == "revoke":
        services.usecases.keys.revoke_by_id(args.key_id)
        print(f"revoked {args.key_id}")
    elif args.command == "owners" and args.action == "invite":
        link = services.usecases.owners.invite(args.account_id, args.email)
        print(f"{link.email} sets a password at this one-time link (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
        print(_welcome_url(services, link.token))
    elif args.command == "owners":
        for listed in services.usecases.owners.listing(args.account_id):
            print(f"{listed.id}  {'active ' if listed.has_password else 'invited'}  {listed.email}")
    elif args.command == "invoices":
        marked = services.overdue_sweep().sweep()
        print(f"marked {marked} invoice{'s' if marked != 1 else ''} overdue")
    elif args.command == "projections":
        position = services.projector.rebuild()
        print(f"rebuilt read models through event {position}")
    return 0


def _say(command: str) -> "startup.Say":
    """How a start's waiting is logged: serve and workers in their JSON log (stderr), the
    other commands as plain lines on stderr."""
    if command in ("serve", "workers"):
        from gateway.http.observability import log_config

        logging.config.dictConfig(log_config())  # the same JSON lines as the server's
        return logging.getLogger("cleverinvo.startup").warning
    return lambda line: print(f"cleverinvo: {line}", file=sys.stderr, flush=True)


def _failed(exc: Exception, settings: Settings) -> int:
    """A start-up failure of the environment in one line, exit 2; anything else re-raised."""
    message = startup.failure(exc, settings)
    if message is None:
        raise exc
    print(f"cleverinvo: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 done, 1 refused (a domain rule, a broken ledger), 2 a bad command line,
    setting or environment (a read-only data directory, a database not answering within
    CLEVERINVO_DATABASE_WAIT, gateway/cli/startup.py), said in one line on stderr."""
    args = _parser().parse_args(argv)
    if args.command == "serve":  # share links point here unless configured; the workers inherit it
        os.environ.setdefault("CLEVERINVO_PUBLIC_URL", f"http://{args.host}:{args.port}")
    try:
        settings = Settings.from_env()
        settings.check_backends()  # before anything is opened or written
    except SettingsError as exc:
        print(f"cleverinvo: {exc}", file=sys.stderr)
        return 2
    try:
        startup.prepare(settings, _say(args.command))  # the data directory, then the database's wait
        if args.command == "db":
            return _db_upgrade(settings)
        services = Services(settings)
    except (SettingsError, SchemaTooNew) as exc:
        print(f"cleverinvo: {exc}", file=sys.stderr)
        return 2
    except (ImportError, InfrastructureFactoryError) as exc:
        hint = " (install the PostgreSQL support: pip install 'cleverinvo[postgres]')" if settings.uses_postgres else ""
        print(f"cleverinvo: cannot open the event store: {one_line(str(exc))}{hint}", file=sys.stderr)
        return 2
    except DomainError as exc:  # a start-up rebuild that met a stream whose seals do not verify
        print(f"cleverinvo: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # the store could not be opened or migrated: one line, no traceback
        return _failed(exc, settings)
    except KeyboardInterrupt:  # Ctrl-C while waiting for the database
        print("cleverinvo: interrupted while starting", file=sys.stderr)
        return 130
    command = " ".join(word for word in (args.command, getattr(args, "action", None)) if word)
    try:
        with acting_as(command_line(command)):  # every event this command records names it
            return _run(args, services)
    except DomainError as exc:
        print(f"cleverinvo: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:  # the database went away under the command, say
        return _failed(exc, settings)
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
