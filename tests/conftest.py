"""Shared fixtures: a frozen clock, and a store on every backend.

``BACKENDS`` is the one list the conformance suite runs over. A new backend joins
every conformance test by one more ``Backend(...)`` line; a backend whose log is
shared between store instances and processes (``shared=True``) also joins the
reopen and process-race tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.clock import FrozenClock
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore
from tests import pg_server

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
"""Where every test's clock starts."""


@dataclass(frozen=True)
class Backend:
    """A store backend as the tests see it: a name, a URL per test, and its reach."""

    name: str
    url_for: Callable[[Path], str]
    """The URL of a fresh, empty store for a test whose private folder is the argument."""
    shared: bool
    """True when several store instances (and processes) opened on the URL see one log."""


BACKENDS: tuple[Backend, ...] = (
    Backend("memory", lambda folder: "memory:", shared=False),
    Backend("sqlite", lambda folder: f"sqlite://{folder / 'ledger.db'}", shared=True),
    Backend("jsonl", lambda folder: f"jsonl://{folder / 'ledger.jsonl'}", shared=True),
    Backend("postgresql", lambda folder: pg_server.fresh_url(), shared=True),
)
SHARED_BACKENDS = tuple(backend for backend in BACKENDS if backend.shared)


@pytest.fixture(scope="session", autouse=True)
def _server_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep server stores' per-host caches inside the test run, and drop the
    PostgreSQL schemas the run created when it ends."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    pg_server.drop_created()
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture
def clock() -> FrozenClock:
    """A clock that moves only when the test moves it."""
    return FrozenClock(START)


@pytest.fixture(scope="module", params=BACKENDS, ids=lambda backend: backend.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn."""
    chosen: Backend = request.param
    return chosen


@pytest.fixture(scope="module", params=SHARED_BACKENDS, ids=lambda backend: backend.name)
def shared_backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend whose log outlives a store instance and is shared between processes."""
    chosen: Backend = request.param
    return chosen


@pytest.fixture
def store_url(backend: Backend, tmp_path: Path) -> str:
    """The URL of a fresh store on the backend under test."""
    return backend.url_for(tmp_path)


@pytest.fixture
def shared_store_url(shared_backend: Backend, tmp_path: Path) -> str:
    """The URL of a fresh store on a shared backend."""
    return shared_backend.url_for(tmp_path)


@pytest.fixture
def store(store_url: str, clock: FrozenClock) -> Iterator[EventStore]:
    """A fresh store on the backend under test, reading time from ``clock``."""
    opened = open_store(store_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def open_another(
    backend: Backend, store: EventStore, store_url: str, clock: FrozenClock
) -> Iterator[Callable[[], EventStore]]:
    """Open another handle on the log of ``store``: a new instance where the backend
    is shared, the same instance where the log lives inside one instance (memory)."""
    opened: list[EventStore] = []

    def another() -> EventStore:
        if not backend.shared:
            return store
        handle = open_store(store_url, clock=clock)
        opened.append(handle)
        return handle

    yield another
    for handle in opened:
        handle.close()
