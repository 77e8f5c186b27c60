"""Every DuckDB figure equals the plain-Python fold over the same random history.

Both sides use the same definitions (docs/analytics.md): nearest-rank quantiles
(the ceil(q * n)-th smallest value), means as sum / count, durations in whole
milliseconds rounded down, shares as float divisions in the same order.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.analytics import Filter, Weights, Window
from projections.analytics import reference as ref
from projections.analytics.rows import IntervalRow
from projections.analytics.transfer import TableShape, fetch
from tests.analytics.helpers import fed, reference
from tests.analytics.histories import Step, histories, instants, play

SETTINGS = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
groupings = st.sampled_from(["session", "agent", "task", "day"])
weights = st.builds(
    Weights,
    time=st.sampled_from([0.0, 0.5, 0.8, 1.0, 3.0]),
    completion=st.sampled_from([0.2, 0.5, 1.0, 2.0]),
)


@SETTINGS
@given(histories)
def test_claim_intervals_equal_the_reference_claims(steps: list[Step]) -> None:
    """Each row of claim_intervals is the reference's claim: holder, times, end and durations."""
    store, _ = play(steps)
    with fed(store) as analytics:
        shape = TableShape(analytics.con, "claim_intervals", IntervalRow)
        rows = fetch(analytics.con, shape, IntervalRow, "TRUE ORDER BY start_position")
    expected = reference(store).claims
    assert [_interval(row) for row in rows] == [_claim(claim) for claim in expected]


@SETTINGS
@given(histories, groupings, instants(), instants())
def test_stats_equal_the_reference(
    steps: list[Step], by: str, since: datetime | None, until: datetime | None
) -> None:
    """Counts, durations (count, mean, p50, p95, max), stale rates and overlaps per group."""
    store, _ = play(steps)
    where = Filter(window=Window(since=since, until=until))
    with fed(store) as analytics:
        found = analytics.stats(by=by, where=where)  # type: ignore[arg-type]
    assert found == ref.stats(reference(store), by=by, where=where)


@SETTINGS
@given(histories, st.sampled_from([0, 1, 60_000, 300_000]))
def test_stale_rate_follows_the_threshold(steps: list[Step], stale_after: int) -> None:
    """The stale count and rate agree with the reference for any threshold."""
    store, _ = play(steps)
    with fed(store) as analytics:
        found = analytics.stats(by="task", stale_after_ms=stale_after)
    assert found == ref.stats(reference(store), by="task", stale_after_ms=stale_after)


@SETTINGS
@given(histories, weights, instants(), instants())
def test_payout_equals_the_reference(
    steps: list[Step], chosen: Weights, since: datetime | None, until: datetime | None
) -> None:
    """Per finished task and worker: active time, time share, completion share, share;
    per worker: tasks, active time and credit (the sum of its shares)."""
    store, _ = play(steps)
    window = Window(since=since, until=until)
    with fed(store) as analytics:
        found = analytics.payout(window=window, weights=chosen)
    expected = ref.payout(reference(store), window=window, weights=chosen)
    assert ref.same_payout(found, expected), (found, expected)


@SETTINGS
@given(histories)
def test_histories_the_rules_write_have_no_overlaps(steps: list[Step]) -> None:
    """Claims on one task never overlap in a log the service wrote."""
    store, _ = play(steps)
    with fed(store) as analytics:
        assert analytics.stats(by="task").overlaps == []


def _interval(row: IntervalRow) -> tuple[object, ...]:
    return (
        row.task_id,
        row.fencing_token,
        row.session_id,
        row.agent_type,
        row.started_at,
        row.ended_at,
        row.end_reason,
        row.release_reason,
        row.heartbeats,
        row.last_heartbeat,
        row.claimed_ms,
        row.active_ms,
        row.max_silence_ms,
    )


def _claim(claim: ref.Claim) -> tuple[object, ...]:
    return (
        claim.task_id,
        claim.fencing_token,
        claim.session_id,
        claim.agent_type,
        claim.started_at,
        claim.ended_at,
        claim.end_reason,
        claim.release_reason,
        claim.heartbeats,
        claim.last_heartbeat,
        claim.claimed_ms,
        claim.active_ms,
        claim.max_silence_ms,
    )
