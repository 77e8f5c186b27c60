"""The projection runner: catch up from the log, save, resume, rebuild, time travel.

On first use the runner restores each projection from its newest trustworthy
snapshot (see ``projections.snapshots``), brings any that lag up to the others,
then folds whatever the log holds past that point. After catching up it saves
new snapshots once ``save_every`` records have been folded since the last save,
so a restart replays only the tail. ``board_at`` answers "as of" a position or a
time from the best snapshot at or before it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from ledger.clock import Clock, SystemClock
from ledger.errors import StoreError
from ledger.notices import logger
from ledger.store.hashed_walk import walk
from ledger.store.local import local_base
from ledger.store.protocol import EventStore
from ledger.witness import Witness, refuse_unwitnessed
from projections.base import Projection
from projections.board import PROJECTIONS, Board
from projections.snapshots import (
    FORMAT,
    FileSnapshots,
    MemorySnapshots,
    Snapshot,
    SnapshotStore,
    make_header,
    payload_intact,
)

SAVE_EVERY = 1000
PROGRESS_EVERY = 65536
"""A rebuild reports its progress after each this many records."""
KEEP = 4


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    schema_version: int
    checkpoint: int
    lag: int
    snapshot_position: int | None
    snapshot_age_s: float | None


class RebuildReport(msgspec.Struct, frozen=True, kw_only=True):
    records: int
    seconds: float
    rate: float
    position: int


def snapshots_for(store: EventStore) -> SnapshotStore:
    """Snapshots beside a file store (``<ledger>.projections/``), in this host's
    cache for a server store, else in memory (ledger/store/local.py)."""
    path = local_base(store)
    if path is not None:
        return FileSnapshots(path.with_name(path.name + ".projections"))
    return MemorySnapshots()


class ProjectionRunner:
    """Keeps a ``Board`` caught up with a store, and its snapshots current."""

    def __init__(
        self,
        store: EventStore,
        snapshots: SnapshotStore | None = None,
        *,
        clock: Clock | None = None,
        save_every: int = SAVE_EVERY,
    ) -> None:
        self.store = store
        self.snapshots = snapshots if snapshots is not None else snapshots_for(store)
        self.clock = clock or SystemClock()
        self.save_every = save_every
        self.notices: list[str] = []
        self._board: Board | None = None
        self._saved_position = 0
        self._saved: dict[str, Snapshot] = {}

    # --- live ------------------------------------------------------------------

    def catch_up(self) -> Board:
        """The board with every record the log holds now."""
        board = self._loaded()
        board.catch_up(self.store)
        if board.position - self._saved_position >= self.save_every:
            try:
                self.save()
            except StoreError as error:
                self._notice(f"snapshots not saved ({error.detail}); the next catch-up retries")
        return board

    def wait(self, position: int, *, timeout: float = 5.0) -> Board:
        """Read-your-writes: the board once it has folded ``position`` (or the timeout)."""
        deadline = time.monotonic() + timeout
        board = self.catch_up()
        while board.position < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.store.wait_for_head(board.position, remaining)
            board = self.catch_up()
        return board

    def save(self) -> None:
        """Snapshot every projection at the board's position (atomically, file by file);
        ``StoreError`` if a file cannot be written (the board itself is unaffected)."""
        board = self._loaded()
        if board.position == 0:
            return
        head = self._record_hash(board.position)
        if head is None:
            return
        head_hash, recorded_at = head
        saved_at = self.clock.now()
        for projection in PROJECTIONS:
            payload = msgspec.msgpack.encode(board.states[projection.name])
            header = make_header(
                name=projection.name,
                schema_version=projection.schema_version,
                position=board.position,
                head_hash=head_hash,
                recorded_at=recorded_at,
                saved_at=saved_at,
                payload=payload,
            )
            self.snapshots.save(header, payload)
            self.snapshots.prune(projection.name, KEEP)
            self._saved[projection.name] = Snapshot(header=header, payload=b"", where="")
        self._saved_position = board.position

    # --- operations --------------------------------------------------------------

    def status(self) -> list[ProjectionStatus]:
        board = self._loaded()
        head = self.store.head_position()
        now = self.clock.now()
        found = []
        for projection in PROJECTIONS:
            saved = self._saved.get(projection.name)
            age = (now - saved.header.saved_at).total_seconds() if saved else None
            found.append(
                ProjectionStatus(
                    name=projection.name,
                    schema_version=projection.schema_version,
                    checkpoint=board.position,
                    lag=head - board.position,
                    snapshot_position=saved.header.position if saved else None,
                    snapshot_age_s=age,
                )
            )
        return found

    def rebuild(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Fold the whole log from position 0 into fresh projections, then save them in
        place of every snapshot saved before (those of a replaced log included)."""
        started = time.perf_counter()
        board = Board()
        records = walk(self.store)
        if progress is None:
            count = board.apply_all(records)
        else:
            count = 0
            every = PROGRESS_EVERY
            for chunk in iter(lambda: list(itertools.islice(records, every)), []):
                count += board.apply_all(chunk)
                if len(chunk) == every:
                    progress(count)
        seconds = time.perf_counter() - started
        self._board = board
        self._drop_saved()
        self.save()
        return RebuildReport(
            records=count,
            seconds=seconds,
            rate=count / seconds if seconds > 0 else float(count),
            position=board.position,
        )

    # --- time travel ---------------------------------------------------------------

    def board_at(
        self, *, position: int | None = None, when: datetime | None = None
    ) -> tuple[Board, datetime]:
        """The board as it was at ``position`` or at ``when``, and the ledger time then.

        As of a time, ``now`` is that time, so a lease live then shows live; as of a
        position it is the time that record was written.
        """
        target = self.store.position_at(when) if when is not None else position
        if target is None:
            raise ValueError("board_at needs a position or a time")
        target = min(target, self.store.head_position())
        board = self._restored(limit=target)
        board.catch_up(self.store, until=target)
        if when is not None:
            return board, when
        record = next(self.store.read_all(after=target - 1, until=target), None) if target else None
        return board, record.recorded_at if record else self.clock.now()

    # --- restoring ---------------------------------------------------------------

    def _loaded(self) -> Board:
        if self._board is None:
            self._board = self._restored(limit=None)
            self._saved_position = self._board.position
        return self._board

    def _restored(self, *, limit: int | None) -> Board:
        """A board from the newest trusted snapshots (at or before ``limit``)."""
        states: dict[str, Any] = {}
        positions: dict[str, int] = {}
        for projection in PROJECTIONS:
            self._set_aside_leftovers(projection)
            snapshot, state = self._trusted(projection, limit)
            states[projection.name] = state
            positions[projection.name] = snapshot.header.position if snapshot else 0
            if snapshot is not None and limit is None:
                self._saved[projection.name] = msgspec.structs.replace(snapshot, payload=b"")
        top = max(positions.values())
        for projection in PROJECTIONS:
            self._fold_one(projection, states[projection.name], positions[projection.name], top)
        return Board(states, position=top)

    def _trusted(
        self, projection: Projection[Any], limit: int | None
    ) -> tuple[Snapshot | None, Any]:
        for candidate in self.snapshots.candidates(projection.name, at_most=limit):
            if _newer_than(candidate, limit):
                continue
            problem, state = self._check(projection, candidate)
            if problem is None and isinstance(candidate, Snapshot):
                return candidate, state
            where = candidate.where if isinstance(candidate, Snapshot) else candidate
            self._notice(f"projection {projection.name}: {where} {problem}; rebuilt from the log")
            self.snapshots.reject(candidate, problem or "unreadable")
        return None, projection.initial()

    def _set_aside_leftovers(self, projection: Projection[Any]) -> None:
        for where in self.snapshots.leftovers(projection.name):
            self._notice(
                f"projection {projection.name}: {where} is an unfinished save whose writer"
                " is gone; set aside"
            )
            self.snapshots.reject(where, "unfinished save")

    def _check(
        self, projection: Projection[Any], candidate: Snapshot | str
    ) -> tuple[str | None, Any]:
        if not isinstance(candidate, Snapshot):
            return "cannot be read", None
        header = candidate.header
        if header.format != FORMAT:
            return f"is in file format {header.format!r}, the code reads {FORMAT!r}", None
        if header.name != projection.name:
            return f"is for projection {header.name!r}", None
        if header.schema_version != projection.schema_version:
            return (
                f"has schema version {header.schema_version}, the code has"
                f" {projection.schema_version}",
                None,
            )
        if not payload_intact(candidate):
            return "is corrupt (its checksum does not match)", None
        self._witnessed(candidate)
        try:
            state = msgspec.msgpack.decode(candidate.payload, type=projection.state_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return f"does not decode ({exc})", None
        return None, state

    def _witnessed(self, snapshot: Snapshot) -> None:
        """Refuse a log shorter than, or different at, the position the snapshot saw."""
        header = snapshot.header
        stored = self._record_hash(header.position)
        refuse_unwitnessed(
            Witness(
                position=header.position, hash=header.head_hash, recorded_at=header.recorded_at
            ),
            self.store.head_position() if stored is None else header.position,
            None if stored is None else stored[0],
            by=f"the snapshot {snapshot.where} (if the log was replaced on purpose, run"
            " `claims projections rebuild`)",
        )

    def _drop_saved(self) -> None:
        """Before a rebuild saves: every snapshot saved before goes, so that none of a
        replaced log's is tried (and refused) again."""
        for projection in PROJECTIONS:
            self.snapshots.prune(projection.name, 0)
        self._saved = {}

    def _fold_one(self, projection: Projection[Any], state: Any, start: int, stop: int) -> None:
        if start >= stop:
            return
        handles = projection.handles
        for record in self.store.read_all(after=start, until=stop):
            if record.type in handles:
                projection.apply(state, record)

    def _record_hash(self, position: int) -> tuple[str, datetime] | None:
        record = next(self.store.read_all(after=position - 1, until=position), None)
        return None if record is None else (record.hash, record.recorded_at)

    def _notice(self, message: str) -> None:
        self.notices.append(message)
        logger(__name__).warning("%s", message)


def _newer_than(candidate: Snapshot | str, limit: int | None) -> bool:
    return (
        limit is not None and isinstance(candidate, Snapshot) and candidate.header.position > limit
    )
