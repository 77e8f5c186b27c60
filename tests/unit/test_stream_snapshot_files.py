"""Stream snapshot storage: files beside the log, and the shapes their tags pin."""

from __future__ import annotations

from pathlib import Path

from application.stream_cache import SESSION_STATE_SCHEMA, TASK_STATE_SCHEMA
from ledger.state import SessionState, TaskState
from ledger.store.stream_snapshots import FileStreamSnapshots, StreamSnapshot
from tests.projections.test_schema_pins import shape_digest

PINS = {
    "task-state/1": "d620ee07c726bca1",
    TASK_STATE_SCHEMA: "87684af0998dd2d2",
    SESSION_STATE_SCHEMA: "389a8e5a9971669e",
}


def snapshot(stream: str = "task-a/b") -> StreamSnapshot:
    """A small snapshot of ``stream``."""
    return StreamSnapshot(stream=stream, version=7, hash="ab" * 32, schema="t/1", state=b"\x80")


def test_a_saved_snapshot_loads_back(tmp_path: Path) -> None:
    """What is saved is what loads, for a stream whose name holds a slash."""
    files = FileStreamSnapshots(tmp_path / "ledger.db.streams")
    files.save(snapshot())
    assert files.load("task-a/b") == snapshot()


def test_a_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Only the snapshot's own file remains after a save."""
    files = FileStreamSnapshots(tmp_path / "streams")
    files.save(snapshot())
    assert [path.suffix for path in files.folder.iterdir()] == [".snap"]


def test_a_missing_snapshot_loads_as_none(tmp_path: Path) -> None:
    """No file: no snapshot."""
    assert FileStreamSnapshots(tmp_path / "streams").load("task-x") is None


def test_a_garbled_snapshot_loads_as_none(tmp_path: Path) -> None:
    """A file that does not decode is no snapshot (a torn write after a power loss)."""
    files = FileStreamSnapshots(tmp_path / "streams")
    files.save(snapshot())
    files.path_of("task-a/b").write_bytes(b"\x93garbage")
    assert files.load("task-a/b") is None


def test_a_snapshot_of_another_stream_loads_as_none(tmp_path: Path) -> None:
    """A file holding another stream's snapshot (a copied file) is not this stream's."""
    files = FileStreamSnapshots(tmp_path / "streams")
    files.save(snapshot("task-other"))
    files.path_of("task-other").rename(files.path_of("task-a/b"))
    assert files.load("task-a/b") is None


def test_task_state_shape_matches_its_snapshot_tag() -> None:
    """Changing TaskState's shape needs a new TASK_STATE_SCHEMA (and a new pin here)."""
    assert shape_digest(TaskState) == PINS[TASK_STATE_SCHEMA]


def test_session_state_shape_matches_its_snapshot_tag() -> None:
    """Changing SessionState's shape needs a new SESSION_STATE_SCHEMA (and a new pin)."""
    assert shape_digest(SessionState) == PINS[SESSION_STATE_SCHEMA]
