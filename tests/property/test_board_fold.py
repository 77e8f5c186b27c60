"""The board's one-call-per-record fold gives the states the four projections' own
folds give (``TaskBoard``, ``CurrentClaims`` with ``lease_after``, ``SessionHistory``,
``Fingerprints``), for any sequence of records: valid or not, in any order, and
records whose type does not name their data's class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.testing import memory_service
from ledger.events import EVENT_TYPES, EventBase, event_type
from ledger.records import GENESIS_HASH, Record
from projections.board import PROJECTIONS, Board
from projections.board_fold import FOLDS
from tests.conftest import START
from tests.projections.histories import Step, histories, play
from tests.property.strategies import EVENT_STRATEGIES

TASK_IDS = ("t0", "t1", "t2")
SESSION_IDS = ("s0", "s1")
FINGERPRINTS = (None, "fp-a", "fp-b")


def _tag(kind: type[EventBase]) -> str:
    tag = kind.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


ALL_TAGS = [_tag(kind) for kind in EVENT_TYPES]


@st.composite
def _events(draw: st.DrawFn) -> EventBase:
    """Any event, on a few tasks and sessions, so that records meet each other."""
    event: EventBase = draw(st.one_of(list(EVENT_STRATEGIES.values())))
    names: dict[str, Any] = {}
    for field, pool in (
        ("task_id", TASK_IDS),
        ("session_id", SESSION_IDS),
        ("to_session", SESSION_IDS),
        ("fingerprint", FINGERPRINTS),
    ):
        if field in event.__struct_fields__:
            names[field] = draw(st.sampled_from(pool))
    return msgspec.structs.replace(event, **names)


@st.composite
def _records(draw: st.DrawFn) -> list[Record]:
    events = draw(st.lists(_events(), max_size=40))
    records = []
    versions: dict[str, int] = {}
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for position, event in enumerate(events, start=1):
        stream = str(getattr(event, "task_id", None) or getattr(event, "session_id", "other"))
        versions[stream] = versions.get(stream, 0) + 1
        when += timedelta(seconds=draw(st.integers(0, 3600)))
        mismatched = draw(st.integers(0, 19)) == 0
        records.append(
            Record(
                position=position,
                stream=stream,
                version=versions[stream],
                event_id=f"{position:032x}",
                type=draw(st.sampled_from(ALL_TAGS)) if mismatched else event_type(event),
                schema_version=1,
                occurred_at=when,
                recorded_at=when,
                actor="test",
                correlation_id="",
                causation_id=None,
                data=event,  # type: ignore[arg-type]
                prev_hash=GENESIS_HASH,
                hash=GENESIS_HASH,
            )
        )
    return records


def _by_each_projection(records: list[Record]) -> dict[str, bytes]:
    """Each projection folded alone by its own ``apply``, as snapshot bytes."""
    found = {}
    for projection in PROJECTIONS:
        state = projection.initial()
        for record in records:
            if record.type in projection.handles:
                projection.apply(state, record)
        found[projection.name] = msgspec.msgpack.encode(state)
    return found


def _by_the_board(records: list[Record], *, one_by_one: bool) -> dict[str, bytes]:
    board = Board()
    if one_by_one:
        for record in records:
            board.apply(record)
    else:
        assert board.apply_all(records) == len(records)
    assert board.position == (records[-1].position if records else 0)
    return {name: msgspec.msgpack.encode(state) for name, state in board.states.items()}


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(records=_records(), one_by_one=st.booleans())
def test_the_board_folds_any_records_as_the_four_projections_do(
    records: list[Record], one_by_one: bool
) -> None:
    assert _by_the_board(records, one_by_one=one_by_one) == _by_each_projection(records)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
def test_the_board_folds_a_played_log_as_the_four_projections_do(history: list[Step]) -> None:
    service, clock = memory_service(start=START)
    play(service, clock, history)
    records = list(service.store.read_all())
    assert _by_the_board(records, one_by_one=False) == _by_each_projection(records)


def test_the_board_folds_every_type_a_projection_reads_and_no_other() -> None:
    read = {record_type for projection in PROJECTIONS for record_type in projection.handles}
    assert set(FOLDS) == read
    assert all(_tag(event_class) == record_type for record_type, (event_class, _) in FOLDS.items())
