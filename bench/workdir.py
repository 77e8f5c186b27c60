"""Where a benchmark writes its stores: a folder the user names, or a temporary one."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def workdir(requested: str | None, prefix: str) -> Iterator[Path]:
    """``requested`` (created if missing, kept afterwards), else a temporary folder
    named ``prefix…`` that is removed at the end."""
    if requested:
        folder = Path(requested).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name).resolve()
