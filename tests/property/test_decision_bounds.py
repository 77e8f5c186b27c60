"""The decision bounds the PostgreSQL append checks on the server (``decision_bounds``)
agree with the client's ``check_decided`` at every server time: a member is refused by
the function exactly when one of its events would be refused by the client."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.codec import micros
from ledger.errors import ClockAhead, ConcurrencyConflict
from ledger.events import Claimed, Heartbeat, Released, TaskRegistered
from ledger.records import NewEvent
from ledger.store.rows import from_micros
from ledger.store.server_clock import check_decided, decision_bounds
from tests.conftest import START

US = timedelta(microseconds=1)
_offsets = st.integers(min_value=-3_000_000, max_value=3_000_000)


@st.composite
def events(draw: st.DrawFn) -> NewEvent:
    decided = START + draw(_offsets) * US
    expires = decided + draw(st.integers(min_value=-1_000_000, max_value=3_000_000)) * US
    kind = draw(st.sampled_from(("claimed", "heartbeat", "released", "registered")))
    data: Claimed | Heartbeat | Released | TaskRegistered
    if kind == "claimed":
        data = Claimed(task_id="t1", session_id="s1", fencing_token=1, ttl_ms=1, expires_at=expires)
    elif kind == "heartbeat":
        data = Heartbeat(
            task_id="t1", session_id="s1", fencing_token=1, extend_ms=1, expires_at=expires
        )
    elif kind == "released":
        data = Released(task_id="t1", session_id="s1", fencing_token=1, reason="released")
    else:
        data = TaskRegistered(task_id="t1", title="T")
    return NewEvent(data=data, occurred_at=decided, actor="a")


def _client_accepts(batch: list[NewEvent], now_us: int) -> bool:
    try:
        for event in batch:
            check_decided(event, from_micros(now_us))
    except (ClockAhead, ConcurrencyConflict):
        return False
    return True


def _server_accepts(batch: list[NewEvent], now_us: int) -> bool:
    ahead, deadline = decision_bounds(batch)
    return not (ahead is not None and now_us < ahead) and not (
        deadline is not None and now_us > deadline
    )


@given(st.lists(events(), min_size=1, max_size=4), _offsets)
def test_the_server_refuses_exactly_what_the_client_would(
    batch: list[NewEvent], offset: int
) -> None:
    now_us = micros(START) + offset
    assert _server_accepts(batch, now_us) == _client_accepts(batch, now_us)


@given(st.lists(events(), min_size=1, max_size=4))
def test_at_each_bound_the_answer_changes(batch: list[NewEvent]) -> None:
    """The bounds are tight: accepted at them, refused one microsecond outside."""
    ahead, deadline = decision_bounds(batch)
    if ahead is None or deadline is None or deadline < ahead:
        return
    assert _client_accepts(batch, ahead)
    assert _client_accepts(batch, deadline)
    assert not _client_accepts(batch, ahead - 1)
    assert not _client_accepts(batch, deadline + 1)
