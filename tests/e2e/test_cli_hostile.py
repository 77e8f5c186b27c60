"""Regression tests of issue 13's hostile-input findings through the CLI: nesting,
the ROI range, control characters on a terminal, an empty analytics file left by a
full disk, and reruns of an import that stopped midway."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ledger.store.factory import open_store
from tests.e2e.conftest import Claims


@pytest.fixture
def cli(tmp_path: Path) -> Claims:
    """The CLI on a fresh SQLite ledger."""
    return Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")


def test_a_deeply_nested_tasks_json_is_a_validation_error(cli: Claims, tmp_path: Path) -> None:
    """`task import` of a file nested 100,000 deep exits 13, not 1 with a RecursionError."""
    path = tmp_path / "tasks.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    result = cli.json("task", "import", str(path))
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")


def test_an_roi_out_of_range_is_a_validation_error(cli: Claims) -> None:
    """`task add --roi 1e13` is refused with the range every entry point takes."""
    result = cli.json("task", "add", "t", "--title", "T", "--roi", "1e13")
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")
    assert "-1e+12 to 1e+12" in result.body["message"]


def test_control_characters_in_a_title_are_shown_escaped(cli: Claims) -> None:
    """A title holding an escape sequence is printed as ``\\x1b``, never sent raw."""
    assert cli.json("task", "add", "t", "--title", "evil\x1b[2J\x07title").code == 0
    shown = cli("task", "list").stdout
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "evil\\x1b[2J\\x07title" in shown


def test_control_characters_are_escaped_in_task_show(cli: Claims) -> None:
    """`task show` escapes the title too."""
    assert cli.json("task", "add", "t", "--title", "a\x1b]0;pwned\x07b").code == 0
    assert "a\\x1b]0;pwned\\x07b" in cli("task", "show", "t").stdout


def test_an_empty_analytics_file_does_not_break_stats(cli: Claims, tmp_path: Path) -> None:
    """The 0-byte file a full disk leaves on the first `stats` is replaced, not fatal."""
    cli.json("task", "add", "t", "--title", "T")
    (tmp_path / "ledger.db.analytics.duckdb").write_bytes(b"")
    result = cli.json("stats")
    assert result.code == 0, result.stdout
    assert result.body["position"] == 1


def test_a_rerun_task_import_names_what_it_skipped(cli: Claims, tmp_path: Path) -> None:
    """After an import stopped midway, the rerun says which tasks were already there."""
    path = tmp_path / "tasks.json"
    path.write_text('[{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]')
    cli.json("task", "add", "a", "--title", "A")
    shown = cli("task", "import", str(path)).stdout
    assert "imported 1 tasks; 1 already present" in shown
    assert "skipped (already registered" in shown
    assert shown.rstrip().endswith(": a")


def test_a_rerun_ledger_import_says_where_it_resumed(tmp_path: Path) -> None:
    """A copy that stopped midway is resumed, and the rerun says after which position."""
    source = Claims(tmp_path, f"sqlite://{tmp_path / 'source.db'}")
    for task in ("a", "b", "c"):
        source.json("task", "add", task, "--title", task)
    target_path = tmp_path / "target.jsonl"
    copy = open_store(f"jsonl://{target_path}")
    with sqlite3.connect(tmp_path / "source.db") as db:
        (body,) = db.execute("SELECT body FROM events WHERE position = 1").fetchone()
    origin = open_store(f"sqlite://{tmp_path / 'source.db'}")
    copy.copy_in([(next(origin.read_all()), bytes(body))])
    copy.close()
    origin.close()
    result = Claims(tmp_path, f"jsonl://{target_path}")(
        "import", f"sqlite://{tmp_path / 'source.db'}"
    )
    assert result.code == 0
    assert "resumed after position 1" in result.stdout
