"""The campaign's agent processes: writers, the sweeper, and readers tailing the log.

Run one with ``python -m tests.campaign.agent <role> ...`` from the repository root.
Writers and the sweeper drive ``ClaimService`` as an agent runner would and journal
every operation (``tests.campaign.journal``) before starting the next; the
orchestrator kills them with SIGKILL at random moments and starts them again.
Readers tail ``read_all`` and check what they see as they go.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

import msgspec

from application.bootstrap import wire
from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
from ledger.config import ClaimConfig
from ledger.errors import LedgerError, StoreUnavailable
from ledger.events import task_stream
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.store.log_clock import LogClock
from ledger.store.protocol import EventStore
from ledger.terms import LeaseTerms
from tests.campaign.backends import CAMPAIGN_BACKENDS
from tests.campaign.clocks import SkewedClock
from tests.campaign.faults import (
    APPEND_FAULTS,
    SNAPSHOT_FAULTS,
    FaultKind,
    Injector,
    file_size_limit,
    install_snapshot_faults,
)
from tests.campaign.journal import NOTHING, OK, UNEXPECTED, Journal, OpRecord, Written

CONFIG = ClaimConfig(
    default_ttl=1500,
    min_ttl=1,
    max_ttl=600_000,
    orphan_threshold=4000,
    cleanup_interval=300,
    lock_delay=500,
)
"""Leases of a second or two, so that expiries, takeovers and sweeps happen in seconds;
a lock-delay of half a second, scaled with them."""
CONFIG_ENV = {
    "CLAIMS_DEFAULT_TTL": str(CONFIG.default_ttl),
    "CLAIMS_MIN_TTL": str(CONFIG.min_ttl),
    "CLAIMS_MAX_TTL": str(CONFIG.max_ttl),
    "CLAIMS_ORPHAN_THRESHOLD": str(CONFIG.orphan_threshold),
    "CLAIMS_CLEANUP_INTERVAL": str(CONFIG.cleanup_interval),
    "CLAIMS_LOCK_DELAY": str(CONFIG.lock_delay),
}
"""The same settings for a ``claims serve`` process."""
FINGERPRINTS = tuple(f"area/{n}" for n in range(5))
SAVE_EVERY = 40
"""Agents save projection snapshots far more often than the default, so that saves
meet kills and faults."""
OPS: dict[str, int] = {
    "claim": 20,
    "heartbeat": 20,
    "release": 12,
    "takeover": 6,
    "claim-next": 10,
    "sweep": 3,
    "propose": 5,
    "reopen": 5,
    "save": 2,
}
"""Operations and their weights."""


class ReaderReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a tailing reader saw: how far it got, a digest of the hashes in order, and
    every problem it met (a gap, a repeat, part of a batch)."""

    name: str
    reads: int
    position: int
    digest: str
    problems: list[str]


def hash_digest(records: Sequence[Record]) -> str:
    """The digest readers keep: sha256 over the records' hashes in position order."""
    running = hashlib.sha256()
    for record in records:
        running.update(record.hash.encode())
    return running.hexdigest()


# --- writers ---------------------------------------------------------------------------


class Writer:
    """One writer incarnation: a seeded mix of operations with armed faults."""

    def __init__(
        self,
        url: str,
        backend: str,
        name: str,
        seed: int,
        journal: Journal,
        *,
        skew_ms: int,
        fault_rate: float,
    ) -> None:
        self.rng = random.Random(seed)
        self.name = name
        self.journal = journal
        self.clock = SkewedClock(skew_ms)
        self.injector = Injector()
        entry = CAMPAIGN_BACKENDS[backend]
        store = open_store(url, clock=None if entry.server_time else self.clock)
        if entry.install_append_faults is not None:
            entry.install_append_faults(store, self.injector)
        install_snapshot_faults(self.injector)
        self.faults = [kind for kind in entry.faults if kind in (*APPEND_FAULTS, *SNAPSHOT_FAULTS)]
        self.fault_rate = fault_rate
        decides = None if entry.server_time else LogClock(self.clock, store)
        self.service = wire(store, clock=decides, config=CONFIG).service
        self.service.projections.save_every = SAVE_EVERY
        self.held: dict[str, int] = {}
        self.task: str | None = None
        """The task of the operation under way."""
        self.proposals = 0

    def run(self, ops: int, stop: Path, jump_at: int | None, jump_ms: int) -> None:
        for n in range(ops):
            if stop.exists():
                return
            if n == jump_at:
                self.clock.jump_back(jump_ms)
                jumped = OpRecord(agent=self.name, op="clock", outcome=OK, faults=["clock-jump"])
                self.journal.write(jumped)
            planned = self._planned_fault()
            pending = self.injector.armed
            fault = pending if pending in APPEND_FAULTS else planned
            op = "save" if fault in SNAPSHOT_FAULTS else self._choose()
            self.injector.arm(fault)
            self.journal.write(self._perform(op))

    def _planned_fault(self) -> FaultKind | None:
        if not self.faults or self.rng.random() >= self.fault_rate:
            return None
        return self.rng.choice(self.faults)

    def _choose(self) -> str:
        names = list(OPS)
        return self.rng.choices(names, weights=[OPS[name] for name in names])[0]

    def _perform(self, op: str) -> OpRecord:
        self.task = None
        try:
            task, written = self._operate(op)
        except LedgerError as error:
            if self.task is not None and op in ("heartbeat", "release"):
                self.held.pop(self.task, None)
            return OpRecord(
                agent=self.name,
                op=op,
                outcome=error.code,
                detail=str(error),
                faults=list[str](self.injector.fired),
            )
        except Exception:
            return OpRecord(
                agent=self.name,
                op=op,
                outcome=UNEXPECTED,
                detail=traceback.format_exc(),
                faults=list[str](self.injector.fired),
            )
        return OpRecord(
            agent=self.name,
            op=op,
            outcome=OK,
            task=task,
            ids=written.ids,
            stream=written.stream,
            version=written.version,
            faults=list[str](self.injector.fired),
        )

    def _operate(self, op: str) -> tuple[str | None, Written]:
        service = self.service
        session = self.name
        rng = self.rng
        if op == "save":
            with file_size_limit(self.injector):
                service.projections.save()
            return None, NOTHING
        if op == "sweep":
            return None, _ids(service.sweep().records)
        if op == "claim-next":
            result = service.claim_next(
                Claim(session_id=session, terms=LeaseTerms(ttl_ms=self._ttl()))
            )
            self.held[result.task.task_id] = result.lease.fencing_token
            return result.task.task_id, _ids(result.records)
        if op == "propose":
            self.proposals += 1
            task_id = f"{session}-p{self.proposals}-{rng.randrange(1 << 30)}"
            spec = RegisterTask(
                task_id=task_id,
                title=f"Proposed by {session}",
                roi=rng.uniform(0, 10),
                fingerprint=rng.choice(FINGERPRINTS),
            )
            state = service.propose_task(spec, actor=session)
            return task_id, Written(stream=task_stream(task_id), version=state.version)
        held = op in ("heartbeat", "release") and self.held
        task = rng.choice(sorted(self.held)) if held else self._any_task()
        self.task = task
        if op == "claim":
            result = service.claim(
                task, Claim(session_id=session, terms=LeaseTerms(ttl_ms=self._ttl()))
            )
            self.held[task] = result.lease.fencing_token
            return task, _ids(result.records)
        if op == "takeover":
            force = rng.random() < 0.5
            command = Takeover(
                session_id=session,
                force=force,
                reason="campaign" if force else None,
                terms=LeaseTerms(ttl_ms=self._ttl()),
            )
            taken = service.takeover(task, command)
            self.held[task] = taken.lease.fencing_token
            return task, _ids(taken.records)
        if op == "heartbeat":
            token = self.held.get(task)
            beat = service.heartbeat(task, Beat(session_id=session, fencing_token=token))
            return task, _ids(beat.records)
        if op == "release":
            token = self.held.pop(task, None)
            reason = rng.choice(("completed", "handoff", "blocked-on-review"))
            release = Release(session_id=session, reason=reason, fencing_token=token)
            return task, _ids(service.release(task, release).records)
        before = service.task(task).version
        after = service.set_status(task, ChangeStatus(status="todo", session_id=session))
        if after.version == before:
            return task, NOTHING
        return task, Written(stream=task_stream(task), version=after.version)

    def _any_task(self) -> str:
        tasks = sorted(self.service.board().tasks)
        return self.rng.choice(tasks)

    def _ttl(self) -> int:
        return self.rng.randint(300, 3000)


def _ids(records: Sequence[Record]) -> Written:
    return Written(ids=[record.event_id for record in records])


# --- the sweeper -----------------------------------------------------------------------


def sweeper(url: str, journal: Journal, stop: Path, analytics_every: int) -> None:
    """Sweep in a loop; every ``analytics_every`` sweeps, bring the analytics file up to
    date (a kill can land inside a DuckDB transaction)."""
    from projections.analytics import Analytics, default_path

    store = open_store(url)
    service = wire(store, config=CONFIG).service
    path = default_path(str(getattr(store, "path", "")) or None)
    turn = 0
    try:
        while not stop.exists():
            turn += 1
            try:
                ids = _ids(service.sweep().records).ids
                journal.write(OpRecord(agent="sweeper", op="sweep", outcome=OK, ids=ids))
            except LedgerError as error:
                failed = OpRecord(
                    agent="sweeper", op="sweep", outcome=error.code, detail=str(error)
                )
                journal.write(failed)
            if turn % analytics_every == 0:
                with Analytics(path) as analytics:
                    analytics.update(store)
            time.sleep(0.05)
    finally:
        # Closed, not left to the collector: a PostgreSQL pool collected at interpreter
        # exit can deadlock on its own queue's lock (seen in this campaign's sweeper).
        store.close()


# --- readers ---------------------------------------------------------------------------


def reader(url: str, name: str, stop: Path) -> ReaderReport:
    """Tail the log until told to stop; every poll must continue exactly where the last
    ended and end on a whole batch (S8). It waits for new records in ``wait_for_head``
    (on PostgreSQL: woken by NOTIFY, through restarts and killed connections)."""
    store = _open_when_up(url)
    problems: list[str] = []
    reads = 0
    running = hashlib.sha256()
    position = 0
    finishing = False
    while True:
        batch = list(store.read_all(after=position))
        reads += 1
        for record in batch:
            if record.position != position + 1:
                problems.append(f"after position {position} came {record.position}")
            position = record.position
            running.update(record.hash.encode())
        if batch and batch[-1].more != 0:
            problems.append(f"a poll ended inside a batch, at position {batch[-1].position}")
        if finishing:
            break
        if stop.exists():
            finishing = True
            continue
        store.wait_for_head(position, 0.05)
    store.close()
    return ReaderReport(
        name=name, reads=reads, position=position, digest=running.hexdigest(), problems=problems
    )


def _open_when_up(url: str) -> EventStore:
    """Open the store, waiting out a server that is restarting (a process that opens a
    store while its server is down is told so at once, with ``STORE_UNAVAILABLE``)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return open_store(url)
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- the command line ------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.campaign.agent")
    roles = parser.add_subparsers(dest="role", required=True)
    writer = roles.add_parser("writer")
    writer.add_argument("url")
    writer.add_argument("backend")
    writer.add_argument("name")
    writer.add_argument("journal", type=Path)
    writer.add_argument("stop", type=Path)
    writer.add_argument("--seed", type=int, required=True)
    writer.add_argument("--ops", type=int, required=True)
    writer.add_argument("--skew-ms", type=int, default=0)
    writer.add_argument("--jump-at", type=int, default=None)
    writer.add_argument("--jump-ms", type=int, default=0)
    writer.add_argument("--fault-rate", type=float, default=0.0)
    sweep = roles.add_parser("sweeper")
    sweep.add_argument("url")
    sweep.add_argument("journal", type=Path)
    sweep.add_argument("stop", type=Path)
    sweep.add_argument("--analytics-every", type=int, default=10)
    tail = roles.add_parser("reader")
    tail.add_argument("url")
    tail.add_argument("name")
    tail.add_argument("stop", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.role == "writer":
        journal = Journal(args.journal)
        writer = Writer(
            args.url,
            args.backend,
            args.name,
            args.seed,
            journal,
            skew_ms=args.skew_ms,
            fault_rate=args.fault_rate,
        )
        try:
            writer.run(args.ops, args.stop, args.jump_at, args.jump_ms)
        finally:
            writer.service.store.close()
    elif args.role == "sweeper":
        sweeper(args.url, Journal(args.journal), args.stop, args.analytics_every)
    else:
        report = reader(args.url, args.name, args.stop)
        sys.stdout.buffer.write(msgspec.json.encode(report) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
