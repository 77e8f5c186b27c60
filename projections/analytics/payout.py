"""``payout``: how credit for each finished task splits among the workers who held it.

A task is finished when its status is ``done``; the period chooses tasks by when
they became done. A worker is a session (seed 000's stable worker id). For each
finished task and each worker who held a claim on it:

- ``time_share``: the worker's heartbeat-backed active time on the task over all
  the workers' (split at takeovers, since each claim is an interval of its own);
  equal parts when nobody has any active time.
- ``completion_share``: 1 for the completer, the holder whose release was recorded
  in the same append that made the task done, 0 for the others; when nobody
  completed it that way (its status was set to done without a holder), the
  completion credit follows the time shares.
- ``share = w_time * time_share + w_completion * completion_share``, with the two
  weights scaled to sum to 1 (defaults 0.8 and 0.2). Shares sum to 1 per task.
- a worker's ``credit``: the sum of its shares, added with compensation (DuckDB's
  ``fsum``), so that it does not depend on the order the rows are added in.

Everything but the weighing is kept per finished task and worker in ``payout_work``
by the feeder (``projections.analytics.payout_work``); a question filters and sorts it.

A finished task that nobody ever claimed has no workers; it is listed as
unattributed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import duckdb
import msgspec

from ledger.errors import InvalidInput
from projections.analytics.window import Window, records

TIME_WEIGHT: Final = 0.8
COMPLETION_WEIGHT: Final = 0.2


class Weights(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The weights of active time and of completion; any two non-negative numbers
    with a positive sum (only their ratio matters)."""

    time: float = TIME_WEIGHT
    completion: float = COMPLETION_WEIGHT

    def scaled(self) -> tuple[float, float]:
        """The weights divided by their sum; ``InvalidInput`` if that is impossible."""
        total = self.time + self.completion
        if self.time < 0 or self.completion < 0 or not total > 0 or total == float("inf"):
            raise InvalidInput(
                "payout weights must be non-negative, finite and not both zero",
                timeWeight=self.time,
                completionWeight=self.completion,
            )
        return self.time / total, self.completion / total


class Share(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    session_id: str
    agent_type: str | None
    claims: int
    active_ms: int
    time_share: float
    completion_share: float
    share: float


class TaskPayout(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    task_id: str
    title: str | None
    finished_at: datetime
    completed_by: str | None
    active_ms: int
    workers: list[Share] = msgspec.field(default_factory=list)


class WorkerTotal(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A worker's credit over the period: the sum of its shares of finished tasks."""

    session_id: str
    agent_type: str | None
    tasks: int
    active_ms: int
    credit: float


class Payout(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    window: Window
    weights: Weights
    workers: list[WorkerTotal]
    tasks: list[TaskPayout]
    """Per task and worker; left empty when asked for the totals only."""
    unattributed: list[str]


_DETAIL = """
SELECT task_id, title, strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS finished_at,
    completed_by, total_ms, session_id, agent_type, claims, active_ms, time_share,
    completion_share, share
FROM shares
ORDER BY shares.finished_at, task_id, session_id
"""
_TOTALS = """
SELECT session_id, arg_max(agent_type, last_start) AS agent_type, count(*) AS tasks,
    sum(active_ms)::BIGINT AS active_ms, fsum(share) AS credit
FROM shares
GROUP BY session_id
ORDER BY session_id
"""
_QUERY = """
WITH period AS (
    SELECT * FROM payout_work WHERE {condition}
), shares AS (
    SELECT *, ? * time_share + ? * completion_share AS share FROM period
)
{select}
"""
"""The shares of the tasks finished in the period: ``payout_work`` (kept by the feeder,
``projections.analytics.payout_work``) filtered and weighed."""


def payout(
    con: duckdb.DuckDBPyConnection,
    *,
    window: Window | None = None,
    weights: Weights | None = None,
    task_id: str | None = None,
    detail: bool = True,
) -> Payout:
    """Shares of every task finished in ``window`` (or of one task), and each worker's
    total; ``detail=False`` leaves the per-task list out (it is the costly part, and
    ``projections.analytics.payout_text`` streams it instead)."""
    window = window or Window()
    weights = weights or Weights()
    query = SharesQuery.of(window, weights, task_id)
    totals = records(con, query.sql(_TOTALS), query.values)
    rows = con.execute(query.sql(_DETAIL), query.values).fetchall() if detail else []
    return Payout(
        window=window,
        weights=weights,
        workers=[msgspec.convert(row, WorkerTotal) for row in totals],
        tasks=_tasks(rows),
        unattributed=_unattributed(con, query.condition, query.params),
    )


class SharesQuery(msgspec.Struct, frozen=True):
    """The ``shares`` of the tasks a payout covers (one row per task and worker), as a
    query to finish with a ``SELECT ... FROM shares``."""

    condition: str
    params: list[object]
    values: list[object]

    @classmethod
    def of(cls, window: Window, weights: Weights, task_id: str | None) -> SharesQuery:
        time_weight, completion_weight = weights.scaled()
        condition, params = window.sql("finished_at")
        if task_id is not None:
            condition += " AND task_id = ?"
            params.append(task_id)
        return cls(condition, params, [*params, time_weight, completion_weight])

    def sql(self, select: str) -> str:
        return _QUERY.replace("{condition}", self.condition).replace("{select}", select)


def _tasks(rows: list[tuple[Any, ...]]) -> list[TaskPayout]:
    """Rows (one per task and worker, by task) grouped into tasks, built directly."""
    found: list[TaskPayout] = []
    for task_id, title, finished, completer, total, *worker in rows:
        if not found or found[-1].task_id != task_id:
            when = datetime.fromisoformat(finished.replace("Z", "+00:00"))
            found.append(
                TaskPayout(
                    task_id=task_id,
                    title=title,
                    finished_at=when,
                    completed_by=completer,
                    active_ms=total,
                )
            )
        session, agent, claims, active, time_share, completion, share = worker
        found[-1].workers.append(
            Share(
                session_id=session,
                agent_type=agent,
                claims=claims,
                active_ms=active,
                time_share=time_share,
                completion_share=completion,
                share=share,
            )
        )
    return found


def _unattributed(
    con: duckdb.DuckDBPyConnection, condition: str, params: list[object]
) -> list[str]:
    rows = con.execute(
        "SELECT task_id FROM tasks WHERE status = 'done' AND finished_at IS NOT NULL"
        f" AND {condition} AND task_id NOT IN (SELECT task_id FROM claim_intervals)"
        " ORDER BY finished_at, task_id",
        params,
    ).fetchall()
    return [str(task_id) for (task_id,) in rows]
