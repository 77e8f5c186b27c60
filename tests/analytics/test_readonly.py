"""``Analytics.query``: one read-only SELECT; everything else is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InvalidInput
from projections.analytics import Analytics
from tests.analytics.histories import Step, play

REFUSED = [
    "DELETE FROM events",
    "INSERT INTO tasks (task_id, status, registered, last_position) VALUES ('x', 'todo', true, 0)",
    "UPDATE tasks SET status = 'done'",
    "DROP TABLE events",
    "CREATE TABLE x AS SELECT 1",
    "COPY events TO '/tmp/out.csv'",
    "ATTACH '/tmp/other.duckdb'",
    "SET threads = 1",
    "SELECT 1; DELETE FROM events",
]


@pytest.fixture
def analytics(tmp_path: Path) -> Analytics:
    """A file analytics store fed with one claim."""
    store, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    opened = Analytics(str(tmp_path / "ledger.analytics.duckdb"))
    opened.update(store)
    return opened


@pytest.mark.parametrize("sql", REFUSED)
def test_statements_that_write_are_refused(analytics: Analytics, sql: str) -> None:
    """Anything but a single SELECT is a VALIDATION_ERROR and changes nothing."""
    with analytics, pytest.raises(InvalidInput):
        analytics.query(sql)


def test_a_select_reads_the_tables(analytics: Analytics) -> None:
    """A SELECT answers its columns, types and rows; times come back as text."""
    with analytics:
        found = analytics.query("SELECT type, occurred_at FROM events ORDER BY position LIMIT 1")
    assert found.columns == ["type", "occurred_at"]
    assert found.rows == [["task_registered", "2026-01-01T12:00:00.000000Z"]]


def test_a_select_cannot_read_other_files(analytics: Analytics, tmp_path: Path) -> None:
    """Table functions that read files are refused by the read-only connection."""
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    with analytics, pytest.raises(InvalidInput, match="the query failed"):
        analytics.query(f"SELECT * FROM read_csv('{other}')")


def test_a_query_that_does_not_parse_is_refused(analytics: Analytics) -> None:
    """Broken SQL is a VALIDATION_ERROR naming the parser's complaint."""
    with analytics, pytest.raises(InvalidInput, match="does not parse"):
        analytics.query("SELEC nothing")
