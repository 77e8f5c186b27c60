"""``claims verify`` names the first bad record of a tampered log."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Claims


def _jsonl(tmp_path: Path) -> tuple[Claims, Path]:
    path = tmp_path / "ledger.jsonl"
    cli = Claims(tmp_path, f"jsonl://{path}")
    for task in ("a", "b", "c"):
        cli.json("task", "add", task, "--title", task)
    return cli, path


def test_edited_byte_is_named_with_its_line(tmp_path: Path) -> None:
    """Changing one byte of line 2 fails verify at position 2, exit 23."""
    cli, path = _jsonl(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"title":"b"', b'"title":"B"')
    path.write_bytes(b"\n".join(lines))
    result = cli.json("verify")
    assert (result.code, result.body["error"]) == (23, "LOG_CORRUPT")
    assert result.body["position"] == 2
    assert "line 2" in result.body["where"]


def test_deleted_line_is_named_by_position(tmp_path: Path) -> None:
    """Deleting line 2 fails verify where position 2 was expected."""
    cli, path = _jsonl(tmp_path)
    lines = path.read_bytes().split(b"\n")
    del lines[1]
    path.write_bytes(b"\n".join(lines))
    result = cli.json("verify")
    assert (result.code, result.body["position"]) == (23, 2)


def test_human_verify_says_ok(tmp_path: Path) -> None:
    """Without --json verify prints one ok line with the record count."""
    cli, _ = _jsonl(tmp_path)
    result = cli("verify")
    assert result.code == 0
    assert result.stdout.startswith("ok: 3 records")
