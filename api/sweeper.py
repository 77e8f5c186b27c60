"""The background sweeper: every ``cleanup_interval`` it records expiries and orphans."""

from __future__ import annotations

import asyncio
import logging

from api.runtime import Runtime
from api.sweep_turn import SweepTurn
from ledger.errors import LedgerError

log = logging.getLogger("claims.sweeper")


async def sweep_once(runtime: Runtime) -> int:
    """One sweep on the service thread; returns how many claims it ended."""
    result = await runtime.write(runtime.service.sweep)
    for task_id in result.expired:
        log.info("expired %s", task_id)
    for task_id, session_id, reason in result.orphaned:
        log.info("orphaned %s (held by %s: %s)", task_id, session_id, reason)
    return len(result.expired) + len(result.orphaned)


async def run_sweeper(runtime: Runtime, interval_s: float) -> None:
    """Sweep now, then every ``interval_s`` seconds, until cancelled.

    A failed sweep (the store briefly unavailable, say) is logged and retried at
    the next turn; it never stops the server. Of several worker processes only the
    one holding the sweep lock sweeps (``api.workers.SweepTurn``).
    """
    turn = SweepTurn(runtime.options.sweep_lock)
    try:
        while True:
            if turn.mine():
                try:
                    await sweep_once(runtime)
                except LedgerError as error:
                    log.warning("sweep failed: %s", error)
            await asyncio.sleep(interval_s)
    finally:
        turn.close()
