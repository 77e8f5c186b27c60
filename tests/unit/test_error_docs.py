"""The documents that list the error codes list every one of them, as the code has it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.errors import LedgerError, all_error_classes

ROOT = Path(__file__).resolve().parents[2]
ADR = (ROOT / "docs/adr/0007-errors-and-exit-codes.md").read_text()
CLI = (ROOT / "docs/cli.md").read_text()


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda cls: cls.__name__)
def test_adr_0007_draws_the_class_with_its_code_status_and_exit(cls: type[LedgerError]) -> None:
    """ADR 0007's tree has a line naming the class, its code, status and exit code."""
    line = rf"{cls.__name__}\s+{cls.code}\s+{cls.http_status}\s+exit {cls.exit_code}\b"
    assert re.search(line, ADR), f"ADR 0007 lacks: {cls.__name__} {cls.code}"


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda cls: cls.__name__)
def test_the_cli_reference_lists_the_exit_code(cls: type[LedgerError]) -> None:
    """docs/cli.md's exit-code table has the row: exit code, code, HTTP status."""
    row = f"| {cls.exit_code} | `{cls.code}` | {cls.http_status} |"
    assert row in CLI, f"docs/cli.md lacks the row {row}"
