"""The campaign's invariants, checked after the run from the log and the side files.

Each check returns the violations it found, as sentences; a run passes with none.
The claim checks fold every task stream on their own (not with ``ledger.state``,
which is what they check): a new claim only once the last one ended in the log, an
expiry only once the lease was past its end on the expiring writer's clock, a
heartbeat or release only by the holder of a live lease, fencing tokens growing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from ledger.events import Claimed, Expired, Heartbeat, Orphaned, Released, TakenOver
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore
from ledger.verify import verify_store
from projections.board import PROJECTIONS, Board
from projections.runner import ProjectionRunner
from tests.campaign.agent import ReaderReport, hash_digest
from tests.campaign.journal import OK, UNEXPECTED, OpRecord, read_journal
from tests.integration.harness import only_torn_tail_notices

APPEND_FAULT_CODE = "STORE_ERROR"
"""What an operation whose append failed must answer: a clear ``StoreError``."""


@dataclass
class Findings:
    records: int = 0
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@dataclass
class _Lease:
    session: str
    token: int
    expires_at: datetime


def check_campaign(
    url: str,
    *,
    journals: Sequence[Path],
    readers: Sequence[ReaderReport],
    sse: Sequence[Sequence[tuple[int, str]]],
    lock_delay: timedelta = timedelta(0),
    server_time: bool = False,
) -> Findings:
    findings = Findings()
    ops = [record for path in journals for record in read_journal(path)]
    store = open_store(url)
    try:
        records = list(store.read_all())
        findings.records = len(records)
        problems = [
            *check_log(store, records),
            *check_claims(records),
            *check_lock_delay(records, lock_delay),
            *(check_server_time(records) if server_time else []),
            *check_reported_errors(ops),
            *check_readers(records, readers),
            *check_sse(records, sse),
            *check_projections(store),
            *check_analytics(store),
        ]
    finally:
        store.close()
    findings.violations.extend(problems)
    acked = [op for op in ops if op.outcome == OK]
    findings.acknowledged = len(acked)
    findings.lost.extend(lost_acknowledgements(records, acked))
    return findings


def check_log(store: EventStore, records: Sequence[Record]) -> list[str]:
    """``verify`` passes; positions are 1..n; no event id twice; recorded_at never goes back."""
    found: list[str] = []
    report = verify_store(store)
    if not report.ok or not only_torn_tail_notices(report):
        found.append(f"verify failed: {report.problem} {report.notices}")
    if [record.position for record in records] != list(range(1, len(records) + 1)):
        found.append("positions are not 1..n")
    ids = [record.event_id for record in records]
    if len(set(ids)) != len(ids):
        found.append(f"{len(ids) - len(set(ids))} event ids are stored twice")
    for earlier, later in itertools.pairwise(records):
        if later.recorded_at < earlier.recorded_at:
            found.append(f"recorded_at goes back at position {later.position} (S7)")
    return found


def check_claims(records: Iterable[Record]) -> list[str]:
    """At most one live claim per task, and fencing tokens that only grow."""
    found: list[str] = []
    leases: dict[str, _Lease | None] = {}
    tokens: dict[str, int] = {}
    just_expired: dict[str, int] = {}
    """The token of a lease whose expiry is the task's last record: a takeover may follow."""
    for record in records:
        data = record.data
        if not isinstance(data, Claimed | TakenOver | Heartbeat | Released | Expired | Orphaned):
            continue
        task = data.task_id
        lease = leases.get(task)
        expired_token = just_expired.pop(task, None)
        where = f"position {record.position} ({record.type} of {task})"
        if isinstance(data, Claimed | TakenOver):
            if isinstance(data, Claimed) and lease is not None:
                found.append(f"{where}: claimed while {lease.session} still held it")
            current = lease.token if lease is not None else expired_token
            if isinstance(data, TakenOver) and current != data.previous_token:
                found.append(f"{where}: took over a claim that is not the current one")
            if data.fencing_token <= tokens.get(task, 0):
                found.append(f"{where}: fencing token {data.fencing_token} did not grow")
            tokens[task] = data.fencing_token
            session = data.session_id if isinstance(data, Claimed) else data.to_session
            leases[task] = _Lease(session, data.fencing_token, data.expires_at)
            continue
        if lease is None or lease.token != data.fencing_token or lease.session != data.session_id:
            found.append(f"{where}: not the current claim's holder and token")
            continue
        if isinstance(data, Heartbeat):
            if record.occurred_at >= lease.expires_at:
                found.append(f"{where}: heartbeat after the lease expired")
            lease.expires_at = data.expires_at
            continue
        if isinstance(data, Expired) and record.occurred_at < lease.expires_at:
            found.append(f"{where}: expired before its lease ended on its writer's clock")
        if isinstance(data, Expired) and record.recorded_at < lease.expires_at:
            found.append(f"{where}: expired before its lease ended by the ledger clock")
        leases[task] = None
        if isinstance(data, Expired):
            just_expired[task] = data.fencing_token
    return found


def check_server_time(records: Iterable[Record]) -> list[str]:
    """On a ledger whose server keeps the time: every decision was made no later than
    its record's ``recorded_at`` (no writer's clock ahead decided), and no claim,
    takeover or heartbeat grants a lease that ends at or before its recording."""
    found: list[str] = []
    for record in records:
        where = f"position {record.position} ({record.type})"
        if record.occurred_at > record.recorded_at:
            found.append(f"{where}: decided after the server recorded it")
        data = record.data
        if isinstance(data, Claimed | TakenOver | Heartbeat) and (
            data.expires_at <= record.recorded_at
        ):
            found.append(f"{where}: grants a lease that ended before its recording")
    return found


def check_lock_delay(records: Iterable[Record], delay: timedelta) -> list[str]:
    """After an expiry or an orphaning, the next claim (or unforced takeover) was decided
    no sooner than ``delay`` after the lease ended."""
    found: list[str] = []
    ended: dict[str, datetime] = {}
    for record in records:
        data = record.data
        if isinstance(data, Expired):
            ended[data.task_id] = data.expired_at
        elif isinstance(data, Orphaned):
            ended[data.task_id] = record.occurred_at
        elif isinstance(data, Released):
            ended.pop(data.task_id, None)
        elif isinstance(data, Claimed | TakenOver):
            end = ended.pop(data.task_id, None)
            forced = isinstance(data, TakenOver) and data.forced
            if end is not None and not forced and record.occurred_at < end + delay:
                found.append(
                    f"position {record.position} ({record.type} of {data.task_id}):"
                    f" claimed inside the lock-delay after the lease ended at {end}"
                )
    return found


def lost_acknowledgements(records: Sequence[Record], acked: Iterable[OpRecord]) -> list[str]:
    """Acknowledged operations whose writes are not in the log."""
    ids = {record.event_id for record in records}
    versions = {(record.stream, record.version) for record in records}
    releases = {
        (record.data.task_id, record.data.session_id, record.data.fencing_token)
        for record in records
        if isinstance(record.data, Released)
    }
    lost: list[str] = []
    for op in acked:
        missing = [event_id for event_id in op.ids if event_id not in ids]
        if missing:
            lost.append(f"{op.agent} {op.op}: event ids {missing}")
        if op.stream is not None and (op.stream, op.version) not in versions:
            lost.append(f"{op.agent} {op.op}: {op.stream} version {op.version}")
        http_release = op.op == "release" and op.session is not None and op.token is not None
        if http_release and (op.task, op.session, op.token) not in releases:
            lost.append(f"{op.agent} release of {op.task} with token {op.token}")
    return lost


def check_reported_errors(ops: Iterable[OpRecord]) -> list[str]:
    """Every failure was a ``LedgerError``; every failed append a clear ``STORE_ERROR``."""
    found: list[str] = []
    for op in ops:
        if op.outcome == UNEXPECTED:
            found.append(f"{op.agent} {op.op} raised a non-ledger error:\n{op.detail}")
        append_fault = any(kind.endswith("-append") for kind in op.faults)
        if append_fault and op.outcome != APPEND_FAULT_CODE:
            found.append(f"{op.agent} {op.op} with {op.faults} answered {op.outcome}")
    return found


def check_readers(records: Sequence[Record], readers: Iterable[ReaderReport]) -> list[str]:
    """Each tailing reader saw every position once, in order, whole batches only, and
    exactly the records the log holds."""
    found: list[str] = []
    for report in readers:
        found.extend(f"{report.name}: {problem}" for problem in report.problems)
        if report.digest != hash_digest(records[: report.position]):
            found.append(f"{report.name}: saw other records than the log's first {report.position}")
    return found


def check_sse(records: Sequence[Record], clients: Iterable[Sequence[tuple[int, str]]]) -> list[str]:
    """Each SSE client got every position from 1 exactly once, in order, with its event id."""
    found: list[str] = []
    for number, seen in enumerate(clients):
        positions = [position for position, _ in seen]
        if positions != list(range(1, len(positions) + 1)):
            found.append(f"SSE client {number}: positions are not 1..{len(positions)} once each")
            continue
        wrong = [p for p, event_id in seen if records[p - 1].event_id != event_id]
        if wrong:
            found.append(f"SSE client {number}: other events than the log's at {wrong[:5]}")
    return found


def check_projections(store: EventStore) -> list[str]:
    """A runner restored from the snapshots the agents saved equals a fold from zero."""
    live = ProjectionRunner(store).catch_up()
    rebuilt = Board()
    rebuilt.catch_up(store)
    found: list[str] = []
    for projection in PROJECTIONS:
        name = projection.name
        if _encoded(live.states[name]) != _encoded(rebuilt.states[name]):
            found.append(f"projection {name} restored from snapshots differs from a rebuild")
    return found


def check_analytics(store: EventStore) -> list[str]:
    """The analytics file the sweeper fed (and was killed feeding) equals a fresh feed."""
    from projections.analytics import Analytics, default_path
    from tests.analytics.helpers import dump, fed

    path = default_path(str(getattr(store, "path", "")) or None)
    with Analytics(path) as kept, fed(store) as fresh:
        kept.update(store)
        if dump(kept.con) != dump(fresh.con) or kept.checkpoint() != fresh.checkpoint():
            return ["the analytics file differs from a feed from zero"]
    return []


def _encoded(state: msgspec.Struct) -> bytes:
    return msgspec.msgpack.encode(state)
