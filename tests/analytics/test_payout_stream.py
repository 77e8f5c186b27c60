"""The per-task payout written by DuckDB and streamed (``payout_text``, ``claims payout
--json|--csv``) is byte for byte what encoding the ``Payout`` Structs gives."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bootstrap import wire
from application.testing import FrozenClock
from ledger.commands import Beat, Claim, RegisterTask, Release, Takeover
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore
from ledger.terms import LeaseTerms
from projections.analytics import Analytics, Payout, Weights, Window
from projections.cost import cost_totals
from tests.analytics.helpers import fed
from tests.analytics.histories import Step, finished_histories, instants, play
from tests.conftest import START
from tests.e2e.conftest import Claims

ODD = ('comma, "quote"', "tab\tand\nnewline", "bell\x07 \x0b\x1f", "ünïcødé ✓", "1e-05 \\ back")


def _csv(payout: Payout, suffix: tuple[int, str]) -> list[str]:
    """The lines ``claims payout --csv`` wrote from the Structs, without the header."""
    lines = []
    for task in payout.tasks:
        for worker in task.workers:
            cells: dict[str, Any] = {
                "taskId": task.task_id,
                "finishedAt": task.finished_at,
                "completedBy": task.completed_by,
            } | msgspec.to_builtins(worker)
            out = io.StringIO()
            row = ["" if v is None else v for v in [*cells.values(), *suffix]]
            csv.writer(out, lineterminator="\n").writerow(row)
            lines.append(out.getvalue()[:-1])
    return lines


def _both_ways(analytics: Analytics, window: Window, weights: Weights) -> None:
    found = analytics.payout(window=window, weights=weights)
    json_pages = list(analytics.payout_pages("json", window=window, weights=weights, page=2))
    csv_pages = list(
        analytics.payout_pages("csv", window=window, weights=weights, suffix=",7,abc", page=3)
    )
    joined = ",".join(",".join(page) for page in json_pages)
    assert joined.encode() == msgspec.json.encode(found.tasks)[1:-1]
    assert [line for page in csv_pages for line in page] == _csv(found, (7, "abc"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    finished_histories,
    instants(),
    instants(),
    st.sampled_from([Weights(), Weights(time=1, completion=0), Weights(time=1, completion=3)]),
)
def test_streamed_pages_equal_the_structs_encoding(
    steps: list[Step], since: Any, until: Any, weights: Weights
) -> None:
    """For random histories, windows and weights, the JSON and CSV pages are the
    Structs' encodings, in the same order."""
    store, _ = play(steps)
    with fed(store) as analytics:
        _both_ways(analytics, Window(since=since, until=until), weights)


def _odd_ledger(store: EventStore) -> None:
    """Tasks whose titles and agent types need escaping, each worked by two sessions
    (one taking over from the other) and completed."""
    clock = FrozenClock(START)
    service = wire(store, clock=clock).service
    for number, name in enumerate(ODD):
        first, second = f"s{number}-a", f"s{number}:b/c+d=e@f"
        service.register_task(RegisterTask(task_id=f"t{number}", title=name))
        service.claim(
            f"t{number}", Claim(session_id=first, terms=LeaseTerms(agent_type=name or "cli"))
        )
        clock.advance(ms=1234 * (number + 1) + 1)
        service.heartbeat(f"t{number}", Beat(session_id=first))
        clock.advance(minutes=3)
        service.takeover(
            f"t{number}", Takeover(session_id=second, force=True, reason="stuck", forced_by="x")
        )
        clock.advance(ms=77_777 * (number + 1))
        service.release(f"t{number}", Release(session_id=second, reason="completed"))


def test_odd_names_stream_as_the_structs_encode(tmp_path: Path) -> None:
    """Quotes, commas, control characters and non-ASCII text come out the same."""
    store = open_store(f"sqlite://{tmp_path / 'ledger.db'}")
    _odd_ledger(store)
    with fed(store) as analytics:
        _both_ways(analytics, Window(), Weights(time=2, completion=1))
    store.close()


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Claims, Payout, tuple[int, str]]:
    """A ledger of odd names, the CLI over it, and the Payout the library answers."""
    folder = tmp_path_factory.mktemp("payout-stream")
    url = f"sqlite://{folder / 'ledger.db'}"
    store = open_store(url)
    _odd_ledger(store)
    with fed(store) as analytics:
        found = analytics.payout()
        checkpoint = analytics.checkpoint()
    store.close()
    return Claims(folder, url), found, (checkpoint.position, checkpoint.hash)


def test_cli_payout_json_is_the_encoded_payout(
    odd: tuple[Claims, Payout, tuple[int, str]],
) -> None:
    """``claims payout --json`` writes exactly the encoding of the whole Payout, with the
    measured cost (none here) after it."""
    claims, found, (position, head) = odd
    header = {"success": True, "position": position, "headHash": head}
    cost = {"cost": msgspec.to_builtins(cost_totals([], task_id=None))}
    whole = {**header, **msgspec.to_builtins(found), **cost}
    expected = msgspec.json.encode(whole).decode() + "\n"
    assert claims.json("payout").stdout == expected


def test_cli_payout_csv_is_what_csv_writer_wrote(
    odd: tuple[Claims, Payout, tuple[int, str]],
) -> None:
    """``claims payout --csv`` writes the header and the rows csv.writer wrote."""
    claims, found, suffix = odd
    names = "taskId,finishedAt,completedBy,sessionId,agentType,claims,activeMs,timeShare"
    header = names + ",completionShare,share,position,headHash"
    assert claims("payout", "--csv").stdout == "\n".join([header, *_csv(found, suffix)]) + "\n"


def test_cli_payout_csv_with_no_finished_task_is_a_header(tmp_path: Path) -> None:
    """With nothing finished, ``--csv`` writes only ``position,headHash``."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    claims.json("task", "add", "a", "--title", "A")
    assert claims("payout", "--csv").stdout == "position,headHash\n"
