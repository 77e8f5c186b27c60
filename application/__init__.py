"""The application layer: the claim service and what it returns, the JSON bodies every
face answers with, and the composition root that wires them (``bootstrap``).

It sits above ``ledger`` (events, pure rules, the store) and ``projections`` (the read
side), and below the faces: the CLI, the hooks, the MCP server and the HTTP API.
Names are imported on first use, so the CLI's hot path pays only for what it uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from application.bootstrap import Ledger, open_ledger, wire
    from application.service import ClaimService

_EXPORTS = {
    "ClaimService": "application.service",
    "Ledger": "application.bootstrap",
    "open_ledger": "application.bootstrap",
    "wire": "application.bootstrap",
}

__all__ = ["ClaimService", "Ledger", "open_ledger", "wire"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'application' has no attribute {name!r}")
    return getattr(import_module(module), name)
