"""Measured tokens from the analytics store's ``token_usage`` table equal the fold over
the log (``projections.cost.cost_totals``), whatever the history, however often the
same transcript was imported, and however the log was fed."""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.cost import import_transcript
from ledger.events import TokensUsed
from ledger.store.protocol import EventStore
from projections.analytics import Analytics
from projections.analytics.feeder import update
from projections.cost import cost_totals
from tests.analytics.helpers import dump, fed
from tests.analytics.histories import SESSIONS, TASKS, Step, histories, play
from tests.conftest import START

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Message = tuple[int, int, int]
"""``(minute of the history, output tokens, cache reads)``."""
messages = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=240),
        st.integers(min_value=0, max_value=5000),
        st.integers(min_value=0, max_value=10**9),
    ),
    max_size=6,
)
transcripts = st.fixed_dictionaries(dict.fromkeys(SESSIONS, messages))


def _line(session: str, index: int, message: Message) -> str:
    minute, output, cache_read = message
    at = (START + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    usage = {
        "input_tokens": 3 + index,
        "output_tokens": output,
        "cache_creation_input_tokens": 7 * index,
        "cache_read_input_tokens": cache_read,
    }
    line = {
        "type": "assistant",
        "timestamp": at,
        "message": {"id": f"{session}-m{index}", "model": "m", "role": "assistant", "usage": usage},
    }
    return json.dumps(line) + "\n"


def _import_twice(steps: list[Step], found: dict[str, list[Message]]) -> EventStore:
    """The history played, then each session's transcript imported: its first half, then
    the whole of it twice (the first half's messages are in it again)."""
    store, clock = play(steps)
    with tempfile.TemporaryDirectory() as folder:
        for session, listed in found.items():
            lines = [_line(session, index, message) for index, message in enumerate(listed)]
            path = Path(folder) / f"{session}.jsonl"
            for part in (lines[: len(lines) // 2], lines, lines):
                path.write_text("".join(part))
                import_transcript(store, path, session, clock=clock)
    return store


@SETTINGS
@given(histories, transcripts, st.integers(min_value=1, max_value=9))
def test_the_token_usage_table_gives_the_totals_of_the_fold_over_the_log(
    steps: list[Step], found: dict[str, list[Message]], batch: int
) -> None:
    store = _import_twice(steps, found)
    usages = [r.data for r in store.read_all() if isinstance(r.data, TokensUsed)]
    assert len(usages) == sum(len(listed) for listed in found.values())
    with fed(store) as whole, Analytics() as pieces:
        update(pieces.con, store, batch=batch)
        for analytics in (whole, pieces):
            assert analytics.cost() == cost_totals(store.read_all())
            for task_id in TASKS:
                expected = cost_totals(store.read_all(), task_id=task_id)
                assert analytics.cost(task_id=task_id) == expected
        assert dump(pieces.con)["token_usage"] == dump(whole.con)["token_usage"]
        assert len(dump(whole.con)["token_usage"]) == len(usages)


def test_totals_at_a_position_count_only_the_messages_stored_by_then() -> None:
    """A store fed up to a position has the tokens of the log's prefix: what
    ``claims payout --at`` shows beside its shares."""
    steps = [Step("claim", task="t0", session="s0", ms=30 * 60_000)]
    store = _import_twice(steps, {"s0": [(1, 10, 100), (2, 20, 200)], "s1": [(3, 5, 0)]})
    cut = next(r.position for r in store.read_all() if isinstance(r.data, TokensUsed))
    with Analytics() as analytics:
        update(analytics.con, store, until=cut)
        assert analytics.cost() == cost_totals(store.read_all(until=cut))
        assert [w.tokens.messages for w in analytics.cost().workers] == [1]
        update(analytics.con, store)
        assert analytics.cost() == cost_totals(store.read_all())
        assert sum(w.tokens.messages for w in analytics.cost().unattributed) == 1
