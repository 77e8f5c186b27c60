"""Token usage read from an agent's transcript: Claude Code's JSONL or a Codex session log.

Measured or absent, never estimated: a message counts only when the transcript
reports its usage, with the numbers it reports.

- **Claude Code** writes one assistant message over several lines (one per content
  block), each repeating ``message.id`` and ``message.usage``; the output count can
  grow from line to line while it streams. A message is counted once, by its id,
  with the largest value of each counter among its lines, at its first line's
  ``timestamp``.
- **Codex** writes ``event_msg`` lines of ``payload.type == "token_count"`` whose
  ``info.last_token_usage`` is one turn's usage and ``info.total_token_usage`` the
  running total. A turn's id is the session id (``session_meta``) and that running
  total, so the repeated count events Codex writes collapse into one. Codex's input
  count includes its cached part; the cached part is stored as cache reads and the
  rest as input, as Claude Code reports them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from ledger.errors import InvalidInput
from ledger.moments import parse_moment


class MessageUsage(msgspec.Struct, frozen=True, kw_only=True):
    """One model message's measured usage."""

    message_id: str
    at: datetime
    source: str
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """The messages of one transcript, each once, and the lines that were not JSON."""

    messages: list[MessageUsage]
    lines: int
    skipped: list[int]
    """Line numbers (from 1) that were not a JSON object, e.g. a line still being written."""


_decoder = msgspec.json.Decoder()


def read_transcript(path: Path) -> Transcript:
    """The usage of every model message in a Claude Code or Codex transcript."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read transcript {str(path)!r}: {exc.strerror}") from exc
    reader = _Reader()
    skipped: list[int] = []
    lines = raw.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = _decoder.decode(line)
        except msgspec.DecodeError:
            skipped.append(number)
            continue
        if isinstance(entry, dict):
            reader.read(entry)
        else:
            skipped.append(number)
    return Transcript(messages=reader.messages(), lines=len(lines), skipped=skipped)


class _Reader:
    def __init__(self) -> None:
        self._claude: dict[str, MessageUsage] = {}
        self._codex: dict[str, MessageUsage] = {}
        self._codex_session = "session"
        self._codex_model: str | None = None

    def read(self, entry: dict[str, Any]) -> None:
        kind = entry.get("type")
        payload = entry.get("payload")
        if kind == "assistant" and isinstance(entry.get("message"), dict):
            self._claude_line(entry, entry["message"])
        elif isinstance(payload, dict):
            self._codex_line(kind, entry, payload)

    def messages(self) -> list[MessageUsage]:
        found = [*self._claude.values(), *self._codex.values()]
        return sorted(found, key=lambda message: (message.at, message.message_id))

    def _claude_line(self, entry: dict[str, Any], message: dict[str, Any]) -> None:
        message_id, usage, when = message.get("id"), message.get("usage"), _time(entry)
        if not isinstance(message_id, str) or not isinstance(usage, dict) or when is None:
            return
        seen = self._claude.get(message_id)
        model = message.get("model")
        counted = MessageUsage(
            message_id=message_id,
            at=when if seen is None else seen.at,
            source="claude_code",
            model=model if isinstance(model, str) else None,
            input_tokens=_count(usage, "input_tokens"),
            output_tokens=_count(usage, "output_tokens"),
            cache_creation_tokens=_count(usage, "cache_creation_input_tokens"),
            cache_read_tokens=_count(usage, "cache_read_input_tokens"),
        )
        self._claude[message_id] = counted if seen is None else _larger(seen, counted)

    def _codex_line(self, kind: object, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        if kind == "session_meta" and isinstance(payload.get("id"), str):
            self._codex_session = payload["id"]
        elif kind == "turn_context" and isinstance(payload.get("model"), str):
            self._codex_model = payload["model"]
        elif kind == "event_msg" and payload.get("type") == "token_count":
            self._codex_count(entry, payload.get("info"))

    def _codex_count(self, entry: dict[str, Any], info: object) -> None:
        when = _time(entry)
        if not isinstance(info, dict) or when is None:
            return
        last, total = info.get("last_token_usage"), info.get("total_token_usage")
        if not isinstance(last, dict) or not isinstance(total, dict):
            return
        message_id = f"codex:{self._codex_session}:{_count(total, 'total_tokens')}"
        if message_id in self._codex:
            return
        cached = _count(last, "cached_input_tokens")
        self._codex[message_id] = MessageUsage(
            message_id=message_id,
            at=when,
            source="codex",
            model=self._codex_model,
            input_tokens=max(0, _count(last, "input_tokens") - cached),
            output_tokens=_count(last, "output_tokens"),
            cache_read_tokens=cached,
        )


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _time(entry: dict[str, Any]) -> datetime | None:
    stamp = entry.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        when = parse_moment(stamp)
    except ValueError:
        return None
    return when if isinstance(when, datetime) else None


def _larger(seen: MessageUsage, line: MessageUsage) -> MessageUsage:
    return msgspec.structs.replace(
        seen,
        model=seen.model or line.model,
        input_tokens=max(seen.input_tokens, line.input_tokens),
        output_tokens=max(seen.output_tokens, line.output_tokens),
        cache_creation_tokens=max(seen.cache_creation_tokens, line.cache_creation_tokens),
        cache_read_tokens=max(seen.cache_read_tokens, line.cache_read_tokens),
    )
