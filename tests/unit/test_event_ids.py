"""Event ids: 48 bits of milliseconds, then 80 random bits drawn from ``os.urandom`` a
pool at a time (ADR 0027)."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from ledger import records
from ledger.records import IDS_A_DRAW, RANDOM_BYTES, new_event_id


def test_an_id_is_32_hex_digits_and_never_repeats() -> None:
    ids = [new_event_id() for _ in range(5 * IDS_A_DRAW + 3)]
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_threads_drawing_at_once_never_share_an_id() -> None:
    found: list[list[str]] = [[] for _ in range(8)]

    def draw(mine: list[str]) -> None:
        mine.extend(new_event_id() for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(mine,)) for mine in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for mine in found for i in mine]
    assert len(set(every)) == len(every) == 16_000


def test_one_system_call_draws_a_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    records._drawn.clear()
    calls: list[int] = []
    real = os.urandom

    def counted(size: int) -> bytes:
        calls.append(size)
        return real(size)

    monkeypatch.setattr(os, "urandom", counted)
    for _ in range(IDS_A_DRAW):
        new_event_id()
    assert calls == [RANDOM_BYTES * IDS_A_DRAW]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_does_not_hand_out_its_parents_ids() -> None:
    records._drawn.clear()
    new_event_id()  # the parent now holds a pool of drawn ids
    pending = set(records._drawn)
    assert len(pending) == IDS_A_DRAW - 1
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(reading)
            os.write(writing, "".join(new_event_id() for _ in range(IDS_A_DRAW)).encode())
            code = 0
        finally:
            os._exit(code)  # never back into the parent's test run
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        sent = pipe.read().decode()
    os.waitpid(child, 0)
    theirs = {sent[start + 12 : start + 32] for start in range(0, len(sent), 32)}
    assert len(theirs) == IDS_A_DRAW
    assert not theirs & pending


def test_an_id_begins_with_the_milliseconds_it_was_made_at() -> None:
    before = time.time_ns() // 1_000_000
    made = new_event_id()
    after = time.time_ns() // 1_000_000
    assert before <= int(made[:12], 16) <= after


def test_ids_made_in_a_later_millisecond_sort_after() -> None:
    """So that a unique index on them grows at its end (ADR 0027)."""
    earlier = [new_event_id() for _ in range(50)]
    time.sleep(0.002)
    later = [new_event_id() for _ in range(50)]
    assert max(earlier) < min(later)


@pytest.mark.parametrize("nanoseconds", [-1_000_000, 0, (1 << 48) * 1_000_000 + 5_000_000])
def test_an_id_is_32_hex_digits_whatever_the_clock_says(
    monkeypatch: pytest.MonkeyPatch, nanoseconds: int
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: nanoseconds)
    assert re.fullmatch("[0-9a-f]{32}", new_event_id())
