"""Measured cost per claim: which claim a message's tokens go to, and the totals per task
and worker.

``attribute`` puts a transcript message (``projections.transcripts``) on the claim the
session held at the message's time (``projections.timeline.claim_intervals``; none
held: unattributed); ``application.cost.import_transcript`` stores the result.

``cost_totals(records)`` sums the ``tokens_used`` records of a log prefix per task,
per worker and per (task, worker). ``claims payout`` and ``claims stats`` show the same
totals beside their time shares, computed at the same position from the analytics
store's ``token_usage`` table (``projections.analytics.cost``; the policy:
docs/analytics.md); this fold over records is their reference.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ledger.events import TokensUsed
from ledger.records import Record
from projections.timeline import Interval
from projections.transcripts import MessageUsage


def attribute(message: MessageUsage, session_id: str, intervals: list[Interval]) -> TokensUsed:
    """The message's usage, on the claim the session held at its time (the latest
    started one, if it held several), or unattributed."""
    held = [interval for interval in intervals if interval.active_at(message.at)]
    claim = max(held, key=lambda interval: interval.start_position, default=None)
    return TokensUsed(
        session_id=session_id,
        message_id=message.message_id,
        at=message.at,
        source=message.source,
        model=message.model,
        task_id=None if claim is None else claim.task_id,
        fencing_token=None if claim is None else claim.fencing_token,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        cache_creation_tokens=message.cache_creation_tokens,
        cache_read_tokens=message.cache_read_tokens,
    )


# --- totals -------------------------------------------------------------------------


class Tokens(msgspec.Struct, kw_only=True, rename="camel"):
    """Measured tokens, summed."""

    messages: int = 0
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    total: int = 0
    """All four counters together."""

    def add(self, usage: TokensUsed) -> None:
        self.messages += 1
        self.input += usage.input_tokens
        self.output += usage.output_tokens
        self.cache_creation += usage.cache_creation_tokens
        self.cache_read += usage.cache_read_tokens
        self.total += (
            usage.input_tokens
            + usage.output_tokens
            + usage.cache_creation_tokens
            + usage.cache_read_tokens
        )


class WorkerTokens(msgspec.Struct, kw_only=True, rename="camel"):
    session_id: str
    tokens: Tokens
    share: float = 0.0
    """Of the task's attributed tokens (of all attributed tokens, in ``workers``)."""


class TaskTokens(msgspec.Struct, kw_only=True, rename="camel"):
    task_id: str
    tokens: Tokens
    workers: list[WorkerTokens]


class CostTotals(msgspec.Struct, kw_only=True, rename="camel"):
    """Measured tokens per task (and worker on it), per worker, and unattributed."""

    policy: str
    tasks: list[TaskTokens]
    workers: list[WorkerTokens]
    unattributed: list[WorkerTokens]
    """Per session: tokens used while it held no claim."""


POLICY = "reported"
"""How cost enters a payout: reported beside each share, never changing it."""


def cost_totals(records: Iterable[Record], *, task_id: str | None = None) -> CostTotals:
    """The ``tokens_used`` records among ``records``, summed (``task_id``: that task only)."""
    by_pair: dict[tuple[str, str], Tokens] = {}
    unattributed: dict[str, Tokens] = {}
    for record in records:
        usage = record.data
        if not isinstance(usage, TokensUsed):
            continue
        if usage.task_id is None:
            if task_id is None:
                unattributed.setdefault(usage.session_id, Tokens()).add(usage)
        elif task_id is None or usage.task_id == task_id:
            by_pair.setdefault((usage.task_id, usage.session_id), Tokens()).add(usage)
    return totals_of(by_pair, unattributed)


def totals_of(
    by_pair: dict[tuple[str, str], Tokens], unattributed: dict[str, Tokens]
) -> CostTotals:
    """The totals of tokens summed per (task, session) and, unattributed, per session
    (``projections.analytics.cost`` sums them in DuckDB and finishes here)."""
    return CostTotals(
        policy=POLICY,
        tasks=_tasks(by_pair),
        workers=_shared(_by_worker(by_pair)),
        unattributed=[
            WorkerTokens(session_id=session, tokens=tokens)
            for session, tokens in sorted(unattributed.items())
        ],
    )


def _tasks(by_pair: dict[tuple[str, str], Tokens]) -> list[TaskTokens]:
    tasks: list[TaskTokens] = []
    for task in sorted({task for task, _ in by_pair}):
        workers = {session: tokens for (t, session), tokens in by_pair.items() if t == task}
        shared = _shared(workers)
        total = Tokens()
        for worker in shared:
            _merge(total, worker.tokens)
        tasks.append(TaskTokens(task_id=task, tokens=total, workers=shared))
    return tasks


def _by_worker(by_pair: dict[tuple[str, str], Tokens]) -> dict[str, Tokens]:
    summed: dict[str, Tokens] = {}
    for (_, session), tokens in by_pair.items():
        _merge(summed.setdefault(session, Tokens()), tokens)
    return summed


def _shared(workers: dict[str, Tokens]) -> list[WorkerTokens]:
    whole = sum(tokens.total for tokens in workers.values())
    return [
        WorkerTokens(
            session_id=session,
            tokens=tokens,
            share=round(tokens.total / whole, 6) if whole else 0.0,
        )
        for session, tokens in sorted(workers.items())
    ]


def _merge(into: Tokens, tokens: Tokens) -> None:
    into.messages += tokens.messages
    into.input += tokens.input
    into.output += tokens.output
    into.cache_creation += tokens.cache_creation
    into.cache_read += tokens.cache_read
    into.total += tokens.total
