"""Stream writes driven on an event loop (``api.stream_writes``): the same steps as the
library's, answered the same, with appends submitted to the group commit or, for a
store without one, made on a writer thread."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from api.stream_writes import StreamWrites
from application.bootstrap import Ledger, open_ledger
from application.results import ClaimResult, HeartbeatResult, ReleaseResult
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import TaskAlreadyClaimed
from ledger.store.sqlite import SqliteStore
from ledger.verify import verify_store

T = TypeVar("T")
URLS = {"sqlite": "sqlite://{dir}/ledger.db", "jsonl": "jsonl://{dir}/ledger.jsonl"}


@pytest.fixture(params=sorted(URLS))
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    opened = open_ledger(URLS[request.param].format(dir=tmp_path))
    opened.service.import_tasks([RegisterTask(task_id=f"t{n}", title="t") for n in range(8)])
    yield opened
    opened.close()


def _drive_all(ledger: Ledger, work: Callable[[StreamWrites], Awaitable[T]]) -> T:
    async def main() -> T:
        with ThreadPoolExecutor(4) as writers:
            return await work(StreamWrites(ledger.service.store, writers))

    return asyncio.run(main())


def test_claim_heartbeat_release_on_the_loop(ledger: Ledger) -> None:
    """A cycle driven on the loop answers what the library answers, and the log verifies."""
    service = ledger.service

    async def cycle(
        writes: StreamWrites,
    ) -> tuple[ClaimResult, HeartbeatResult, ReleaseResult]:
        claimed = await writes.drive(service.claim_steps("t1", Claim(session_id="s1")))
        beat = await writes.drive(service.heartbeat_steps("t1", Beat(session_id="s1")))
        released = await writes.drive(
            service.release_steps("t1", Release(session_id="s1", reason="paused"))
        )
        return claimed, beat, released

    claimed, beat, released = _drive_all(ledger, cycle)
    assert claimed.lease.session_id == "s1"
    assert beat.lease.fencing_token == claimed.lease.fencing_token
    assert released.reason == "paused"
    state = service.task("t1")
    assert state.lease is None
    assert state.version == released.task.version
    assert verify_store(service.store).ok


def test_racing_claims_on_the_loop_have_one_winner(ledger: Ledger) -> None:
    """Eight sessions claim one task at once from the loop: one holds it, seven hear
    ``TASK_ALREADY_CLAIMED``, and the log holds one claim."""
    service = ledger.service

    async def race(writes: StreamWrites) -> list[ClaimResult | BaseException]:
        claims = [
            writes.drive(service.claim_steps("t2", Claim(session_id=f"s{n}"))) for n in range(8)
        ]
        return await asyncio.gather(*claims, return_exceptions=True)

    answers = _drive_all(ledger, race)
    won = [answer for answer in answers if isinstance(answer, ClaimResult)]
    lost = [answer for answer in answers if not isinstance(answer, ClaimResult)]
    assert len(won) == 1
    assert all(isinstance(answer, TaskAlreadyClaimed) for answer in lost)
    holder = service.task("t2").lease
    assert holder is not None
    assert holder.session_id == won[0].lease.session_id


def test_appends_of_a_sqlite_store_are_submitted_to_its_group_commit(tmp_path: Path) -> None:
    """On SQLite the loop's appends are committed by the group's committer thread, and
    appends submitted together share commits."""
    ledger = open_ledger(f"sqlite://{tmp_path}/ledger.db")
    service = ledger.service
    store = service.store
    assert isinstance(store, SqliteStore)
    service.import_tasks([RegisterTask(task_id=f"t{n}", title="t") for n in range(16)])
    before = (store.group.commits, store.group.appends)

    async def claims(writes: StreamWrites) -> list[ClaimResult]:
        steps = [service.claim_steps(f"t{n}", Claim(session_id=f"s{n}")) for n in range(16)]
        return await asyncio.gather(*(writes.drive(step) for step in steps))

    answers = _drive_all(ledger, claims)
    assert len(answers) == 16
    commits = store.group.commits - before[0]
    appends = store.group.appends - before[1]
    assert appends == 32  # each claim starts its session, then claims
    assert commits < appends
    assert verify_store(store).ok
    ledger.close()
