"""Account owners: invitations, one-time links to set a password, signing in and out.

An owner is added to the account in the ledger (``domain.owners``); their password (an
Argon2id hash), their links and their sessions are kept in ``storage.owners``, where
they can be replaced and erased. Secrets handed out (a link's token, a session's token)
are 256 random bits and are stored only as SHA-256 hashes.

- ``invite`` adds an owner with an email and returns a one-time link to set the password
  (for an owner who exists already, a new link: that is how a forgotten password is reset,
  by whoever runs the command line).
- ``first_owner_link`` is the first run's link: whoever opens it chooses the email and the
  password of the account's first owner. Each start of the service while the account has
  no owner prints one; the first used wins, and the others stop working.
- ``set_password`` uses a link once and signs the owner in; ``sign_in`` checks a password.
  Setting a password ends the owner's other sessions.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.account import check_locale
from domain.actors import acting_as, system
from domain.errors import Conflict, NotFound, ValidationError
from domain.owners import check_owner_email
from storage.owners import OwnerStore
from usecases.core import Core
from usecases.inputs import text
from usecases.keys import naive_utc

LINK_LIFETIME = timedelta(days=7)
SESSION_IDLE = timedelta(days=7)  # a session unused this long ends
SESSION_MOST = timedelta(days=30)  # and none lasts longer than this
SESSION_TOUCH = timedelta(minutes=5)  # how often a session's use is written
MIN_PASSWORD, MAX_PASSWORD = 10, 256
USED_LINK = "This link has expired or was already used; ask for a new one"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_password(password: str, email: str | None = None) -> str:
    checked = text(password, "password") or ""
    if len(checked) < MIN_PASSWORD:
        raise ValidationError(f"Field 'password' must be at least {MIN_PASSWORD} characters")
    if len(checked) > MAX_PASSWORD:
        raise ValidationError(f"Field 'password' must be at most {MAX_PASSWORD} characters")
    if not checked.strip():
        raise ValidationError("Field 'password' must not be only spaces")
    if email is not None and checked.strip().casefold() == email.strip().casefold():
        raise ValidationError("Field 'password' must not be the email address")
    return checked


@dataclass(frozen=True)
class IssuedLink:
    token: str  # shown once: the path /dashboard/welcome/<token>
    account_id: UUID
    email: str | None  # None: the first owner chooses it
    expires_at: datetime  # naive UTC


@dataclass(frozen=True)
class LinkInfo:
    account_id: UUID
    account_name: str
    email: str | None  # None: the first owner chooses it
    expires_at: datetime


@dataclass(frozen=True)
class OwnerSession:
    """A signed-in browser: which owner, of which account, in which language."""

    token_hash: str
    owner_id: UUID
    account_id: UUID
    email: str
    locale: str | None  # chosen in this browser; None: the account's


@dataclass(frozen=True)
class SignedIn:
    token: str  # the session's secret, for the cookie; only its hash is kept
    session: OwnerSession


@dataclass(frozen=True)
class OwnerListing:
    id: str
    email: str
    has_password: bool


class Owners:
    def __init__(self, core: Core, store: OwnerStore, hasher: PasswordHasher | None = None) -> None:
        self.core = core
        self.store = store
        self.hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106's second recommended profile

    def _now(self) -> datetime:
        return naive_utc(self.core.app.clock())

    @cached_property
    def _decoy(self) -> str:
        """A hash to verify against when the email is unknown, so that takes as long."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # --- links -----------------------------------------------------------------------

    def _issue(self, account: UUID, owner_id: UUID | None, email: str | None) -> IssuedLink:
        token = secrets.token_urlsafe(32)
        at = self._now()
        expires = at + LINK_LIFETIME
        self.store.add_link(token_hash(token), str(account), None if owner_id is None else str(owner_id), at, expires)
        return IssuedLink(token, account, email, expires)

    def invite(self, account: UUID, email: str) -> IssuedLink:
        """Adds an owner who signs in with ``email`` (or, for one the account has already,
        makes a new link); returns the one-time link to set the password."""
        address = check_owner_email(text(email, "email") or "")
        app = self.core.app
        app.get_account(account)  # NotFound before anything is written
        held = app.owner_by_email(address)
        if held is not None and held.account_id != account:
            raise Conflict("This email already signs in to another account")
        owner_id = held.owner_id if held is not None else self.core.execute(lambda: app.add_owner(account, address))
        return self._issue(account, owner_id, address)

    def first_owner_link(self, account: UUID) -> IssuedLink:
        """The link whose opener becomes the account's first owner; only while it has none."""
        if self.core.app.get_account(account).owners:
            raise Conflict("The account has owners already; invite another one instead")
        return self._issue(account, None, None)

    def link(self, token: str) -> LinkInfo | None:
        """What a link is for, while it can be used."""
        found = self.store.link(token_hash(token), self._now())
        if found is None:
            return None
        account = self.core.app.get_account(UUID(found.account_id))
        if found.owner_id is None and account.owners:  # a first-run link, once the first owner is in
            return None
        email = None if found.owner_id is None else account.owners.get(found.owner_id)
        if found.owner_id is not None and email is None:
            return None
        return LinkInfo(UUID(found.account_id), account.name, email, found.expires_at)

    def set_password(self, token: str, password: str, email: str | None = None) -> SignedIn:
        """Uses the link once: sets the password (and, on a first-run link, adds the owner
        with ``email``) and signs in. Bad input leaves the link as it was."""
        info = self.link(token)
        if info is None:
            raise NotFound(USED_LINK)
        address = info.email
        if address is None:
            address = check_owner_email(text(email, "email") or "")
            if self.core.app.owner_by_email(address) is not None:
                raise Conflict("This email already signs in to an account")
        checked = check_password(password, address)
        password_hash = self.hasher.hash(checked)
        link = self.store.use_link(token_hash(token), self._now())
        if link is None:
            raise NotFound(USED_LINK)
        account = UUID(link.account_id)
        owner_id = link.owner_id
        if owner_id is None:
            first = address

            def add_first_owner() -> UUID:
                try:
                    return self.core.app.add_owner(account, first, first=True)
                except NotFound:  # another first-run link was used meanwhile
                    raise NotFound(USED_LINK) from None

            try:
                with acting_as(system("first-run link")):
                    owner_id = str(self.core.execute(add_first_owner))
            except Exception:  # nothing was added: the link can be used again
                self.store.add_link(token_hash(token), link.account_id, None, self._now(), link.expires_at)
                raise
        self.store.set_password(owner_id, link.account_id, password_hash, self._now())
        return self._open(UUID(owner_id), account, address)

    # --- sessions ----------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignedIn | None:
        """A new session when the password is the owner's; None otherwise (an unknown email
        takes as long as a wrong password)."""
        address = (text(email, "email") or "").strip()
        given = text(password, "password") or ""
        held = self.core.app.owner_by_email(address) if address and len(address) <= 254 else None
        stored = self.store.password_hash(str(held.owner_id)) if held is not None else None
        if not self._matches(stored, given) or held is None or stored is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            self.store.rehash(str(held.owner_id), stored, self.hasher.hash(given))
        email_on_record = self.core.app.get_account(held.account_id).owners.get(str(held.owner_id), address)
        return self._open(held.owner_id, held.account_id, email_on_record)

    def change_password(self, session: OwnerSession, current: str, new: str) -> SignedIn:
        """A signed-in owner's new password, given the one they have: every session of
        theirs ends (this one too) and a new one is opened, in the same language."""
        stored = self.store.password_hash(str(session.owner_id))
        if not self._matches(stored, text(current, "currentPassword") or ""):
            raise ValidationError("Field 'currentPassword' is not your password")
        checked = check_password(new, session.email)
        self.store.set_password(str(session.owner_id), str(session.account_id), self.hasher.hash(checked), self._now())
        signed = self._open(session.owner_id, session.account_id, session.email)
        if session.locale is not None:
            self.store.set_session_locale(signed.session.token_hash, session.locale)
        return signed

    def _matches(self, stored: str | None, given: str) -> bool:
        """Whether ``given`` is the password hashed in ``stored``. Always an Argon2 check
        (against a decoy when there is no hash), so a miss takes as long as a wrong password."""
        try:
            self.hasher.verify(stored or self._decoy, given[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return False
        return stored is not None and len(given) <= MAX_PASSWORD

    def _open(self, owner_id: UUID, account: UUID, email: str) -> SignedIn:
        token = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        at = self._now()
        self.store.open_session(hashed, str(owner_id), str(account), email, at, at + SESSION_IDLE)
        return SignedIn(token, OwnerSession(hashed, owner_id, account, email, None))

    def session(self, token: str) -> OwnerSession | None:
        """The session a browser's token names, while it lasts; its use extends it."""
        hashed = token_hash(token)
        at = self._now()
        found = self.store.session(hashed, at)
        if found is None:
            return None
        if at - found.seen_at >= SESSION_TOUCH:
            self.store.touch_session(hashed, at, min(at + SESSION_IDLE, found.created_at + SESSION_MOST))
        return OwnerSession(hashed, UUID(found.owner_id), UUID(found.account_id), found.email, found.locale)

    def sign_out(self, session: OwnerSession) -> None:
        self.store.close_session(session.token_hash)

    def choose_locale(self, session: OwnerSession, locale: str | None) -> None:
        """The language of the dashboard in this browser (None: follow the account's)."""
        self.store.set_session_locale(session.token_hash, None if locale is None else check_locale(locale))

    def listing(self, account: UUID) -> list[OwnerListing]:
        owners = self.core.app.get_account(account).owners
        return [
            OwnerListing(owner_id, email, self.store.password_hash(owner_id) is not None)
            for owner_id, email in owners.items()
        ]
