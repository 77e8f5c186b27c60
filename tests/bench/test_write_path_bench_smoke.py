"""The write-path benchmark runs at tiny size and prints every section and goal."""

from __future__ import annotations

import pytest

from bench import write_path

pytestmark = pytest.mark.slow


def test_the_in_process_section_prints_rows_and_goals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--only inprocess --size smoke`` completes and names both of its goals."""
    assert write_path.main(["--size", "smoke", "--only", "inprocess"]) == 0
    printed = capsys.readouterr().out
    assert "bare sqlite3, durable one-row insert" in printed
    assert "in-process 16 writers" in printed
