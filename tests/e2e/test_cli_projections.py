"""``claims projections status|rebuild``: checkpoints, lag, snapshots, and a counted rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Claims
from tests.e2e.timeline import cli_over_timeline

NAMES = ["tasks", "claims", "sessions", "fingerprints"]
STATUS_KEYS = {
    "name",
    "schema_version",
    "checkpoint",
    "lag",
    "snapshot_position",
    "snapshot_age_s",
}
HEAD = 10


@pytest.fixture(params=["sqlite", "jsonl"])
def claims(request: pytest.FixtureRequest, tmp_path: Path) -> Claims:
    """The CLI over a fresh copy of the timeline (rebuild writes snapshots)."""
    backend: str = request.param
    return cli_over_timeline(backend, tmp_path)


def _status(claims: Claims) -> list[dict[str, Any]]:
    result = claims.json("projections", "status")
    assert result.code == 0, result.stderr
    found: list[dict[str, Any]] = result.body["projections"]
    return found


def _snapshot_folder(claims: Claims) -> Path:
    return Path(claims.db.partition("://")[2] + ".projections")


def test_status_lists_the_four_projections_with_their_fields(claims: Claims) -> None:
    """Status names tasks, claims, sessions and fingerprints, each with the same fields."""
    found = _status(claims)
    assert [item["name"] for item in found] == NAMES
    assert all(set(item) == STATUS_KEYS for item in found)


def test_status_before_any_snapshot_lags_by_the_whole_log(claims: Claims) -> None:
    """With no snapshot saved, each checkpoint is 0 and the lag is the head position."""
    found = _status(claims)
    assert {(i["checkpoint"], i["lag"], i["snapshot_position"]) for i in found} == {(0, HEAD, None)}


def test_rebuild_reports_count_rate_and_checkpoint(claims: Claims) -> None:
    """Rebuild answers success, how many records it folded, how fast, and where it stands."""
    result = claims.json("projections", "rebuild")
    assert result.code == 0
    body = result.body
    assert set(body) == {"success", "records", "seconds", "rate", "position"}
    assert (body["success"], body["records"], body["position"]) == (True, HEAD, HEAD)
    assert body["seconds"] >= 0
    assert body["rate"] > 0


def test_status_after_rebuild_is_caught_up_with_a_fresh_snapshot(claims: Claims) -> None:
    """After a rebuild, every projection stands at the head with a snapshot there."""
    claims.json("projections", "rebuild")
    found = _status(claims)
    assert {(i["checkpoint"], i["lag"], i["snapshot_position"]) for i in found} == {(HEAD, 0, HEAD)}
    assert all(item["snapshot_age_s"] >= 0 for item in found)


def test_status_lag_grows_with_records_written_after_the_snapshot(claims: Claims) -> None:
    """Two records appended after a rebuild show as a lag of two behind the snapshot."""
    claims.json("projections", "rebuild")
    assert claims.json("task", "add", "d", "--title", "Task d").code == 0
    assert claims.json("task", "add", "e", "--title", "Task e").code == 0
    assert {(i["checkpoint"], i["lag"]) for i in _status(claims)} == {(HEAD, 2)}


def test_human_rebuild_prints_count_and_rate_without_a_progress_bar(claims: Claims) -> None:
    """Off a terminal, rebuild prints one summary line and no progress bar."""
    result = claims("projections", "rebuild")
    assert result.code == 0
    assert result.stdout.startswith(f"rebuilt from {HEAD} records in ")
    assert result.stdout.strip().endswith(f"records/s); checkpoint {HEAD}")
    assert result.stderr == ""


def test_status_names_a_corrupt_snapshot_in_a_notice(claims: Claims) -> None:
    """A damaged snapshot file is named in status's notices and the projection is rebuilt."""
    claims.json("projections", "rebuild")
    (tasks_file,) = _snapshot_folder(claims).glob("tasks-*.snap")
    tasks_file.write_bytes(tasks_file.read_bytes()[:-5])
    result = claims.json("projections", "status")
    (notice,) = result.body["notices"]
    assert str(tasks_file) in notice
    assert "rebuilt from the log" in notice
    assert result.body["projections"][0]["snapshot_position"] is None
    assert claims.json("task", "list").body["total"] == 3


def test_human_status_prints_notices_on_stderr(claims: Claims) -> None:
    """Without ``--json``, notices go to stderr and the table to stdout."""
    claims.json("projections", "rebuild")
    (tasks_file,) = _snapshot_folder(claims).glob("tasks-*.snap")
    tasks_file.write_bytes(b"not a snapshot")
    result = claims("projections", "status")
    assert result.code == 0
    assert f"notice: projection tasks: {tasks_file} cannot be read" in result.stderr
    assert result.stderr.count("cannot be read") == 1
    assert result.stdout.split()[:2] == ["PROJECTION", "SCHEMA"]
