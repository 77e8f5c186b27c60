"""``claims guard`` in a real git repository, through the pre-commit hook."""

from __future__ import annotations

from tests.agents.conftest import Project
from tests.e2e.conftest import CLAIMS


def _commit(project: Project, name: str) -> int:
    (project.cwd / name).write_text(name)
    project.git("add", name)
    return project.git("commit", "-q", "-m", name).returncode


def test_a_commit_under_a_current_lease_passes(project: Project) -> None:
    """Holding the claim, the pre-commit guard lets the commit through."""
    project("hooks", "install", "git", "--command", CLAIMS)
    project.json("claim", "t1", "--session", "s-1")
    assert _commit(project, "a.txt") == 0


def test_after_a_forced_takeover_the_pre_commit_hook_refuses(project: Project) -> None:
    """A takeover supersedes the recorded claim: the commit is refused."""
    project("hooks", "install", "git", "--command", CLAIMS)
    project.json("claim", "t1", "--session", "s-1")
    project.json("takeover", "t1", "--session", "s-2", "--force", "--reason", "stuck")
    assert _commit(project, "b.txt") != 0
    assert project.git("log", "--oneline").stdout == ""


def test_guard_exits_16_naming_what_superseded_the_claim(project: Project) -> None:
    """The guard's own answer: exit 16 and one line naming the new holder."""
    project.json("claim", "t1", "--session", "s-1")
    project.json("takeover", "t1", "--session", "s-2", "--force", "--reason", "stuck")
    result = project("guard")
    assert result.code == 16
    assert "now held by s-2" in result.stderr


def test_guard_with_nothing_recorded_passes(project: Project) -> None:
    """A working tree with no recorded claim is not under coordination: exit 0."""
    assert project("guard").code == 0


def test_release_removes_the_record(project: Project) -> None:
    """After a release by the session, nothing is recorded and the guard passes."""
    project.json("claim", "t1", "--session", "s-1")
    project.json("release", "--session", "s-1")
    assert project("guard").code == 0
    assert project.json("task", "show", "t1").body["status"] == "todo"
