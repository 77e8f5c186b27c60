"""Open a store from its URL: ``sqlite:///abs/path``, ``sqlite:rel/path``, ``jsonl:…``,
``postgresql://user@host/db?schema=…``, ``memory:``.

SQLite takes ``?synchronous=normal`` (survive process crashes, not power loss)
and ``?busy_timeout=MS``. A bare path is SQLite, or JSONL when it ends in ``.jsonl``.
"""

from __future__ import annotations

import re

from ledger.clock import Clock
from ledger.errors import InvalidStoreUrl
from ledger.store.protocol import EventStore

SCHEMES = ("sqlite", "jsonl", "memory")
POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+")
"""A URL scheme of two letters or more (one letter is a Windows drive)."""


def open_store(url: str, *, clock: Clock | None = None) -> EventStore:
    """The store a URL names; the one composition point for backends."""
    if url.partition(":")[0] in POSTGRES_SCHEMES:
        from ledger.store.postgres import PostgresStore

        return PostgresStore.from_url(url, clock=clock)
    scheme, path, options = parse_store_url(url)
    if scheme == "memory":
        from ledger.store.memory import MemoryStore

        return MemoryStore(clock=clock)
    if scheme == "jsonl":
        from ledger.store.jsonl import JsonlStore

        _no_options(url, options)
        return JsonlStore(path, clock=clock)
    from ledger.store.sqlite import SqliteStore

    synchronous = options.pop("synchronous", "full").upper()
    if synchronous not in ("FULL", "NORMAL"):
        raise InvalidStoreUrl(f"synchronous must be full or normal, not {synchronous!r}", url=url)
    busy = options.pop("busy_timeout", "30000")
    if not busy.isdigit():
        raise InvalidStoreUrl("busy_timeout must be milliseconds", url=url)
    _no_options(url, options)
    return SqliteStore(
        path,
        clock=clock,
        synchronous="FULL" if synchronous == "FULL" else "NORMAL",
        busy_timeout_ms=int(busy),
    )


def parse_store_url(url: str) -> tuple[str, str, dict[str, str]]:
    """``(scheme, path, options)`` of a store URL, or ``InvalidStoreUrl``."""
    if not url:
        raise InvalidStoreUrl("the store URL is empty")
    if url in ("memory:", "memory://"):
        return "memory", "", {}
    scheme, sep, rest = url.partition(":")
    if sep and _SCHEME.fullmatch(scheme) and scheme not in ("sqlite", "jsonl"):
        raise InvalidStoreUrl(
            f"unsupported store URL {url!r}; use sqlite:///path, jsonl:///path,"
            " postgresql://user@host/db or memory:",
            url=url,
        )
    if not sep or scheme not in SCHEMES or len(scheme) == 1:
        scheme = "jsonl" if url.endswith(".jsonl") else "sqlite"
        rest = url
    path, _, query = rest.partition("?")
    if path.startswith("//"):
        path = path[2:]
    if not path:
        raise InvalidStoreUrl(f"the store URL {url!r} names no file", url=url)
    options = _options(query)
    return scheme, path, options


def _options(query: str) -> dict[str, str]:
    if not query:
        return {}
    from urllib.parse import parse_qs

    return {key: values[-1] for key, values in parse_qs(query).items()}


def _no_options(url: str, options: dict[str, str]) -> None:
    if options:
        raise InvalidStoreUrl(f"unknown store URL options {sorted(options)}", url=url)
