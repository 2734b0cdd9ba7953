"""`cleverinvo accounts`, `cleverinvo keys` and `cleverinvo owners`: who uses the service.

Each command parses its words and calls one use case (``services.usecases``), as the other
doors do; a refusal is the use case's own message (exit 1, ``gateway.cli.main``).
"""

import argparse
from collections.abc import Sequence
from typing import TypeAlias
from uuid import UUID

from domain.account import DETAILS
from domain.plans import Plan
from gateway.services import DEFAULT_PUBLIC_URL, Services
from usecases.owners import IssuedLink

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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


def add_commands(commands: Commands) -> None:
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


def public_url(services: Services) -> str:
    return (services.settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")


def welcome_url(services: Services, token: str) -> str:
    """Where an owner sets their password (``gateway.dashboard``)."""
    return f"{public_url(services)}/dashboard/welcome/{token}"


def _say_link(services: Services, link: IssuedLink, indent: str = "") -> None:
    """An invited owner's one-time link, last (a script reads the last line)."""
    print(f"{link.email} sets a password at this one-time link (valid until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    print(f"{indent}{welcome_url(services, link.token)}")


def run(args: argparse.Namespace, services: Services) -> int:
    if args.command == "accounts":
        _accounts(args, services)
    elif args.command == "keys":
        _keys(args, services)
    else:
        _owners(args, services)
    return 0


def _accounts(args: argparse.Namespace, services: Services) -> None:
    usecases = services.usecases
    if args.action == "create":
        details = _given(args, DETAILS)
        account_id = usecases.accounts.open(args.name, args.plan, args.locale, details, args.owner_email)
        if args.owner_email is not None:
            _say_link(services, usecases.owners.invite(account_id, args.owner_email), indent="  ")
        print(account_id)
    elif args.action == "update":
        usecases.accounts.amend(args.account_id, _given(args, ("name", "locale", *DETAILS)), args.plan)
        print(f"updated {args.account_id}")
    else:
        for account in usecases.accounts.listing():
            print(f"{account.id}  {account.plan:<8}  {account.locale}  {account.name}")


def _keys(args: argparse.Namespace, services: Services) -> None:
    keys = services.usecases.keys
    if args.action == "create":
        print(keys.create(args.account_id, args.name).secret)
    elif args.action == "list":
        for listed in reversed(keys.list(args.account_id)):  # oldest first
            view = listed.key
            state = f"revoked {view.revoked_at:%Y-%m-%d}" if view.revoked_at else "active"
            print(f"{view.id}  {view.prefix}…  {state:<18}  {view.name}")
    else:
        keys.revoke_by_id(args.key_id)
        print(f"revoked {args.key_id}")


def _owners(args: argparse.Namespace, services: Services) -> None:
    owners = services.usecases.owners
    if args.action == "invite":
        _say_link(services, owners.invite(args.account_id, args.email))
    else:
        for listed in owners.listing(args.account_id):
            print(f"{listed.id}  {'active ' if listed.has_password else 'invited'}  {listed.email}")
