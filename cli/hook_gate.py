"""The first step of ``claims hook``, on the standard library alone: answer a
``PostToolUse`` that needs no ledger work without importing the ledger.

An agent calls the hook after every tool call, often many times a minute, while a
lease lasts 30 minutes by default. ``PostToolUse`` needs the ledger only when the
session holds a claim recorded in this working tree, its loss has not been told yet,
and its last heartbeat from the hook is older than ``CLAIMS_HOOK_INTERVAL``
milliseconds (default 15000; ``0`` heartbeats on every call). Everything else exits
0 here, silently, as the full hook would. ``Stop``, ``SessionStart`` and
``SessionEnd`` always go to the full hook (``cli.agent_hook``), so a lost lease is
still told at the next heartbeat due and at the end of every turn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

from cli.work_tree import beat_stamp, record_path, records_dir

DEFAULT_INTERVAL_MS = 15_000


def settled(raw: bytes, environ: Mapping[str, str]) -> bool:
    """True when ``raw`` is a ``PostToolUse`` payload the full hook would answer with
    exit 0 and no output, without a heartbeat due: nothing more to do."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(payload, dict) or payload.get("hook_event_name") != "PostToolUse":
        return False
    session = environ.get("CLAIMS_SESSION") or payload.get("session_id")
    cwd = payload.get("cwd")
    if not isinstance(session, str) or not session:
        return False
    folder = records_dir(Path(cwd) if isinstance(cwd, str) and cwd else Path.cwd())
    if folder is None:
        return True  # no working tree: nothing recorded, nothing to heartbeat
    return _nothing_due(folder, session, _interval(environ))


def _nothing_due(folder: Path, session: str, interval_ms: int) -> bool:
    try:
        record = json.loads(record_path(folder, session).read_bytes())
    except FileNotFoundError:
        return True  # holding nothing: do nothing, write nothing
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("lost") is not None:
        return isinstance(record, dict)  # a loss already told: the hook stays quiet
    try:
        beaten = beat_stamp(folder, session).stat().st_mtime
    except OSError:
        return False
    return (time.time() - beaten) * 1000 < interval_ms


def _interval(environ: Mapping[str, str]) -> int:
    try:
        return max(0, int(environ.get("CLAIMS_HOOK_INTERVAL", DEFAULT_INTERVAL_MS)))
    except ValueError:
        return DEFAULT_INTERVAL_MS
