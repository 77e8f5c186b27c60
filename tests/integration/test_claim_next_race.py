"""Eight processes drain a backlog of 800 tasks with ``claim_next``, once per backend;
each test checks one property of that run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.commands import RegisterTask
from ledger.events import Claimed, Released, TaskStatusChanged
from ledger.records import Record
from tests.integration.harness import (
    BACKENDS,
    claimed_per_task,
    read_log,
    run_together,
    url_for,
    verify_url,
)
from tests.integration.workers import COMPLETED, ClaimLoopOutcome

WORKERS = 8
TASKS = 800

pytestmark = pytest.mark.slow


class Drained(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    outcomes: list[ClaimLoopOutcome]
    records: list[Record]


def _backlog() -> list[RegisterTask]:
    """Tasks with a spread of ROI and priority."""
    priorities = ("critical", "high", "medium", "low")
    return [
        RegisterTask(
            task_id=f"task-{n:04d}",
            title=f"Task {n}",
            roi=float(n % 17),
            priority=priorities[n % len(priorities)],
        )
        for n in range(TASKS)
    ]


def _drain(url: str, folder: Path) -> list[ClaimLoopOutcome]:
    service = open_ledger(url).service
    imported = service.import_tasks(_backlog())
    assert len(imported.added) == TASKS
    service.store.close()
    workers = {
        session: ["claim-loop", url, session] for session in (f"worker-{n}" for n in range(WORKERS))
    }
    return run_together(workers, folder, ClaimLoopOutcome)


@pytest.fixture(scope="module", params=BACKENDS)
def drained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Drained:
    """One drain of the backlog by eight ``claim-loop`` workers on a file backend."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"drain-{backend}")
    url, _ = url_for(backend, folder)
    outcomes = _drain(url, folder)
    return Drained(url=url, outcomes=outcomes, records=read_log(url))


def test_workers_report_every_task_once(drained: Drained) -> None:
    """The workers' reported claims cover all 800 tasks, none twice."""
    reported = Counter(claim.task_id for outcome in drained.outcomes for claim in outcome.claims)
    assert set(reported) == {spec.task_id for spec in _backlog()}
    assert set(reported.values()) == {1}


def test_log_holds_exactly_one_claim_per_task(drained: Drained) -> None:
    """Every task's stream holds exactly one Claimed event."""
    assert claimed_per_task(drained.records) == {spec.task_id: 1 for spec in _backlog()}


def test_every_reported_claim_is_in_the_log(drained: Drained) -> None:
    """Each claim a worker was told succeeded is stored as that worker's claim and token."""
    by_id = {record.event_id: record.data for record in drained.records}
    for outcome in drained.outcomes:
        for claim in outcome.claims:
            claimed = by_id[claim.event_ids[-1]]
            assert isinstance(claimed, Claimed)
            assert claimed.task_id == claim.task_id
            assert claimed.session_id == outcome.session_id
            assert claimed.fencing_token == claim.fencing_token


def test_every_reported_release_is_in_the_log(drained: Drained) -> None:
    """Each release a worker was told succeeded is stored as a completed release and Done."""
    by_id = {record.event_id: record.data for record in drained.records}
    released = 0
    for outcome in drained.outcomes:
        for claim in (claim for claim in outcome.claims if claim.released):
            events = [by_id[event_id] for event_id in claim.release_event_ids]
            assert [type(event) for event in events] == [Released, TaskStatusChanged]
            assert isinstance(events[0], Released)
            assert (events[0].session_id, events[0].reason) == (outcome.session_id, COMPLETED)
            released += 1
    assert released > 0


def test_drained_tasks_are_done_or_held_by_their_claimer(drained: Drained) -> None:
    """Released tasks end Done and unclaimed; kept tasks stay held by their claimer."""
    service = open_ledger(drained.url).service
    board = service.board()
    service.store.close()
    for outcome in drained.outcomes:
        for claim in outcome.claims:
            state = board.tasks[claim.task_id]
            holder = state.lease.session_id if state.lease is not None else None
            if claim.released:
                assert (state.status, holder) == ("done", None)
            else:
                assert (state.status, holder) == ("in_progress", outcome.session_id)


def test_positions_after_the_drain_are_gapless(drained: Drained) -> None:
    """Store positions run 1, 2, 3, ... with no gap after eight concurrent writers."""
    positions = [record.position for record in drained.records]
    assert positions == list(range(1, len(positions) + 1))


def test_log_after_the_drain_verifies(drained: Drained) -> None:
    """``verify_store`` accepts the whole log written by eight concurrent writers."""
    report = verify_url(drained.url)
    assert report.ok, report.problem
    assert report.checked == len(drained.records)
