"""The operator's upkeep: `cleverinvo invoices mark-overdue`, `cleverinvo projections rebuild`
and `cleverinvo db upgrade`."""

import argparse
from typing import TypeAlias

from gateway.services import Services, upgrade_database
from gateway.settings import Settings

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(commands: Commands) -> None:
    invoices = commands.add_parser("invoices", help="manage invoices").add_subparsers(dest="action", required=True)
    invoices.add_parser("mark-overdue", help="record every sent invoice past its due date with a balance as overdue")
    projections = commands.add_parser("projections", help="manage read models").add_subparsers(
        dest="action", required=True
    )
    projections.add_parser("rebuild", help="drop the read models and rebuild them from the events")


def add_db_commands(commands: Commands) -> None:
    db = commands.add_parser("db", help="the database's schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate the database to this version's schema (every start does it too)")


def db_upgrade(settings: Settings) -> int:
    """Migrates without opening the event store."""
    print(f"database schema at {upgrade_database(settings)}")
    return 0


def run(args: argparse.Namespace, services: Services) -> int:
    if args.command == "invoices":
        marked = services.usecases.lifecycle.mark_overdue()  # the workers' own sweep, run once now
        print(f"marked {marked} invoice{'s' if marked != 1 else ''} overdue")
    else:
        position = services.usecases.operations.rebuild_read_models()
        print(f"rebuilt read models through event {position}")
    return 0
