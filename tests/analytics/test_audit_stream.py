"""An audit trail written by DuckDB and streamed (``audit_text``, ``claims audit
--json|--csv``) is byte for byte what encoding the ``Trail`` Structs gives."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.store.factory import open_store
from projections.analytics import Analytics, Subject, Trail, Window
from projections.analytics.audit_text import Truncation
from tests.analytics.helpers import fed
from tests.analytics.histories import AGENTS, SESSIONS, TASKS, Step, histories, instants, play
from tests.analytics.test_payout_stream import _odd_ledger
from tests.e2e.conftest import Claims

subjects = st.one_of(
    st.builds(Subject, task_id=st.sampled_from(TASKS)),
    st.builds(Subject, session_id=st.sampled_from(SESSIONS)),
    st.builds(Subject, agent_type=st.sampled_from(AGENTS)),
    st.builds(Subject, task_id=st.sampled_from(TASKS), session_id=st.sampled_from(SESSIONS)),
)


def _csv_lines(trail: Trail, position: int, head: str) -> list[str]:
    """The lines ``claims audit --csv`` wrote from the Structs (the answer's position
    replaces each entry's), without the header."""
    lines = []
    for entry in trail.entries:
        row: dict[str, Any] = {**msgspec.to_builtins(entry), "position": position, "headHash": head}
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(
            ["" if value is None else value for value in row.values()]
        )
        lines.append(out.getvalue()[:-1])
    return lines


def _both_ways(
    analytics: Analytics, subject: Subject, window: Window, heartbeats: bool, limit: int | None
) -> None:
    ask: dict[str, Any] = {"window": window, "heartbeats": heartbeats, "limit": limit, "page": 2}
    try:
        trail = analytics.audit(subject, window=window, heartbeats=heartbeats, limit=limit)
    except LedgerError as error:  # a subject the ledger never saw
        with pytest.raises(type(error)):
            analytics.audit_pages("json", subject, **ask)
        return
    cut = Truncation(limit)
    entries = [line for page in cut(analytics.audit_pages("json", subject, **ask)) for line in page]
    assert ",".join(entries).encode() == msgspec.json.encode(trail.entries)[1:-1]
    assert cut.truncated == trail.truncated
    checkpoint = analytics.checkpoint()
    lines = [
        line
        for page in Truncation(limit)(analytics.audit_pages("csv", subject, **ask))
        for line in page
    ]
    assert lines == _csv_lines(trail, checkpoint.position, checkpoint.hash)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories,
    subjects,
    instants(),
    st.booleans(),
    st.sampled_from([None, 1, 2, 5]),
)
def test_streamed_trails_equal_the_structs_encoding(
    steps: list[Step], subject: Subject, since: Any, heartbeats: bool, limit: int | None
) -> None:
    """For random histories, subjects, windows and limits, the JSON and CSV pages are
    the Structs' encodings, and the trail is cut where the Struct's is."""
    store, _ = play(steps)
    with fed(store) as analytics:
        _both_ways(analytics, subject, Window(since=since), heartbeats, limit)


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> tuple[Claims, Analytics]:
    """A ledger of odd titles and agent types, the CLI over it, and its analytics."""
    folder = tmp_path_factory.mktemp("audit-stream")
    url = f"sqlite://{folder / 'ledger.db'}"
    store = open_store(url)
    _odd_ledger(store)
    analytics = fed(store)
    store.close()
    return Claims(folder, url), analytics


@pytest.mark.parametrize(
    ("args", "subject", "limit"),
    [
        (["--task", "t1"], Subject(task_id="t1"), None),
        (
            ["--agent-type", "tab\tand\nnewline", "--limit", "2"],
            Subject(agent_type="tab\tand\nnewline"),
            2,
        ),
        (
            ["--session", "s2:b/c+d=e@f", "--no-heartbeats"],
            Subject(session_id="s2:b/c+d=e@f"),
            None,
        ),
    ],
)
def test_cli_audit_json_and_csv_are_the_structs_encoding(
    odd: tuple[Claims, Analytics], args: list[str], subject: Subject, limit: int | None
) -> None:
    """``claims audit --json`` and ``--csv`` write exactly what the whole Trail gave."""
    claims, analytics = odd
    heartbeats = "--no-heartbeats" not in args
    trail = analytics.audit(subject, heartbeats=heartbeats, limit=limit)
    checkpoint = analytics.checkpoint()
    header = {"success": True, "position": checkpoint.position, "headHash": checkpoint.hash}
    expected_json = msgspec.json.encode({**header, **msgspec.to_builtins(trail)}).decode() + "\n"
    names = [*msgspec.to_builtins(trail.entries[0]), "headHash"]
    lines = _csv_lines(trail, checkpoint.position, checkpoint.hash)

    assert claims.json("audit", *args).stdout == expected_json
    assert claims("audit", *args, "--csv").stdout == "\n".join([",".join(names), *lines]) + "\n"


def test_cli_audit_csv_of_an_empty_trail_is_a_header(tmp_path: Path) -> None:
    """A trail with no entry in the window writes only ``position,headHash``."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    claims.json("task", "add", "a", "--title", "A")
    assert claims("audit", "--task", "a", "--until", "2000-01-01", "--csv").stdout == (
        "position,headHash\n"
    )
