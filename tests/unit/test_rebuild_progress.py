"""A rebuild reports its progress every ``PROGRESS_EVERY`` records and folds the same
board with or without a progress callback."""

from __future__ import annotations

import msgspec
import pytest

from application.testing import memory_service
from ledger.commands import RegisterTask
from projections import runner as runner_module
from projections.runner import ProjectionRunner
from projections.snapshots import MemorySnapshots


def test_progress_every_few_records_and_the_same_board(monkeypatch: pytest.MonkeyPatch) -> None:
    service, _ = memory_service()
    for number in range(7):
        service.register_task(RegisterTask(task_id=f"t{number}", title=f"Task {number}"))
    monkeypatch.setattr(runner_module, "PROGRESS_EVERY", 3)
    seen: list[int] = []
    with_progress = ProjectionRunner(service.store, MemorySnapshots())
    report = with_progress.rebuild(seen.append)
    without = ProjectionRunner(service.store, MemorySnapshots())
    assert without.rebuild().records == report.records == 7
    assert seen == [3, 6]
    board, plain = with_progress.catch_up(), without.catch_up()
    assert board.position == plain.position == 7
    assert msgspec.msgpack.encode(board.states) == msgspec.msgpack.encode(plain.states)
    assert sorted(board.tasks) == [f"t{number}" for number in range(7)]
