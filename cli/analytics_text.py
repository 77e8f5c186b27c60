"""The analytics answers for people and spreadsheets: table rows, notes and CSV.

``claims audit|stats|payout`` (``cli.commands.analytics``) print a table with these
rows and notes, or write these records as CSV with the answer's position and head hash.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from projections.analytics import Checkpoint
    from projections.analytics.audit import Entry
    from projections.analytics.payout import Share, TaskPayout, WorkerTotal
    from projections.analytics.stats import Current, Durations, GroupStats, Overlap
    from projections.cost import CostTotals


def cost_notes(cost: CostTotals) -> list[str]:
    """One line of measured tokens per worker, when any were measured."""
    if not cost.workers and not cost.unattributed:
        return []
    workers = ", ".join(
        f"{worker.session_id} {worker.tokens.total:,} ({worker.share:.0%})"
        for worker in cost.workers
    )
    notes = [
        f"measured tokens by worker (beside the shares, policy {cost.policy}): {workers or '-'}"
    ]
    for task in cost.tasks:
        each = ", ".join(f"{w.session_id} {w.tokens.total:,}" for w in task.workers)
        notes.append(f"  {task.task_id}: {task.tokens.total:,} tokens ({each})")
    if cost.unattributed:
        idle = ", ".join(f"{w.session_id} {w.tokens.total:,}" for w in cost.unattributed)
        notes.append(f"unattributed tokens (no claim held): {idle}")
    return notes


def write_csv(records: Sequence[dict[str, Any]], checkpoint: Checkpoint) -> None:
    rows = [
        {**record, "position": checkpoint.position, "headHash": checkpoint.hash}
        for record in records
    ]
    names = list(rows[0]) if rows else ["position", "headHash"]
    writer = csv.DictWriter(sys.stdout, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})


def _csv_cell(value: object) -> object:
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    return "" if value is None else value


STATS_HEADERS = [
    "KEY",
    "CLAIMS",
    "DONE",
    "EXPIRED",
    "TAKEN",
    "FORCED",
    "ORPHANED",
    "OPEN",
    "CLAIMED p50/p95/max",
    "ACTIVE p50/p95/max",
    "STALE",
]
PAYOUT_HEADERS = [
    "TASK",
    "FINISHED",
    "WORKER",
    "AGENT",
    "CLAIMS",
    "ACTIVE",
    "TIME",
    "DONE",
    "SHARE",
]


def audit_row(entry: Entry) -> list[object]:
    return [
        entry.position,
        _clock(entry.occurred_at),
        entry.task_id,
        entry.session_id,
        entry.fencing_token,
        entry.actor,
        entry.summary(),
    ]


def payout_row(task: TaskPayout, worker: Share) -> list[object]:
    return [
        task.task_id,
        _clock(task.finished_at),
        worker.session_id,
        worker.agent_type,
        worker.claims,
        _span(worker.active_ms),
        _ratio(worker.time_share),
        _ratio(worker.completion_share),
        _ratio(worker.share),
    ]


def total_row(worker: WorkerTotal) -> list[object]:
    return [
        worker.session_id,
        worker.agent_type,
        worker.tasks,
        _span(worker.active_ms),
        f"{worker.credit:.3f}",
    ]


def stats_row(group: GroupStats) -> list[object]:
    return [
        group.key,
        group.claims,
        group.completions,
        group.expiries,
        group.takeovers,
        group.forced_takeovers,
        group.orphans,
        group.open,
        _spans(group.claimed),
        _spans(group.active),
        "-" if group.stale_rate is None else f"{group.stale_rate:.0%}",
    ]


def stats_csv(group: GroupStats) -> dict[str, Any]:
    flat: dict[str, Any] = msgspec.to_builtins(group)
    for name in ("claimed", "active"):
        for key, value in flat.pop(name).items():
            flat[f"{name}{key.capitalize()}Ms" if key != "count" else f"{name}Count"] = value
    return flat


def overlaps_note(overlaps: Sequence[Overlap]) -> str:
    if not overlaps:
        return "overlapping claims: none"
    return "OVERLAPPING CLAIMS (a race!): " + "; ".join(
        f"{o.task_id}: {o.session_id} (token {o.fencing_token}) started inside"
        f" {o.earlier_session} (token {o.earlier_token})"
        for o in overlaps
    )


def current_note(current: Current) -> str:
    return (
        f"now: {current.in_flight} in flight, {current.expiring_soon} expiring soon,"
        f" {current.stale} stale, {current.expired_unswept} expired but not swept"
    )


def _spans(durations: Durations) -> str:
    if durations.count == 0:
        return "-"
    return "/".join(_span(value) for value in (durations.p50, durations.p95, durations.max))


def _span(ms: int | None) -> str:
    """A duration for people: 850ms, 42s, 4m05s, 2h03m."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _ratio(value: float) -> str:
    return f"{value:.3f}"


def _clock(when: datetime | None) -> str:
    return "-" if when is None else when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
