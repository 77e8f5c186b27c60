"""``claims audit|stats|payout|sql|export`` end to end through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import Claims


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Claims:
    """t1: claimed by s1, force-taken by s2 (by lead), completed; t2 held by s1."""
    folder = tmp_path_factory.mktemp("analytics-cli")
    claims = Claims(folder, f"sqlite://{folder / 'ledger.db'}")
    for args in (
        ("task", "add", "t1", "--title", "One"),
        ("task", "add", "t2", "--title", "Two"),
        ("claim", "t1", "--session", "s1"),
        ("heartbeat", "t1", "--session", "s1"),
        ("takeover", "t1", "--session", "s2", "--force", "--reason", "stuck", "--by", "lead"),
        ("release", "t1", "--session", "s2", "--reason", "completed"),
        ("claim", "t2", "--session", "s1", "--agent-type", "autonomous"),
    ):
        assert claims.json(*args).code == 0
    return claims


def _head(claims: Claims) -> tuple[int, str]:
    body = claims.json("verify").body
    return body["headPosition"], body["headHash"]


def test_audit_shows_the_forced_takeover_and_who_forced_it(ledger: Claims) -> None:
    """The task's trail is in log order; the takeover names its victim, forcer and reason."""
    result = ledger.json("audit", "--task", "t1")
    assert result.code == 0
    trail = result.body["entries"]
    assert [entry["type"] for entry in trail] == [
        "task_registered",
        "claimed",
        "heartbeat",
        "taken_over",
        "released",
        "task_status_changed",
    ]
    takeover = trail[3]
    assert (takeover["fromSession"], takeover["forcedBy"], takeover["reason"]) == (
        "s1",
        "lead",
        "stuck",
    )
    assert (takeover["fencingToken"], takeover["previousToken"]) == (4, 2)


def test_every_answer_carries_the_ledger_position_and_head_hash(ledger: Claims) -> None:
    """position and headHash are the ledger head the answer was computed at."""
    body = ledger.json("stats").body
    assert (body["position"], body["headHash"]) == _head(ledger)


def test_stats_by_agent_type(ledger: Claims) -> None:
    """Claims per agent type, the total, no overlaps, and seed 002's live figures."""
    body = ledger.json("stats", "--by", "agent").body
    groups = {group["key"]: group for group in body["groups"]}
    assert (groups["cli"]["claims"], groups["cli"]["completions"]) == (2, 1)
    assert (groups["cli"]["forcedTakeovers"], groups["autonomous"]["open"]) == (1, 1)
    assert body["total"]["claims"] == 3
    assert body["overlaps"] == []
    assert body["current"]["byAgentType"] == {"autonomous": 1}


def test_stats_as_csv_rows_carry_position_and_head_hash(ledger: Claims) -> None:
    """--csv prints a header and one row per group plus the total, each with the head."""
    lines = ledger("stats", "--csv").stdout.splitlines()
    position, head_hash = _head(ledger)
    assert lines[0].endswith("position,headHash")
    assert len(lines) == 1 + 2 + 1
    assert all(line.endswith(f"{position},{head_hash}") for line in lines[1:])


def test_stats_table_for_people(ledger: Claims) -> None:
    """Without --json the answer is a table with the head it was computed at."""
    result = ledger("stats", "--by", "task")
    assert result.code == 0
    assert result.stdout.startswith("KEY ")
    assert "overlapping claims: none" in result.stdout
    assert "as of position" in result.stdout


def test_payout_shares_sum_to_one(ledger: Claims) -> None:
    """The finished task's workers' shares add up to 1; s2 completed it."""
    (task,) = ledger.json("payout").body["tasks"]
    assert task["completedBy"] == "s2"
    assert sum(worker["share"] for worker in task["workers"]) == pytest.approx(1.0)


def test_payout_totals_give_each_workers_credit(ledger: Claims) -> None:
    """--totals answers each worker's credit (here one finished task's worth in all)."""
    body = ledger.json("payout", "--totals").body
    assert body["tasks"] == []
    assert {worker["sessionId"] for worker in body["workers"]} == {"s1", "s2"}
    assert sum(worker["credit"] for worker in body["workers"]) == pytest.approx(1.0)


def test_a_payout_can_be_reproduced_at_its_position(tmp_path: Path) -> None:
    """payout --at POSITION answers what payout answered when that was the head."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    for args in (
        ("task", "add", "a", "--title", "A"),
        ("claim", "a", "--session", "s1"),
        ("release", "a", "--session", "s1", "--reason", "completed"),
    ):
        claims.json(*args)
    then = claims.json("payout").body
    claims.json("task", "add", "b", "--title", "B")
    claims.json("claim", "b", "--session", "s2")
    claims.json("release", "b", "--session", "s2", "--reason", "completed")
    assert claims.json("payout", "--at", str(then["position"])).body == then


def test_the_analytics_file_sits_beside_the_ledger(ledger: Claims) -> None:
    """By default the DuckDB file is <ledger>.analytics.duckdb."""
    ledger.json("stats")
    assert (ledger.cwd / "ledger.db.analytics.duckdb").is_file()


def test_a_jsonl_ledger_feeds_the_same_way(tmp_path: Path) -> None:
    """The analytics read a JSONL ledger through its store like any other."""
    claims = Claims(tmp_path, f"jsonl://{tmp_path / 'ledger.jsonl'}")
    claims.json("task", "add", "j1", "--title", "J")
    claims.json("claim", "j1", "--session", "s1")
    claims.json("release", "j1", "--session", "s1", "--reason", "completed")
    body = claims.json("stats", "--by", "task").body
    assert (body["total"]["claims"], body["total"]["completions"]) == (1, 1)
    assert (tmp_path / "ledger.jsonl.analytics.duckdb").is_file()


def test_sql_runs_a_select(ledger: Claims) -> None:
    """claims sql answers columns and rows; times as RFC 3339 text."""
    body = ledger.json(
        "sql", "SELECT session_id, end_reason FROM claim_intervals ORDER BY start_position"
    ).body
    assert body["columns"] == ["session_id", "end_reason"]
    assert body["rows"] == [["s1", "taken_over"], ["s2", "released"], ["s1", "open"]]


def test_export_writes_a_parquet_file(ledger: Claims) -> None:
    """claims export writes the table; DuckDB reads the same rows back."""
    target = ledger.cwd / "intervals.parquet"
    result = ledger.json("export", "claim_intervals", "--format", "parquet", "-o", str(target))
    assert (result.code, result.body["rows"]) == (0, 3)
    with duckdb.connect() as con:
        assert con.execute(f"SELECT count(*) FROM '{target}'").fetchone() == (3,)


@pytest.mark.parametrize(
    ("args", "code", "error", "message"),
    [
        (["audit", "--task", "nope"], 4, "TASK_NOT_FOUND", "task 'nope' does not exist"),
        (["audit", "--session", "ghost"], 5, "SESSION_NOT_FOUND", "session 'ghost'"),
        (["payout", "--task", "nope"], 4, "TASK_NOT_FOUND", "task 'nope' does not exist"),
        (["stats", "--session", "ghost"], 5, "SESSION_NOT_FOUND", "session 'ghost'"),
        (["stats", "--since", "yesterday"], 2, "USAGE_ERROR", "'yesterday' is not a time"),
        (["sql", "DELETE FROM events"], 13, "VALIDATION_ERROR", "only SELECT"),
        (["sql", "COPY events TO 'x.csv'"], 13, "VALIDATION_ERROR", "only SELECT"),
        (
            ["export", "events", "-o", "/proc/events.parquet"],
            13,
            "VALIDATION_ERROR",
            "cannot write",
        ),
        (["payout", "--at", "999999"], 13, "VALIDATION_ERROR", "no position 999999"),
        (["audit"], 2, "USAGE_ERROR", "give --task, --session or --agent-type"),
    ],
)
def test_bad_input_gets_its_code_and_a_clear_message(
    ledger: Claims, args: list[str], code: int, error: str, message: str
) -> None:
    """Each refusal prints one JSON error body naming the problem and exits with its code."""
    result = ledger.json(*args)
    assert (result.code, result.body["success"], result.body["error"]) == (code, False, error)
    assert message in result.body["message"]


def test_write_sql_leaves_the_analytics_unchanged(ledger: Claims) -> None:
    """After a refused DELETE the events are all still there."""
    count = "SELECT count(*) FROM events"
    before = ledger.json("sql", count).body["rows"]
    ledger.json("sql", "DELETE FROM events")
    assert ledger.json("sql", count).body["rows"] == before


def test_csv_and_json_together_are_a_usage_error(ledger: Claims) -> None:
    """One output form at a time."""
    assert ledger.json("stats", "--csv").code == 2


@pytest.mark.parametrize(
    ("args", "runner"),
    [(["heartbeat", "t2", "--session", "s1"], "cli.fast_heartbeat"), (["--help"], "cli.main")],
    ids=["heartbeat", "help"],
)
def test_hook_commands_do_not_import_duckdb(ledger: Claims, args: list[str], runner: str) -> None:
    """claims heartbeat (answered before click) and the command list run without
    importing DuckDB."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli", *args],
        cwd=ledger.cwd,
        env=ledger.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert runner in imported
    assert "duckdb" not in imported
