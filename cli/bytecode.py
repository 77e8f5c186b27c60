"""claim-ledger's own modules compiled ahead of time, so that a hook's fresh process
reads their bytecode instead of compiling every module it imports.

An agent runs ``claims hook`` (or ``claims heartbeat``) after every tool call, a fresh
Python process each time. Python keeps what it compiles in ``__pycache__`` as it
imports, unless it may not write there: ``PYTHONDONTWRITEBYTECODE`` is set, or the
folder is read-only. pip compiles what it installs, but not an editable install's
sources. Without the cache every call compiles the modules again. On the reference
machine ``claims heartbeat`` took 181 ms that way, against 52 ms with the bytecode
cached (docs/benchmarks.md). ``claims hooks install`` compiles them once.
"""

from __future__ import annotations

import importlib.util
import py_compile
from collections.abc import Sequence
from pathlib import Path

PACKAGES = ("ledger", "application", "projections", "cli", "api")
"""claim-ledger's top-level packages."""


def package_roots() -> list[Path]:
    """The folders the installed packages are imported from."""
    roots = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            roots.append(Path(spec.origin).parent)
    return roots


def stale_sources(roots: Sequence[Path]) -> list[Path]:
    """The modules under ``roots`` whose cached bytecode is missing or older than
    their source."""
    stale = []
    for root in roots:
        for source in sorted(root.rglob("*.py")):
            cached = Path(importlib.util.cache_from_source(str(source)))
            try:
                if cached.stat().st_mtime >= source.stat().st_mtime:
                    continue
            except OSError:
                pass
            stale.append(source)
    return stale


def compiled(sources: Sequence[Path]) -> list[Path]:
    """Compile ``sources`` into their ``__pycache__``; the ones that could not be."""
    failed = []
    for source in sources:
        try:
            py_compile.compile(str(source), doraise=True)
        except (py_compile.PyCompileError, OSError):
            failed.append(source)
    return failed


def bytecode_changes(dry_run: bool, roots: Sequence[Path] | None = None) -> list[str]:
    """What ``claims hooks install`` reports of the bytecode: nothing when it is
    current, else the modules compiled (or that would be, or could not be)."""
    stale = stale_sources(package_roots() if roots is None else roots)
    if not stale:
        return []
    if dry_run:
        return [f"bytecode: {len(stale)} modules of claim-ledger to compile (hooks start faster)"]
    failed = compiled(stale)
    done = len(stale) - len(failed)
    changes = []
    if done:
        changes.append(
            f"bytecode: {done} modules of claim-ledger compiled (hooks start without"
            " compiling them)"
        )
    if failed:
        changes.append(
            f"bytecode: {len(failed)} modules could not be compiled (a read-only install?);"
            f" each hook compiles them again, first {failed[0]}"
        )
    return changes
