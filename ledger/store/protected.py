"""The files a ledger owns, which no output may overwrite.

``claims export -o FILE`` (a table or a whole ledger) and ``--analytics FILE``
write where they are told. Pointed at the ledger itself, its side files, its
snapshots or its analytics file, they would destroy it; every such path is
refused before anything is opened for writing. Paths are compared by their real
path (symlinks resolved) and, when both exist, by device and inode (a hard link).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ledger.errors import InvalidInput
from ledger.store.local import local_base

SIDE_SUFFIXES = ("", "-wal", "-shm", "-journal")
"""The ledger file and SQLite's files beside it."""
SNAPSHOTS_SUFFIX = ".projections"
ANALYTICS_SUFFIXES = (".analytics.duckdb", ".analytics.duckdb.wal")


def owned_files(
    store: object, extra: Iterable[str | None] = (), *, analytics: bool = True
) -> list[Path]:
    """The ledger's files: the log and its side files, its analytics file (unless
    ``analytics`` is false), and any ``extra`` file in use (an ``--analytics`` path);
    its snapshot folder is separate."""
    base = local_base(store)
    owned = [Path(path) for path in extra if path and path != ":memory:"]
    suffixes = SIDE_SUFFIXES + (ANALYTICS_SUFFIXES if analytics else ())
    if base is not None:
        owned += [Path(f"{base}{suffix}") for suffix in suffixes]
    return owned


def refuse_owned(
    output: str | Path,
    store: object,
    extra: Iterable[str | None] = (),
    *,
    analytics: bool = True,
) -> None:
    """Raise ``InvalidInput`` when writing ``output`` would overwrite a file the
    ledger owns (or one inside its snapshot folder); with ``analytics`` false, the
    ledger's analytics file may be written (it is the one ``--analytics`` names)."""
    target = Path(output).expanduser()
    real = Path(os.path.realpath(target))
    base = local_base(store)
    if base is not None:
        folder = Path(os.path.realpath(f"{base}{SNAPSHOTS_SUFFIX}"))
        if real == folder or folder in real.parents:
            raise _refused(target, "its projection snapshots")
    for owned in owned_files(store, extra, analytics=analytics):
        if real == Path(os.path.realpath(owned)) or _same_file(target, owned):
            raise _refused(target, f"the ledger's own file {owned}")


def _same_file(one: Path, other: Path) -> bool:
    try:
        return one.exists() and other.exists() and os.path.samefile(one, other)
    except OSError:
        return False


def _refused(target: Path, what: str) -> InvalidInput:
    return InvalidInput(
        f"refusing to write {target}: it is {what}; choose another output",
        path=str(target),
    )
