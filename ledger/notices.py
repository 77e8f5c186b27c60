"""The notices the library logs (a snapshot set aside, a save that failed, a JSONL
index rebuilt), through ``logging`` imported on first use: a process with nothing to
report never loads it (about 7 ms of a fresh ``claims heartbeat``).

A face that shows notices its own way (the CLI's ``notice: ...`` lines) hands its
set-up to ``when_used``: it runs before the first notice, or at once if ``logging`` is
already loaded. A store whose driver logs on its own (psycopg's pool) calls ``ready``
when it loads, so the set-up is in place before the driver speaks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

_pending: list[Callable[[], None]] = []


def when_used(setup: Callable[[], None]) -> None:
    """Run ``setup`` before the first notice (at once if ``logging`` is loaded)."""
    if "logging" in sys.modules:
        setup()
    else:
        _pending.append(setup)


def ready() -> None:
    """Run the set-ups waiting for the first notice now."""
    while _pending:
        _pending.pop(0)()


def logger(name: str) -> logging.Logger:
    """The logger ``name``, after the waiting set-ups."""
    import logging

    ready()
    return logging.getLogger(name)
