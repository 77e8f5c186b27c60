"""``Analytics``: the library call behind ``claims audit|stats|payout|sql|export``.

Open it on an analytics file (or in memory), bring it up to date with a ledger,
then ask::

    with Analytics(default_path("/data/ledger.db")) as analytics:
        analytics.update(store)
        print(analytics.stats(by="agent").total.claimed.p95)

Every answer is as of the checkpoint (``analytics.checkpoint()``): the position and
hash of the last ledger record it holds, which every output carries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType

import duckdb

from ledger.config import ClaimConfig
from ledger.errors import InvalidInput, SessionNotFound, TaskNotFound
from ledger.store.protocol import EventStore
from projections.analytics import audit as _audit
from projections.analytics import audit_text as _audit_text
from projections.analytics import cost as _cost
from projections.analytics import payout as _payout
from projections.analytics import payout_text as _payout_text
from projections.analytics import stats as _stats
from projections.analytics.connect import MEMORY, WAIT_S, connect, connect_read_only
from projections.analytics.export import Format
from projections.analytics.export import export as _export
from projections.analytics.feeder import Checkpoint, Progress, UpdateResult, read_checkpoint
from projections.analytics.feeder import update as _update
from projections.analytics.readonly import QueryResult, check_read_only, run_query
from projections.analytics.window import Window
from projections.cost import CostTotals


class Analytics:
    """One analytics store: a DuckDB file (or memory) fed from one ledger."""

    def __init__(self, path: str = MEMORY, *, wait_s: float = WAIT_S) -> None:
        self.path = path
        self.wait_s = wait_s
        self._con: duckdb.DuckDBPyConnection | None = connect(path, wait_s=wait_s)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise InvalidInput("this analytics store is closed")
        return self._con

    # --- keeping up ---------------------------------------------------------------

    def update(
        self, store: EventStore, *, until: int | None = None, progress: Progress | None = None
    ) -> UpdateResult:
        """Apply the ledger's records past the checkpoint (up to position ``until``)."""
        return _update(self.con, store, until=until, progress=progress)

    def checkpoint(self) -> Checkpoint:
        return read_checkpoint(self.con)

    # --- questions ----------------------------------------------------------------

    def audit(
        self,
        subject: _audit.Subject,
        *,
        window: Window | None = None,
        heartbeats: bool = True,
        limit: int | None = None,
    ) -> _audit.Trail:
        if subject.empty():
            raise InvalidInput("audit needs a task, a session or an agent type")
        self.require(subject.task_id, subject.session_id, subject.agent_type)
        return _audit.audit(self.con, subject, window=window, heartbeats=heartbeats, limit=limit)

    def audit_pages(
        self,
        form: _audit_text.Form,
        subject: _audit.Subject,
        *,
        window: Window | None = None,
        heartbeats: bool = True,
        limit: int | None = None,
        page: int = _audit_text.PAGE,
    ) -> Iterator[list[str]]:
        """The trail of ``audit`` as text pages written by DuckDB (one entry past
        ``limit``: see ``audit_text.Truncation``); CSV lines carry the checkpoint's
        position and hash. Read every page before asking anything else of this store."""
        if subject.empty():
            raise InvalidInput("audit needs a task, a session or an agent type")
        self.require(subject.task_id, subject.session_id, subject.agent_type)
        checkpoint = self.checkpoint()
        return _audit_text.pages(
            self.con,
            form,
            subject,
            window=window or Window(),
            heartbeats=heartbeats,
            limit=limit,
            position=checkpoint.position,
            head_hash=checkpoint.hash,
            page=page,
        )

    def stats(
        self,
        *,
        by: _stats.GroupBy = "session",
        where: _stats.Filter | None = None,
        stale_after_ms: int | None = None,
    ) -> _stats.Stats:
        where = where or _stats.Filter()
        self.require(where.task_id, where.session_id)
        return _stats.stats(self.con, by=by, where=where, stale_after_ms=stale_after_ms)

    def current(self, now: datetime, config: ClaimConfig | None = None) -> _stats.Current:
        return _stats.current(self.con, now, config)

    def payout(
        self,
        *,
        window: Window | None = None,
        weights: _payout.Weights | None = None,
        task_id: str | None = None,
        detail: bool = True,
    ) -> _payout.Payout:
        self.require(task_id)
        return _payout.payout(
            self.con, window=window, weights=weights, task_id=task_id, detail=detail
        )

    def payout_pages(
        self,
        form: _payout_text.Form,
        *,
        window: Window | None = None,
        weights: _payout.Weights | None = None,
        task_id: str | None = None,
        suffix: str = "",
        page: int = _payout_text.PAGE,
    ) -> Iterator[list[str]]:
        """The per-task list of ``payout`` as text pages written by DuckDB, one row per
        task and worker: JSON pieces that, joined by commas, are the tasks' objects, or
        CSV lines ending in ``suffix`` (``projections.analytics.payout_text``). Read
        every page before asking anything else of this store."""
        self.require(task_id)
        query = _payout.SharesQuery.of(window or Window(), weights or _payout.Weights(), task_id)
        return _payout_text.pages(self.con, form, query, suffix, page=page)

    def cost(self, *, task_id: str | None = None) -> CostTotals:
        """Measured tokens per task and worker, and unattributed, at the checkpoint
        (``task_id``: that task only)."""
        return _cost.cost_totals(self.con, task_id=task_id)

    def query(self, sql: str) -> QueryResult:
        """One read-only SQL statement. A file store is reopened read-only for it
        (and stays so until closed); an in-memory one is locked down in place."""
        check_read_only(sql)
        if self.path == MEMORY:
            self.con.execute("SET enable_external_access = false")
            self.con.execute("SET lock_configuration = true")
        elif self._con is not None:
            self._con.close()
            self._con = connect_read_only(self.path, wait_s=self.wait_s)
        return run_query(self.con, sql)

    def export(self, table: str, path: Path, fmt: Format) -> int:
        return _export(self.con, table, path, fmt)

    # --- checks -------------------------------------------------------------------

    def require(
        self, task_id: str | None, session_id: str | None = None, agent_type: str | None = None
    ) -> None:
        """``TASK_NOT_FOUND`` / ``SESSION_NOT_FOUND`` / ``VALIDATION_ERROR`` for a task,
        session or agent type the ledger (as of the checkpoint) never saw."""
        at = self.checkpoint().position
        if task_id is not None and not self._exists("tasks", "task_id", task_id):
            raise TaskNotFound(
                f"task {task_id!r} does not exist in the ledger (position {at})", taskId=task_id
            )
        if session_id is not None and not self._exists("sessions", "session_id", session_id):
            raise SessionNotFound(
                f"session {session_id!r} does not exist in the ledger (position {at})",
                sessionId=session_id,
            )
        known = self._exists("sessions", "agent_type", agent_type) or self._exists(
            "claim_intervals", "agent_type", agent_type
        )
        if agent_type is not None and not known:
            raise InvalidInput(
                f"no session or claim has agent type {agent_type!r} (position {at})",
                agentType=agent_type,
            )

    def _exists(self, table: str, column: str, value: str | None) -> bool:
        if value is None:
            return False
        row = self.con.execute(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [value])
        return row.fetchone() is not None

    # --- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Analytics:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
