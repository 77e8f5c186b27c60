"""The incremental feeder: by position, checkpointed, equal to a full reload."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.testing import memory_service
from ledger.codec import encode_record
from ledger.commands import Claim, RegisterTask
from ledger.errors import CorruptLog, StoreError
from ledger.store.sqlite import SqliteStore
from ledger.terms import LeaseTerms
from projections.analytics import Analytics
from projections.analytics.feeder import update
from tests.analytics.helpers import dump, fed
from tests.analytics.histories import Step, histories, play
from tests.conftest import START

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cuts = st.lists(st.integers(min_value=0, max_value=200), max_size=5)
batches = st.integers(min_value=1, max_value=7)


@SETTINGS
@given(histories, cuts, batches)
def test_incremental_feeding_equals_a_full_reload(
    steps: list[Step], positions: list[int], batch: int
) -> None:
    """Feeding the log in pieces (any cut points, any batch size) gives the same
    tables and checkpoint as feeding it whole."""
    store, _ = play(steps)
    with fed(store) as whole, Analytics() as pieces:
        for cut in sorted(positions):
            update(pieces.con, store, until=cut, batch=batch)
        update(pieces.con, store, batch=batch)
        assert dump(pieces.con) == dump(whole.con)
        assert pieces.checkpoint() == whole.checkpoint()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.integers(min_value=3, max_value=9))
def test_forgetting_cached_rows_between_batches_changes_nothing(
    steps: list[Step], batch: int
) -> None:
    """With the fold's cache dropped after every batch (rows reloaded from DuckDB),
    the tables are the same as with everything cached."""
    store, _ = play(steps)
    with fed(store) as whole, Analytics() as forgetful:
        update(forgetful.con, store, batch=batch, cache_limit=0)
        assert dump(forgetful.con) == dump(whole.con)


def _small_ledger() -> Analytics:
    store, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    return fed(store)


def test_checkpoint_is_the_last_record_applied() -> None:
    """After an update the checkpoint holds the position and hash of the log's head."""
    store, _ = play([Step("claim", task="t1", session="s1", ms=60_000)])
    with fed(store) as analytics:
        head = store.head()
        checkpoint = analytics.checkpoint()
        assert (checkpoint.position, checkpoint.hash) == (head.position, head.hash)


def test_an_update_applies_only_new_records() -> None:
    """A second update reads only what was appended since the first."""
    service, _ = memory_service(start=START)
    service.register_task(RegisterTask(task_id="t1", title="one"))
    with Analytics() as analytics:
        analytics.update(service.store)
        before = service.store.head().position
        service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=60_000)))
        result = analytics.update(service.store)
        assert result.applied == service.store.head().position - before


def test_a_different_ledger_is_refused_at_the_checkpoint() -> None:
    """When the record at the checkpoint has another hash, the update is LOG_CORRUPT."""
    first, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    other, _ = play([Step("claim", task="t0", session="s1", ms=300_000)])
    with fed(first) as analytics, pytest.raises(CorruptLog, match="not the one witnessed"):
        analytics.update(other)


def test_a_shorter_ledger_is_refused_at_the_checkpoint() -> None:
    """A ledger with fewer records than the checkpoint is LOG_CORRUPT naming the first gone."""
    longer, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    shorter, _ = memory_service(start=START)
    shorter.register_task(RegisterTask(task_id="t0", title="zero"))
    with (
        fed(longer) as analytics,
        pytest.raises(CorruptLog, match="removed from its end") as caught,
    ):
        analytics.update(shorter.store)
    assert caught.value.context["position"] == 2


def test_a_file_store_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    """Reopened, an analytics file applies only the records past its checkpoint."""
    service, _ = memory_service(start=START)
    service.register_task(RegisterTask(task_id="t1", title="one"))
    path = str(tmp_path / "ledger.analytics.duckdb")
    with Analytics(path) as analytics:
        analytics.update(service.store)
    service.claim("t1", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=60_000)))
    with Analytics(path) as analytics:
        assert analytics.update(service.store).applied == 2
        assert analytics.checkpoint().position == service.store.head().position


def test_an_older_schema_is_dropped_and_fed_again(tmp_path: Path) -> None:
    """A file written under another schema version is emptied on open and refilled."""
    store, _ = play([Step("claim", task="t0", session="s0", ms=60_000)])
    path = str(tmp_path / "old.analytics.duckdb")
    with Analytics(path) as analytics:
        analytics.update(store)
        analytics.con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with Analytics(path) as analytics:
        assert analytics.checkpoint().position == 0
        assert analytics.update(store).applied == store.head().position


def test_a_store_locked_by_another_process_is_a_store_error(tmp_path: Path) -> None:
    """While another process holds the file, opening it fails with STORE_ERROR
    once the wait is over (here: no wait)."""
    path = tmp_path / "busy.analytics.duckdb"
    Analytics(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreError, match="cannot open the analytics store"):
            Analytics(str(path), wait_s=0)
    finally:
        holder.communicate("")


_HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_tampered_record_stops_the_feed_after_the_batches_before_it(tmp_path: Path) -> None:
    """A record edited in the ledger is ``CorruptLog`` at its position, whichever batch
    is being written meanwhile; the batches before it are stored, with their checkpoint,
    and nothing of the batch that holds it."""
    service, _ = memory_service(start=START)
    ledger = tmp_path / "ledger.db"
    store = SqliteStore(ledger)
    for index in range(12):
        service.register_task(RegisterTask(task_id=f"t{index}", title=f"task {index}"))
    store.copy_in([(record, encode_record(record)) for record in service.store.read_all()])
    db = sqlite3.connect(ledger)
    with db:
        body = db.execute("SELECT body FROM events WHERE position = 8").fetchone()[0]
        db.execute(
            "UPDATE events SET body = ? WHERE position = 8", (body.replace(b"task 7", b"task X"),)
        )
    db.close()
    with Analytics() as analytics:
        with pytest.raises(CorruptLog) as caught:
            update(analytics.con, store, batch=3)
        assert caught.value.context["position"] == 8
        assert analytics.checkpoint().position == 6
        held = analytics.con.execute("SELECT max(position), count(*) FROM events").fetchone()
        assert held == (6, 6)
    store.close()
