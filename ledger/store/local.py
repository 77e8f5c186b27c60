"""Where a store's derived files (projection snapshots, the analytics database)
live on this host.

A file store keeps them beside its file (``ledger.db.projections/``,
``ledger.db.analytics.duckdb``). A server store has no file here: each host keeps
its own in a cache folder named for the server, database and schema
(``$XDG_CACHE_HOME/claims/`` or ``~/.cache/claims/``). They are rebuilt from
the log whenever they are missing, outdated or do not match it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def local_base(store: object) -> Path | None:
    """The path derived files are named after (``None``: keep them in memory)."""
    path = getattr(store, "path", None)
    return path if isinstance(path, Path) else None


def cache_base(name: str) -> Path:
    """A per-host cache path for a server store called ``name`` (host, database, schema)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "store"
    return Path(root) / "claims" / safe
