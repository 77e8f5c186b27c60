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
