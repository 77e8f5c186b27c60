"""Loading a stream's folded state in time that does not grow with the stream.

A process that has not seen a stream yet (a one-shot CLI command, a hook) starts
from the stream's snapshot (``ledger.store.stream_snapshots``) when there is one it
can trust: its shape tag is the code's, and the log's record at its version still
has its hash. It then reads and folds only the records after it. Anything else (no
snapshot, another shape, a log that no longer holds that record) folds the stream
from its first record, as if there were no snapshot.

A new snapshot is written once a stream's state has moved ``every`` versions
(``SNAPSHOT_EVERY`` unless told) past the newest snapshot this process knows of, so
a command reads at most that many records more than on a new stream. A snapshot
that cannot be written is logged and skipped; it never fails the command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import msgspec

from ledger.errors import LedgerError
from ledger.notices import logger
from ledger.records import Record
from ledger.state import SessionState, TaskState, fold_session, fold_task
from ledger.store.protocol import EventStore
from ledger.store.stream_snapshots import StreamSnapshot, StreamSnapshots

SNAPSHOT_EVERY = 64
"""Versions a stream moves past its newest snapshot before the next is written."""
TASK_STATE_SCHEMA = "task-state/2"
"""The shape of ``TaskState``, pinned in tests/unit/test_stream_snapshot_pins.py."""
SESSION_STATE_SCHEMA = "session-state/1"
"""The shape of ``SessionState``, pinned there too."""

StateT = TypeVar("StateT", TaskState, SessionState)


class Kind(Generic[StateT]):
    """How one kind of stream is folded and how its snapshots are tagged."""

    def __init__(
        self,
        schema: str,
        state_type: type[StateT],
        fold: Callable[[str, list[Record], StateT | None], StateT],
        ident: Callable[[StateT], str],
    ) -> None:
        self.schema = schema
        self.fold: Callable[[str, list[Record], StateT | None], StateT] = fold
        self.ident: Callable[[StateT], str] = ident
        self.decoder: msgspec.msgpack.Decoder[StateT] = msgspec.msgpack.Decoder(state_type)


TASKS: Kind[TaskState] = Kind(TASK_STATE_SCHEMA, TaskState, fold_task, lambda s: s.task_id)
SESSIONS: Kind[SessionState] = Kind(
    SESSION_STATE_SCHEMA, SessionState, fold_session, lambda s: s.session_id
)
_encoder = msgspec.msgpack.Encoder()


class SnapshotLoader:
    """Folds streams from their snapshots and offers new snapshots as they grow."""

    def __init__(
        self, store: EventStore, snapshots: StreamSnapshots, *, every: int = SNAPSHOT_EVERY
    ) -> None:
        self.store = store
        self.snapshots = snapshots
        self.every = every
        self._at: dict[str, int] = {}

    def load(self, stream: str, ident: str, cached: StateT | None, kind: Kind[StateT]) -> StateT:
        """The stream's state now: ``cached`` plus what is new, or its snapshot plus
        what follows it, or a fold from the start."""
        if cached is not None:
            records = self.store.read_stream(stream, after_version=cached.version)
            state = kind.fold(ident, records, cached)
        else:
            state, records = self._from_snapshot(stream, ident, kind)
        if records:
            self.offer(stream, state, records[-1], kind)
        return state

    def offer(self, stream: str, state: StateT, last: Record, kind: Kind[StateT]) -> None:
        """Snapshot ``state`` (folded up to ``last``) if it is far enough past the last one."""
        behind = state.version - self._at.get(stream, 0)
        if behind < self.every or last.version != state.version:
            return
        self._at[stream] = state.version
        snapshot = StreamSnapshot(
            stream=stream,
            version=state.version,
            hash=last.hash,
            schema=kind.schema,
            state=_encoder.encode(state),
        )
        try:
            self.snapshots.save(snapshot)
        except (OSError, LedgerError) as error:
            logger(__name__).warning(
                "snapshot of %s at version %d not saved: %s", stream, state.version, error
            )

    def _from_snapshot(
        self, stream: str, ident: str, kind: Kind[StateT]
    ) -> tuple[StateT, list[Record]]:
        snapshot = self.snapshots.load(stream)
        if snapshot is not None and snapshot.schema == kind.schema:
            records = self.store.read_stream(stream, after_version=snapshot.version - 1)
            restored = _restored(snapshot, records, ident, kind)
            if restored is not None:
                self._at[stream] = snapshot.version
                tail = records[1:]
                return kind.fold(ident, tail, restored), tail
            logger(__name__).info(
                "snapshot of %s does not match the log; folding it from the start", stream
            )
        records = self.store.read_stream(stream)
        return kind.fold(ident, records, None), records


def _restored(
    snapshot: StreamSnapshot, records: list[Record], ident: str, kind: Kind[StateT]
) -> StateT | None:
    """The snapshot's state if the log's record at its version has its hash."""
    if not records or records[0].version != snapshot.version or records[0].hash != snapshot.hash:
        return None
    try:
        state = kind.decoder.decode(snapshot.state)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if state.version != snapshot.version or kind.ident(state) != ident:
        return None
    return state
