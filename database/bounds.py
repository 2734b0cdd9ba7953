"""How long a request may wait on PostgreSQL, at most (database/pg_bounds.py applies
them; the settings name them: CLEVERINVO_DATABASE_*_TIMEOUT). No driver imported here, so
the settings can build one where PostgreSQL's packages are not installed."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bounds:
    connect: int = 5  # seconds
    pool: int = 5
    statement: int = 30  # 0: none
    lock: int = 10  # 0: none

    def libpq(self) -> dict[str, Any]:
        """Connection parameters (libpq's names) bounding connecting and a lost peer."""
        return {
            "connect_timeout": self.connect,
            "keepalives": 1,
            "keepalives_idle": max(1, self.connect),
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": self.connect * 1000,  # ms; unacknowledged data past it breaks the connection
        }

    def session(self) -> list[str]:
        """The SET statements bounding each statement and lock wait."""
        return [f"SET statement_timeout = {self.statement * 1000}", f"SET lock_timeout = {self.lock * 1000}"]
