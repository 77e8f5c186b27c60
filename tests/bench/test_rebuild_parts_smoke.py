"""``python -m bench.rebuild_parts`` runs on a small log and prints every part."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import rebuild_parts


def test_rebuild_parts_prints_every_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rebuild_parts.main(["--tasks", "30", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== Rebuild parts: 301 records" in out
    for label in (
        "read bodies: SQLite SELECT",
        "read bodies: JSONL lines",
        "decode (msgspec, typed Record)",
        "hash check (sha256 of the bytes)",
        "checked walk (decode + checks + chain)",
        "fold (Board.apply_all, four projections)",
        "rebuild through SQLite read_all",
        "rebuild through JSONL read_all",
        "paired: checked walk, checked_record per record",
        "paired: checked walk, checked_chain (sound_record)",
        "paired: fold, each projection's apply",
        "paired: fold, Board.apply_all (BoardFold)",
    ):
        assert label in out
