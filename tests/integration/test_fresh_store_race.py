"""Sixteen processes open a store file that does not exist yet, all at the same moment, and
register the same task; once per backend, each test checks one property."""

from __future__ import annotations

import msgspec
import pytest

from ledger.events import TaskRegistered
from tests.integration.harness import (
    BACKENDS,
    read_log,
    run_together,
    url_for,
    verify_url,
)
from tests.integration.workers import RegisterOutcome

WORKERS = 16
TASK = "first-task"

pytestmark = pytest.mark.slow


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    outcomes: list[RegisterOutcome]


@pytest.fixture(scope="module", params=BACKENDS)
def opened(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Opened:
    """Sixteen ``open-and-register`` workers released at once on a store not yet created."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"fresh-{backend}")
    url, path = url_for(backend, folder)
    assert not path.exists()
    workers = {
        name: ["open-and-register", url, TASK, name]
        for name in (f"opener-{n:02d}" for n in range(WORKERS))
    }
    outcomes = run_together(workers, folder, RegisterOutcome)
    return Opened(url=url, outcomes=outcomes)


def test_one_of_sixteen_openers_registers_the_task(opened: Opened) -> None:
    """All 16 open the new store; one registers the task and 15 get TASK_ALREADY_EXISTS."""
    assert sum(outcome.registered for outcome in opened.outcomes) == 1
    refused = [outcome.error_code for outcome in opened.outcomes if not outcome.registered]
    assert refused == ["TASK_ALREADY_EXISTS"] * (WORKERS - 1)


def test_store_created_by_sixteen_openers_holds_one_registration_and_verifies(
    opened: Opened,
) -> None:
    """The store the racing openers created holds one registration, and verifies."""
    assert [type(record.data) for record in read_log(opened.url)] == [TaskRegistered]
    report = verify_url(opened.url)
    assert report.ok, report.problem
