"""``Streams`` decides on a cached state without reading the stream, and falls back
to a read whenever that state may be stale: a conflict, a refusal, nothing to write."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from application.bootstrap import wire
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.commands import Claim, Release
from ledger.config import ClaimConfig
from ledger.errors import TaskAlreadyClaimed
from ledger.records import Record
from ledger.store.memory import MemoryStore
from tests.conftest import START
from tests.unit.service_helpers import register


class CountingStore(MemoryStore):
    """A memory store that counts the stream reads it answers."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__(clock=clock)
        self.reads: list[str] = []

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        self.reads.append(stream)
        return super().read_stream(stream, after_version=after_version)


def _two_services() -> tuple[ClaimService, ClaimService, CountingStore]:
    """Two services (two processes, as it were) over one store, each with its cache."""
    clock = FrozenClock(START)
    store = CountingStore(clock)
    first, second = (
        wire(store, clock=clock, config=ClaimConfig(), host="here").service for _ in range(2)
    )
    register(first, "task-a")
    return first, second, store


def _reads_of(store: CountingStore, streams: Sequence[str]) -> int:
    return sum(1 for stream in store.reads if stream in streams)


def test_a_cached_task_is_not_read_before_an_accepted_decision() -> None:
    """A release on a task this service just claimed appends without reading its stream."""
    first, _, store = _two_services()
    first.claim("task-a", Claim(session_id="s1"))
    store.reads.clear()
    first.release("task-a", Release(session_id="s1"))
    assert _reads_of(store, ["task-task-a"]) == 0


def test_a_refusal_on_a_stale_cache_is_decided_again_on_the_stored_stream() -> None:
    """A claim refused on a cached state (held by s1, released since) is accepted."""
    first, second, _ = _two_services()
    first.claim("task-a", Claim(session_id="s1"))
    second.release("task-a", Release(session_id="s1"))
    result = first.claim("task-a", Claim(session_id="s2"))
    assert result.lease.session_id == "s2"


def test_an_accepted_decision_on_a_stale_cache_conflicts_and_is_decided_again() -> None:
    """A claim accepted on a cached free task that another service claimed since is
    refused after the conflict, from the stream as stored."""
    first, second, _ = _two_services()
    second.task("task-a")
    first.claim("task-a", Claim(session_id="s1"))
    with pytest.raises(TaskAlreadyClaimed):
        second.claim("task-a", Claim(session_id="s2"))
