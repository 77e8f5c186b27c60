"""A stored row as ``verify`` reads it (``ledger.store.rows.raw_entry``): a time
column that is no datetime is the row's fault, never a crash of the walk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.store.rows import raw_entry


def _row(recorded_us: int) -> tuple[object, ...]:
    return (7, "task-a", 1, "e" * 32, "claimed", "h" * 64, recorded_us, b"{}")


@pytest.mark.parametrize(
    ("recorded_us", "when"),
    [
        (-62_135_596_800_000_000, datetime(1, 1, 1, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (253_402_300_799_999_999, datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
    ],
)
def test_a_time_column_within_the_calendar_reads_as_its_time(
    recorded_us: int, when: datetime
) -> None:
    entry = raw_entry(_row(recorded_us))

    assert entry.fault is None
    assert entry.recorded_at == when


@pytest.mark.parametrize(
    "recorded_us",
    [-62_135_596_800_000_001, -62_135_596_800_000_008, 253_402_300_800_000_000, -(1 << 62)],
)
def test_a_time_column_outside_the_calendar_is_the_rows_fault(recorded_us: int) -> None:
    """Found by the tampering property test: a column edited to just before year 1
    stopped ``claims verify`` on PostgreSQL with an OverflowError."""
    entry = raw_entry(_row(recorded_us))

    assert entry.fault == f"its recorded_us column ({recorded_us}) is no time"
    assert entry.position == 7
