"""Fixtures of the projection tests: a store file on each file backend, with a history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.bootstrap import wire
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.config import ClaimConfig
from ledger.store.factory import open_store
from ledger.terms import LeaseTerms
from tests.conftest import START

FILE_NAMES = {"sqlite": "ledger.db", "jsonl": "ledger.jsonl"}


def file_url(backend: str, folder: Path) -> str:
    """The URL of a ``backend`` store file in ``folder``."""
    return f"{backend}://{folder / FILE_NAMES[backend]}"


def write_history(service: ClaimService, clock: FrozenClock, *, prefix: str = "") -> None:
    """A short, fixed history: two tasks, two sessions, claims, heartbeats, a release."""
    for name in ("a", "b"):
        service.register_task(RegisterTask(task_id=f"{prefix}{name}", title=f"Task {name}"))
    service.claim(f"{prefix}a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * 60_000)))
    clock.advance(minutes=1)
    service.heartbeat(f"{prefix}a", Beat(session_id="s1"))
    service.claim(f"{prefix}b", Claim(session_id="s2"))
    clock.advance(minutes=1)
    service.release(f"{prefix}b", Release(session_id="s2", reason="completed"))


@pytest.fixture(params=sorted(FILE_NAMES))
def backend(request: pytest.FixtureRequest) -> str:
    """A file backend: ``jsonl`` or ``sqlite``."""
    name: str = request.param
    return name


@pytest.fixture
def service(backend: str, tmp_path: Path) -> Iterator[ClaimService]:
    """A service over a fresh store file on ``backend``, holding ``write_history``."""
    clock = FrozenClock(START)
    store = open_store(file_url(backend, tmp_path), clock=clock)
    service = wire(store, clock=clock, config=ClaimConfig(), host="test-host").service
    write_history(service, clock)
    yield service
    store.close()
