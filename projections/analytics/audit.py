"""``audit``: the full trail of a task, a session or an agent type, in log order.

Each entry is one record: who (session, actor), what (type, reason, status), when
(occurred at), the fencing token, and for a takeover whom it was taken from and, if
forced, who forced it. A session's trail holds its own records, its claims' records
and the takeovers of its claims. An agent type's trail holds the records of the
claims made under it and of the sessions started with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb
import msgspec

from projections.analytics.window import Window, records


class Subject(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Whose trail: any of a task, a session and an agent type (all must match)."""

    task_id: str | None = None
    session_id: str | None = None
    agent_type: str | None = None

    def empty(self) -> bool:
        return self.task_id is None and self.session_id is None and self.agent_type is None


class Entry(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    position: int
    occurred_at: datetime
    type: str
    task_id: str | None
    session_id: str | None
    actor: str
    fencing_token: int | None
    previous_token: int | None
    from_session: str | None
    reason: str | None
    forced: bool | None
    forced_by: str | None
    status: str | None
    expires_at: datetime | None
    correlation_id: str | None

    def summary(self) -> str:
        """What happened, in a few words, for people."""
        return _SUMMARIES.get(self.type, _plain)(self)


class Trail(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    subject: Subject
    window: Window
    entries: list[Entry]
    truncated: bool


_SELECT = """
SELECT position, strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS occurred_at, type,
    task_id, session_id, actor, fencing_token, previous_token, from_session, reason,
    forced, forced_by, status, strftime(expires_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS expires_at,
    correlation_id
FROM events e
WHERE {condition}
ORDER BY position
LIMIT ?
"""

_BY_AGENT = """
(EXISTS (SELECT 1 FROM claim_intervals i WHERE i.task_id = e.task_id
    AND i.agent_type = ? AND i.fencing_token IN (e.fencing_token, e.previous_token))
 OR (e.type = 'session_started' AND e.agent_type = ?))
"""


def audit(
    con: duckdb.DuckDBPyConnection,
    subject: Subject,
    *,
    window: Window | None = None,
    heartbeats: bool = True,
    limit: int | None = None,
) -> Trail:
    """The subject's records in ``window``, oldest first, at most ``limit``."""
    window = window or Window()
    condition, params = trail_condition(subject, window, heartbeats=heartbeats)
    cap = cap_of(limit)
    rows = records(con, _SELECT.format(condition=condition), [*params, cap + 1])
    entries = [msgspec.convert(row, Entry) for row in rows[:cap]]
    return Trail(subject=subject, window=window, entries=entries, truncated=len(rows) > cap)


def trail_condition(
    subject: Subject, window: Window, *, heartbeats: bool
) -> tuple[str, list[object]]:
    """The ``WHERE`` condition on ``events e`` that picks the subject's records in
    ``window``, and its parameters."""
    condition, params = window.sql("occurred_at")
    parts = [condition]
    if subject.task_id is not None:
        parts.append("task_id = ?")
        params.append(subject.task_id)
    if subject.session_id is not None:
        parts.append("(session_id = ? OR from_session = ?)")
        params += [subject.session_id, subject.session_id]
    if subject.agent_type is not None:
        parts.append(_BY_AGENT)
        params += [subject.agent_type, subject.agent_type]
    if not heartbeats:
        parts.append("type <> 'heartbeat'")
    return " AND ".join(parts), params


def cap_of(limit: int | None) -> int:
    """The most entries a trail holds: ``limit``, or (without one) all of them."""
    return limit if limit is not None else 1 << 62


def _plain(entry: Entry) -> str:
    return entry.type.replace("_", " ")


def _claimed(entry: Entry) -> str:
    return f"claimed by {entry.session_id}"


def _taken_over(entry: Entry) -> str:
    how = f"forced by {entry.forced_by}" if entry.forced else "after expiry"
    return (
        f"taken over from {entry.from_session} (token {entry.previous_token})"
        f" by {entry.session_id}, {how}: {entry.reason}"
    )


def _with_reason(entry: Entry) -> str:
    return f"{_plain(entry)}: {entry.reason}" if entry.reason else _plain(entry)


def _status(entry: Entry) -> str:
    return f"status {entry.status}" + (f": {entry.reason}" if entry.reason else "")


_SUMMARIES: dict[str, Callable[[Entry], str]] = {
    "claimed": _claimed,
    "taken_over": _taken_over,
    "released": _with_reason,
    "orphaned": _with_reason,
    "session_ended": _with_reason,
    "task_status_changed": _status,
}
