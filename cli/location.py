"""Which store the CLI opens: ``--db``, else ``CLAIMS_DB``, else the nearest ``.claims/``."""

from __future__ import annotations

from pathlib import Path

LEDGER_DIR = ".claims"
LEDGER_FILE = "ledger.db"


def resolve_db(explicit: str | None, cwd: Path | None = None) -> str:
    """The store URL: an explicit one, else the nearest ``.claims/`` directory up the
    tree from ``cwd``, else ``./.claims/ledger.db`` (created on first use)."""
    if explicit:
        return explicit
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / LEDGER_DIR
        if candidate.is_dir():
            return f"sqlite://{candidate / LEDGER_FILE}"
    return f"sqlite://{here / LEDGER_DIR / LEDGER_FILE}"
