"""The load benchmark's data set (``bench/load.py``): one business-plan account of 10,000
clients and 100,000 invoices plus 50 small accounts, seeded through the application's own
commands in a child process on the code under test, and cached between runs."""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.kit import ROOT
from bench.kit.load_run import code_env

SCRIPT = ROOT / "bench" / "load.py"  # the seeding child runs it with --seed-child
SEED_VERSION = 1  # raise when the seeded data set changes
BIG_ACCOUNT = "Bench Big Account"
CLIENTS = 10_000
INVOICES = 100_000
SMALL_ACCOUNTS = 50

NAME_STEMS = (
    "Müller",
    "Straße Bau",
    "Ærøskøbing Fisk",
    "São Paulo Comércio",
    "Łódź Tekstil",
    "Acme",
    "Björk Design",
    "Çelik Yapı",
    "Dvořák Hudba",
    "Nguyễn Trading",
    "O'Brien & Sons",
    "Zürich Consulting",
    "Kraków Soft",
    "Ångström Labs",
    "Δέλτα Logistics",
    "Новик Групп",
    "Señor Café",
    "Ĳssel Water",
    "Hôtel Crème",
    "Þór Energy",
)
NAME_KINDS = ("GmbH", "Ltd", "SA", "& Co", "Consulting", "Holdings", "Partners", "AG", "Inc", "BV")
WORDS = (
    "Web development sprint",
    "Backend API integration",
    "UX review and wireframes",
    "Database migration",
    "On-call support",
    "Security audit",
    "Content writing",
    "Hosting (monthly)",
    "Training workshop",
    "Performance tuning",
    "Mobile app release",
    "Consulting hours",
)


def client_name(i: int) -> str:
    return f"{NAME_STEMS[i % len(NAME_STEMS)]} {NAME_KINDS[(i // len(NAME_STEMS)) % len(NAME_KINDS)]} {i}"


def client_email(i: int) -> str:
    return f"billing{i}@client{i % 997}.test"


def _ascii(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum()) or "x"


@dataclass
class SeedStats:
    commands: int = 0
    invoices: int = 0
    clients: int = 0
    seconds_commands: float = 0.0
    seconds_projection: float = 0.0
    seconds_followers: float = 0.0

    def line(self) -> str:
        return (
            f"seeded {self.clients} clients and {self.invoices} invoices with {self.commands} commands in "
            f"{self.seconds_commands:.0f} s ({self.commands / self.seconds_commands:.0f} commands/s, "
            f"{self.invoices / self.seconds_commands:.0f} invoices/s counting every command); projection "
            f"{self.seconds_projection:.0f} s, followers {self.seconds_followers:.0f} s"
        )


def seed(env: dict[str, str], rng: random.Random, clients: int, invoices: int, small: int) -> dict[str, Any]:
    """Runs in the seeding child (on the code under test): the whole data set through
    the application's commands. Returns what the load needs: keys, ids, terms."""
    from domain.actors import acting_as, command_line
    from domain.invoice import InvoiceDraft, Sending
    from domain.money import LineItemDraft
    from gateway.services import Services
    from gateway.settings import Settings

    stats = SeedStats()
    services = Services(Settings.from_env(env))
    app = services.app
    today = datetime.now().date()
    progress_every = 5_000

    def lines(n: int) -> list[LineItemDraft]:
        return [
            LineItemDraft(
                f"{rng.choice(WORDS)} #{n}.{line + 1}",
                Decimal(rng.randint(1, 80)),
                Decimal(rng.randint(1_000, 50_000)) / 100,
                Decimal(rng.choice((0, 7, 10, 19, 21))),
            )
            for line in range(rng.randint(1, 20))
        ]

    def catch_up() -> None:
        began = time.monotonic()
        services.projector.catch_up()
        stats.seconds_projection += time.monotonic() - began

    def fill(account: Any, n_clients: int, n_invoices: int, label: str) -> tuple[list[Any], list[Any]]:
        made_clients = []
        began = time.monotonic()
        for i in range(n_clients):
            made_clients.append(
                app.create_client(
                    account, {"name": client_name(i), "email": client_email(i), "address": f"{i} Main St"}
                )
            )
            stats.commands += 1
            stats.clients += 1
        stats.seconds_commands += time.monotonic() - began
        catch_up()
        made = []
        began = time.monotonic()
        mark = began
        for n in range(n_invoices):
            issued = today - timedelta(days=rng.randint(0, 730))
            draft = InvoiceDraft(
                client_id=rng.choice(made_clients),
                line_items=lines(n),
                issue_date=issued,
                due_date=issued + timedelta(days=30),
                notes="Thank you for your business",
                terms="Net 30",
            )
            invoice_id = app.create_invoice(account, draft)
            made.append(invoice_id)
            stats.commands += 1
            stats.invoices += 1
            fate = rng.random()
            if fate < 0.25:
                app.send_invoice(account, invoice_id, Sending())
                stats.commands += 1
                if fate < 0.10:
                    total = app.get_invoice(account, invoice_id).total
                    app.record_payment(account, invoice_id, total, issued + timedelta(days=10), "bank transfer")
                    stats.commands += 1
                elif fate < 0.15:
                    total = app.get_invoice(account, invoice_id).total
                    app.record_payment(account, invoice_id, (total / 2).quantize(total), issued, "card")
                    stats.commands += 1
                elif fate < 0.16:
                    app.void_invoice(account, invoice_id, "Billed twice")
                    stats.commands += 1
            if (n + 1) % progress_every == 0:
                now = time.monotonic()
                print(
                    f"  {label}: {n + 1} invoices, {progress_every / (now - mark):.0f} invoices/s lately",
                    file=sys.stderr,
                    flush=True,
                )
                mark = now
                stats.seconds_commands += now - began
                catch_up()
                began = time.monotonic()
        stats.seconds_commands += time.monotonic() - began
        catch_up()
        return made_clients, made

    with acting_as(command_line("bench seed")):
        big = app.open_account(BIG_ACCOUNT, "business", "en", {"address": "1 Bench Road", "email": "ar@bench.test"})
        _, key = app.issue_api_key(big, "bench")
        big_clients, big_invoices = fill(big, clients, invoices, "big account")
        small_keys = []
        for s in range(small):
            account = app.open_account(f"Small account {s}", "pro" if s % 2 else "free", "en" if s % 3 else "es")
            small_keys.append(app.issue_api_key(account, "bench")[1])
            fill(account, 3 + s % 3, 10 + s % 11, f"small {s}")
        catch_up()
        began = time.monotonic()
        services.overdue_sweep().sweep()  # what the workers would do first: mark the past-due ones
        ledger_began = time.monotonic()
        stats.seconds_commands += ledger_began - began
        services.ledger.catch_up()
        worker = services.pdf_worker()
        worker.follow()  # queues every seeded invoice ...
        while items := worker.queue.lease("bench-seed", 1000, 600):
            for item in items:  # ... and drains it unrendered: they render on first download
                worker.queue.finish("bench-seed", item)
        services.email_worker().follow()
        stats.seconds_followers += time.monotonic() - ledger_began
    sample_clients = rng.sample(big_clients, min(300, len(big_clients)))  # fewer in a small trial set
    sample_invoices = rng.sample(big_invoices, min(300, len(big_invoices)))
    picked = rng.sample(range(clients), min(40, clients))
    numbers = [services.read.invoice(str(big), str(i)).invoice_number for i in sample_invoices[:40]]  # type: ignore[union-attr]
    services.close()
    print(stats.line(), file=sys.stderr, flush=True)
    return {
        "seed_version": SEED_VERSION,
        "account": str(big),
        "key": key,
        "small_keys": small_keys,
        "clients": [str(c) for c in sample_clients],
        "invoices": [str(i) for i in sample_invoices],
        # Search terms as people type them: part of a name (in another case), of a number, of an email.
        "terms_name": [client_name(i).split(" ")[0].upper()[:6] + " " for i in picked[:10]]
        + [f"{client_name(i).rsplit(' ', 1)[0].lower()} {i}" for i in picked[10:40]],
        "terms_number": [n.lower()[:-1] for n in numbers[:10]] + numbers[10:40],
        "terms_email": [f"billing{i}@" for i in picked[:30]] + [f"@client{i % 997}." for i in picked[30:40]],
        "stats": vars(stats),
        "made_with": os.environ.get("BENCH_CODE", str(ROOT)),
        "when": datetime.now().isoformat(timespec="seconds"),
    }


def ensure_seed(options: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    name = f"seed-v{SEED_VERSION}-{options.clients}c-{options.invoices}i-{options.small}s"
    if options.database_url:
        name += "-pg"
    cached = options.data / name
    info_file = cached / "bench-seed.json"
    if info_file.exists() and not options.reseed:
        return cached, json.loads(info_file.read_text())
    if cached.exists():
        shutil.rmtree(cached)
    cached.mkdir(parents=True)
    env = code_env(options.code, cached, options)
    print(f"seeding {cached} with the code in {options.code} ...", flush=True)
    began = time.monotonic()
    command = [
        sys.executable,
        str(SCRIPT),
        "--seed-child",
        str(cached),
        "--clients",
        str(options.clients),
        "--invoices",
        str(options.invoices),
        "--small",
        str(options.small),
    ]
    subprocess.run(command, cwd=options.code, env=env, check=True)
    info = json.loads((cached / "bench-seed.json").read_text())
    print(f"seeded in {time.monotonic() - began:.0f} s", flush=True)
    return cached, info


def seed_child(folder: Path, options: argparse.Namespace) -> None:
    sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))
    info = seed(dict(os.environ), random.Random(20240601), options.clients, options.invoices, options.small)
    (folder / "bench-seed.json").write_text(json.dumps(info, indent=1))
