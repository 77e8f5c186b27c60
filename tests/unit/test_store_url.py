"""Store URLs: ``open_store`` is the one place a URL becomes a backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InvalidStoreUrl
from ledger.store.factory import open_store, parse_store_url
from ledger.store.jsonl import JsonlStore
from ledger.store.memory import MemoryStore
from ledger.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory:", ("memory", "", {})),
        ("memory://", ("memory", "", {})),
        ("sqlite:///var/lib/ledger.db", ("sqlite", "/var/lib/ledger.db", {})),
        ("sqlite:rel/ledger.db", ("sqlite", "rel/ledger.db", {})),
        ("jsonl:///var/log/ledger.jsonl", ("jsonl", "/var/log/ledger.jsonl", {})),
        ("ledger.db", ("sqlite", "ledger.db", {})),
        ("/abs/ledger.jsonl", ("jsonl", "/abs/ledger.jsonl", {})),
        (
            "sqlite:///l.db?synchronous=normal&busy_timeout=500",
            ("sqlite", "/l.db", {"synchronous": "normal", "busy_timeout": "500"}),
        ),
    ],
)
def test_urls_parse_to_scheme_path_and_options(
    url: str, expected: tuple[str, str, dict[str, str]]
) -> None:
    """Schemes, absolute and relative paths, bare paths by suffix, and query options."""
    assert parse_store_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["", "postgres://host/db", "s3://bucket/key", "sqlite://", "jsonl:"],
)
def test_unsupported_or_empty_urls_are_invalid_store_url(url: str) -> None:
    """An empty URL, an unknown scheme or a URL naming no file is INVALID_STORE_URL."""
    with pytest.raises(InvalidStoreUrl):
        parse_store_url(url)


@pytest.mark.parametrize(
    "query",
    ["?synchronous=off", "?busy_timeout=soon", "?journal=delete"],
)
def test_bad_sqlite_options_are_invalid_store_url(tmp_path: Path, query: str) -> None:
    """synchronous other than full/normal, a non-numeric busy_timeout, unknown options."""
    with pytest.raises(InvalidStoreUrl):
        open_store(f"sqlite://{tmp_path / 'l.db'}{query}")


def test_jsonl_takes_no_options(tmp_path: Path) -> None:
    """A JSONL URL with a query is INVALID_STORE_URL."""
    with pytest.raises(InvalidStoreUrl):
        open_store(f"jsonl://{tmp_path / 'l.jsonl'}?fsync=no")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("memory:", MemoryStore), ("sqlite://{dir}/l.db", SqliteStore), ("{dir}/l.jsonl", JsonlStore)],
)
def test_each_scheme_opens_its_backend(tmp_path: Path, name: str, kind: type[object]) -> None:
    """memory:, sqlite: and a bare .jsonl path open the matching store class."""
    store = open_store(name.format(dir=tmp_path))

    assert isinstance(store, kind)
    store.close()


def test_synchronous_normal_is_kept_in_the_stores_url(tmp_path: Path) -> None:
    """A SQLite store opened with synchronous=normal says so in its URL."""
    store = open_store(f"sqlite://{tmp_path / 'l.db'}?synchronous=normal")

    assert store.url == f"sqlite://{(tmp_path / 'l.db').resolve()}?synchronous=normal"
    store.close()
