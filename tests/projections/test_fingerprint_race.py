"""Eight processes propose the same fingerprint at the same moment, once per backend.

Each proposes a task of its own id; the ledger must create exactly one of them and
answer the seven others ``TASK_ALREADY_ACTIVE`` naming it (seed 000's ROI
auto-pick de-duplication). Each test checks one property of that race.
"""

from __future__ import annotations

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.commands import Claim, RegisterTask, Release
from ledger.errors import TaskAlreadyActive
from ledger.events import TaskRegistered
from ledger.records import Record
from tests.integration.harness import BACKENDS, read_log, url_for
from tests.projections.processes import run_together
from tests.projections.workers import ProposeOutcome

WORKERS = 8
FINGERPRINT = "roi/fix-login"

pytestmark = pytest.mark.slow


class Race(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    outcomes: list[ProposeOutcome]
    records: list[Record]

    def winner(self) -> ProposeOutcome:
        (won,) = [outcome for outcome in self.outcomes if outcome.created]
        return won

    def losers(self) -> list[ProposeOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.created]


@pytest.fixture(scope="module", params=BACKENDS)
def race(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Race:
    """Eight ``propose-once`` workers, warmed up, released at once on one fingerprint."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"propose-{backend}")
    url, _ = url_for(backend, folder)
    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id="unrelated", title="Another task"))
    service.store.close()
    workers = {
        name: ["propose-once", url, f"task-{name}", FINGERPRINT, name]
        for name in (f"picker-{n}" for n in range(WORKERS))
    }
    outcomes = run_together(workers, folder, ProposeOutcome)
    return Race(url=url, outcomes=outcomes, records=read_log(url))


def _registered_with_fingerprint(records: list[Record]) -> list[str]:
    return [
        r.data.task_id
        for r in records
        if isinstance(r.data, TaskRegistered) and r.data.fingerprint == FINGERPRINT
    ]


def test_exactly_one_proposal_creates_a_task(race: Race) -> None:
    """One worker of eight reports its task created."""
    assert race.winner().created


def test_log_holds_one_task_with_the_fingerprint(race: Race) -> None:
    """The log registers exactly one task with the fingerprint: the winner's."""
    assert _registered_with_fingerprint(race.records) == [race.winner().task_id]


def test_the_seven_others_are_told_task_already_active(race: Race) -> None:
    """Every other worker is answered TASK_ALREADY_ACTIVE."""
    refusals = [outcome.error_code for outcome in race.losers()]
    assert refusals == [TaskAlreadyActive.code] * (WORKERS - 1)


def test_refusals_name_the_winning_task(race: Race) -> None:
    """Each refusal names the task that was created as the active one."""
    for outcome in race.losers():
        assert outcome.active_task is not None
        assert outcome.active_task["taskId"] == race.winner().task_id


def test_a_done_tasks_fingerprint_may_be_proposed_again(race: Race) -> None:
    """Once the winning task is done, its fingerprint is free for a new proposal."""
    service = open_ledger(race.url).service
    try:
        winner = race.winner().task_id
        service.claim(winner, Claim(session_id="worker"))
        service.release(winner, Release(session_id="worker", reason="completed"))
        again = RegisterTask(task_id="follow-up", title="Again", fingerprint=FINGERPRINT)
        assert service.propose_task(again).registered
    finally:
        service.store.close()
