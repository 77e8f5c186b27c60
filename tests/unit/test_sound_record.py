"""``sound_record``, the one-call check of a walk of the whole log, accepts a stored
record exactly when ``checked_record`` does, and gives back the same record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.codec import seal
from ledger.errors import CorruptLog
from ledger.events import Heartbeat
from ledger.records import GENESIS_HASH, NewEvent
from ledger.store.checked import checked_record, sound_record

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
RECORD, RAW = seal(
    NewEvent(
        data=Heartbeat(
            task_id="t1", session_id="s1", fencing_token=1, extend_ms=1000, expires_at=WHEN
        ),
        occurred_at=WHEN,
        actor="s1",
    ),
    position=3,
    stream="task-t1",
    version=2,
    recorded_at=WHEN,
    prev_hash="a" * 64,
)


def test_a_sound_record_is_the_record_checked_record_gives() -> None:
    found = sound_record(RAW, 3, "a" * 64, RECORD.hash)
    assert found == RECORD == checked_record(RAW, position=3, where=str, prev_hash="a" * 64)
    assert sound_record(RAW, 3, "a" * 64, None) == RECORD


@pytest.mark.parametrize(
    ("raw", "position", "prev_hash", "hash_column"),
    [
        (
            RAW.replace(b'"t1"', b'"t2"', 1),
            3,
            "a" * 64,
            None,
        ),  # edited: the hash no longer covers it
        (RAW, 4, "a" * 64, None),  # read at another position (moved)
        (RAW, 3, GENESIS_HASH, None),  # does not chain to the record before it
        (RAW, 3, "a" * 64, "b" * 64),  # the indexed hash disagrees with the body
        (RAW[: -len(RECORD.hash) - 11] + b"}", 3, "a" * 64, None),  # no hash member
        (RAW[:-1], 3, "a" * 64, None),  # cut short
        (RAW.decode(), 3, "a" * 64, None),  # stored as text
        (b"{" + RAW, 3, "a" * 64, None),  # does not decode
    ],
)
def test_a_record_checked_record_refuses_is_not_sound(
    raw: object, position: int, prev_hash: str, hash_column: object
) -> None:
    assert sound_record(raw, position, prev_hash, hash_column) is None
    with pytest.raises(CorruptLog):
        checked_record(
            raw, position=position, where=str, prev_hash=prev_hash, hash_column=hash_column
        )
