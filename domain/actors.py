"""Who is acting: carried in a context variable, so no command takes it as an argument.

The REST guard sets the API key for the length of a request, the dashboard the signed-in
owner, the command line sets itself, and each follower (overdue sweep, email delivery,
share link) sets the system.
The ledger records ``current_actor()`` on every event it seals.

A request sent with an ``Idempotency-Key`` acts with its claim's reference
(``for_request``): the seal records it with the events, in the same commit, so after a
crash the service can tell from the store alone whether that request wrote anything.
"""

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

API_KEY, CLI, SYSTEM, OWNER = "apiKey", "cli", "system", "owner"


@dataclass(frozen=True)
class Actor:
    type: str  # API_KEY, CLI, SYSTEM or OWNER
    id: str | None = None
    name: str | None = None
    # The idempotent request this acts for: a random reference of its key's claim (never
    # the key itself), or None for a request without a key.
    request: str | None = None

    def as_dict(self) -> dict[str, str]:
        found = {"type": self.type, "id": self.id, "name": self.name, "request": self.request}
        return {key: value for key, value in found.items() if value is not None}


def api_key(key_id: str, label: str) -> Actor:
    """An API key: its id and its label, never the secret."""
    return Actor(API_KEY, key_id, label or None)


def account_owner(owner_id: str, email: str) -> Actor:
    """An owner signed in to the dashboard: their id and the email they sign in with."""
    return Actor(OWNER, owner_id, email)


def command_line(command: str) -> Actor:
    """The command line: the operating-system user who ran which command."""
    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric uid)
        user = None
    return Actor(CLI, user, command)


def system(name: str) -> Actor:
    """The service itself: a follower or sweep named for what it does."""
    return Actor(SYSTEM, None, name)


UNNAMED = Actor(SYSTEM)  # a command run outside every door: a test, a script
_current: ContextVar[Actor | None] = ContextVar("cleverinvo_actor", default=None)


def current_actor() -> Actor:
    return _current.get() or UNNAMED


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


@contextmanager
def for_request(reference: str) -> Iterator[Actor]:
    """The current actor, acting for the idempotent request ``reference`` until the block
    ends: every event sealed meanwhile carries it in ``_ledger.actor.request``."""
    with acting_as(replace(current_actor(), request=reference)) as actor:
        yield actor
