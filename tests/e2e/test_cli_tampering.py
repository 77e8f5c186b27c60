"""Logs tampered with as an attacker would, through the real CLI: the next ordinary
command stops with LOG_CORRUPT (exit 23) naming the position, and records cut from
the end are caught by ``verify --witness`` with the line ``claims checkpoint`` printed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Claims

TASKS = ("a", "b", "c", "d", "e")
"""One registration each: positions 1 to 5; the claim of ``a`` (its session started,
then the claim) is positions 6 and 7."""


def _ledger(tmp_path: Path, backend: str) -> tuple[Claims, Path]:
    path = tmp_path / ("ledger.db" if backend == "sqlite" else "ledger.jsonl")
    cli = Claims(tmp_path, f"{backend}://{path}")
    for task in TASKS:
        assert cli.json("task", "add", task, "--title", f"Task {task}").code == 0
    assert cli.json("claim", "a", "--session", "s1").code == 0
    return cli, path


def _sql(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(statement)


def _lines(path: Path, edit: Callable[[list[bytes]], list[bytes]]) -> None:
    path.write_bytes(b"".join(edit(path.read_bytes().splitlines(keepends=True))))


def _swap(lines: list[bytes]) -> list[bytes]:
    lines[2], lines[3] = lines[3], lines[2]
    return lines


TAMPERING: dict[str, dict[str, Callable[[Path], object]]] = {
    "sqlite": {
        "edit": lambda p: _sql(
            p, "UPDATE events SET body = CAST(replace(body, 'Task c', 'Task X') AS BLOB)"
        ),
        "text body": lambda p: _sql(
            p, "UPDATE events SET body = replace(body, 's1', 's9') WHERE position = 7"
        ),
        "delete middle": lambda p: _sql(p, "DELETE FROM events WHERE position = 3"),
        "reorder": lambda p: _sql(
            p,
            "UPDATE events SET body = (SELECT body FROM events e WHERE e.position ="
            " 7 - events.position) WHERE position IN (3, 4)",
        ),
    },
    "jsonl": {
        "edit": lambda p: p.write_bytes(p.read_bytes().replace(b"Task c", b"Task X")),
        "delete middle": lambda p: _lines(p, lambda lines: lines[:2] + lines[3:]),
        "reorder": lambda p: _lines(p, _swap),
    },
}
CASES = [(backend, kind) for backend, kinds in TAMPERING.items() for kind in kinds]


@pytest.mark.parametrize(("backend", "kind"), CASES)
def test_tampering_stops_the_next_ordinary_command(tmp_path: Path, backend: str, kind: str) -> None:
    """After an edit, a deletion, a reordering or a TEXT body, `task list` exits 23."""
    cli, path = _ledger(tmp_path, backend)
    TAMPERING[backend][kind](path)
    result = cli.json("task", "list")
    assert (result.code, result.body["error"]) == (23, "LOG_CORRUPT")
    assert result.body["position"] in (3, 6, 7)


@pytest.mark.parametrize(("backend", "kind"), CASES)
def test_tampering_fails_verify_with_a_position(tmp_path: Path, backend: str, kind: str) -> None:
    """Every tampering of the table above fails `verify` with exit 23 and a position."""
    cli, path = _ledger(tmp_path, backend)
    TAMPERING[backend][kind](path)
    result = cli.json("verify")
    assert (result.code, result.body["error"]) == (23, "LOG_CORRUPT")
    assert isinstance(result.body["position"], int)


@pytest.mark.parametrize("backend", ["sqlite", "jsonl"])
def test_a_tail_cut_after_a_checkpoint_fails_verify_with_the_witness(
    tmp_path: Path, backend: str
) -> None:
    """The last record deleted verifies alone, and fails against the checkpoint's line."""
    cli, path = _ledger(tmp_path, backend)
    line = cli("checkpoint").stdout.strip()
    if backend == "sqlite":
        _sql(path, "DELETE FROM events WHERE position = 7")
    else:
        _lines(path, lambda lines: lines[:-1])
    assert cli.json("verify").code == 0
    result = cli.json("verify", "--witness", line)
    assert (result.code, result.body["error"], result.body["position"]) == (23, "LOG_CORRUPT", 7)


def test_a_witness_file_is_read(tmp_path: Path) -> None:
    """`verify --witness FILE` reads the checkpoint line from a file."""
    cli, path = _ledger(tmp_path, "jsonl")
    witness = tmp_path / "head.txt"
    witness.write_text("note\n" + cli("checkpoint").stdout)
    _lines(path, lambda lines: lines[:-1])
    assert cli.json("verify", "--witness", str(witness)).code == 23


def test_checkpoint_prints_the_head_as_one_line(tmp_path: Path) -> None:
    """`claims checkpoint` prints position, hash and time on one line."""
    cli, _ = _ledger(tmp_path, "jsonl")
    body = cli.json("checkpoint").body
    assert body["position"] == 7
    assert body["line"] == cli("checkpoint").stdout.strip()
    assert body["line"].startswith(f"claims-head position=7 hash={body['hash']} time=")


def test_an_intact_log_passes_verify_with_its_witness(tmp_path: Path) -> None:
    """A log that only grew since its checkpoint verifies against it."""
    cli, _ = _ledger(tmp_path, "sqlite")
    line = cli("checkpoint").stdout.strip()
    cli.json("task", "add", "f", "--title", "Task f")
    assert cli.json("verify", "--witness", line).code == 0


def test_a_malformed_witness_is_a_validation_error(tmp_path: Path) -> None:
    """A witness that is neither a checkpoint line nor a file is VALIDATION_ERROR."""
    cli, _ = _ledger(tmp_path, "sqlite")
    result = cli.json("verify", "--witness", "claims-head position=x")
    assert (result.code, result.body["error"]) == (13, "VALIDATION_ERROR")


def test_a_middle_row_deleted_stops_the_next_claim_of_its_neighbour(tmp_path: Path) -> None:
    """With the row before the head deleted, an append refuses: nothing is written."""
    cli, path = _ledger(tmp_path, "sqlite")
    _sql(path, "DELETE FROM events WHERE position = 6")
    result = cli.json("claim", "b", "--session", "s2")
    assert (result.code, result.body["error"], result.body["position"]) == (23, "LOG_CORRUPT", 7)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(position) FROM events").fetchone() == (7,)
