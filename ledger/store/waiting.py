"""Waiting for the log to grow, for backends that have no notifications of their own."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_INTERVAL = 0.02
"""How often an embedded store's head is read while someone waits on it (a
read of the head is an index probe, well under a millisecond)."""


def poll_head(
    head_position: Callable[[], int], after: int, timeout: float, interval: float = POLL_INTERVAL
) -> int:
    """Read the head until it passes ``after`` or ``timeout`` seconds pass; return it."""
    deadline = time.monotonic() + timeout
    while True:
        head = head_position()
        remaining = deadline - time.monotonic()
        if head > after or remaining <= 0:
            return head
        time.sleep(min(interval, remaining))
