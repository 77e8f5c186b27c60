"""The SQLite store's head: what is committed, read without waiting for this handle's
commit in flight (the ledger's clock reads it before every decision)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from ledger.events import SessionStarted
from ledger.records import NewEvent
from ledger.store.sqlite import SqliteStore


def _append(store: SqliteStore, n: int) -> int:
    event = SessionStarted(session_id=f"s{n}", agent_type="cli", host="h")
    new = NewEvent(data=event, occurred_at=datetime.now(UTC), actor="t")
    return store.append(f"session-s{n}", [new], expected_version=0)[-1].position


def test_the_head_is_the_last_append_once_it_returned(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.db")
    try:
        assert store.head().position == 0
        for n in range(1, 20):
            position = _append(store, n)
            head = store.head()
            assert head.position == position
            assert head.recorded_at is not None
        other = SqliteStore(tmp_path / "h.db")
        try:
            assert other.head() == store.head()
        finally:
            other.close()
    finally:
        store.close()


def test_the_head_does_not_wait_for_the_handles_connection(tmp_path: Path) -> None:
    """While the handle's connection is held (as through a commit waiting on the
    disk), the head is still answered, as last committed."""
    store = SqliteStore(tmp_path / "h.db")
    try:
        position = _append(store, 1)
        answers: list[int] = []
        with store._lock:
            reader = threading.Thread(target=lambda: answers.append(store.head().position))
            reader.start()
            reader.join(timeout=5)
            assert answers == [position]
    finally:
        store.close()
