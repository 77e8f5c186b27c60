"""Measured cost per claim: transcripts read once per message, tokens on the claim held at
each message's time, payout with its cost recomputed identically at a position."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.bootstrap import wire
from application.cost import import_transcript
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.commands import Claim, RegisterTask, Release, Takeover
from ledger.config import ClaimConfig
from ledger.events import TokensUsed
from ledger.store.memory import MemoryStore
from ledger.terms import LeaseTerms
from projections.cost import cost_totals
from projections.transcripts import read_transcript
from tests.e2e.timeline import START, cli_over_timeline

MINUTE = 60_000


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _claude_line(message_id: str, minutes: float, output: int = 10) -> dict[str, Any]:
    usage = {
        "input_tokens": 3,
        "output_tokens": output,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
    }
    return {
        "type": "assistant",
        "timestamp": _at(minutes),
        "sessionId": "claude-uuid",
        "message": {"id": message_id, "model": "claude-x", "role": "assistant", "usage": usage},
    }


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def ledger() -> Iterator[tuple[ClaimService, FrozenClock]]:
    """A service on the memory store and a frozen clock at the history's start."""
    clock = FrozenClock(START)
    store = MemoryStore(clock=clock)
    service = wire(store, clock=clock, config=ClaimConfig(), host="test").service
    for task in ("a", "b"):
        service.register_task(RegisterTask(task_id=task, title=f"Task {task}"))
    yield service, clock
    store.close()


def _usages(service: ClaimService) -> list[TokensUsed]:
    return [r.data for r in service.store.read_all() if isinstance(r.data, TokensUsed)]


def test_a_message_over_several_lines_counts_once_with_its_final_usage(tmp_path: Path) -> None:
    """Claude Code repeats a message's id and usage on each line; it is one message."""
    path = _write(
        tmp_path / "t.jsonl",
        [
            _claude_line("m1", 1, output=1),
            _claude_line("m1", 1.1, output=40),
            _claude_line("m2", 2),
        ],
    )
    messages = read_transcript(path).messages
    assert [(m.message_id, m.output_tokens, m.at) for m in messages] == [
        ("m1", 40, START + timedelta(minutes=1)),
        ("m2", 10, START + timedelta(minutes=2)),
    ]


def test_transcript_imported_twice_counts_once(
    ledger: tuple[ClaimService, FrozenClock], tmp_path: Path
) -> None:
    """A second import of the same transcript adds nothing; the totals stay the same."""
    service, _ = ledger
    path = _write(tmp_path / "t.jsonl", [_claude_line("m1", 1), _claude_line("m1", 1)])
    first = import_transcript(service.store, path, "s1", clock=service.clock)
    again = import_transcript(service.store, path, "s1", clock=service.clock)
    assert (first.messages, first.added, again.messages, again.added) == (1, 1, 1, 0)
    assert len(_usages(service)) == 1
    assert cost_totals(service.store.read_all()).unattributed[0].tokens.total == 1113


def test_a_longer_transcript_adds_only_its_new_messages(
    ledger: tuple[ClaimService, FrozenClock], tmp_path: Path
) -> None:
    """Importing at Stop and again at SessionEnd stores each message once."""
    service, _ = ledger
    path = _write(tmp_path / "t.jsonl", [_claude_line("m1", 1)])
    import_transcript(service.store, path, "s1", clock=service.clock)
    _write(path, [_claude_line("m1", 1), _claude_line("m2", 2)])
    assert import_transcript(service.store, path, "s1", clock=service.clock).added == 1
    assert [u.message_id for u in _usages(service)] == ["m1", "m2"]


def test_tokens_land_on_the_claim_active_at_each_message_time(
    ledger: tuple[ClaimService, FrozenClock], tmp_path: Path
) -> None:
    """Held a at minute 1, nothing at 3, b at 5; after a forced takeover, nothing."""
    service, clock = ledger
    service.claim("a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=30 * MINUTE)))
    clock.advance(minutes=2)
    service.release("a", Release(session_id="s1", reason="handoff"))
    clock.advance(minutes=2)
    service.claim("b", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=30 * MINUTE)))
    clock.advance(minutes=2)
    service.takeover("b", Takeover(session_id="s2", force=True, reason="stuck", forced_by="lead"))
    times = {"m1": 1, "m2": 3, "m3": 5, "m4": 7}
    path = _write(tmp_path / "t.jsonl", [_claude_line(m, t) for m, t in times.items()])
    import_transcript(service.store, path, "s1", clock=service.clock)
    assert [(u.message_id, u.task_id, u.fencing_token) for u in _usages(service)] == [
        ("m1", "a", 2),
        ("m2", None, None),
        ("m3", "b", 2),
        ("m4", None, None),
    ]


def test_codex_token_counts_count_each_turn_once(tmp_path: Path) -> None:
    """Codex repeats a token count; its cached input is stored as cache reads."""
    meta = {"timestamp": _at(0), "type": "session_meta", "payload": {"id": "cx-1"}}
    context = {"timestamp": _at(0), "type": "turn_context", "payload": {"model": "gpt-x"}}
    last = {"input_tokens": 500, "cached_input_tokens": 400, "output_tokens": 20}
    info = {"last_token_usage": last, "total_token_usage": {**last, "total_tokens": 520}}
    count = {
        "timestamp": _at(1),
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info},
    }
    path = _write(tmp_path / "rollout.jsonl", [meta, context, count, count])
    messages = read_transcript(path).messages
    assert [(m.message_id, m.model, m.input_tokens, m.cache_read_tokens) for m in messages] == [
        ("codex:cx-1:520", "gpt-x", 100, 400)
    ]


def test_payout_recomputed_at_the_same_position_is_identical(tmp_path: Path) -> None:
    """``payout --at P`` gives the same bytes, cost included, before and after later imports."""
    claims = cli_over_timeline("sqlite", tmp_path)
    transcript = _write(tmp_path / "s1.jsonl", [_claude_line("m1", 1), _claude_line("m2", 10)])
    imported = claims.json("cost", "import", str(transcript), "--session", "s1")
    assert imported.code == 0, imported.stderr
    position = str(imported.body["position"])
    then = claims.json("payout", "--at", position)
    assert then.code == 0, then.stderr
    cost = then.body["cost"]
    assert [(w["sessionId"], w["tokens"]["total"]) for w in cost["workers"]] == [("s1", 1113)]
    assert [(t["taskId"], t["tokens"]["messages"]) for t in cost["tasks"]] == [("a", 1)]
    assert cost["unattributed"][0]["tokens"]["messages"] == 1
    later = _write(tmp_path / "s2.jsonl", [_claude_line("m9", 3)])
    assert claims("cost", "import", str(later), "--session", "s2").code == 0
    assert claims.json("payout", "--at", position).stdout == then.stdout
    assert then.body["position"] == int(position)
    assert len(then.body["headHash"]) == 64
