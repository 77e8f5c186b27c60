"""Where the CLI finds its store, and how it prints for people."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Claims


def test_nearest_claims_directory_up_the_tree(tmp_path: Path) -> None:
    """Without --db or CLAIMS_DB, the nearest .claims/ up the tree holds the ledger."""
    (tmp_path / ".claims").mkdir()
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    cli = Claims(deep, "")
    del cli.env["CLAIMS_DB"]
    assert cli.json("task", "add", "t1", "--title", "x").code == 0
    assert (tmp_path / ".claims" / "ledger.db").exists()
    assert not (deep / ".claims").exists()


def test_default_store_is_created_in_cwd(tmp_path: Path) -> None:
    """With no .claims/ anywhere up the tree, ./.claims/ledger.db is created."""
    cli = Claims(tmp_path, "")
    del cli.env["CLAIMS_DB"]
    cli.json("task", "add", "t1", "--title", "x")
    assert (tmp_path / ".claims" / "ledger.db").exists()


def test_db_option_overrides_environment(tmp_path: Path) -> None:
    """--db wins over CLAIMS_DB."""
    cli = Claims(tmp_path, f"sqlite://{tmp_path / 'env.db'}")
    cli.json("task", "add", "t1", "--title", "x", "--db", f"jsonl://{tmp_path / 'opt.jsonl'}")
    assert (tmp_path / "opt.jsonl").exists()
    assert not (tmp_path / "env.db").exists()


def test_db_before_the_command_overrides_environment(tmp_path: Path) -> None:
    """``claims --db X cmd`` with CLAIMS_DB set uses X: the command's own --db, not
    given, does not fall back to the variable over the group's flag."""
    cli = Claims(tmp_path, f"sqlite://{tmp_path / 'env.db'}")
    opt = f"jsonl://{tmp_path / 'opt.jsonl'}"
    assert cli("--db", opt, "task", "add", "t1", "--title", "x").code == 0
    assert (tmp_path / "opt.jsonl").exists()
    assert not (tmp_path / "env.db").exists()
    assert cli("--db", opt, "--json", "task", "show", "t1").body["taskId"] == "t1"


def test_tables_have_no_colour_off_a_terminal(claims: Claims) -> None:
    """Piped output carries no ANSI escapes."""
    claims.json("task", "add", "t1", "--title", "x")
    claims.json("claim", "t1", "--session", "s1")
    result = claims("in-flight")
    assert "\x1b[" not in result.stdout
    assert "healthy" in result.stdout


def test_codes_lists_every_exit_code(claims: Claims) -> None:
    """claims codes lists each error code once with its exit code."""
    body = claims.json("codes").body
    exits = [row["exitCode"] for row in body["codes"]]
    assert len(exits) == len(set(exits))
    assert {"TASK_ALREADY_CLAIMED": 3}.items() <= {
        row["code"]: row["exitCode"] for row in body["codes"]
    }.items()
