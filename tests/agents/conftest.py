"""A git repository with a ledger, and ``claims`` (its hook too) run inside it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CLAIMS, Claims, Result


class Project(Claims):
    """The ``claims`` CLI in a fresh git repository with its own SQLite ledger."""

    def hook(self, payload: Any, *, raw: bytes | None = None, **env: str) -> Result:
        """``claims hook`` fed ``payload`` (JSON) on stdin, as an agent sends it."""
        data = raw if raw is not None else json.dumps(payload).encode()
        done = subprocess.run(
            [CLAIMS, "hook", "--agent", "claude-code"],
            cwd=self.cwd,
            env={**self.env, **env},
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        )
        return Result(
            subprocess.CompletedProcess(
                done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
            )
        )

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=self.cwd, env=self.env, capture_output=True, text=True, check=False
        )

    def log_types(self) -> list[str]:
        """The type of every record in the ledger, in order."""
        return [event["type"] for event in self.json("replay").body["timeline"]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A git repository (with a committer) whose ledger holds task t1."""
    repo = tmp_path / "repo"
    repo.mkdir()
    claims = Project(repo, f"sqlite://{tmp_path / 'ledger.db'}")
    claims.env.update(
        GIT_AUTHOR_NAME="a",
        GIT_AUTHOR_EMAIL="a@x",
        GIT_COMMITTER_NAME="a",
        GIT_COMMITTER_EMAIL="a@x",
    )
    claims.git("init", "-q", ".")
    claims.json("task", "add", "t1", "--title", "Task one", "--roi", "5")
    return claims
