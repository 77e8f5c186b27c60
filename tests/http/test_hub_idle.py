"""The event hub reads nothing from the store while no stream is open.

Appends keep coming (and waking the hub, as the routes do); with nobody listening
the tail and its watcher read neither records nor the head. The first stream to
open then gets the events appended after it opened, and a stream resuming from an
earlier position gets those from the store, each position once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

from api.hub import EventHub
from ledger.events import SessionStarted
from ledger.records import NewEvent, Record
from ledger.store.memory import MemoryStore


class CountingStore(MemoryStore):
    """A memory store that counts the reads the hub makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def head_position(self) -> int:
        self.reads += 1
        return super().head_position()

    def wait_for_head(self, after: int, timeout: float) -> int:
        self.reads += 1
        return super().wait_for_head(after, timeout)

    def read_all(
        self, *, after: int = 0, until: int | None = None, until_time: datetime | None = None
    ) -> Iterator[Record]:
        self.reads += 1
        return super().read_all(after=after, until=until, until_time=until_time)


def _append(store: MemoryStore, n: int) -> None:
    event = SessionStarted(session_id=f"s{n}", agent_type="cli", host="h")
    new = NewEvent(data=event, occurred_at=datetime.now(UTC), actor="t")
    store.append(f"session-s{n}", [new], expected_version=0)


def test_nobody_listening_means_no_reads() -> None:
    store = CountingStore()

    async def run() -> tuple[int, list[int], list[int]]:
        hub = EventHub(store, poll_interval=0.01)
        await hub.start()
        tail = asyncio.create_task(hub.run())
        await asyncio.sleep(0.05)
        store.reads = 0
        for n in range(1, 6):
            _append(store, n)
            hub.wake()
            await asyncio.sleep(0.02)
        idle_reads = store.reads

        live: list[int] = []
        resumed: list[int] = []

        async def follow(after: int, into: list[int], count: int) -> None:
            async for frame in hub.stream(after):
                into.append(int(frame.split(b"\n", 1)[0].removeprefix(b"id: ")))
                if len(into) == count:
                    return

        live_task = asyncio.create_task(follow(await hub.default_start(), live, 2))
        resumed_task = asyncio.create_task(follow(2, resumed, 5))
        await asyncio.sleep(0.05)
        for n in range(6, 8):
            _append(store, n)
            hub.wake()
        await asyncio.wait_for(asyncio.gather(live_task, resumed_task), 5)
        hub.close()
        await tail
        hub.shutdown()
        return idle_reads, live, resumed

    idle_reads, live, resumed = asyncio.run(run())
    assert idle_reads == 0
    assert live == [6, 7]
    assert resumed == [3, 4, 5, 6, 7]
