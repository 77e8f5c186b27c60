"""Task and session ids: what the ledger accepts as a name."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInput
from ledger.identifiers import MAX_ID, check_id


@pytest.mark.parametrize(
    "value",
    ["t", "task-1", "hierarchy-phase4-metrics", "a.b_c:d@e/f+g=h-i", "9", "x" * MAX_ID],
)
def test_good_ids_are_returned_unchanged(value: str) -> None:
    """Letters, digits and . _ : @ / + = - up to 128 characters pass as they are."""
    assert check_id(value, kind="task") == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (MAX_ID + 1),
        "-leading-dash",
        ".hidden",
        "has space",
        "tab\there",
        "a..b",
        "../escape",
        "naïve",
        "semi;colon",
        "new\nline",
    ],
    ids=repr,
)
def test_bad_ids_are_invalid_input(value: str) -> None:
    """Empty, too long, a bad first character, spaces, '..', or other characters are refused."""
    with pytest.raises(InvalidInput):
        check_id(value, kind="task")


def test_a_bad_id_names_its_field() -> None:
    """The error's context names the field: taskId or sessionId after the kind."""
    with pytest.raises(InvalidInput) as caught:
        check_id("bad id", kind="session")

    assert caught.value.context == {"field": "sessionId"}
    assert "session id 'bad id'" in caught.value.detail


def test_a_non_string_id_is_invalid_input() -> None:
    """An id that is not a string (from JSON, say) is refused, not crashed on."""
    with pytest.raises(InvalidInput):
        check_id(42, kind="task")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["in-flight", "claim-next", "import", "claims/stats", "claims/cleanup"]
)
def test_task_ids_of_fixed_routes_are_refused(value: str) -> None:
    """A task may not take the name of a fixed HTTP route under /api/tasks/."""
    with pytest.raises(InvalidInput, match="reserved"):
        check_id(value, kind="task")


@pytest.mark.parametrize("value", ["a/claim", "a/claim/heartbeat", "a/release", "a/status"])
def test_task_ids_ending_in_an_action_are_refused(value: str) -> None:
    """A task id may not end in one of the HTTP API's task actions."""
    with pytest.raises(InvalidInput, match="reserved"):
        check_id(value, kind="task")


def test_a_session_may_take_a_route_name() -> None:
    """Only task ids are matched against the task routes."""
    assert check_id("in-flight", kind="session") == "in-flight"
