"""Seed 002's JSON bodies, built once for the CLI's ``--json`` and the HTTP API.

Keys are camelCase as in seed 002; times are RFC 3339 in UTC with milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from application.results import (
    ClaimResult,
    HeartbeatResult,
    ImportResult,
    ReleaseResult,
    SweepResult,
    TakeoverResult,
)
from ledger.clock import iso
from ledger.state import Lease, SessionState, TaskState
from projections.in_flight import InFlight, InFlightEntry
from projections.sessions import HistoryEntry, SessionView

Body = dict[str, Any]


def lease_body(task_id: str, lease: Lease) -> Body:
    return {
        "taskId": task_id,
        "sessionId": lease.session_id,
        "claimedAt": iso(lease.claimed_at),
        "expiresAt": iso(lease.expires_at),
        "lastHeartbeat": iso(lease.last_heartbeat),
        "heartbeatCount": lease.heartbeat_count,
        "agentType": lease.agent_type,
        "tier": lease.tier,
        "ttlMs": lease.ttl_ms,
        "fencingToken": lease.fencing_token,
        "scope": list(lease.scope),
        "constraints": list(lease.constraints),
        "metadata": lease.metadata,
    }


def task_body(task: TaskState) -> Body:
    return {
        "taskId": task.task_id,
        "title": task.title,
        "status": task.status,
        "priority": task.priority,
        "roi": task.roi,
        "fingerprint": task.fingerprint,
        "phase": task.phase,
        "version": task.version,
        "claim": None if task.lease is None else lease_body(task.task_id, task.lease),
    }


def claim_body(result: ClaimResult) -> Body:
    claim = lease_body(result.task.task_id, result.lease)
    claim["version"] = result.task.version
    claim["renewed"] = result.renewed
    return {"success": True, "claim": claim}


def heartbeat_body(result: HeartbeatResult) -> Body:
    return {
        "success": True,
        "claim": {
            "taskId": result.task.task_id,
            "sessionId": result.lease.session_id,
            "expiresAt": iso(result.lease.expires_at),
            "heartbeatCount": result.lease.heartbeat_count,
            "fencingToken": result.lease.fencing_token,
            "version": result.task.version,
        },
    }


def release_body(result: ReleaseResult) -> Body:
    return {
        "success": True,
        "released": {
            "taskId": result.task.task_id,
            "sessionId": result.session_id,
            "reason": result.reason,
            "claimDuration": result.claim_duration_ms,
            "fencingToken": result.fencing_token,
            "status": result.task.status,
            "version": result.task.version,
        },
    }


def takeover_body(result: TakeoverResult) -> Body:
    body = claim_body(
        ClaimResult(task=result.task, lease=result.lease, renewed=False, records=result.records)
    )
    body["takeover"] = {"fromSession": result.from_session, "forced": result.forced}
    return body


def in_flight_entry_body(entry: InFlightEntry) -> Body:
    claim = lease_body(entry.task.task_id, entry.lease)
    claim["remainingMs"] = entry.remaining_ms
    claim["healthStatus"] = entry.health
    return {
        "taskId": entry.task.task_id,
        "task": {
            "title": entry.task.title,
            "phase": entry.task.phase,
            "priority": entry.task.priority,
            "roi": entry.task.roi,
            "status": entry.task.status,
        },
        "claim": claim,
    }


def in_flight_body(flight: InFlight) -> Body:
    by_session = Counter(entry.lease.session_id for entry in flight.entries)
    return {
        "inFlight": [in_flight_entry_body(entry) for entry in flight.entries],
        "summary": {"total": len(flight.entries), "bySession": dict(sorted(by_session.items()))},
        "asOf": iso(flight.at),
        "position": flight.position,
    }


def current_task_body(session_id: str, entry: InFlightEntry | None) -> Body:
    if entry is None:
        return {"sessionId": session_id, "currentTask": None}
    return {
        "sessionId": session_id,
        "currentTask": {
            "taskId": entry.task.task_id,
            "title": entry.task.title,
            "phase": entry.task.phase,
            "claim": {
                "claimedAt": iso(entry.lease.claimed_at),
                "expiresAt": iso(entry.lease.expires_at),
                "remainingMs": entry.remaining_ms,
                "fencingToken": entry.lease.fencing_token,
                "healthStatus": entry.health,
            },
        },
    }


def session_body(state: SessionState) -> Body:
    return {
        "sessionId": state.session_id,
        "agentType": state.agent_type,
        "tier": state.tier,
        "host": state.host,
        "pid": state.pid,
        "startedAt": iso(state.started_at),
        "endedAt": iso(state.ended_at),
        "active": state.started and not state.ended,
    }


def sweep_body(result: SweepResult) -> Body:
    return {
        "success": True,
        "expired": result.expired,
        "orphaned": [
            {"taskId": task, "sessionId": session, "reason": reason}
            for task, session, reason in result.orphaned
        ],
        "cleaned": len(result.expired) + len(result.orphaned),
    }


def import_body(result: ImportResult) -> Body:
    return {
        "success": True,
        "added": result.added,
        "existing": result.existing,
        "total": len(result.added) + len(result.existing),
    }


def history_body(
    session_id: str,
    view: SessionView,
    now: datetime,
    limit: int | None,
    leases: Mapping[str, Lease],
) -> Body:
    """Seed 002's ``claimHistory``, newest first; ``limit=None`` for all of it. The
    current task is the newest claim still open whose lease (from ``leases``, the
    current-claims projection) is live at ``now``, as ``current-task`` answers."""
    entries = list(reversed(view.history))
    shown = entries if limit is None else entries[:limit]
    current = next(
        (entry for entry in entries if entry.released_at is None and _live(entry, leases, now)),
        None,
    )
    return {
        "sessionId": session_id,
        "session": session_body(view.state),
        "currentTaskId": None if current is None else current.task_id,
        "currentTaskClaimedAt": None if current is None else iso(current.claimed_at),
        "claimHistory": [
            {
                "taskId": entry.task_id,
                "fencingToken": entry.fencing_token,
                "claimedAt": iso(entry.claimed_at),
                "releasedAt": iso(entry.released_at),
                "releaseReason": entry.release_reason,
                "duration": entry.duration_ms(now),
            }
            for entry in shown
        ],
        "total": len(entries),
    }


def _live(entry: HistoryEntry, leases: Mapping[str, Lease], now: datetime) -> bool:
    lease = leases.get(entry.task_id)
    return lease is not None and lease.fencing_token == entry.fencing_token and lease.live_at(now)
