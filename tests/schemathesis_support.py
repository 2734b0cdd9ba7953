"""What the schemathesis tests share: a live app with books worth fuzzing, ids the fuzzer
can reach, and settings that keep a run deterministic and bounded.

schemathesis calls the real ASGI app in-process (its ASGI transport runs the app's
lifespan, so the projection follower runs as under uvicorn). The tenant is on the business
plan and its key's budget is out of reach, so what a run meets is the API's rules, never a
plan limit or a 429 that depends on how many examples came before.

Random ids name nothing, so a fuzzer alone would only ever see "not found". The account
starts with a client and an invoice in every status (with live and reversed payments and
a deactivated client), and `IdPool` hands their ids, and every id a response returned
since, to the generators.

Each test loads its schema at import and calls a fresh app from a fixture: schemathesis'
fixture-loaded schemas (`schemathesis.pytest.from_fixture`) do not run under pytest 9.2,
which dropped the `Node._nodeid` they rename.
"""

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.python import asgi
from starlette.applications import Starlette

from domain.lifecycle import DRAFT, OVERDUE, PAID, PARTIALLY_PAID, SENT, VIEWED, VOID
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TODAY, FakeClock
from tests.lifecycle_support import Books

GENEROUS = {"CLEVERINVO_RATE_LIMIT": "1000000/minute", "CLEVERINVO_SHARE_RATE_LIMIT": "1000000/minute"}

# Deterministic (the same examples on every run and machine: `derandomize`, no example
# database) and unhurried (no deadline: a 2-core CI runner is slow now and then). Health
# checks: the app fixture is deliberately shared by every example of an operation (state
# builds up, as on a real server), and schema-driven strategies filter and grow large by
# design; neither says anything about the service.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class IdPool:
    """Ids that name something in the live account: the seeded ones, then every id a
    response carried. Generators pick by position, so a derandomized run picks the same
    records in the same order, whatever their random UUIDs are."""

    ids: list[str] = field(default_factory=list)

    def reset(self, ids: list[str]) -> None:
        self.ids[:] = ids

    def pick(self, position: int) -> str:
        return self.ids[position % len(self.ids)] if self.ids else "00000000-0000-4000-8000-000000000000"

    def strategy(self) -> st.SearchStrategy[str]:
        return st.integers(min_value=0, max_value=10_000).map(self.pick)

    def harvest(self, found: Any) -> None:
        """Every "id" (and "...Id") string anywhere in a decoded JSON response."""
        if isinstance(found, dict):
            for name, value in found.items():
                if (name == "id" or name.endswith("Id")) and isinstance(value, str) and value not in self.ids:
                    self.ids.append(value)
                else:
                    self.harvest(value)
        elif isinstance(found, list):
            for item in found:
                self.harvest(item)


POOL = IdPool()


@dataclass(frozen=True)
class Live:
    """A running app with a business tenant's books; `headers` carry its key. A second
    tenant (`peer_headers`) has books of its own and must never see the first one's."""

    app: Starlette
    services: Services
    headers: dict[str, str]
    books: Books
    peer_headers: dict[str, str]


def seed(books: Books) -> list[str]:
    """A second client (deactivated), an invoice in every status, a live and a reversed
    payment; returns every id made."""
    made = [str(books.client)]
    other = books.run(lambda: books.app.create_client(books.account, {"name": "Old Client Ltd"}))
    books.run(lambda: books.app.update_client(books.account, other, {"is_active": False}))
    made.append(str(other))
    for status in (DRAFT, SENT, VIEWED, OVERDUE, VOID):
        invoice, _ = books.in_status(status)
        made.append(str(invoice))
    for status in (PARTIALLY_PAID, PAID):
        invoice, payment = books.in_status(status, with_payment=True)
        made += [str(invoice), str(payment)]
    reversed_on, payment = books.in_status(PARTIALLY_PAID, with_payment=True)
    assert payment is not None
    books.reverse(reversed_on, payment)
    made += [str(reversed_on), str(payment)]
    return made


@contextmanager
def live_app(make_settings: Callable[..., Settings] | None = None, clock: FakeClock | None = None) -> Iterator[Live]:
    """The real app over real SQLite files (a temporary directory when no settings maker is
    given) with seeded books; its lifespan is stopped and its services closed at the end."""
    clock = clock or FakeClock(TODAY)
    with _settings_maker(make_settings) as make:
        services = Services(make(**GENEROUS), clock=clock)
        try:
            books = Books.open(services, clock, plan="business")
            POOL.reset(seed(books))
            peer = Books.open(services, clock, plan="business")
            seed(peer)
            services.projector.catch_up()
            headers = {"Authorization": f"Bearer {_key(services, books)}"}
            peer_headers = {"Authorization": f"Bearer {_key(services, peer)}"}
            yield Live(create_app(services.settings, services), services, headers, books, peer_headers)
        finally:
            asgi.shutdown_lifespans()  # schemathesis started the app's lifespan on its first call
            services.close()


def _key(services: Services, books: Books) -> str:
    _key_id, key = services.execute(lambda: services.app.issue_api_key(books.account, "fuzz"))
    return str(key)


@contextmanager
def _settings_maker(make_settings: Callable[..., Settings] | None) -> Iterator[Callable[..., Settings]]:
    if make_settings is not None:
        yield make_settings
        return
    with tempfile.TemporaryDirectory() as data_dir:

        def make(**env: str) -> Settings:
            return Settings.from_env({"CLEVERINVO_DATA_DIR": data_dir, **env})

        yield make
