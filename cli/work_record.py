"""The working tree's record of the claims its agents made: ``<git dir>/claims/<session>.json``.

``claims claim``, ``next``, ``takeover``, ``run``, the MCP tools and ``claims hook``
write one small JSON file per session (its latest claim: task, fencing token, store)
under the working tree's git directory (``.git/claims/``, or the worktree's own git
directory), so that ``claims guard`` in a git hook, and ``claims hook`` between tool
calls, can check that claim against the ledger without being told which it is. A
release by the session removes its record; a lost lease leaves it, so the guard
keeps refusing the work made under it until the session claims again. Outside a git
working tree nothing is recorded. No click, no projections: the hook path reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from cli.work_tree import record_path as _path
from cli.work_tree import records_dir

__all__ = ["WorkRecord", "forget", "load", "load_all", "records_dir", "save"]


class WorkRecord(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    session_id: str
    task_id: str
    fencing_token: int
    store: str
    """The store URL the claim was made in."""
    lost: str | None = None
    """Set once an agent was told the lease is lost (the hook says it once)."""


_decoder = msgspec.json.Decoder(WorkRecord)


def load(folder: Path | None, session_id: str) -> WorkRecord | None:
    """The session's record, or ``None`` (none, or unreadable)."""
    if folder is None:
        return None
    try:
        return _decoder.decode(_path(folder, session_id).read_bytes())
    except (OSError, msgspec.DecodeError):
        return None


def load_all(folder: Path | None) -> list[WorkRecord]:
    """Every readable record of the working tree, by session."""
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(_decoder.decode(path.read_bytes()))
        except (OSError, msgspec.DecodeError):
            continue
    return found


def save(folder: Path | None, record: WorkRecord) -> None:
    """Write the session's record (replacing its previous one) atomically."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    target = _path(folder, record.session_id)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(msgspec.json.encode(record))
    os.replace(temporary, target)


def forget(folder: Path | None, session_id: str, task_id: str | None = None) -> None:
    """Remove the session's record (only if it is about ``task_id``, when given)."""
    if folder is None:
        return
    record = load(folder, session_id)
    if record is None or (task_id is not None and record.task_id != task_id):
        return
    _path(folder, session_id).unlink(missing_ok=True)
