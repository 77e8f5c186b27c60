"""msgspec imported without ``typing_extensions``, for the fresh processes of the hot path.

msgspec tries ``typing_extensions`` first for ``get_type_hints``, ``Required`` and
``NotRequired`` and falls back to ``typing`` when it cannot be imported. On Python
3.11 and later ``typing`` has all three, with the same behaviour for the plain
classes and Structs the ledger declares; but ``typing_extensions`` (installed for
pydantic) imports ``inspect``, ``ast`` and ``dis``: about 10 ms of a fresh process's
60, measured with ``python -X importtime``. The agent's hook and ``claims heartbeat``
(``cli.entry``) run once per tool call, so they import msgspec this way; the module
is importable again afterwards for whatever else the process loads.
"""

from __future__ import annotations

import sys


def import_msgspec() -> None:
    """Import msgspec with ``typing_extensions`` hidden, unless one is already loaded."""
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # import fails
    try:
        import msgspec  # noqa: F401  # loaded for the caller
    finally:
        del sys.modules["typing_extensions"]
