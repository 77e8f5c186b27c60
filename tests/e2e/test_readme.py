"""The README's examples, run as a new user would: its ``claims`` session and its library
snippet, in a scratch folder. A line whose comment says ``exit N`` must exit N; every
other line must succeed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CLAIMS = str(Path(sys.executable).with_name("claims"))
TASKS_JSON = '{"tasks": [{"id": "docs-1", "title": "Write the docs", "priority": "low"}]}'
MAKEFILE = "test:\n\t@echo tests pass\n"


def block_after(heading: str, language: str) -> str:
    """The first fenced block of ``language`` after ``heading``."""
    rest = README[README.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", rest, re.S)
    assert match is not None, f"no {language} block after {heading!r}"
    return match.group(1)


def steps(block: str) -> list[tuple[str, int]]:
    """Each command line with the exit code its comment (or the next lines') promises;
    ``exit N if ...`` names a code the command may give elsewhere, not here."""
    found: list[tuple[str, int]] = []
    for line in block.splitlines():
        command, _, comment = line.partition("#")
        expected = re.search(r"\bexit (\d+)\b(?! if\b)", comment)
        if command.strip():
            found.append((command.strip(), 0))
        if expected and found:
            found[-1] = (found[-1][0], int(expected.group(1)))
    return found


def test_steps_read_the_promised_exit_code() -> None:
    """A comment after a command binds its exit code to it; "exit N if" binds nothing."""
    block = "claims a\n      # exit 15 because\nclaims b  # exit 3 if held\nclaims c\n"
    assert steps(block) == [("claims a", 15), ("claims b", 0), ("claims c", 0)]


@pytest.mark.slow
def test_the_using_it_session_runs_as_written(tmp_path: Path) -> None:
    """Every command of "Using it" exits as the README says, in order, on a fresh ledger."""
    (tmp_path / "tasks.json").write_text(TASKS_JSON)
    (tmp_path / "Makefile").write_text(MAKEFILE)
    env = {**os.environ, "CLAIMS_DB": f"sqlite://{tmp_path / 'ledger.db'}", "NO_COLOR": "1"}
    ran = 0
    for command, expected in steps(block_after("## Using it", "sh")):
        words = shlex.split(command)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            env[name] = value
            continue
        assert words[0] == "claims", command
        if words[1] == "serve":
            continue  # runs until stopped: tests/http/test_serve_cli.py starts it
        done = subprocess.run(
            [CLAIMS, *words[1:]],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == expected, f"{command}\n{done.stdout}\n{done.stderr}"
        ran += 1
    assert ran >= 20


def test_the_library_snippet_runs_as_written(tmp_path: Path) -> None:
    """The "As a library" example claims and releases, and prints the fencing token."""
    code = block_after("### As a library", "python")
    code = code.replace("sqlite:///tmp/ledger.db", f"sqlite://{tmp_path / 'ledger.db'}")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
