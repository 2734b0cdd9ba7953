"""`cleverinvo ledger verify` and `cleverinvo ledger export`: the auditor's commands.

Exit codes: 0 verified (or exported), 1 the ledger is broken or the account has no events,
2 bad input (a --digests file that cannot be read, an --out file that cannot be written)
or a store that cannot be opened (``gateway.cli.startup``: one line, as for every command).
"""

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from domain.errors import Conflict
from gateway.services import Services
from usecases.operations import Audit, SavedDigest

HEX = frozenset("0123456789abcdef")


class UsageError(Exception):
    """Bad input on the command line: exit 2 with the message."""


def _account_id(text: str) -> str:
    try:
        return str(UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an account id: {text!r}") from None


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    ledger = commands.add_parser("ledger", help="verify or export the tamper-evident ledger").add_subparsers(
        dest="action", required=True
    )
    verify = ledger.add_parser(
        "verify",
        help="recompute every hash chain and account digest from the stored events; "
        "exit 1 naming the first broken aggregate and version, or account and position",
    )
    verify.add_argument("--account", type=_account_id, help="check only this account's events and digests")
    verify.add_argument(
        "--digests",
        metavar="FILE",
        help="saved GET /api/v1/ledger/digest bodies (one JSON object a line, or a JSON array) to check",
    )
    export = ledger.add_parser("export", help="write an account's events with their hashes as JSON lines")
    export.add_argument("account_id", type=_account_id)
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")


def run(args: argparse.Namespace, services: Services) -> int:
    try:
        if args.action == "verify":
            saved = read_saved_digests(Path(args.digests)) if args.digests else []
            return _verify(services, args.account, saved)
        return _export(services, args.account_id, args.out)
    except UsageError as exc:
        print(f"cleverinvo: {exc}", file=sys.stderr)
        return 2


# --- verify ----------------------------------------------------------------------------


def _verify(services: Services, account: str | None, saved: list[SavedDigest]) -> int:
    report = services.usecases.operations.verify_ledger(account, saved)
    if account is not None and report.events == 0:
        print(f"cleverinvo: no events of account {account} in the store", file=sys.stderr)
        return 1
    for check in report.saved:
        where = f"saved digest of account {check.saved.account_id} at position {check.saved.position}"
        if check.matches:
            print(f"{where} matches: nothing of the account at or before position {check.saved.position} changed")
        else:
            print(f"{where} DOES NOT MATCH: something at or before position {check.saved.position} changed")
    print(_summary(report))
    if report.first_break is not None:
        print(f"cleverinvo: ledger broken: {report.first_break}", file=sys.stderr)
        return 1
    return 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(report: Audit) -> str:
    checked = (
        f"{_plural(report.events, 'event')} in {_plural(report.aggregates, 'aggregate')}"
        f" of {_plural(report.accounts, 'account')}"
    )
    unsealed = (
        f"{report.unsealed} unsealed (stored before sealing began: hashed from content, no stored hash to check)"
    )
    follower = (
        f"{_plural(report.compared, 'position')} compared with the follower's record"
        f" (it has followed the store through position {report.follower_position})"
    )
    verdict = "ledger verified" if report.ok else "ledger checked"
    return f"{verdict}: {checked}; {unsealed}; {follower}"


def _field(found: dict[str, Any], name: str, where: str) -> Any:
    if name not in found:
        raise UsageError(f"{where}: missing {name!r}")
    return found[name]


def _saved(found: Any, where: str) -> SavedDigest:
    if not isinstance(found, dict):
        raise UsageError(f"{where}: expected a JSON object as GET /api/v1/ledger/digest returns it")
    account, position, digest = (_field(found, name, where) for name in ("accountId", "position", "digest"))
    try:
        account = str(UUID(account)) if isinstance(account, str) else None
    except ValueError:
        account = None
    if account is None:
        raise UsageError(f"{where}: 'accountId' is not an account id")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise UsageError(f"{where}: 'position' must be a whole number >= 0")
    if not isinstance(digest, str) or len(digest) != 64 or not set(digest.lower()) <= HEX:
        raise UsageError(f"{where}: 'digest' must be 64 hexadecimal digits")
    return SavedDigest(account, position, digest.lower())


def read_saved_digests(path: Path) -> list[SavedDigest]:
    """Saved digest bodies: one JSON object a line, or one JSON array of them."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --digests {path}: {exc}") from None
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, list):
        found = [_saved(item, f"{path}: item {number}") for number, item in enumerate(whole, start=1)]
    elif isinstance(whole, dict):
        found = [_saved(whole, str(path))]
    else:
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise UsageError(f"{path}: line {number} is not JSON") from None
            found.append(_saved(item, f"{path}: line {number}"))
    if not found:
        raise UsageError(f"{path} holds no saved digests")
    return found


# --- export ----------------------------------------------------------------------------


def _export(services: Services, account: str, out: str | None) -> int:
    lines = services.usecases.operations.export_ledger(account)
    try:
        if out is None:
            count, last = _write(lines, sys.stdout)
        else:
            count, last = _write_file(lines, Path(out))
    except BrokenPipeError:  # `| head`: whoever reads has read enough
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Conflict as exc:  # a stored event that cannot be read; the message says what to run
        print(f"cleverinvo: {exc.message}", file=sys.stderr)
        return 1
    if count == 0:
        print(f"cleverinvo: no events of account {account} in the store", file=sys.stderr)
        return 1
    if out is not None:
        print(f"exported {_plural(count, 'event')} of account {account} to {out}; its digest after the last: {last}")
    return 0


def _write(lines: Iterable[str], stream: TextIO) -> tuple[int, str]:
    count, last = 0, ""
    for line in lines:
        stream.write(line + "\n")
        count, last = count + 1, line
    return count, json.loads(last)["digest"] if last else ""


def _write_file(lines: Iterable[str], path: Path) -> tuple[int, str]:
    """Written beside ``path`` and moved over it when complete: never half an export."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as stream:
            count, last = _write(lines, stream)
        if count:
            os.replace(partial, path)
    except OSError as exc:
        raise UsageError(f"cannot write --out {path}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return count, last
