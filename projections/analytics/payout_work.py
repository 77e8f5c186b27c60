"""The ``payout_work`` table: one row per finished task and worker, kept by the feeder.

Everything a payout needs of a task and a worker that does not depend on the weights:
the task's title, finish time and completer, the worker's claims, heartbeat-backed
active time and agent type, the task's total active time, and the worker's time and
completion shares. ``payout`` only filters it by the period, weighs the two shares
and sorts, instead of aggregating every claim interval on each question (docs/adr/0021).

After each batch the feeder computes the rows again for every task the batch touched
(a claim interval or the task's row changed), from the stored ``claim_intervals`` and
``tasks``, with the query the payout used to run per question; the other tasks' rows
cannot have changed. So the table is the same whether the log was fed in one batch or
in many.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from projections.analytics.payout_text import JSON_OPEN, JSON_WORKER

_TASKS = "task_id IN (SELECT unnest(?::VARCHAR[]))"

_ROWS = f"""
WITH finished AS (
    SELECT task_id, title, finished_at, completed_by FROM tasks
    WHERE status = 'done' AND finished_at IS NOT NULL AND {_TASKS}
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
), marked AS (
    SELECT task_id, session_id, title, finished_at, completed_by, total_ms, agent_type,
        claims, active_ms, last_start, time_share,
        CASE WHEN completed_by IS NULL THEN time_share
            WHEN session_id = completed_by THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END
            AS completion_share,
        session_id = min(session_id) OVER task AS first_worker,
        session_id = max(session_id) OVER task AS last_worker
    FROM shared
    WINDOW task AS (PARTITION BY task_id)
)
SELECT *, {JSON_OPEN} AS json_open, {JSON_WORKER} AS json_worker FROM marked
"""
"""The rows of the finished tasks among a list: the per-question payout query of
schema version 2, up to its weights, with each task's first and last worker marked and
the row's JSON rendered up to its share (the streamed JSON's window and most of its
text, ``projections.analytics.payout_text``, done once here)."""


def refresh(con: duckdb.DuckDBPyConnection, task_ids: Iterable[str]) -> None:
    """Compute the rows of ``task_ids`` again (inside the caller's transaction)."""
    keys = sorted(set(task_ids))
    if not keys:
        return
    con.execute(f"DELETE FROM payout_work WHERE {_TASKS}", [keys])
    con.execute(f"INSERT INTO payout_work {_ROWS}", [keys])
