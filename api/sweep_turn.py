"""Which of several server processes sweeps: the one holding a lock file."""

from __future__ import annotations

import fcntl
import os


class SweepTurn:
    """Whether this process is the one that sweeps: it holds the lock file, or there
    is no lock file (a single server process)."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._fd: int | None = None

    def mine(self) -> bool:
        """True when this process sweeps; tries to take the lock when it does not yet."""
        if self._path is None:
            return True
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
