"""The ``payout_work`` table kept by the feeder gives the payout that the per-question
query over ``claim_intervals`` and ``tasks`` gave (schema version 2), row for row and
float for float, however the log was fed; each worker's credit is the exact sum of its
shares."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.analytics import Analytics, Weights, Window
from projections.analytics.feeder import update
from projections.analytics.payout import _DETAIL, SharesQuery
from tests.analytics.helpers import dump, fed
from tests.analytics.histories import Step, finished_histories, instants, play

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
weights = st.sampled_from([Weights(), Weights(time=3, completion=1), Weights(completion=0)])

OLD_SHARES = """
WITH finished AS (
    SELECT task_id, title, finished_at, completed_by FROM tasks
    WHERE status = 'done' AND finished_at IS NOT NULL AND {condition}
), work AS (
    SELECT task_id, session_id, count(*) AS claims, sum(active_ms)::BIGINT AS active_ms,
        arg_max(agent_type, start_position) AS agent_type, max(start_position) AS last_start
    FROM claim_intervals WHERE task_id IN (SELECT task_id FROM finished)
    GROUP BY ALL
), totals AS (
    SELECT task_id, sum(active_ms)::BIGINT AS total_ms, count(*) AS workers
    FROM work GROUP BY task_id
), shared AS (
    SELECT w.*, f.title, f.finished_at, f.completed_by, t.total_ms,
        CASE WHEN t.total_ms > 0 THEN w.active_ms / t.total_ms ELSE 1.0::DOUBLE / t.workers END
            AS time_share
    FROM work w JOIN totals t USING (task_id) JOIN finished f USING (task_id)
), credited AS (
    SELECT *,
        CASE WHEN completed_by IS NULL THEN time_share
            WHEN session_id = completed_by THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END AS completion_share
    FROM shared
), shares AS (
    SELECT *, ? * time_share + ? * completion_share AS share FROM credited
)
SELECT task_id, title, strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS finished_at,
    completed_by, total_ms, session_id, agent_type, claims, active_ms, time_share,
    completion_share, share, last_start
FROM shares
ORDER BY shares.finished_at, task_id, session_id
"""
"""The payout query of schema version 2, over the raw claim intervals: the oracle."""


def _old_rows(analytics: Analytics, window: Window, given: Weights) -> list[tuple[Any, ...]]:
    query = SharesQuery.of(window, given, None)
    sql = OLD_SHARES.replace("{condition}", query.condition)
    return analytics.con.execute(sql, query.values).fetchall()


def _window(since: datetime | None, until: datetime | None) -> Window:
    if since is not None and until is not None and until <= since:
        since, until = until, since
    return Window(since=since, until=until if until != since else None)


@SETTINGS
@given(finished_histories, instants(), instants(), weights)
def test_the_payout_from_the_table_equals_the_query_over_claim_intervals(
    steps: list[Step], since: datetime | None, until: datetime | None, given: Weights
) -> None:
    store, _ = play(steps)
    window = _window(since, until)
    with fed(store) as analytics:
        old = _old_rows(analytics, window, given)
        query = SharesQuery.of(window, given, None)
        new = analytics.con.execute(query.sql(_DETAIL), query.values).fetchall()
        assert new == [row[:-1] for row in old]
        found = analytics.payout(window=window, weights=given)
    shares: dict[str, list[float]] = defaultdict(list)
    tasks: dict[str, int] = defaultdict(int)
    active: dict[str, int] = defaultdict(int)
    last: dict[str, tuple[int, str | None]] = {}
    for row in old:
        session, agent, active_ms, share, last_start = row[5], row[6], row[8], row[11], row[12]
        shares[session].append(share)
        tasks[session] += 1
        active[session] += active_ms
        if session not in last or last_start > last[session][0]:
            last[session] = (last_start, agent)
    assert [w.session_id for w in found.workers] == sorted(shares)
    for worker in found.workers:
        session = worker.session_id
        assert worker.credit == math.fsum(shares[session])
        assert (worker.tasks, worker.active_ms) == (tasks[session], active[session])
        assert worker.agent_type == last[session][1]


@SETTINGS
@given(finished_histories, st.lists(st.integers(min_value=0, max_value=200), max_size=4))
def test_feeding_in_batches_keeps_the_table_the_one_of_a_single_batch(
    steps: list[Step], cuts: list[int]
) -> None:
    store, _ = play(steps)
    with fed(store) as whole, Analytics() as pieces:
        for cut in sorted(cuts):
            update(pieces.con, store, until=cut, batch=2)
        update(pieces.con, store, batch=3)
        assert dump(pieces.con)["payout_work"] == dump(whole.con)["payout_work"]
        assert pieces.payout() == whole.payout()
        assert dump(whole.con)["payout_work"]


def test_a_task_that_is_no_longer_done_leaves_the_table() -> None:
    """Set back to todo after it was finished, its rows go; done again, they come back."""
    steps = [
        Step("claim", task="t0", session="s0", ms=30 * 60_000),
        Step("wait", ms=60_000),
        Step("release", task="t0", session="s0", choice=0),
        Step("status", task="t0", choice=1),
    ]
    store, _ = play(steps)
    with Analytics() as analytics:
        update(analytics.con, store)
        assert len(dump(analytics.con)["payout_work"]) == 1
        assert [task.task_id for task in analytics.payout().tasks] == ["t0"]
    store, _ = play([*steps, Step("status", task="t0", choice=0)])
    with Analytics() as analytics:
        update(analytics.con, store, batch=1)
        assert dump(analytics.con)["payout_work"] == []
        assert analytics.payout().tasks == []


def test_a_file_of_schema_version_2_is_fed_again_with_the_new_tables(tmp_path: Path) -> None:
    """A file written before ``token_usage`` and ``payout_work`` existed is emptied on
    open and fed from position 0, so that both tables hold the whole history."""
    steps = [
        Step("claim", task="t0", session="s0", ms=30 * 60_000),
        Step("release", task="t0", session="s0", choice=0),
        Step("status", task="t0", choice=1),
    ]
    store, _ = play(steps)
    path = str(tmp_path / "v2.analytics.duckdb")
    with Analytics(path) as analytics:
        analytics.update(store)
        analytics.con.execute("DROP TABLE payout_work")
        analytics.con.execute("DROP TABLE token_usage")
        analytics.con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with Analytics(path) as analytics:
        assert analytics.checkpoint().position == 0
        analytics.update(store)
        assert [task.task_id for task in analytics.payout().tasks] == ["t0"]
        assert analytics.cost().tasks == []
