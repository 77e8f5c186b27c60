"""Where a working tree keeps its claim records, found with the standard library only.

``claims hook`` runs after every tool call; its gate (``cli.hook_gate``) reads these
paths before anything else is imported, so this module imports nothing of ours.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

FOLDER = "claims"


def git_dir(start: Path) -> Path | None:
    """The git directory of the working tree holding ``start`` (``.git``, or the
    directory a worktree's ``.git`` file points to), or ``None``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = dot_git.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def records_dir(start: Path) -> Path | None:
    """Where the working tree holding ``start`` keeps its records, or ``None``."""
    found = git_dir(start)
    return None if found is None else found / FOLDER


def record_path(folder: Path, session_id: str) -> Path:
    """The session's record: its latest claim in this working tree."""
    return folder / (quote(session_id, safe="") + ".json")


def beat_stamp(folder: Path, session_id: str) -> Path:
    """Touched after each heartbeat the hook made for the session."""
    return folder / (quote(session_id, safe="") + ".beat")
