"""Settings: one typed object built from the environment at start-up and passed in."""

import importlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from sqlalchemy.engine import make_url

from database.bounds import Bounds

DEFAULT_DATA_DIR = "./cleverinvo-data"
CORS_SETTING = "CLEVERINVO_CORS_ORIGINS"
# eventsourcing's SQLite pool, sized from these (gateway/http/capacity.py, whose factory reads them)
SQLITE_POOL_SIZE = "SQLITE_POOL_SIZE"
SQLITE_MAX_OVERFLOW = "SQLITE_MAX_OVERFLOW"
SQLITE_POOL_TIMEOUT = "SQLITE_POOL_TIMEOUT"
SQLITE_FACTORY_TOPIC = "database.event_transactions:SharedSQLiteFactory"


class OriginError(ValueError):
    """An entry of the setting that is not an origin; the message names it."""


def parse_origins(raw: str) -> tuple[str, ...]:
    """The origins of ``CLEVERINVO_CORS_ORIGINS``: each ``http`` or ``https``, a host and an
    optional port, nothing else (no path, no ``*``), as a browser sends ``Origin``
    (RFC 6454 §6.2: lower-case scheme and host, no default port)."""
    found: list[str] = []
    for entry in (item.strip() for item in raw.split(",")):
        if not entry:
            continue
        wrong = OriginError(f"{CORS_SETTING} must list origins such as https://app.example.com:8443, not {entry!r}")
        try:
            parts = urlsplit(entry)
            port = parts.port
        except ValueError:
            raise wrong from None
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
            or "*" in entry
            or entry.endswith(":")
        ):
            raise wrong
        default = {"http": 80, "https": 443}[parts.scheme]
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        found.append(f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else ""))
    return tuple(dict.fromkeys(found))


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


def _int_setting(environ: Mapping[str, str], name: str, default: int, low: int = 1, high: int | None = None) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    # "²".isdigit(), yet int("²") fails
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or (high is not None and int(raw) > high):
        wanted = "a positive integer" if low == 1 and high is None else f"an integer from {low} to {high}"
        raise SettingsError(f"{name} must be {wanted}, not {raw!r}")
    return int(raw)


def _url(environ: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL, not {raw!r}")
    return raw


def _flag_setting(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("1", "true", "on", "yes"):
        return True
    if raw.lower() in ("0", "false", "off", "no"):
        return False
    raise SettingsError(f"{name} must be 1, true, on, yes or 0, false, off, no, not {raw!r}")


def _rate_limit(environ: Mapping[str, str], default: str, name: str = "CLEVERINVO_RATE_LIMIT") -> str:
    """A rate `limits` understands, checked now: a bad one would only fail when the app starts."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        rate = parse(raw)
    except ValueError:
        rate = None
    if rate is None or rate.amount < 1:
        raise SettingsError(f"{name} must be a rate such as '120/minute', not {raw!r}")
    return raw


def _per_second(rate: RateLimitItem) -> float:
    return rate.amount / rate.get_expiry()


def _address_rate_limit(environ: Mapping[str, str], key_rate: str) -> str:
    """Every request's budget per client address, spent before any key is looked up. Unset:
    600/minute, or the per-key rate when that is higher (one client at its key's full rate
    is never cut by its address)."""
    name = "CLEVERINVO_ADDRESS_RATE_LIMIT"
    if environ.get(name, "").strip():
        return _rate_limit(environ, "", name)
    default = "600/minute"
    key_item, default_item = parse(key_rate), parse(default)
    return key_rate if _per_second(key_item) > _per_second(default_item) else default


def _trusted_proxies(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Addresses or networks (CIDR) of the proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed, comma-separated, or ``*`` for any; none by default."""
    name = "CLEVERINVO_TRUSTED_PROXIES"
    raw = environ.get(name, "").strip()
    if not raw:
        return ()
    entries = tuple(item.strip() for item in raw.split(",") if item.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or networks (10.0.0.0/8), comma-separated, or '*', not {entry!r}"
            ) from None
    return entries


_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S*)")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _database_schema(url: str) -> str:
    """PostgreSQL: the schema that holds every table, the event store's included: the first of
    libpq's own ``options=-csearch_path=NAME[,OTHER...]`` in the URL, or ``public`` (the
    others stay on the path for extensions, such as pg_trgm's operator classes in public)."""
    options = make_url(url).query.get("options", "")
    found = _SEARCH_PATH.search(" ".join(options) if isinstance(options, tuple) else options)
    if found is None:
        return "public"
    names = found.group(1).split(",")
    if not all(_IDENTIFIER.fullmatch(name) for name in names):
        raise SettingsError(
            "CLEVERINVO_DATABASE_URL: the search_path in options must be lower-case schema names "
            f"(letters, digits, _) separated by commas, not {found.group(1)!r}"
        )
    return names[0]


# What each configured backend imports, and the extra that installs it (pyproject.toml).
_BACKEND_MODULES = {
    "postgres": (
        "CLEVERINVO_DATABASE_URL is a postgresql:// URL",
        ("psycopg", "psycopg_pool", "eventsourcing.postgres"),
    ),
    "redis": ("CLEVERINVO_REDIS_URL is set", ("redis", "redis.asyncio")),
}


def _importable(module: str) -> bool:
    """Whether ``module`` imports here. Imported, not only looked up: a package that is
    present but broken (a missing library of its own) fails as late as an absent one."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    rate_limit: str = "120/minute"
    rate_limit_storage: str = "async+memory://"
    max_body_bytes: int = 1_048_576
    pdf_dir: Path = Path(DEFAULT_DATA_DIR) / "pdfs"
    pdf_cache_max: int = 10_000
    worker_lease_seconds: int = 30
    public_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "invoices@localhost"
    share_rate_limit: str = "60/minute"
    email_retry_seconds: int = 60
    overdue_every_seconds: int = 300
    worker_nice: int = 10
    graphql_introspection: bool = True
    address_rate_limit: str = "600/minute"
    trusted_proxies: tuple[str, ...] = ()
    header_timeout_seconds: int = 10
    body_timeout_seconds: int = 30
    keep_alive_seconds: int = 5
    shutdown_timeout_seconds: int = 30
    redis_url: str | None = None
    redis_prefix: str = "cleverinvo"
    redis_timeout_ms: int = 500  # each Redis connect and each reply, at most (gateway/http/ratelimit.py)
    ready_min_free_mb: int = 100  # /readyz wants this much free space in the data directory (MiB)
    database_wait_seconds: int = 30  # how long a start waits for PostgreSQL to answer (gateway/cli/startup.py)
    cors_origins: tuple[str, ...] = ()  # origins whose frontends may call the API (gateway/http/cors.py)
    # PostgreSQL's waits, in seconds (database/pg_bounds.py): each new connection, a
    # connection from a pool, each statement and each lock (0: no statement or lock bound)
    database_connect_timeout: int = 5
    database_pool_timeout: int = 5
    database_statement_timeout: int = 30
    database_lock_timeout: int = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CLEVERINVO_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().absolute()
        database_url = env.get("CLEVERINVO_DATABASE_URL") or f"sqlite:///{data_dir / 'readmodels.sqlite3'}"
        try:
            backend = make_url(database_url).get_backend_name()
        except Exception as exc:  # SQLAlchemy raises ArgumentError and friends for a bad URL
            raise SettingsError(f"CLEVERINVO_DATABASE_URL is not a database URL: {exc}") from None
        if backend not in ("sqlite", "postgresql"):
            raise SettingsError("CLEVERINVO_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if backend == "postgresql":
            _database_schema(database_url)
        redis_url = _url(env, "CLEVERINVO_REDIS_URL", ("redis", "rediss"))
        redis_prefix = env.get("CLEVERINVO_REDIS_PREFIX", "").strip() or "cleverinvo"
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", redis_prefix):
            raise SettingsError(f"CLEVERINVO_REDIS_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . : -, not {redis_prefix!r}")
        rate_limit = _rate_limit(env, "120/minute")
        try:
            cors_origins = parse_origins(env.get(CORS_SETTING, ""))
        except OriginError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            rate_limit=rate_limit,
            rate_limit_storage=f"async+{redis_url}" if redis_url else "async+memory://",
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            max_body_bytes=_int_setting(env, "CLEVERINVO_MAX_BODY_BYTES", 1_048_576),
            pdf_dir=Path(env.get("CLEVERINVO_PDF_DIR") or data_dir / "pdfs").expanduser().absolute(),
            pdf_cache_max=_int_setting(env, "CLEVERINVO_PDF_CACHE_MAX", 10_000),
            ready_min_free_mb=_int_setting(env, "CLEVERINVO_READY_MIN_FREE_MB", 100, low=0),
            database_wait_seconds=_int_setting(env, "CLEVERINVO_DATABASE_WAIT", 30, low=0, high=3600),
            redis_timeout_ms=_int_setting(env, "CLEVERINVO_REDIS_TIMEOUT_MS", 500, low=10, high=60_000),
            worker_lease_seconds=_int_setting(env, "CLEVERINVO_WORKER_LEASE_SECONDS", 30),
            public_url=_url(env, "CLEVERINVO_PUBLIC_URL", ("http", "https")),
            smtp_url=_url(env, "CLEVERINVO_SMTP_URL", ("smtp", "smtps")),
            mail_from=env.get("CLEVERINVO_MAIL_FROM", "").strip() or "invoices@localhost",
            share_rate_limit=_rate_limit(env, "60/minute", "CLEVERINVO_SHARE_RATE_LIMIT"),
            email_retry_seconds=_int_setting(env, "CLEVERINVO_EMAIL_RETRY_SECONDS", 60),
            overdue_every_seconds=_int_setting(env, "CLEVERINVO_OVERDUE_EVERY_SECONDS", 300),
            worker_nice=_int_setting(env, "CLEVERINVO_WORKER_NICE", 10, low=0, high=19),
            graphql_introspection=_flag_setting(env, "CLEVERINVO_GRAPHQL_INTROSPECTION", True),
            address_rate_limit=_address_rate_limit(env, rate_limit),
            trusted_proxies=_trusted_proxies(env),
            header_timeout_seconds=_int_setting(env, "CLEVERINVO_HEADER_TIMEOUT_SECONDS", 10, high=3600),
            body_timeout_seconds=_int_setting(env, "CLEVERINVO_BODY_TIMEOUT_SECONDS", 30, high=3600),
            keep_alive_seconds=_int_setting(env, "CLEVERINVO_KEEP_ALIVE_SECONDS", 5, high=3600),
            shutdown_timeout_seconds=_int_setting(env, "CLEVERINVO_SHUTDOWN_TIMEOUT_SECONDS", 30, high=3600),
            cors_origins=cors_origins,
            database_connect_timeout=_int_setting(env, "CLEVERINVO_DATABASE_CONNECT_TIMEOUT", 5, high=300),
            database_pool_timeout=_int_setting(env, "CLEVERINVO_DATABASE_POOL_TIMEOUT", 5, high=300),
            database_statement_timeout=_int_setting(env, "CLEVERINVO_DATABASE_STATEMENT_TIMEOUT", 30, 0, 86_400),
            database_lock_timeout=_int_setting(env, "CLEVERINVO_DATABASE_LOCK_TIMEOUT", 10, 0, 86_400),
        )

    def check_backends(self) -> None:
        """Raises SettingsError, naming the extra to install, when a configured backend's
        package does not import. Called before anything is opened or written: without it a
        first start made the default account, printed its key, and only then died."""
        wanted = ["postgres"] if self.uses_postgres else []
        wanted += ["redis"] if self.redis_url else []
        for extra in wanted:
            why, modules = _BACKEND_MODULES[extra]
            missing = next((module for module in modules if not _importable(module)), None)
            if missing is not None:
                raise SettingsError(
                    f"{why} but the {missing} module cannot be imported: pip install 'cleverinvo[{extra}]'"
                )

    @property
    def database_bounds(self) -> Bounds:
        """PostgreSQL's waits (database/bounds.py)."""
        return Bounds(
            connect=self.database_connect_timeout,
            pool=self.database_pool_timeout,
            statement=self.database_statement_timeout,
            lock=self.database_lock_timeout,
        )

    @property
    def outbox(self) -> Path:
        """Where emails are written when no SMTP server is configured."""
        return self.data_dir / "outbox"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database's file (the events', the read model's, everything's)."""
        return Path(make_url(self.database_url).database or self.data_dir / "readmodels.sqlite3")

    @property
    def uses_postgres(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "postgresql"

    @property
    def database_schema(self) -> str:
        """PostgreSQL's schema for every table (the URL's ``options=-csearch_path=NAME``)."""
        return _database_schema(self.database_url) if self.uses_postgres else "main"

    def event_store_env(self) -> dict[str, str]:
        """eventsourcing's persistence settings: SQLite in the read model's file, or PostgreSQL;
        either way the read model's database, so a command's events and rows commit together
        (``database.event_transactions``)."""
        if not self.uses_postgres:
            return {
                "PERSISTENCE_MODULE": SQLITE_FACTORY_TOPIC,
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
                # a write queued behind others waits as long as SQLite's own lock would
                # (gateway/http/capacity.py); the request threads are sized to this pool
                SQLITE_POOL_SIZE: "15",  # kept: no connections opened and closed (PRAGMAs) per burst
                SQLITE_MAX_OVERFLOW: "0",
                SQLITE_POOL_TIMEOUT: "30",
            }
        url = make_url(self.database_url)
        bounds = self.database_bounds
        return {
            "PERSISTENCE_MODULE": "database.pg_bounds:BoundedPostgresFactory",  # eventsourcing's, bounded
            "POSTGRES_CONNECT_TIMEOUT": str(bounds.pool),  # eventsourcing's name for its pool's wait
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_LOCK_TIMEOUT": str(bounds.lock),
            "CLEVERINVO_CONNECT_TIMEOUT": str(bounds.connect),
            "CLEVERINVO_STATEMENT_TIMEOUT": str(bounds.statement),
            "POSTGRES_DBNAME": url.database or "",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_SCHEMA": self.database_schema,
            "CREATE_TABLE": "y",
        }
