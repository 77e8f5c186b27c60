"""``stats``: claim figures grouped by session, agent type, task or day.

A claim belongs to the period its start falls in. Figures of a group: claims
(intervals started), completions (released with reason ``completed``), releases by
reason, expiries, takeovers (forced or not) and orphans among them, the ones still
open; claimed and active durations over the closed ones (count, mean, p50, p95,
max); the stale rate, the share of closed claims that went longer than
``stale_after_ms`` without a sign of life. Quantiles are nearest-rank: the p-th
quantile of n values is the ceil(p * n)-th smallest (DuckDB's ``quantile_disc``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import duckdb
import msgspec

from ledger.codec import micros
from ledger.config import ClaimConfig
from projections.analytics.window import Window, records

GroupBy = Literal["session", "agent", "task", "day"]
GROUPS: Final[dict[str, str]] = {
    "session": "session_id",
    "agent": "coalesce(agent_type, '-')",
    "task": "task_id",
    "day": "strftime(started_at, '%Y-%m-%d')",
}
ALL: Final = "*"
"""The key of the row that sums every group."""


class Durations(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Milliseconds: how many, mean, nearest-rank p50 and p95, max (``None`` if none)."""

    count: int
    mean: float | None
    p50: int | None
    p95: int | None
    max: int | None


class GroupStats(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    key: str
    claims: int
    completions: int
    releases: dict[str, int]
    expiries: int
    takeovers: int
    forced_takeovers: int
    orphans: int
    superseded: int
    open: int
    closed: int
    claimed: Durations
    active: Durations
    stale: int
    stale_rate: float | None


class Overlap(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A claim that started before the one before it on the same task had ended."""

    task_id: str
    session_id: str
    fencing_token: int
    started_at: datetime
    earlier_session: str
    earlier_token: int
    earlier_end: datetime


class Current(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Seed 002's live figures over the open claims at ``at``."""

    at: datetime
    in_flight: int
    by_session: dict[str, int]
    by_agent_type: dict[str, int]
    expiring_soon: int
    stale: int
    expired_unswept: int


class Stats(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    by: str
    window: Window
    stale_after_ms: int
    groups: list[GroupStats]
    total: GroupStats
    overlaps: list[Overlap]
    current: Current | None = None


_FIGURES = """
    count(*) AS claims,
    count(*) FILTER (WHERE end_reason = 'released' AND release_reason = 'completed')
        AS completions,
    count(*) FILTER (WHERE end_reason = 'expired') AS expiries,
    count(*) FILTER (WHERE end_reason = 'taken_over') AS takeovers,
    count(*) FILTER (WHERE end_reason = 'taken_over' AND end_forced) AS forced_takeovers,
    count(*) FILTER (WHERE end_reason = 'orphaned') AS orphans,
    count(*) FILTER (WHERE end_reason = 'superseded') AS superseded,
    count(*) FILTER (WHERE end_reason = 'open') AS open,
    count(*) FILTER (WHERE end_reason <> 'open') AS closed,
    avg(claimed_ms) AS claimed_mean,
    quantile_disc(claimed_ms, 0.5) AS claimed_p50,
    quantile_disc(claimed_ms, 0.95) AS claimed_p95,
    max(claimed_ms) AS claimed_max,
    avg(active_ms) FILTER (WHERE end_reason <> 'open') AS active_mean,
    quantile_disc(active_ms, 0.5) FILTER (WHERE end_reason <> 'open') AS active_p50,
    quantile_disc(active_ms, 0.95) FILTER (WHERE end_reason <> 'open') AS active_p95,
    max(active_ms) FILTER (WHERE end_reason <> 'open') AS active_max,
    count(*) FILTER (WHERE end_reason <> 'open' AND max_silence_ms > ?) AS stale
"""


class _Figures(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One row of the figures query, typed."""

    key: str
    claims: int = 0
    completions: int = 0
    expiries: int = 0
    takeovers: int = 0
    forced_takeovers: int = 0
    orphans: int = 0
    superseded: int = 0
    open: int = 0
    closed: int = 0
    claimed_mean: float | None = None
    claimed_p50: int | None = None
    claimed_p95: int | None = None
    claimed_max: int | None = None
    active_mean: float | None = None
    active_p50: int | None = None
    active_p95: int | None = None
    active_max: int | None = None
    stale: int = 0


class Filter(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Which claims to count: started in ``window``, of one task or session if given."""

    window: Window = Window()
    task_id: str | None = None
    session_id: str | None = None

    def sql(self, time_column: str = "started_at") -> tuple[str, list[object]]:
        condition, params = self.window.sql(time_column)
        for column, value in (("task_id", self.task_id), ("session_id", self.session_id)):
            if value is not None:
                condition += f" AND {column} = ?"
                params.append(value)
        return condition, params


def stats(
    con: duckdb.DuckDBPyConnection,
    *,
    by: GroupBy = "session",
    where: Filter | None = None,
    stale_after_ms: int | None = None,
) -> Stats:
    """Claim figures per group of ``by`` over the claims ``where`` chooses."""
    where = where or Filter()
    stale = ClaimConfig().warning_threshold if stale_after_ms is None else stale_after_ms
    condition, params = where.sql()
    groups = _groups(con, GROUPS[by], condition, params, stale)
    total = groups.pop(ALL, None) or _group(_Figures(key=ALL), {})
    return Stats(
        by=by,
        window=where.window,
        stale_after_ms=stale,
        groups=list(groups.values()),
        total=total,
        overlaps=overlaps(con, condition, params),
    )


def _groups(
    con: duckdb.DuckDBPyConnection, key: str, condition: str, params: list[object], stale: int
) -> dict[str, GroupStats]:
    """Every group's figures and the total's (key ``*``), from one scan: grouping sets."""
    label = f"CASE WHEN grouping({key}) = 1 THEN '{ALL}' ELSE {key} END"
    rows = records(
        con,
        f"SELECT {label} AS key, {_FIGURES} FROM claim_intervals WHERE {condition}"
        f" GROUP BY GROUPING SETS (({key}), ()) ORDER BY grouping({key}), {key}",
        [stale, *params],
    )
    releases = _releases(con, key, label, condition, params)
    figures = [msgspec.convert(row, _Figures) for row in rows if row["claims"]]
    return {row.key: _group(row, releases.get(row.key, {})) for row in figures}


def _releases(
    con: duckdb.DuckDBPyConnection, key: str, label: str, condition: str, params: list[object]
) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    rows = con.execute(
        f"SELECT {label} AS key, release_reason, count(*) FROM claim_intervals"
        f" WHERE end_reason = 'released' AND {condition}"
        f" GROUP BY GROUPING SETS (({key}, release_reason), (release_reason))"
        " ORDER BY ALL",
        params,
    ).fetchall()
    for group, reason, count in rows:
        found.setdefault(str(group), {})[str(reason)] = int(count)
    return found


def _group(row: _Figures, releases: dict[str, int]) -> GroupStats:
    return GroupStats(
        key=row.key,
        claims=row.claims,
        completions=row.completions,
        releases=releases,
        expiries=row.expiries,
        takeovers=row.takeovers,
        forced_takeovers=row.forced_takeovers,
        orphans=row.orphans,
        superseded=row.superseded,
        open=row.open,
        closed=row.closed,
        claimed=Durations(
            count=row.closed,
            mean=row.claimed_mean,
            p50=row.claimed_p50,
            p95=row.claimed_p95,
            max=row.claimed_max,
        ),
        active=Durations(
            count=row.closed,
            mean=row.active_mean,
            p50=row.active_p50,
            p95=row.active_p95,
            max=row.active_max,
        ),
        stale=row.stale,
        stale_rate=row.stale / row.closed if row.closed else None,
    )


def overlaps(
    con: duckdb.DuckDBPyConnection, condition: str = "TRUE", params: list[object] | None = None
) -> list[Overlap]:
    """Claims that started before the claim before them on the same task (in log
    order) had ended. The rules never write one: each is evidence of a race, or of
    writers' clocks that disagree (times are each writer's ``occurred_at``)."""
    rows = records(
        con,
        f"""
        SELECT task_id, session_id, fencing_token,
            strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS started_at,
            previous_session AS earlier_session, previous_token AS earlier_token,
            strftime(previous_end, '%Y-%m-%dT%H:%M:%S.%fZ') AS earlier_end
        FROM claim_intervals
        WHERE previous_end > started_at AND {condition}
        ORDER BY task_id, started_at, fencing_token
        """,
        params or [],
    )
    return [msgspec.convert(row, Overlap) for row in rows]


def current(
    con: duckdb.DuckDBPyConnection, now: datetime, config: ClaimConfig | None = None
) -> Current:
    """Seed 002's figures for the claims open at the checkpoint, judged at ``now``:
    in flight (lease not past its expiry), by session and agent type, expiring soon,
    stale, and expired but not yet swept (same rules as ``claims in-flight``)."""
    config = config or ClaimConfig()
    rows = con.execute(
        "SELECT session_id, coalesce(agent_type, '-'),"
        " epoch_us(lease_expires_at), epoch_us(last_heartbeat)"
        " FROM claim_intervals WHERE end_reason = 'open' ORDER BY ALL"
    ).fetchall()
    found = _Live(micros(now), config)
    for session, agent, expires_us, heartbeat_us in rows:
        found.add(str(session), str(agent), int(expires_us), int(heartbeat_us))
    return found.result(now)


class _Live:
    def __init__(self, now_us: int, config: ClaimConfig) -> None:
        self.now_us = now_us
        self.config = config
        self.by_session: dict[str, int] = {}
        self.by_agent: dict[str, int] = {}
        self.expiring = self.stale = self.expired = 0

    def add(self, session: str, agent: str, expires_us: int, heartbeat_us: int) -> None:
        remaining_ms = (expires_us - self.now_us) // 1000
        if remaining_ms <= 0:
            self.expired += 1
            return
        self.by_session[session] = self.by_session.get(session, 0) + 1
        self.by_agent[agent] = self.by_agent.get(agent, 0) + 1
        if remaining_ms <= self.config.expiring_threshold:
            self.expiring += 1
        elif (self.now_us - heartbeat_us) // 1000 > self.config.warning_threshold:
            self.stale += 1

    def result(self, now: datetime) -> Current:
        return Current(
            at=now,
            in_flight=sum(self.by_session.values()),
            by_session=self.by_session,
            by_agent_type=self.by_agent,
            expiring_soon=self.expiring,
            stale=self.stale,
            expired_unswept=self.expired,
        )
