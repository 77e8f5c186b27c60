"""A snapshot save that fails (a full disk, an I/O error) is a clear ``StoreError``,
leaves no temporary file and no damaged snapshot behind, and never fails a read:
the board is right whether or not its snapshot could be written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from application.service import ClaimService
from ledger.commands import RegisterTask
from ledger.errors import StoreError
from projections.runner import ProjectionRunner, snapshots_for
from projections.snapshots import FileSnapshots
from tests.projections.histories import assert_same_board, rebuilt


def _failing_fsync(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every ``fsync`` fails with ``code`` from now on."""

    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)


def _runner(service: ClaimService) -> tuple[ProjectionRunner, Path]:
    snapshots = snapshots_for(service.store)
    assert isinstance(snapshots, FileSnapshots)
    return ProjectionRunner(service.store, snapshots, clock=service.clock), snapshots.folder


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC], ids=["io-error", "disk-full"])
def test_failed_save_is_a_store_error_and_leaves_no_temporary_file(
    service: ClaimService, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """``save`` answers StoreError naming the snapshot and the cause, and cleans up."""
    runner, folder = _runner(service)
    runner.catch_up()
    _failing_fsync(monkeypatch, code)

    with pytest.raises(StoreError) as caught:
        runner.save()

    assert "cannot save the tasks snapshot" in caught.value.detail
    assert os.strerror(code) in caught.value.detail
    assert sorted(path.name for path in folder.iterdir()) == []


def test_catch_up_survives_a_failed_automatic_save(
    service: ClaimService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catch-up whose periodic save fails returns the right board, with a notice, and
    a later catch-up saves once the disk is back."""
    runner, folder = _runner(service)
    runner.save_every = 1
    with monkeypatch.context() as patched:
        _failing_fsync(patched, errno.ENOSPC)
        board = runner.catch_up()

    assert_same_board(board, rebuilt(service))
    assert any("snapshots not saved" in notice for notice in runner.notices)
    assert not list(folder.glob("*.snap"))

    service.register_task(RegisterTask(task_id="after", title="After the disk is back"))
    runner.catch_up()
    assert {path.name.split("-")[0] for path in folder.glob("*.snap")} >= {"tasks", "claims"}
