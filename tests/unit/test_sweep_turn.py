"""Of several server processes exactly one sweeps: the holder of the lock file."""

from __future__ import annotations

from pathlib import Path

from api.sweep_turn import SweepTurn


def test_a_single_server_always_sweeps() -> None:
    """Without a lock file (one process) the turn is always this process's."""
    assert SweepTurn(None).mine()


def test_only_the_first_of_two_workers_sweeps(tmp_path: Path) -> None:
    """The second worker's turn is refused while the first holds the lock."""
    first, second = SweepTurn(str(tmp_path / "lock")), SweepTurn(str(tmp_path / "lock"))
    assert first.mine()
    assert not second.mine()
    first.close()
    second.close()


def test_another_worker_sweeps_once_the_holder_is_gone(tmp_path: Path) -> None:
    """When the holder lets go (its process died), the next turn of another takes it."""
    first, second = SweepTurn(str(tmp_path / "lock")), SweepTurn(str(tmp_path / "lock"))
    first.mine()
    first.close()
    assert second.mine()
    second.close()
