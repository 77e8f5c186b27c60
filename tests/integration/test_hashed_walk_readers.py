"""The long readers that walk the log with a hashing helper (``ledger.store.hashed_walk``):
a rebuild of the projections and the analytics feed give, through the helper, exactly
what they give from the store's own read; the threshold is lowered so that these small
logs take the helper's path, and a spy checks that they did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.store import hashed_walk
from ledger.store.factory import open_store
from ledger.store.memory import MemoryStore
from ledger.store.protocol import EventStore
from projections.board import Board
from projections.runner import ProjectionRunner
from tests.analytics.helpers import dump, fed
from tests.analytics.histories import Step, play

HISTORY = [
    step
    for round_ in range(12)
    for step in (
        Step("claim", task=f"t{round_ % 4}", session=f"s{round_ % 3}", ms=300_000),
        Step("beat", task=f"t{round_ % 4}", session=f"s{round_ % 3}"),
        Step("wait", ms=60_000),
        Step("beat", task=f"t{round_ % 4}", session=f"s{round_ % 3}"),
        Step("takeover", task=f"t{round_ % 4}", session=f"s{(round_ + 1) % 3}", flag=True),
        Step("wait", ms=400_000),
        Step("sweep"),
        Step("claim", task=f"t{(round_ + 1) % 4}", session=f"s{round_ % 3}", ms=60_000),
        Step("release", task=f"t{(round_ + 1) % 4}", session=f"s{round_ % 3}", choice=round_),
        Step("status", task=f"t{(round_ + 2) % 4}", choice=round_ % 4),
        Step("end", session=f"s{(round_ + 2) % 3}"),
    )
]


@pytest.fixture(scope="module")
def played() -> EventStore:
    """The history on the memory store (which no helper can open)."""
    store, _ = play(HISTORY)
    assert store.head_position() > 40
    return store


@pytest.fixture(params=["sqlite", "jsonl"])
def copied(request: pytest.FixtureRequest, played: EventStore, tmp_path: Path) -> Iterator[Any]:
    """The same records, byte for byte, in a store on disk."""
    assert isinstance(played, MemoryStore)
    store = open_store(f"{request.param}://{tmp_path / 'ledger'}.{request.param}")
    records = list(played.read_all())
    bodies = [entry.body for entry in played.raw_entries()]
    store.copy_in(list(zip(records, bodies, strict=True)))
    yield store
    store.close()


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every walk of one record or more takes the helper's path; the URLs it started
    helpers for are listed."""
    started: list[str] = []
    start = hashed_walk._Helper.start

    def spy(url: str, after: int, until: int | None, page: int) -> Any:
        started.append(url)
        return start(url, after, until, page)

    monkeypatch.setattr(hashed_walk, "PARALLEL_FROM", 1)
    monkeypatch.setattr(hashed_walk, "PAGE_RECORDS", 16)
    monkeypatch.setattr(hashed_walk._Helper, "start", staticmethod(spy))
    return started


def _views(board: Board) -> tuple[object, ...]:
    return board.position, board.tasks, board.sessions, board.claims, board.fingerprints


def test_a_rebuild_through_the_helper_folds_the_board_of_the_plain_read(
    played: EventStore, copied: EventStore, helpers: list[str], tmp_path: Path
) -> None:
    expected = Board()
    expected.apply_all(played.read_all())

    report = ProjectionRunner(copied).rebuild()

    assert helpers == [copied.url]
    assert report.records == played.head_position()
    assert _views(ProjectionRunner(copied).catch_up()) == _views(expected)


def test_the_feed_through_the_helper_loads_the_tables_of_the_plain_read(
    played: EventStore, copied: EventStore, helpers: list[str]
) -> None:
    with fed(played) as plain, fed(copied, batch=25) as through_helper:
        assert helpers == [copied.url]
        assert dump(through_helper.con) == dump(plain.con)
        assert through_helper.checkpoint() == plain.checkpoint()
