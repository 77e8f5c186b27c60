"""Writer programs the process races run in fresh interpreters (``spawn``).

Each opens its own store from the URL, as a separate agent would, waits at a shared
barrier (a manager's proxy) so that all start at once, and returns what the store
acknowledged. Module-level functions, so that ``spawn`` can import them.
"""

from __future__ import annotations

from threading import Barrier

import msgspec

from ledger.errors import ConcurrencyConflict
from ledger.events import TaskRegistered
from ledger.records import NewEvent
from ledger.store.factory import open_store
from tests.conformance.helpers import OCCURRED_AT

SHARED_STREAM = "task-shared"


class Acknowledged(msgspec.Struct, frozen=True):
    """Event ids whose append returned, per stream."""

    by_stream: dict[str, list[str]]


def event(worker: int, number: int) -> NewEvent:
    """An event that says which worker wrote it."""
    return NewEvent(
        data=TaskRegistered(task_id=f"w{worker}-{number}", title=f"worker {worker} #{number}"),
        occurred_at=OCCURRED_AT,
        actor=f"worker-{worker}",
    )


def write_many(url: str, rounds: int, worker: int, gate: Barrier) -> bytes:
    """Each round: a batch of 1 or 2 events to the worker's own stream at its exact
    version, then one event to the shared stream, re-reading its version after a conflict.
    Returns the encoded ``Acknowledged``."""
    store = open_store(url)
    own = f"task-worker-{worker}"
    acked: dict[str, list[str]] = {own: [], SHARED_STREAM: []}
    gate.wait()
    try:
        for number in range(rounds):
            batch = [event(worker, 3 * number + offset) for offset in range(1 + number % 2)]
            store.append(own, batch, expected_version=len(acked[own]))
            acked[own] += [new.event_id for new in batch]
            shared = event(worker, 3 * number + 2)
            while True:
                try:
                    version = store.stream_version(SHARED_STREAM)
                    store.append(SHARED_STREAM, [shared], expected_version=version)
                except ConcurrencyConflict:
                    continue
                acked[SHARED_STREAM].append(shared.event_id)
                break
    finally:
        store.close()
    return msgspec.json.encode(Acknowledged(by_stream=acked))


def append_once(url: str, expected_version: int, worker: int, gate: Barrier) -> bool:
    """Append two events to the shared stream at ``expected_version``; True if it won."""
    store = open_store(url)
    batch = [event(worker, 0), event(worker, 1)]
    gate.wait()
    try:
        store.append(SHARED_STREAM, batch, expected_version=expected_version)
    except ConcurrencyConflict:
        return False
    finally:
        store.close()
    return True
