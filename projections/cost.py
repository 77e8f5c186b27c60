"""Measured cost per claim: import a transcript's token usage, and total it per task and worker.

``import_transcript(store, path, session_id)`` is what ``claims cost import`` and the
agent's ``SessionEnd``/``Stop`` hook call: it reads the transcript
(``projections.transcripts``), attributes each message to the claim the session
held at the message's time (``projections.timeline.claim_intervals``; none held:
unattributed), and appends the messages the session's cost stream does not hold
yet (``ledger.cost.append_usage``). Importing the same transcript twice, or a
longer version of it, stores each message once.

``cost_totals(records)`` sums the ``tokens_used`` records of a log prefix per task,
per worker and per (task, worker); ``claims payout`` and ``claims stats`` show it
beside their time shares, computed at the same position (the policy: docs/analytics.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from ledger.clock import Clock
from ledger.cost import append_usage
from ledger.events import TokensUsed
from ledger.records import Record
from ledger.store.protocol import EventStore
from projections.timeline import Interval, claim_intervals
from projections.transcripts import MessageUsage, read_transcript


class CostImport(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What one import found and stored."""

    session_id: str
    transcript: str
    messages: int
    """Messages with measured usage in the transcript, each counted once."""
    added: int
    """Of those, the ones the ledger did not hold yet."""
    attributed: int
    """Of the added, the ones made while the session held a claim."""
    skipped_lines: list[int]
    position: int | None
    """The ledger position of the last record written (``None``: nothing new)."""


def import_transcript(
    store: EventStore, path: Path | str, session_id: str, *, clock: Clock | None = None
) -> CostImport:
    """Import a Claude Code or Codex transcript's measured usage for ``session_id``."""
    transcript = read_transcript(Path(path))
    intervals = [
        interval
        for interval in claim_intervals(store.read_all())
        if interval.session_id == session_id
    ]
    usages = [attribute(message, session_id, intervals) for message in transcript.messages]
    written = append_usage(store, session_id, usages, clock=clock)
    added = [record.data for record in written if isinstance(record.data, TokensUsed)]
    return CostImport(
        session_id=session_id,
        transcript=str(path),
        messages=len(transcript.messages),
        added=len(added),
        attributed=sum(1 for usage in added if usage.task_id is not None),
        skipped_lines=transcript.skipped,
        position=written[-1].position if written else None,
    )


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
