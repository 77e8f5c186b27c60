"""Worker programs the integration tests run as separate processes.

Run one with ``python -m tests.integration.workers <command> ...`` from the repository
root. Each opens the store from its URL with ``open_store`` and drives it through
``ClaimService``, exactly as an agent runner would. Results go to stdout as one JSON
document (decoded by the tests into the Structs below); ``crash-writer`` never ends
on its own and instead acknowledges every event id it was told is stored, one a
line, flushed and fsynced, only after ``append`` returned.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import msgspec

from application.bootstrap import open_ledger
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import (
    ClaimError,
    LedgerError,
    NoTaskAvailable,
    StoreUnavailable,
    TaskAlreadyClaimed,
)
from ledger.events import TaskRegistered
from ledger.records import NewEvent, Record
from ledger.store.factory import open_store
from ledger.store.protocol import ANY
from ledger.terms import LeaseTerms

BARRIER_POLL_SECONDS = 0.0005
COMPLETED = "completed"


class ClaimOnceOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``claim-once`` worker saw."""

    session_id: str
    won: bool
    fencing_token: int | None = None
    event_ids: list[str] = []
    error_code: str | None = None
    holder: str | None = None


class RegisterOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``open-and-register`` worker saw."""

    name: str
    registered: bool
    error_code: str | None = None


class LoopClaim(msgspec.Struct, frozen=True, kw_only=True):
    """One successful ``claim_next`` of a ``claim-loop`` worker."""

    task_id: str
    fencing_token: int
    event_ids: list[str]
    released: bool
    release_event_ids: list[str] = []


class ClaimLoopOutcome(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    claims: list[LoopClaim]


# --- the start barrier ---------------------------------------------------------------


def ready_path(barrier: Path, name: str) -> Path:
    return barrier / f"ready-{name}"


def go_path(barrier: Path) -> Path:
    return barrier / "go"


def wait_at_barrier(barrier: Path, name: str) -> None:
    """Say this worker is ready, then spin until the test opens the gate."""
    ready_path(barrier, name).touch()
    gate = go_path(barrier)
    while not gate.exists():
        time.sleep(BARRIER_POLL_SECONDS)


# --- commands ------------------------------------------------------------------------


def claim_once(url: str, task_id: str, session_id: str, barrier: Path) -> ClaimOnceOutcome:
    """Warm up (session started, task state read), wait at the barrier, claim once."""
    service = open_ledger(url).service
    service.start_session(session_id, agent_type="autonomous")
    service.task(task_id)
    wait_at_barrier(barrier, session_id)
    try:
        result = service.claim(
            task_id, Claim(session_id=session_id, terms=LeaseTerms(agent_type="autonomous"))
        )
    except TaskAlreadyClaimed as exc:
        holder = exc.context["claim"]["sessionId"]
        return ClaimOnceOutcome(
            session_id=session_id, won=False, error_code=exc.code, holder=str(holder)
        )
    except ClaimError as exc:
        return ClaimOnceOutcome(session_id=session_id, won=False, error_code=exc.code)
    finally:
        service.store.close()
    return ClaimOnceOutcome(
        session_id=session_id,
        won=True,
        fencing_token=result.lease.fencing_token,
        event_ids=_ids(result.records),
    )


def open_and_register(url: str, task_id: str, name: str, barrier: Path) -> RegisterOutcome:
    """Wait at the barrier, then open a store that may not exist yet and register a task."""
    wait_at_barrier(barrier, name)
    try:
        service = open_ledger(url).service
    except LedgerError as exc:
        return RegisterOutcome(name=name, registered=False, error_code=exc.code)
    try:
        service.register_task(RegisterTask(task_id=task_id, title=f"Registered by {name}"))
    except LedgerError as exc:
        return RegisterOutcome(name=name, registered=False, error_code=exc.code)
    finally:
        service.store.close()
    return RegisterOutcome(name=name, registered=True)


def claim_loop(url: str, session_id: str, barrier: Path) -> ClaimLoopOutcome:
    """``claim_next`` until nothing is left; release every other claim as completed."""
    service = open_ledger(url).service
    service.start_session(session_id, agent_type="autonomous")
    service.board()
    wait_at_barrier(barrier, session_id)
    claims: list[LoopClaim] = []
    while True:
        try:
            result = service.claim_next(
                Claim(session_id=session_id, terms=LeaseTerms(agent_type="autonomous"))
            )
        except NoTaskAvailable:
            break
        task_id = result.task.task_id
        token = result.lease.fencing_token
        release_ids: list[str] = []
        release = len(claims) % 2 == 0
        if release:
            command = Release(session_id=session_id, reason=COMPLETED, fencing_token=token)
            release_ids = _ids(service.release(task_id, command).records)
        claims.append(
            LoopClaim(
                task_id=task_id,
                fencing_token=token,
                event_ids=_ids(result.records),
                released=release,
                release_event_ids=release_ids,
            )
        )
    service.store.close()
    return ClaimLoopOutcome(session_id=session_id, claims=claims)


def crash_writer(url: str, session_id: str, tasks: Sequence[str], ack: Path, seed: int) -> None:
    """Claim, heartbeat and release tasks of a shared pool until killed."""
    rng = random.Random(seed)
    service = open_ledger(url).service
    service.start_session(session_id)
    with ack.open("ab") as acks:
        while True:
            task_id = rng.choice(tasks)
            try:
                claimed = service.claim(
                    task_id, Claim(session_id=session_id, terms=LeaseTerms(ttl_ms=600_000))
                )
                _acknowledge(acks, claimed.records)
                token = claimed.lease.fencing_token
                for _ in range(rng.randint(0, 2)):
                    beat = Beat(session_id=session_id, fencing_token=token)
                    _acknowledge(acks, service.heartbeat(task_id, beat).records)
                if rng.random() < 0.8:
                    release = Release(session_id=session_id, reason="handoff", fencing_token=token)
                    _acknowledge(acks, service.release(task_id, release).records)
            except ClaimError:
                continue


def _acknowledge(acks: BinaryIO, records: Sequence[Record]) -> None:
    """Record event ids as acknowledged: only ever after ``append`` returned them."""
    if not records:
        return
    acks.write(b"".join(record.event_id.encode("ascii") + b"\n" for record in records))
    acks.flush()
    os.fsync(acks.fileno())


def _ids(records: Sequence[Record]) -> list[str]:
    return [record.event_id for record in records]


class AppendOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``append-batches`` worker stored."""

    stream: str
    event_ids: list[str]


class TailOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``tail`` worker read, in the order it read it."""

    positions: list[int]
    event_ids: list[str]
    ends_of_batches: bool
    """True when every read stopped at the end of an append (``more == 0``), so no
    reader ever saw part of a batch (S8)."""


def batch_sizes(appends: int) -> list[int]:
    """The sizes of an ``append-batches`` worker's appends: 1, 2, 3, 1, 2, 3, ..."""
    return [index % 3 + 1 for index in range(appends)]


def append_batches(url: str, stream: str, appends: int, barrier: Path) -> AppendOutcome:
    """Append ``appends`` batches of 1 to 3 events to a stream of its own."""
    store = open_store(url)
    stored: list[str] = []
    wait_at_barrier(barrier, stream)
    for size in batch_sizes(appends):
        events = [
            NewEvent(
                data=TaskRegistered(task_id=f"{stream}-{len(stored) + n}", title="tailed"),
                occurred_at=store_time(),
                actor=stream,
            )
            for n in range(size)
        ]
        stored.extend(_ids(store.append(stream, events, expected_version=ANY)))
    store.close()
    return AppendOutcome(stream=stream, event_ids=stored)


def tail(url: str, name: str, expected: int, barrier: Path) -> TailOutcome:
    """Follow the log with ``wait_for_head`` until ``expected`` records were read."""
    store = open_store(url)
    positions: list[int] = []
    event_ids: list[str] = []
    whole = True
    wait_at_barrier(barrier, name)
    deadline = time.monotonic() + 120
    while len(positions) < expected and time.monotonic() < deadline:
        cursor = positions[-1] if positions else 0
        store.wait_for_head(cursor, 1.0)
        read = list(store.read_all(after=cursor))
        if read:
            whole = whole and read[-1].more == 0
        positions.extend(record.position for record in read)
        event_ids.extend(record.event_id for record in read)
    store.close()
    return TailOutcome(positions=positions, event_ids=event_ids, ends_of_batches=whole)


def retrying_writer(url: str, stream: str, ack: Path, stop: Path) -> None:
    """Append one event at a time until ``stop`` exists, acknowledging each stored id
    (flushed and fsynced) after ``append`` returned. An append that fails with
    ``STORE_UNAVAILABLE`` is retried with the same event, as the error invites."""
    store = open_store(url)
    with ack.open("ab") as acks:
        number = 0
        while not stop.exists():
            event = NewEvent(
                data=TaskRegistered(task_id=f"{stream}-{number}", title="restart"),
                occurred_at=store_time(),
                actor=stream,
            )
            while True:
                try:
                    records = store.append(stream, [event], expected_version=ANY)
                    break
                except StoreUnavailable:
                    time.sleep(0.1)
            _acknowledge(acks, records)
            number += 1
    store.close()


def store_time() -> datetime:
    return datetime.now(UTC)


# --- the command line ----------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.workers")
    commands = parser.add_subparsers(dest="command", required=True)
    once = commands.add_parser("claim-once")
    once.add_argument("url")
    once.add_argument("task_id")
    once.add_argument("session_id")
    once.add_argument("barrier", type=Path)
    register = commands.add_parser("open-and-register")
    register.add_argument("url")
    register.add_argument("task_id")
    register.add_argument("name")
    register.add_argument("barrier", type=Path)
    loop = commands.add_parser("claim-loop")
    loop.add_argument("url")
    loop.add_argument("session_id")
    loop.add_argument("barrier", type=Path)
    crash = commands.add_parser("crash-writer")
    crash.add_argument("url")
    crash.add_argument("session_id")
    crash.add_argument("ack", type=Path)
    crash.add_argument("seed", type=int)
    crash.add_argument("tasks", nargs="+")
    batches = commands.add_parser("append-batches")
    batches.add_argument("url")
    batches.add_argument("stream")
    batches.add_argument("appends", type=int)
    batches.add_argument("barrier", type=Path)
    retrying = commands.add_parser("retrying-writer")
    retrying.add_argument("url")
    retrying.add_argument("stream")
    retrying.add_argument("ack", type=Path)
    retrying.add_argument("stop", type=Path)
    follow = commands.add_parser("tail")
    follow.add_argument("url")
    follow.add_argument("name")
    follow.add_argument("expected", type=int)
    follow.add_argument("barrier", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    outcome: msgspec.Struct
    if args.command == "claim-once":
        outcome = claim_once(args.url, args.task_id, args.session_id, args.barrier)
    elif args.command == "open-and-register":
        outcome = open_and_register(args.url, args.task_id, args.name, args.barrier)
    elif args.command == "claim-loop":
        outcome = claim_loop(args.url, args.session_id, args.barrier)
    elif args.command == "append-batches":
        outcome = append_batches(args.url, args.stream, args.appends, args.barrier)
    elif args.command == "tail":
        outcome = tail(args.url, args.name, args.expected, args.barrier)
    elif args.command == "retrying-writer":
        retrying_writer(args.url, args.stream, args.ack, args.stop)
        return 0
    else:
        crash_writer(args.url, args.session_id, args.tasks, args.ack, args.seed)
        return 0
    sys.stdout.buffer.write(msgspec.json.encode(outcome) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
