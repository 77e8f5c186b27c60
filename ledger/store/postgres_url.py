"""PostgreSQL store URLs: libpq's own URL plus the ledger's options.

``postgresql://user:password@host:5432/dbname?schema=claims&pool_size=8``

The ledger's options are taken out of the query; everything else (``sslmode``,
``connect_timeout``, ``application_name``, ...) goes to libpq unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec

from ledger.errors import InvalidStoreUrl

SCHEMES = ("postgresql", "postgres")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,47}")
"""Schema names we accept: plain lower-case identifiers, short enough that the
notification channel built from them stays within PostgreSQL's 63 bytes."""


class PostgresOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to reach the database, as a store URL gives it."""

    conninfo: str
    """The URL libpq connects with (the ledger's options removed)."""
    schema: str = "claims"
    """The schema holding the ledger's tables; created on first use."""
    pool_size: int = 4
    """Most connections one store (one process) keeps open."""
    statement_timeout_ms: int = 30_000
    """Any statement, including the wait for the append lock, is cancelled after this."""
    connect_timeout_s: int = 5
    """How long one connection attempt may take (libpq's ``connect_timeout``)."""
    retry_for_s: float = 10.0
    """How long an operation keeps retrying after the connection was lost (a
    restart, a failover, a killed backend) before it reports ``STORE_UNAVAILABLE``."""
    migrate: bool = True
    """Apply pending migrations on open; ``false`` leaves it to ``claims db migrate``."""

    @property
    def display(self) -> str:
        """The store URL without its password (libpq reads passwords from
        ``PGPASSWORD`` or ``~/.pgpass`` too), naming the schema and any option
        that differs from its default."""
        parts = urlsplit(redact(self.conninfo))
        query = parse_qsl(parts.query, keep_blank_values=True)
        query.append(("schema", self.schema))
        defaults = PostgresOptions(conninfo="")
        for key, field in _FIELDS.items():
            value = getattr(self, field)
            if value != getattr(defaults, field):
                query.append((key, str(value).lower() if isinstance(value, bool) else f"{value:g}"))
        return urlunsplit(
            (parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote), "")
        )

    @property
    def name(self) -> str:
        """Host, port, database and schema: what tells this ledger from another."""
        from psycopg.conninfo import conninfo_to_dict

        found = conninfo_to_dict(self.conninfo)
        host = str(found.get("host") or "local")
        port = str(found.get("port") or "5432")
        dbname = str(found.get("dbname") or found.get("user") or "postgres")
        return f"{host}-{port}-{dbname}-{self.schema}"


def parse_postgres_url(url: str) -> PostgresOptions:
    """Split a store URL into libpq's URL and the ledger's options, or ``InvalidStoreUrl``."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise InvalidStoreUrl(f"not a PostgreSQL URL: {redact(url)!r}", url=redact(url))
    own: dict[str, str] = {}
    passed: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _OWN:
            own[key] = value
        else:
            passed.append((key, value))
    connect_timeout = _integer(url, passed, "connect_timeout", 5)
    conninfo = urlunsplit(
        (parts.scheme, parts.netloc, parts.path, urlencode(passed, quote_via=quote), parts.fragment)
    )
    schema = own.get("schema", "claims")
    if not _IDENTIFIER.fullmatch(schema) or schema.startswith("pg_"):
        raise InvalidStoreUrl(
            "schema must be a lower-case identifier of at most 48 characters"
            " (letters, digits, underscores), not starting with pg_ (reserved by PostgreSQL)",
            url=redact(url),
        )
    return PostgresOptions(
        conninfo=conninfo,
        schema=schema,
        pool_size=_bounded(url, own, "pool_size", 4, 1, 100),
        statement_timeout_ms=_bounded(url, own, "statement_timeout", 30_000, 1, 86_400_000),
        connect_timeout_s=connect_timeout,
        retry_for_s=_bounded(url, own, "retry_for", 10, 0, 3600),
        migrate=_flag(url, own.get("migrate", "true")),
    )


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_FIELDS = {
    "pool_size": "pool_size",
    "statement_timeout": "statement_timeout_ms",
    "retry_for": "retry_for_s",
    "migrate": "migrate",
}
"""URL options beside ``schema`` and the fields they set."""
_OWN = ("schema", *_FIELDS)


def _bounded(url: str, own: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = own.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidStoreUrl(f"{key} must be a whole number from {low} to {high}", url=redact(url))
    return int(raw)


def _integer(url: str, passed: list[tuple[str, str]], key: str, default: int) -> int:
    for name, value in passed:
        if name == key:
            if not value.isdigit() or int(value) < 1:
                raise InvalidStoreUrl(f"{key} must be whole seconds >= 1", url=redact(url))
            return int(value)
    return default


def _flag(url: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidStoreUrl("migrate must be true or false", url=redact(url))
