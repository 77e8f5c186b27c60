"""``Flock``: held for its block, waited for with or without a timeout."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.store.file_lock import Flock, LockTimeout


@pytest.fixture
def two_fds(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Two open files of one lock file: two holders, as two processes would be."""
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT)
    second = os.open(path, os.O_RDWR)
    yield first, second
    os.close(first)
    os.close(second)


def test_a_timed_wait_gives_up_while_another_holds_the_lock(two_fds: tuple[int, int]) -> None:
    first, second = two_fds
    with Flock(first, fcntl.LOCK_EX):
        started = time.monotonic()
        with (
            pytest.raises(LockTimeout, match=r"more than 0\.05 s"),
            Flock(second, fcntl.LOCK_EX, timeout=0.05),
        ):
            pytest.fail("the lock was taken while held")
        assert time.monotonic() - started >= 0.05


def test_a_timed_wait_takes_the_lock_soon_after_its_release(two_fds: tuple[int, int]) -> None:
    first, second = two_fds
    released = threading.Event()

    def hold() -> None:
        with Flock(first, fcntl.LOCK_EX):
            time.sleep(0.1)
            released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.02)
    with Flock(second, fcntl.LOCK_EX, timeout=5):
        assert released.is_set()
    holder.join()


def test_the_lock_is_free_again_after_the_block(two_fds: tuple[int, int]) -> None:
    first, second = two_fds
    with Flock(first, fcntl.LOCK_EX):
        pass
    with Flock(second, fcntl.LOCK_EX, timeout=0):
        pass
