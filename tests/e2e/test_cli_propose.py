"""``claims task propose``: register unless unfinished work with the fingerprint exists."""

from __future__ import annotations

from tests.e2e.conftest import Claims, Result

FINGERPRINT = "auth/login"


def _propose(claims: Claims, task: str, *extra: str) -> Result:
    options = ("--title", f"Fix login ({task})", "--fingerprint", FINGERPRINT, *extra)
    return claims.json("task", "propose", task, *options)


def test_first_proposal_is_created(claims: Claims) -> None:
    """A new fingerprint registers the task: exit 0, status created."""
    result = _propose(claims, "login-1", "--roi", "5", "--priority", "high")
    assert result.code == 0
    assert (result.body["success"], result.body["result"]) == (True, "created")
    task = result.body["task"]
    assert (task["taskId"], task["fingerprint"], task["status"]) == ("login-1", FINGERPRINT, "todo")
    assert (task["roi"], task["priority"]) == (5.0, "high")


def test_duplicate_of_unclaimed_work_exits_15_naming_it(claims: Claims) -> None:
    """A second proposal of the fingerprint exits 15, TASK_ALREADY_ACTIVE, naming the task."""
    _propose(claims, "login-1")
    result = _propose(claims, "login-2")
    assert result.code == 15
    body = result.body
    assert (body["success"], body["error"]) == (False, "TASK_ALREADY_ACTIVE")
    assert (body["activeTask"]["taskId"], body["activeTask"]["status"]) == ("login-1", "todo")
    assert body["fingerprint"] == FINGERPRINT
    assert body["holder"] is None


def test_duplicate_of_claimed_work_names_its_holder(claims: Claims) -> None:
    """While the first task is claimed, the refusal names the holder and its token."""
    _propose(claims, "login-1")
    assert claims.json("claim", "login-1", "--session", "agent-7").code == 0
    body = _propose(claims, "login-2").body
    assert body["activeTask"]["status"] == "in_progress"
    assert (body["holder"]["sessionId"], body["holder"]["fencingToken"]) == ("agent-7", 2)


def test_refused_proposal_registers_nothing(claims: Claims) -> None:
    """The refused task id does not exist afterwards."""
    _propose(claims, "login-1")
    _propose(claims, "login-2")
    assert claims.json("task", "show", "login-2").code == 4
    assert claims.json("task", "list").body["total"] == 1


def test_done_work_frees_the_fingerprint(claims: Claims) -> None:
    """Once the task is released as completed, the fingerprint may be proposed again."""
    _propose(claims, "login-1")
    claims.json("claim", "login-1", "--session", "agent-7")
    claims.json("release", "login-1", "--session", "agent-7", "--reason", "completed")
    result = _propose(claims, "login-2")
    assert (result.code, result.body["result"]) == (0, "created")


def test_dropped_work_frees_the_fingerprint(claims: Claims) -> None:
    """A dropped task no longer holds its fingerprint."""
    _propose(claims, "login-1")
    assert claims.json("task", "status", "login-1", "dropped").code == 0
    assert _propose(claims, "login-2").code == 0


def test_registered_task_with_the_fingerprint_blocks_a_proposal(claims: Claims) -> None:
    """A task added with ``task add --fingerprint`` is unfinished work too."""
    claims.json("task", "add", "manual", "--title", "By hand", "--fingerprint", FINGERPRINT)
    result = _propose(claims, "login-1")
    assert (result.code, result.body["activeTask"]["taskId"]) == (15, "manual")


def test_human_refusal_goes_to_stderr(claims: Claims) -> None:
    """Without ``--json``, the refusal is one error line on stderr and exit 15."""
    _propose(claims, "login-1")
    result = claims("task", "propose", "login-2", "--title", "Again", "--fingerprint", FINGERPRINT)
    assert result.code == 15
    assert result.stdout == ""
    assert result.stderr.startswith("error: TASK_ALREADY_ACTIVE: task 'login-1'")


def test_propose_without_fingerprint_is_a_usage_error(claims: Claims) -> None:
    """A proposal must name its fingerprint: without one it exits 2 and writes nothing."""
    result = claims("task", "propose", "login-9", "--title", "no fingerprint")
    assert result.code == 2
    assert "--fingerprint" in result.stderr
    assert claims.json("task", "list").body["total"] == 0
