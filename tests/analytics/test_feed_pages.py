"""The feed's batches carry their records' lines: a long walk's stored lines where a
helper process sent whole pages, the records encoded again elsewhere; the tables are
the same either way."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bootstrap import wire
from ledger.clock import FrozenClock
from ledger.commands import RegisterTask
from ledger.config import ClaimConfig
from ledger.errors import LedgerError
from ledger.records import Record
from ledger.store import hashed_walk
from ledger.store.hashed_walk import Page
from ledger.store.sqlite import SqliteStore
from projections.analytics import Analytics, feeder
from projections.analytics.event_rows import encode_records
from projections.analytics.feeder import batches, update
from tests.analytics.helpers import dump
from tests.analytics.histories import ACTIONS, MINUTE, SESSIONS, TASKS, Step, histories, play
from tests.conftest import START

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def paged(draw: st.DrawFn, records: list[Record]) -> list[Page]:
    """``records`` cut into pages, each sent whole with its lines or not, the rest (if
    any) as the store's own read, an iterator without lines."""
    cuts = sorted(draw(st.sets(st.integers(min_value=0, max_value=len(records)))))
    pages: list[Page] = []
    start = 0
    for end in [*cuts, len(records)]:
        part = records[start:end]
        if draw(st.booleans()) and end < len(records):
            pages.append(Page(part, encode_records(part)))
        else:
            pages.append(Page(iter(part), None))
        start = end
    return pages


@SETTINGS
@given(histories, st.data(), st.integers(min_value=1, max_value=9))
def test_batches_hold_every_record_once_in_order_with_its_own_line(
    steps: list[Step], data: st.DataObject, size: int
) -> None:
    """Whatever the pages and the batch size: every record once, in order, in batches
    of ``size`` but the last, and each batch's lines are its records' lines, in order."""
    store, _ = play(steps)
    records = list(store.read_all())
    pages = data.draw(paged(records))

    found = list(batches(iter(pages), size))

    assert [record for batch, _ in found for record in batch] == records
    assert all(len(batch) == size for batch, _ in found[:-1])
    assert all(0 < len(batch) <= size for batch, _ in found)
    for batch, lines in found:
        assert b"".join(lines) == encode_records(batch)


def test_a_whole_page_that_fits_keeps_its_own_bytes() -> None:
    """The lines a helper sent are handed on as they are, not encoded again."""
    store, _ = play([])
    records = list(store.read_all())
    sent = encode_records(records)

    [(batch, lines)] = list(batches(iter([Page(records, sent)]), len(records)))

    assert batch == records
    assert lines[0] is sent


def _seeded_steps(rounds: int = 200) -> list[Step]:
    """Claims, heartbeats, waits and endings (release, takeover, sweep) of random tasks
    and sessions, from a fixed seed; then every task completed and done."""
    rng = random.Random(15)
    found: list[Step] = []
    for _ in range(rounds):
        task, session = rng.choice(TASKS), rng.choice(SESSIONS)
        found.append(
            Step("claim", task=task, session=session, ms=5 * MINUTE, choice=rng.randrange(4))
        )
        for _ in range(rng.randrange(1, 4)):
            found.append(Step("beat", task=task, session=session))
            found.append(Step("wait", ms=rng.choice([1, 999, 30_000, 6 * MINUTE])))
        endings = [
            Step("release", task=task, session=session, choice=rng.choice([1, 3])),
            Step("takeover", task=task, session=rng.choice(SESSIONS), flag=True, choice=1),
            Step("sweep"),
        ]
        found.append(rng.choice(endings))
    for task in TASKS:  # each finished by its holder, if any, then marked done
        found.append(Step("release", task=task, choice=0))
        found.append(Step("status", task=task, choice=1))
    return found


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[SqliteStore]:
    """A SQLite ledger with a seeded history of claims, heartbeats and endings."""
    clock = FrozenClock(START)
    store = SqliteStore(tmp_path / "ledger.db", clock=clock)
    service = wire(store, clock=clock, config=ClaimConfig()).service
    for task_id in TASKS:
        service.register_task(RegisterTask(task_id=task_id, title=f"Task {task_id}"))
    for step in _seeded_steps():
        if step.name == "wait":
            clock.advance(ms=step.ms)
            continue
        with contextlib.suppress(LedgerError):
            ACTIONS[step.name](service, step)
    yield store
    store.close()


@pytest.mark.parametrize("batch", [10, 7])
def test_the_feed_through_a_helper_gives_the_tables_of_the_feed_without(
    sqlite_ledger: SqliteStore, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Fed through a helper process in pages of 5 (batches of 10: every page's stored
    lines written for DuckDB as they are; of 7: pages split, part encoded again) and
    fed without one: the same tables, row for row."""
    with Analytics() as alone:
        update(alone.con, sqlite_ledger, batch=batch)
        records = sqlite_ledger.head().position
        monkeypatch.setattr(hashed_walk, "PARALLEL_FROM", 1)
        monkeypatch.setattr(hashed_walk, "PAGE_RECORDS", 5)
        encoded: list[int] = []

        def counted(records: Sequence[Record]) -> bytes:
            encoded.append(len(records))
            return encode_records(records)

        monkeypatch.setattr(feeder, "encode_records", counted)
        with Analytics() as helped:
            update(helped.con, sqlite_ledger, batch=batch)
            assert dump(helped.con) == dump(alone.con)
            assert helped.checkpoint() == alone.checkpoint()
    assert records > 200
    if batch == 10:
        assert sum(encoded) == 0
    else:
        assert 0 < sum(encoded) < records
