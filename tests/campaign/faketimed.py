"""Run a module under libfaketime with a working ``time.sleep``.

``python -m tests.campaign.faketimed MODULE ARGS...`` runs ``python -m MODULE ARGS...``
after replacing ``time.sleep`` with a ``select``-based one. Under ``faketime`` with
``FAKETIME_DONT_FAKE_MONOTONIC=1`` (needed: with a faked monotonic clock, timed waits on
locks and conditions hang), libfaketime answers ``clock_nanosleep`` on the monotonic
clock with EINVAL, and ``time.sleep`` uses it; ``select``'s relative timeout is unaffected.
"""

from __future__ import annotations

import operator
import runpy
import select
import sys
import time
from typing import SupportsIndex

FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1"}
"""What a process run under ``faketime`` needs in its environment besides."""


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
