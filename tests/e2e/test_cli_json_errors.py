"""With ``--json`` even usage errors answer one JSON document."""

from __future__ import annotations

from tests.e2e.conftest import Claims


def test_usage_error_is_a_json_body_with_exit_2(claims: Claims) -> None:
    """A missing argument with --json prints USAGE_ERROR as JSON and exits 2."""
    result = claims.json("claim")
    assert result.code == 2
    assert result.body["success"] is False
    assert result.body["error"] == "USAGE_ERROR"
    assert "TASK" in result.body["message"]


def test_bad_option_value_is_a_json_body(claims: Claims) -> None:
    """An unparseable duration with --json is a USAGE_ERROR body naming the forms."""
    claims.json("task", "add", "t1", "--title", "t1")
    result = claims.json("claim", "t1", "--session", "s1", "--ttl", "soon")
    assert (result.code, result.body["error"]) == (2, "USAGE_ERROR")
    assert "90s" in result.body["message"]


def test_json_after_double_dash_belongs_to_the_child(claims: Claims) -> None:
    """--json after `--` is the child's argument, not the CLI's: usage text, no JSON."""
    result = claims("run", "--", "--json")
    assert result.code == 2
    assert result.stdout == ""
