"""Sixteen processes claim one task at the same moment, once per backend; each test checks
one property of that race."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.commands import RegisterTask
from ledger.events import Claimed
from ledger.records import Record
from tests.integration.harness import (
    BACKENDS,
    claimed_per_task,
    read_log,
    run_together,
    url_for,
    verify_url,
)
from tests.integration.workers import ClaimOnceOutcome

WORKERS = 16
TASK = "roi-top-task"

pytestmark = pytest.mark.slow


class Race(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    outcomes: list[ClaimOnceOutcome]
    records: list[Record]

    def winner(self) -> ClaimOnceOutcome:
        (won,) = [outcome for outcome in self.outcomes if outcome.won]
        return won


def _race(url: str, folder: Path) -> list[ClaimOnceOutcome]:
    service = open_ledger(url).service
    service.register_task(RegisterTask(task_id=TASK, title="The best task", roi=9.0))
    service.store.close()
    workers = {
        session: ["claim-once", url, TASK, session]
        for session in (f"agent-{n:02d}" for n in range(WORKERS))
    }
    return run_together(workers, folder, ClaimOnceOutcome)


@pytest.fixture(scope="module", params=BACKENDS)
def race(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Race:
    """Sixteen ``claim-once`` workers, warmed up, released at once on one task."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"race-{backend}")
    url, _ = url_for(backend, folder)
    outcomes = _race(url, folder)
    return Race(url=url, outcomes=outcomes, records=read_log(url))


def test_exactly_one_of_sixteen_simultaneous_claims_wins(race: Race) -> None:
    """Exactly one of the 16 processes is told its claim succeeded."""
    assert sum(outcome.won for outcome in race.outcomes) == 1


def test_fifteen_losers_get_task_already_claimed_naming_the_winner(race: Race) -> None:
    """The 15 losers each get TASK_ALREADY_CLAIMED with the winner as the holder."""
    losers = [outcome for outcome in race.outcomes if not outcome.won]
    assert [loser.error_code for loser in losers] == ["TASK_ALREADY_CLAIMED"] * (WORKERS - 1)
    assert {loser.holder for loser in losers} == {race.winner().session_id}


def test_log_holds_the_winners_claim_only(race: Race) -> None:
    """The log holds exactly one Claimed event: the winner's, with the token it was given."""
    assert claimed_per_task(race.records) == {TASK: 1}
    (claim,) = [record for record in race.records if isinstance(record.data, Claimed)]
    assert isinstance(claim.data, Claimed)
    winner = race.winner()
    assert claim.event_id in winner.event_ids
    assert (claim.data.session_id, claim.data.fencing_token) == (
        winner.session_id,
        winner.fencing_token,
    )


def test_log_after_the_race_verifies(race: Race) -> None:
    """``verify_store`` accepts the log written by the sixteen racing processes."""
    report = verify_url(race.url)
    assert report.ok, report.problem
