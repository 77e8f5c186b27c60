"""``claims export ledger``, ``claims import`` and ``claims db status|migrate`` as a
user drives them: a ledger moves from a JSONL file to PostgreSQL and back unchanged."""

from __future__ import annotations

from pathlib import Path

from tests import pg_server
from tests.e2e.conftest import Claims

SHIPPED_MIGRATIONS = Path(__file__).parents[2] / "ledger" / "store" / "sql" / "postgres"


def _history(claims: Claims) -> None:
    """A short, real history: a task claimed, beaten and released by a session."""
    assert claims("task", "add", "t1", "--title", "One").code == 0
    assert claims("session", "start", "--session", "s1").code == 0
    assert claims("claim", "t1", "--session", "s1").code == 0
    assert claims("heartbeat", "t1", "--session", "s1").code == 0
    assert claims("release", "t1", "--session", "s1", "--reason", "completed").code == 0


def test_a_ledger_goes_from_jsonl_to_postgresql_and_back_byte_for_byte(tmp_path: Path) -> None:
    original = tmp_path / "original.jsonl"
    back = tmp_path / "back.jsonl"
    _history(Claims(tmp_path, f"jsonl://{original}"))
    postgres = Claims(tmp_path, pg_server.fresh_url())

    imported = postgres.json("import", str(original))
    assert imported.code == 0, imported.stderr
    assert imported.body["copied"] == len(original.read_bytes().splitlines())
    assert postgres("verify").code == 0
    assert postgres.json("task", "show", "t1").body["status"] == "done"

    exported = postgres.json("export", "ledger", "-o", str(back))
    assert exported.code == 0, exported.stderr
    assert back.read_bytes() == original.read_bytes()


def test_an_import_resumes_and_never_copies_twice(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    _history(Claims(tmp_path, f"sqlite://{source}"))
    postgres = Claims(tmp_path, pg_server.fresh_url())
    first = postgres.json("import", f"sqlite://{source}")

    again = postgres.json("import", f"sqlite://{source}")

    assert again.code == 0
    assert (again.body["copied"], again.body["skipped"]) == (0, first.body["copied"])
    assert again.body["headHash"] == first.body["headHash"]


def test_an_import_into_another_ledger_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source.jsonl"
    _history(Claims(tmp_path, f"jsonl://{source}"))
    postgres = Claims(tmp_path, pg_server.fresh_url())
    assert postgres("task", "add", "other", "--title", "Other").code == 0

    refused = postgres.json("import", str(source))

    assert refused.code == 13
    assert refused.body["error"] == "VALIDATION_ERROR"
    assert "different log" in refused.body["message"]
    listed = postgres.json("task", "list").body
    assert [task["taskId"] for task in listed["tasks"]] == ["other"]


def test_an_import_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")

    refused = claims.json("import", str(tmp_path / "missing.jsonl"))

    assert refused.code == 13
    assert not (tmp_path / "missing.jsonl").exists()


def test_db_status_and_migrate_on_a_schema_that_is_migrated_by_hand(tmp_path: Path) -> None:
    """With ?migrate=false the store refuses to open until `claims db migrate` ran."""
    claims = Claims(tmp_path, pg_server.fresh_url(options="migrate=false"))

    before = claims.json("db", "status")
    blocked = claims.json("task", "list")
    migrated = claims.json("db", "migrate")
    after = claims.json("db", "status")
    again = claims.json("db", "migrate")

    assert before.code == 0
    shipped = sorted(path.stem for path in SHIPPED_MIGRATIONS.glob("*.sql"))
    assert shipped[:4] == [
        "0001_events",
        "0002_append_events",
        "0003_append_links_head",
        "0004_append_in_one_statement",
    ]
    assert (before.body["schemaVersion"], before.body["pending"]) == (0, shipped)
    assert blocked.code == 20
    assert "claims db migrate" in blocked.body["message"]
    assert migrated.body["applied"] == shipped
    assert (after.body["schemaVersion"], after.body["pending"], after.body["position"]) == (
        len(shipped),
        [],
        0,
    )
    assert again.body["applied"] == []
    assert claims("task", "list").code == 0


def test_db_status_of_the_embedded_stores(tmp_path: Path) -> None:
    sqlite = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    jsonl = Claims(tmp_path, f"jsonl://{tmp_path / 'ledger.jsonl'}")
    assert sqlite("task", "add", "t1", "--title", "One").code == 0

    assert sqlite.json("db", "status").body["pending"] == []
    assert sqlite.json("db", "status").body["position"] == 1
    assert jsonl.json("db", "status").body["latest"] == 0


def test_an_unreachable_server_is_one_clear_line_and_exit_25(tmp_path: Path) -> None:
    claims = Claims(tmp_path, "postgresql://postgres@127.0.0.1:1/test")

    done = claims("task", "list")

    assert done.code == 25
    assert done.stderr.startswith("error: STORE_UNAVAILABLE: cannot connect to PostgreSQL")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
