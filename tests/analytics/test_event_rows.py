"""The ``events`` rows DuckDB spreads from the records' JSON are ``EventRow.of``'s."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.codec import seal
from ledger.events import Event
from ledger.records import GENESIS_HASH, NewEvent, Record
from projections.analytics.connect import MEMORY, connect
from projections.analytics.event_rows import insert_events, write_records
from projections.analytics.rows import EventRow
from projections.analytics.transfer import TableShape, write_rows
from tests.property.strategies import events, instants, optional_texts, texts

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_START = datetime(2026, 1, 1, tzinfo=UTC)


def _records(
    batch: list[tuple[Event, datetime, str, str | None]],
) -> list[Record]:
    records = []
    prev_hash = GENESIS_HASH
    for position, (event, occurred_at, actor, causation) in enumerate(batch, start=1):
        new = NewEvent(
            data=event,
            occurred_at=occurred_at,
            actor=actor,
            correlation_id=actor[::-1],
            causation_id=causation,
        )
        record, _ = seal(
            new,
            position=position,
            stream=f"s-{position % 3}",
            version=position,
            recorded_at=_START,
            prev_hash=prev_hash,
        )
        prev_hash = record.hash
        records.append(record)
    return records


def _table(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    rows = con.execute("SELECT * FROM events ORDER BY position").fetchall()
    con.execute("DELETE FROM events")
    return rows


@SETTINGS
@given(st.lists(st.tuples(events, instants, texts, optional_texts), min_size=1, max_size=12))
def test_duckdb_spreads_every_record_as_event_row_of_does(
    batch: list[tuple[Event, datetime, str, str | None]],
) -> None:
    """Any records, of every event type: the same ``events`` rows, value for value
    (the JSON of ``metadata`` as text), as ``EventRow.of`` loaded by ``read_json``."""
    records = _records(batch)
    con = connect(MEMORY)
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "rows.jsonl"
        shape = TableShape(con, "events", EventRow)
        write_rows([EventRow.of(record) for record in records], path)
        con.execute(f"INSERT INTO events {shape.source(path)}")
        expected = _table(con)
        write_records(records, path)
        insert_events(con, path)
        assert _table(con) == expected
    con.close()
