"""Durations on the command line: ``90s``, ``30m``, ``2h``, ``1h30m``, ``500ms`` or milliseconds.

No click here (the fast ``claims heartbeat`` parses ``--extend`` before click loads);
the click parameter type over it is ``cli.options.DURATION``.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)(ms|s|m|h)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration; raises ``ValueError`` with a readable message."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    parts = _PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; use e.g. 90s, 30m, 2h, 1h30m or 1500")
    return sum(int(number) * _UNIT_MS[unit] for number, unit in parts)
