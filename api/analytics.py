"""Analytics over HTTP: the DuckDB store of ``claims stats|audit|payout``, on its own thread.

Each question opens the analytics file beside the ledger (``<ledger>.analytics.duckdb``,
the one the CLI uses), brings it up to date with the log, answers, and closes it
again, so the server never holds DuckDB's lock between requests. It runs on a
thread of its own, through the event hub's read handle on the log, so a long
analytics update never delays a claim.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import msgspec

from ledger.store.local import local_base
from ledger.store.protocol import EventStore

if TYPE_CHECKING:
    from projections.analytics import Analytics

Body = dict[str, Any]


class AnalyticsRunner:
    """Answers analytics questions, one at a time, off the service thread."""

    def __init__(self, store: EventStore, url: str) -> None:
        self.store = store
        self.url = url
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-analytics")

    async def ask(
        self,
        question: Callable[[Analytics], msgspec.Struct],
        *,
        cost: bool = False,
        task_id: str | None = None,
    ) -> Body:
        """``question`` answered on an up-to-date analytics store, with its checkpoint;
        with ``cost``, the measured tokens (of ``task_id``) at that checkpoint too."""
        loop = asyncio.get_running_loop()
        ask = functools.partial(self._ask, question, cost=cost, task_id=task_id)
        return await loop.run_in_executor(self._executor, ask)

    def _ask(
        self,
        question: Callable[[Analytics], msgspec.Struct],
        *,
        cost: bool = False,
        task_id: str | None = None,
    ) -> Body:
        from projections.analytics import Analytics, default_path

        base = local_base(self.store)
        with Analytics(default_path(None if base is None else str(base))) as analytics:
            analytics.update(self.store)
            result = question(analytics)
            checkpoint = analytics.checkpoint()
            totals = analytics.cost(task_id=task_id) if cost else None
        answer = msgspec.to_builtins(result)
        assert isinstance(answer, dict)
        if totals is not None:
            answer["cost"] = msgspec.to_builtins(totals)
        return {
            "success": True,
            "position": checkpoint.position,
            "headHash": checkpoint.hash,
            **answer,
        }

    def close(self) -> None:
        self._executor.shutdown(wait=True)
