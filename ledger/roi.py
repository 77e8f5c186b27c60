"""The one range an estimated ROI may take, wherever a task is registered (the CLI,
the HTTP API, a tasks.json import)."""

from __future__ import annotations

import math

from ledger.errors import InvalidInput

MAX_ROI = 1e12
"""ROI is a finite number from ``-MAX_ROI`` to ``MAX_ROI``."""


def check_roi(roi: float, **context: object) -> float:
    """``roi`` as a float, or ``InvalidInput`` when it is not finite or out of range."""
    if not math.isfinite(roi) or not -MAX_ROI <= roi <= MAX_ROI:
        raise InvalidInput(
            f"roi must be a finite number from {-MAX_ROI:g} to {MAX_ROI:g}, not {roi!r}",
            field="roi",
            **context,
        )
    return float(roi)
