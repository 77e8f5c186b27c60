"""An ``flock`` held for a ``with`` block, waited for without a timeout or with one.

The kernel releases an ``flock`` when its holder closes the file or dies, so a writer
killed in the middle of a write never leaves the lock behind.
"""

from __future__ import annotations

import fcntl
import time

_FIRST_PAUSE = 0.00005
_LONGEST_PAUSE = 0.001
"""Between two tries of a timed lock: from 50 us, doubling, to 1 ms. The lock is held for
one transaction (about a millisecond to an fsync), so a waiter takes it within a
millisecond of its release, where SQLite's own busy handler sleeps up to 100 ms."""


class LockTimeout(Exception):
    """The lock was still held by another process when the time ran out."""


class Flock:
    """``with Flock(fd, fcntl.LOCK_EX):`` holds the lock for the block; with ``timeout``
    (seconds) the wait gives up with ``LockTimeout`` instead of blocking forever."""

    def __init__(self, fd: int, mode: int, *, timeout: float | None = None) -> None:
        self._fd = fd
        self._mode = mode
        self._timeout = timeout

    def __enter__(self) -> None:
        if self._timeout is None:
            fcntl.flock(self._fd, self._mode)
            return
        self._take_within(self._timeout)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _take_within(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._fd, self._mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"the lock was held for more than {timeout:g} s") from None
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
