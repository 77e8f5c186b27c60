"""Drive the real ``claims`` console script in a scratch directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import pg_server

CLAIMS = str(Path(sys.executable).with_name("claims"))


class Result:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr

    @property
    def body(self) -> Any:
        """stdout as exactly one JSON document (fails the test otherwise)."""
        return json.loads(self.stdout)


class Claims:
    """Runs ``claims ARGS`` as a user would, with a store of its own."""

    def __init__(self, cwd: Path, db: str, program: Sequence[str] = (CLAIMS,)) -> None:
        self.cwd = cwd
        self.db = db
        self.program = list(program)
        """The command that runs ``claims``: the console script unless given."""
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CLAIMS_") and key != "NO_COLOR"
        }
        self.env["CLAIMS_DB"] = db

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> Result:
        done = subprocess.run(
            [*self.program, *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done)

    def json(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        return self(*args, "--json", env=env)


@pytest.fixture(params=["sqlite", "jsonl", "postgresql"])
def claims(request: pytest.FixtureRequest, tmp_path: Path) -> Claims:
    """The CLI on a SQLite or a JSONL store in a temporary directory, or on a fresh
    schema of the PostgreSQL server."""
    if request.param == "postgresql":
        return Claims(tmp_path, pg_server.fresh_url())
    suffix = "db" if request.param == "sqlite" else "jsonl"
    return Claims(tmp_path, f"{request.param}://{tmp_path / ('ledger.' + suffix)}")
