"""The per-task-and-worker payout written by DuckDB as text, a page at a time.

Over a long history the per-task list has hundreds of thousands of rows; building a
``TaskPayout`` and a ``Share`` for each, then encoding them, costs several times
the query. Here DuckDB renders the JSON of each task and worker (pieces of what
``msgspec`` encodes a ``TaskPayout`` to) or its CSV line (what ``claims payout --csv``
writes), and the caller streams pages of them out with ``fetchmany``. The text is
byte for byte what the Structs give (``projections.analytics.render``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Literal

import duckdb

from projections.analytics import render
from projections.analytics.payout import SharesQuery

Form = Literal["json", "csv"]

PAGE: Final = 20_000
"""Rows fetched at a time."""

CSV_COLUMNS: Final = (
    "taskId",
    "finishedAt",
    "completedBy",
    "sessionId",
    "agentType",
    "claims",
    "activeMs",
    "timeShare",
    "completionShare",
    "share",
)
"""The CSV columns of one task and worker, before the answer's position and head hash."""

_WORKER_BEFORE_SHARE = render.json_object(
    [
        ("sessionId", render.json_str("session_id")),
        ("agentType", render.json_str("agent_type")),
        ("claims", render.json_int("claims")),
        ("activeMs", render.json_int("active_ms")),
        ("timeShare", render.json_float("time_share")),
        ("completionShare", render.json_float("completion_share")),
    ]
)
_TASK_HEAD = render.json_object(
    [
        ("taskId", render.json_str("task_id")),
        ("title", render.json_str("title")),
        ("finishedAt", render.json_time("finished_at")),
        ("completedBy", render.json_str("completed_by")),
        ("activeMs", render.json_int("total_ms")),
    ]
)
JSON_OPEN: Final = f"""CASE WHEN first_worker
    THEN left({_TASK_HEAD}, -1) || ',"workers":[' ELSE '' END"""
"""``payout_work.json_open``: a task's members and ``"workers":[`` before its first worker."""
JSON_WORKER: Final = f"""left({_WORKER_BEFORE_SHARE}, -1) || ',"share":'"""
"""``payout_work.json_worker``: the worker's object up to its share, which the weights of
each question decide."""
_JSON = f"""
SELECT concat(json_open, json_worker, {render.json_float("share")},
    CASE WHEN last_worker THEN '}}]}}' ELSE '}}' END)
FROM shares
ORDER BY finished_at, task_id, session_id
"""
"""One row per task and worker, in the payout's order: the task's members and
``"workers":[`` before its first worker, ``]}`` after its last (marked in ``payout_work``
by the feeder), so that the rows joined by commas are the tasks' JSON objects joined by
commas (no grouping or window per question, which cost more than the rendering at 10M
events). All of it but the share is rendered by the feeder into ``payout_work``: at 10M
events rendering 780,000 rows per question cost three times the sort."""
_CSV_FIELDS = [
    render.csv_str("task_id"),
    render.csv_time("finished_at"),
    render.csv_str("completed_by"),
    render.csv_str("session_id"),
    render.csv_str("agent_type"),
    *(
        render.csv_number(column)
        for column in ("claims", "active_ms", "time_share", "completion_share", "share")
    ),
]
_CSV = f"""
SELECT {render.csv_line(_CSV_FIELDS)} || ?
FROM shares
ORDER BY finished_at, task_id, session_id
"""


def pages(
    con: duckdb.DuckDBPyConnection,
    form: Form,
    query: SharesQuery,
    suffix: str = "",
    *,
    page: int = PAGE,
) -> Iterator[list[str]]:
    """One text row per task and worker, in the payout's order, ``page`` rows at a time.
    ``json``: joined by commas, the rows are the ``TaskPayout`` objects' encodings joined
    by commas; ``csv``: each is the CSV line (``CSV_COLUMNS``, then ``suffix``, which
    starts with a comma), without its line end."""
    if form == "json":
        cursor = con.execute(query.sql(_JSON), query.values)
    else:
        cursor = con.execute(query.sql(_CSV), [*query.values, suffix])
    return _pages(cursor, page)


def _pages(cursor: duckdb.DuckDBPyConnection, page: int) -> Iterator[list[str]]:
    while rows := cursor.fetchmany(page):
        yield [row[0] for row in rows]
