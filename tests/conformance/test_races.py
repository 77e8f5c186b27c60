"""Races: many writers, one winner; readers that never see half a batch or skip a position.

Thread races run on every backend, each thread with its own store instance where
the backend shares its log between instances. Process races run on the shared
backends only (``SHARED_BACKENDS``): a ``memory:`` store is one process's own log
(``test_durability.test_a_memory_store_is_a_log_of_its_own``).
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.managers import SyncManager
from typing import TypeVar

import msgspec
import pytest

from ledger.errors import ConcurrencyConflict
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.store.protocol import ANY, NO_STREAM, EventStore
from ledger.verify import verify_store
from tests.conformance import workers
from tests.conformance.helpers import event_ids, everything, notes, positions, versions
from tests.conftest import SHARED_BACKENDS, Backend

T = TypeVar("T")
THREADS = 8
PROCESSES = 8
ROUNDS = 80
"""Each process writes 120 events to its own stream and 80 to the shared one."""
HANG_GUARD_SECONDS = 300.0
"""How long to wait before calling a race hung; a guard, never a pass/fail on speed."""


def _thread_race(
    open_another: Callable[[], EventStore], attempt: Callable[[EventStore, int], T]
) -> list[T]:
    """Run ``attempt(handle, n)`` in THREADS threads released at the same moment."""
    handles = [open_another() for _ in range(THREADS)]
    gate = threading.Barrier(THREADS)

    def run(number: int) -> T:
        gate.wait()
        return attempt(handles[number], number)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def _append_or_lose(expected_version: int) -> Callable[[EventStore, int], list[Record] | None]:
    def attempt(handle: EventStore, number: int) -> list[Record] | None:
        try:
            return handle.append(
                "task-a", notes(2, first=100 * number), expected_version=expected_version
            )
        except ConcurrencyConflict:
            return None

    return attempt


@pytest.mark.parametrize("prefill", [0, 3], ids=["new-stream", "existing-stream"])
def test_one_of_eight_threads_wins_the_same_expected_version(
    store: EventStore, open_another: Callable[[], EventStore], prefill: int
) -> None:
    """S1, S4: of eight threads appending at one expected version, exactly one is stored."""
    if prefill:
        store.append("task-a", notes(prefill, first=1000), expected_version=NO_STREAM)

    results = _thread_race(open_another, _append_or_lose(prefill or NO_STREAM))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert store.read_stream("task-a", after_version=prefill) == winners[0]
    assert store.head_position() == prefill + 2


def test_eight_threads_re_appending_one_batch_store_it_once(
    store: EventStore, open_another: Callable[[], EventStore]
) -> None:
    """S5: eight threads appending the same events all get the records, stored once."""
    batch = notes(3)

    results = _thread_race(
        open_another, lambda handle, _: handle.append("task-a", batch, expected_version=ANY)
    )

    assert all(result == results[0] for result in results)
    assert everything(store) == results[0]


def _writer(handle: EventStore, stream: str, batches: int) -> None:
    for number in range(batches):
        handle.append(stream, notes(3, first=3 * number), expected_version=ANY)


def _poll(reader: EventStore, running: Callable[[], bool]) -> Iterator[list[Record]]:
    """What each read_all from the last position seen returned, until the writers stop."""
    seen = 0
    while True:
        still_running = running()
        chunk = list(reader.read_all(after=seen))
        if chunk:
            seen = chunk[-1].position
            yield chunk
        if not still_running:
            return


def _read_while_writing(
    open_another: Callable[[], EventStore], writers: int, batches: int
) -> list[list[Record]]:
    """Four handles append batches of three while a reader polls; the reader's chunks."""
    reader = open_another()
    handles = [open_another() for _ in range(writers)]
    threads = [
        threading.Thread(target=_writer, args=(handle, f"task-{number}", batches))
        for number, handle in enumerate(handles)
    ]
    for thread in threads:
        thread.start()
    chunks = list(_poll(reader, lambda: any(thread.is_alive() for thread in threads)))
    for thread in threads:
        thread.join()
    return chunks


def test_a_polling_reader_never_sees_part_of_a_batch(
    open_another: Callable[[], EventStore],
) -> None:
    """S8: reads polled while four threads append batches of three end on batch boundaries."""
    chunks = _read_while_writing(open_another, writers=4, batches=40)

    assert all(chunk[-1].version % 3 == 0 for chunk in chunks)


def test_a_polling_reader_never_skips_a_position(
    open_another: Callable[[], EventStore],
) -> None:
    """S8: a reader polling from the last position it saw gets every position once, in order."""
    chunks = _read_while_writing(open_another, writers=4, batches=40)

    assert positions(itertools.chain.from_iterable(chunks)) == list(range(1, 481))


# --- processes ---------------------------------------------------------------


class ProcessRace(msgspec.Struct, frozen=True):
    """What eight writer processes acknowledged, what a concurrent reader saw, the log."""

    acknowledged: list[workers.Acknowledged]
    read_during: list[Record]
    log: list[Record]
    store: EventStore


class Spawned(msgspec.Struct, frozen=True):
    """Eight spawned worker processes and a manager to hand them a barrier."""

    pool: ProcessPoolExecutor
    manager: SyncManager

    def run(self, work: Callable[..., T], *args: object) -> list[T]:
        """``work(*args, n, barrier)`` in each of the eight processes, released at once."""
        gate = self.manager.Barrier(PROCESSES)
        futures = [self.pool.submit(work, *args, number, gate) for number in range(PROCESSES)]
        return [future.result(timeout=HANG_GUARD_SECONDS) for future in futures]


@pytest.fixture(scope="module")
def spawned() -> Iterator[Spawned]:
    """Worker processes started with ``spawn``, shared by this module's process races."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        yield Spawned(pool=pool, manager=manager)


@pytest.fixture(scope="module", params=SHARED_BACKENDS, ids=lambda backend: backend.name)
def process_race(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, spawned: Spawned
) -> Iterator[ProcessRace]:
    """Eight spawned processes write to their own streams and to one shared stream,
    while this process polls the log; run once per shared backend for the tests below."""
    backend: Backend = request.param
    url = backend.url_for(tmp_path_factory.mktemp(f"race-{backend.name}"))
    reader = open_store(url)
    done = threading.Event()
    polled: list[list[Record]] = []
    poller = threading.Thread(
        target=lambda: polled.extend(_poll(reader, lambda: not done.is_set()))
    )
    poller.start()
    try:
        raw = spawned.run(workers.write_many, url, ROUNDS)
    finally:
        done.set()
    poller.join()
    decoder = msgspec.json.Decoder(workers.Acknowledged)
    yield ProcessRace(
        acknowledged=[decoder.decode(item) for item in raw],
        read_during=list(itertools.chain.from_iterable(polled)),
        log=everything(reader),
        store=reader,
    )
    reader.close()


def _acked_ids(race: ProcessRace) -> list[str]:
    return [
        event_id
        for acknowledged in race.acknowledged
        for ids in acknowledged.by_stream.values()
        for event_id in ids
    ]


@pytest.mark.slow
def test_process_race_positions_are_gapless(process_race: ProcessRace) -> None:
    """S3: after eight processes wrote 1,600 events, positions run 1 to 1,600 without gaps."""
    assert positions(process_race.log) == list(range(1, PROCESSES * 200 + 1))


@pytest.mark.slow
def test_process_race_stores_every_acknowledged_event_exactly_once(
    process_race: ProcessRace,
) -> None:
    """S1, S9: the log holds every acknowledged event exactly once, and nothing else."""
    stored = Counter(event_ids(process_race.log))

    assert sorted(stored.elements()) == sorted(_acked_ids(process_race))
    assert set(stored.values()) == {1}


@pytest.mark.slow
def test_process_race_versions_are_gapless_per_stream(process_race: ProcessRace) -> None:
    """S2: every stream, the contended shared one included, has versions 1 to n."""
    by_stream: dict[str, list[int]] = {}
    for record in process_race.log:
        by_stream.setdefault(record.stream, []).append(record.version)

    assert len(by_stream) == PROCESSES + 1
    assert all(found == list(range(1, len(found) + 1)) for found in by_stream.values())


@pytest.mark.slow
def test_process_race_keeps_each_writers_order(process_race: ProcessRace) -> None:
    """S2, S4: each stream holds its events in the order their writer had them acknowledged."""
    for acknowledged in process_race.acknowledged:
        for stream, ids in acknowledged.by_stream.items():
            mine = set(ids)
            stored = [e for e in event_ids(process_race.store.read_stream(stream)) if e in mine]
            assert stored == ids


@pytest.mark.slow
def test_process_race_shared_stream_holds_every_writers_events(process_race: ProcessRace) -> None:
    """S2, S4: the stream all eight processes retried on holds all 640 events, versions 1-640."""
    shared = process_race.store.read_stream(workers.SHARED_STREAM)

    assert versions(shared) == list(range(1, PROCESSES * ROUNDS + 1))
    assert {record.actor for record in shared} == {f"worker-{n}" for n in range(PROCESSES)}


@pytest.mark.slow
def test_process_race_reader_saw_every_position_in_order(process_race: ProcessRace) -> None:
    """S8: a reader polling during the race got every record once, in the log's order."""
    assert process_race.read_during == process_race.log


@pytest.mark.slow
def test_process_race_log_verifies(process_race: ProcessRace) -> None:
    """S2, S3, S6, S7: the hash chain and every invariant verify after the race."""
    report = verify_store(process_race.store)

    assert (report.ok, report.checked) == (True, PROCESSES * 200)


@pytest.mark.slow
def test_one_of_eight_processes_wins_the_same_expected_version(
    shared_store_url: str, spawned: Spawned
) -> None:
    """S1, S4: of eight processes appending at NO_STREAM at once, exactly one is stored."""
    won = spawned.run(workers.append_once, shared_store_url, NO_STREAM)

    store = open_store(shared_store_url)
    assert won.count(True) == 1
    winner = won.index(True)
    assert [record.actor for record in everything(store)] == [f"worker-{winner}"] * 2
    store.close()
