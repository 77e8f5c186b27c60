"""Sixteen processes claim one task at the same moment: one wins, fifteen see who did."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ledger.commands import RegisterTask
from ledger.events import Claimed
from ledger.service import ClaimService
from ledger.store.factory import open_store
from tests.integration.harness import (
    claimed_per_task,
    finish,
    open_gate,
    read_log,
    start_worker,
    verify_url,
)
from tests.integration.workers import ClaimOnceOutcome

WORKERS = 16
TASK = "roi-top-task"

pytestmark = pytest.mark.slow


def _race(url: str, barrier: Path, tmp_path: Path) -> list[ClaimOnceOutcome]:
    service = ClaimService(open_store(url))
    service.register_task(RegisterTask(task_id=TASK, title="The best task", roi=9.0))
    service.store.close()
    sessions = [f"agent-{n:02d}" for n in range(WORKERS)]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        procs = [
            start_worker(
                ["claim-once", url, TASK, session, str(barrier)],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
            for session in sessions
        ]
        open_gate(barrier, sessions, procs)
        return [finish(proc, ClaimOnceOutcome) for proc in procs]


def test_exactly_one_of_sixteen_simultaneous_claims_wins(
    file_url: str, barrier: Path, tmp_path: Path
) -> None:
    """Of 16 processes claiming one task at once, one wins and 15 get TASK_ALREADY_CLAIMED
    naming the winner; the log holds one Claimed event and verifies."""
    outcomes = _race(file_url, barrier, tmp_path)

    winners = [outcome for outcome in outcomes if outcome.won]
    losers = [outcome for outcome in outcomes if not outcome.won]
    assert len(winners) == 1
    winner = winners[0].session_id
    assert len(losers) == WORKERS - 1
    assert {loser.error_code for loser in losers} == {"TASK_ALREADY_CLAIMED"}
    assert {loser.holder for loser in losers} == {winner}
    records = read_log(file_url)
    assert claimed_per_task(records) == {TASK: 1}
    claim = next(record for record in records if isinstance(record.data, Claimed))
    assert isinstance(claim.data, Claimed)
    assert claim.data.session_id == winner
    assert claim.event_id in winners[0].event_ids
    assert claim.data.fencing_token == winners[0].fencing_token
    assert verify_url(file_url).ok
