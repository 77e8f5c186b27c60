"""Hook payloads in the shapes Claude Code and Codex send (their hooks references)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def claude(event: str, session: str, cwd: Path) -> dict[str, Any]:
    """Claude Code's input for ``event``: common fields plus the event's own."""
    base: dict[str, Any] = {
        "session_id": session,
        "transcript_path": f"/home/u/.claude/projects/p/{session}.jsonl",
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": event,
    }
    extra: dict[str, dict[str, Any]] = {
        "SessionStart": {"source": "startup", "model": "claude-sonnet-4-5"},
        "PostToolUse": {
            "tool_name": "Write",
            "tool_input": {"file_path": str(cwd / "a.py"), "content": "x = 1\n"},
            "tool_response": {"filePath": str(cwd / "a.py"), "success": True},
            "tool_use_id": "toolu_01",
        },
        "Stop": {"stop_hook_active": False, "last_assistant_message": "Done."},
        "SessionEnd": {"reason": "prompt_input_exit"},
    }
    return {**base, **extra.get(event, {})}


def codex(event: str, session: str, cwd: Path) -> dict[str, Any]:
    """Codex's input for ``event`` (it has no session-end event)."""
    base: dict[str, Any] = {
        "session_id": session,
        "transcript_path": None,
        "cwd": str(cwd),
        "hook_event_name": event,
        "model": "gpt-5-codex",
    }
    extra: dict[str, dict[str, Any]] = {
        "SessionStart": {"source": "startup"},
        "PostToolUse": {
            "turn_id": "turn-1",
            "tool_name": "Bash",
            "tool_use_id": "call_1",
            "tool_input": {"command": "pytest -q"},
            "tool_response": "1 passed",
        },
        "Stop": {"turn_id": "turn-1", "stop_hook_active": False, "last_assistant_message": "ok"},
    }
    return {**base, **extra.get(event, {})}
