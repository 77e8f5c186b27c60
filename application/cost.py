"""Measured cost per claim, written: a transcript's token usage, each message once, on the
claim the session held at the message's time (ADR 0013).

``import_transcript(store, path, session_id)`` is what ``claims cost import`` and the
agent's ``SessionEnd``/``Stop`` hook call: it reads the transcript
(``projections.transcripts``), attributes each message (``projections.cost.attribute``
over ``projections.timeline.claim_intervals``) and appends the messages the session's
cost stream does not hold yet (``ledger.cost.append_usage``). Importing the same
transcript twice, or a longer version of it, stores each message once.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from ledger.clock import Clock
from ledger.cost import append_usage
from ledger.events import TokensUsed
from ledger.store.protocol import EventStore
from projections.cost import attribute
from projections.timeline import claim_intervals
from projections.transcripts import read_transcript


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
    store: EventStore, path: Path | str, session_id: str, *, clock: Clock
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
