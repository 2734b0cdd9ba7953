"""Owners' credentials: password hashes, one-time links and dashboard sessions.

Kept beside the read models, in the same database, but not derived from events: a
read-model rebuild leaves these tables alone, and none of it is in the ledger (a hash
written there could never be changed or erased). Only hashes of secrets are stored: a
link's token and a session's token are 256 random bits, so SHA-256 is enough (as for API
keys); passwords are hashed with Argon2 before they get here (``usecases.owners``).

- ``owner_credentials``: an owner's password hash (the owner is in the ledger).
- ``owner_links``: one-time links to set a password, by token hash, until they expire;
  using one deletes it in the same statement that finds it, so it works once. A link
  with no owner is the first-run link that adds an account's first owner.
- ``owner_sessions``: a signed-in browser, by token hash, until it expires or signs out.
- ``dashboard_secrets``: the key that signs the dashboard's cookies, made once and shared
  by every process that uses the database.

Times are naive UTC, as in the other tables; callers pass them (the application's clock).
The tables are made and changed by the schema's revisions (``database/migrations``).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from database.schema import ensure_migrated
from database.statements import upsert
from storage.tables import credentials, dashboard_secrets, links, sessions

PURGE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Link:
    account_id: str
    owner_id: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Session:
    owner_id: str
    account_id: str
    email: str
    locale: str | None
    created_at: datetime
    seen_at: datetime
    expires_at: datetime


class OwnerStore:
    def __init__(self, writer: Engine, reader: Engine) -> None:
        self.writer = writer
        self.reader = reader
        self._purged_at: datetime | None = None
        ensure_migrated(writer)  # the tables: revision 0002_dashboard_tables

    # --- passwords ---------------------------------------------------------------------

    def password_hash(self, owner_id: str) -> str | None:
        with self.reader.connect() as conn:
            found = conn.execute(select(credentials.c.password_hash).where(credentials.c.owner_id == owner_id)).scalar()
        return None if found is None else str(found)

    def set_password(self, owner_id: str, account_id: str, password_hash: str, at: datetime) -> None:
        """Sets the owner's password and ends every session they had and every link."""
        with self.writer.begin() as conn:
            statement = upsert(conn, credentials).values(
                owner_id=owner_id, account_id=account_id, password_hash=password_hash, set_at=at
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["owner_id"], set_={"password_hash": password_hash, "set_at": at}
                )
            )
            conn.execute(delete(sessions).where(sessions.c.owner_id == owner_id))
            conn.execute(delete(links).where(links.c.owner_id == owner_id))

    def rehash(self, owner_id: str, old_hash: str, new_hash: str) -> None:
        """Stores a stronger hash of the same password, unless it changed meanwhile."""
        with self.writer.begin() as conn:
            conn.execute(
                update(credentials)
                .where(credentials.c.owner_id == owner_id, credentials.c.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    # --- one-time links ------------------------------------------------------------------

    def add_link(
        self, token_hash: str, account_id: str, owner_id: str | None, at: datetime, expires_at: datetime
    ) -> None:
        """A new link replaces the owner's earlier ones. First-run links (no owner) stand
        together, each printed by a start of the service: the first one used adds the
        account's first owner, and from then on none of them works (``usecases.owners``)."""
        with self.writer.begin() as conn:
            if owner_id is not None:
                conn.execute(delete(links).where(links.c.account_id == account_id, links.c.owner_id == owner_id))
            conn.execute(
                links.insert().values(
                    token_hash=token_hash,
                    account_id=account_id,
                    owner_id=owner_id,
                    created_at=at,
                    expires_at=expires_at,
                )
            )

    def link(self, token_hash: str, at: datetime) -> Link | None:
        """The link with this token hash, unless it expired or was used."""
        with self.reader.connect() as conn:
            row = conn.execute(
                select(links.c.account_id, links.c.owner_id, links.c.expires_at).where(
                    links.c.token_hash == token_hash, links.c.expires_at > at
                )
            ).first()
        return None if row is None else Link(str(row.account_id), row.owner_id, row.expires_at)

    def use_link(self, token_hash: str, at: datetime) -> Link | None:
        """Takes the link: of two racing uses, one gets it and the other None."""
        with self.writer.begin() as conn:
            row = conn.execute(
                select(links.c.account_id, links.c.owner_id, links.c.expires_at).where(
                    links.c.token_hash == token_hash, links.c.expires_at > at
                )
            ).first()
            if row is None:
                return None
            gone = conn.execute(delete(links).where(links.c.token_hash == token_hash))
            if gone.rowcount != 1:
                return None
        return Link(str(row.account_id), row.owner_id, row.expires_at)

    # --- sessions --------------------------------------------------------------------

    def open_session(
        self, token_hash: str, owner_id: str, account_id: str, email: str, at: datetime, expires_at: datetime
    ) -> None:
        self._purge(at)
        with self.writer.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=token_hash,
                    owner_id=owner_id,
                    account_id=account_id,
                    email=email,
                    created_at=at,
                    seen_at=at,
                    expires_at=expires_at,
                )
            )

    def session(self, token_hash: str, at: datetime) -> Session | None:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(
                    sessions.c.owner_id,
                    sessions.c.account_id,
                    sessions.c.email,
                    sessions.c.locale,
                    sessions.c.created_at,
                    sessions.c.seen_at,
                    sessions.c.expires_at,
                ).where(sessions.c.token_hash == token_hash, sessions.c.expires_at > at)
            ).first()
        return None if row is None else Session(**row._mapping)

    def touch_session(self, token_hash: str, at: datetime, expires_at: datetime) -> None:
        with self.writer.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.token_hash == token_hash).values(seen_at=at, expires_at=expires_at)
            )

    def set_session_locale(self, token_hash: str, locale: str | None) -> None:
        with self.writer.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == token_hash).values(locale=locale))

    def close_session(self, token_hash: str) -> None:
        with self.writer.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def _purge(self, at: datetime) -> None:
        """Drops expired sessions and links, at most once every PURGE_EVERY."""
        if self._purged_at is not None and timedelta(0) <= at - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = at
        with self.writer.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at <= at))
            conn.execute(delete(links).where(links.c.expires_at <= at))

    # --- the cookie-signing secret -----------------------------------------------------

    def secret(self, name: str) -> str:
        """A random secret made the first time it is asked for, then always the same, for
        every process on this database."""
        with self.reader.connect() as conn:
            found = conn.execute(select(dashboard_secrets.c.value).where(dashboard_secrets.c.name == name)).scalar()
        if found is not None:
            return str(found)
        with self.writer.begin() as conn:
            conn.execute(
                upsert(conn, dashboard_secrets)
                .values(name=name, value=secrets.token_urlsafe(48))
                .on_conflict_do_nothing(index_elements=["name"])
            )
            return str(
                conn.execute(select(dashboard_secrets.c.value).where(dashboard_secrets.c.name == name)).scalar_one()
            )
