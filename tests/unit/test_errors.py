"""The error tree: stable codes, exit codes and statuses, drawn in ``ledger/errors.py``."""

from __future__ import annotations

import re

import pytest

import ledger.errors
from ledger.errors import LedgerError, TaskAlreadyClaimed, all_error_classes

CLASSES = all_error_classes()
TREE = ledger.errors.__doc__ or ""
TREE_LINE = re.compile(r"^[\s│├└─]*(?P<name>[A-Z]\w+)(?:\s+(?P<rest>.*))?$")


def _every_subclass() -> list[type[LedgerError]]:
    """LedgerError and every class below it, grouping classes included."""
    found = [LedgerError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


def _tree() -> dict[str, tuple[int, str]]:
    """Class name -> (indent, rest of its line) in the docstring's tree."""
    found: dict[str, tuple[int, str]] = {}
    for line in TREE.split("::", 1)[1].splitlines():
        match = TREE_LINE.match(line)
        if match:
            indent = len(line) - len(line.lstrip(" │├└─"))
            found[match["name"]] = (indent, match["rest"] or "")
    return found


def _name(cls: type[LedgerError]) -> str:
    return cls.__name__


def test_all_error_classes_starts_at_ledger_error() -> None:
    """all_error_classes starts at the root and lists each class once."""
    assert CLASSES[0] is LedgerError
    assert len(set(CLASSES)) == len(CLASSES)


@pytest.mark.parametrize("cls", [c for c in _every_subclass() if not c.__subclasses__()], ids=_name)
def test_every_leaf_error_has_a_code_of_its_own(cls: type[LedgerError]) -> None:
    """A leaf error class defines its own code and exit code, so all_error_classes lists it."""
    assert "code" in vars(cls)
    assert "exit_code" in vars(cls)
    assert cls in CLASSES


def test_codes_are_unique() -> None:
    """No two classes of all_error_classes share a code."""
    codes = [cls.code for cls in CLASSES]

    assert len(set(codes)) == len(codes)


def test_exit_codes_are_unique() -> None:
    """No two classes of all_error_classes share an exit code."""
    exits = [cls.exit_code for cls in CLASSES]

    assert len(set(exits)) == len(exits)


def test_exit_codes_are_not_0_or_2() -> None:
    """Exit 0 is success and 2 is the CLI's usage error; no ledger error takes either."""
    assert not {cls.exit_code for cls in CLASSES} & {0, 2}


def test_every_class_is_drawn_in_the_docstring_tree() -> None:
    """The docstring tree draws every error class, groups included, and no other name."""
    assert sorted(_tree()) == sorted(map(_name, _every_subclass()))


@pytest.mark.parametrize("cls", CLASSES[1:], ids=_name)
def test_the_tree_line_gives_the_code_status_and_exit(cls: type[LedgerError]) -> None:
    """Each class's line shows its code, HTTP status and exit code as the class defines them."""
    assert _tree()[cls.__name__][1].split() == [
        cls.code,
        str(cls.http_status),
        "exit",
        str(cls.exit_code),
    ]


@pytest.mark.parametrize("cls", _every_subclass()[1:], ids=_name)
def test_each_class_is_drawn_under_its_parent(cls: type[LedgerError]) -> None:
    """A class is drawn below its base class: the nearest line above it with less indent."""
    tree = list(_tree().items())
    index = [name for name, _ in tree].index(cls.__name__)
    indent = tree[index][1][0]
    above = [name for name, (depth, _) in tree[:index] if depth < indent]

    assert above[-1] == cls.__mro__[1].__name__


@pytest.mark.parametrize("cls", CLASSES, ids=_name)
def test_statuses_are_http_errors(cls: type[LedgerError]) -> None:
    """Every error answers with a 4xx or 5xx status and has a title."""
    assert 400 <= cls.http_status < 600
    assert cls.title


def test_the_body_has_seed_002s_shape_with_the_context() -> None:
    """body() is {"success": false, "error": CODE, "message": ..., **context}."""
    error = TaskAlreadyClaimed("taken", taskId="t1", claim={"sessionId": "s1"})

    assert error.body() == {
        "success": False,
        "error": "TASK_ALREADY_CLAIMED",
        "message": "taken",
        "taskId": "t1",
        "claim": {"sessionId": "s1"},
    }


def test_the_string_of_an_error_leads_with_its_code() -> None:
    """str(error) is "CODE: detail"."""
    assert str(TaskAlreadyClaimed("taken")) == "TASK_ALREADY_CLAIMED: taken"
