"""The `cleverinvo` command line: serve, workers, accounts, keys, owners, invoices,
projections, ledger, db.

Each group of commands is a module of its own (``serve``, ``accounts``, ``upkeep``,
``ledger``) with its words (``add_commands``) and what it does (``run``), calling the use
cases that every door calls (``services.usecases``); this module reads the settings,
waits for the environment (``startup``), builds the composition root (``gateway.services``)
and says a failure in one line.
"""

import argparse
import logging
import logging.config
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from eventsourcing.persistence import InfrastructureFactoryError

from domain.actors import acting_as, command_line
from domain.errors import DomainError
from gateway.cli import accounts, serve, startup, upkeep
from gateway.cli import ledger as ledger_cli
from gateway.cli.startup import one_line
from gateway.services import SchemaTooNew, Services
from gateway.settings import Settings, SettingsError
from usecases.wire_names import wire_message

COMMANDS: dict[str, Callable[[argparse.Namespace, Services], int]] = {
    "serve": serve.run,
    "workers": serve.run,
    "accounts": accounts.run,
    "keys": accounts.run,
    "owners": accounts.run,
    "invoices": upkeep.run,
    "projections": upkeep.run,
    "ledger": ledger_cli.run,
}


def package_version() -> str:
    """The installed cleverinvo's version."""
    try:
        return version("cleverinvo")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cleverinvo",
        description="CleverInvo invoicing service. Honours CLEVERINVO_DATA_DIR and CLEVERINVO_DATABASE_URL.",
    )
    parser.add_argument("--version", action="version", version=f"cleverinvo {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_commands(commands)
    accounts.add_commands(commands)
    upkeep.add_commands(commands)
    ledger_cli.add_commands(commands)
    upkeep.add_db_commands(commands)
    return parser


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
            return upkeep.db_upgrade(settings)
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
            return COMMANDS[args.command](args, services)
    except DomainError as exc:
        print(f"cleverinvo: {wire_message(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # the database went away under the command, say
        return _failed(exc, settings)
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
