"""Run a module under libfaketime with a working ``time.sleep``.

``python -m tests.campaign.faketimed MODULE ARGS...`` runs ``python -m MODULE ARGS...``
after replacing ``time.sleep`` with a ``select``-based one. Under ``faketime`` with
``FAKETIME_DONT_FAKE_MONOTONIC=1`` (needed: with a faked monotonic clock, timed waits on
locks and conditions hang), libfaketime answers ``clock_nanosleep`` on the monotonic
clock with EINVAL, and ``time.sleep`` uses it; ``select``'s relative timeout is unaffected.

``faketimed_command`` starts such a process with libfaketime preloaded directly rather than
through Debian's ``faketime`` wrapper: the wrapper names a POSIX semaphore after its own pid
and, when it is killed with SIGKILL (the campaign does that), leaves it behind in /dev/shm;
a later wrapper that is given the same pid then fails with ``sem_open: File exists``.
"""

from __future__ import annotations

import glob
import operator
import runpy
import select
import sys
import time
from collections.abc import Mapping
from typing import SupportsIndex

LIBFAKETIME_GLOBS = (
    "/usr/lib/*/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)
"""Where Debian, Ubuntu and a source install put libfaketime."""


def libfaketime() -> str:
    """The path of libfaketime; a missing library is an error, never a skip."""
    for pattern in LIBFAKETIME_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise RuntimeError("libfaketime is not installed (Debian: apt-get install faketime)")


def faketimed_command(
    offset: str, module: str, args: list[str], env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """``python -m MODULE ARGS`` through this runner with its clock moved by ``offset``
    (libfaketime's ``-f`` syntax: ``+1h``, ``-10m``), and the environment it needs:
    libfaketime preloaded, the offset, and monotonic time left alone."""
    faked = {
        **env,
        "LD_PRELOAD": libfaketime(),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    return [sys.executable, "-m", __name__, module, *args], faked


def sleep(seconds: float | SupportsIndex) -> None:
    """``time.sleep`` through ``select``: a relative timeout, no clock read."""
    delay = float(seconds) if isinstance(seconds, float) else float(operator.index(seconds))
    if delay > 0:
        select.select([], [], [], delay)


def main() -> None:
    time.sleep = sleep
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
