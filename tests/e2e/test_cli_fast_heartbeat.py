"""``claims heartbeat`` before click loads (``cli.fast_heartbeat``): it reads the
command line as click would, answers exactly as the click command does, and hands
every command line it does not take to click."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.fast_heartbeat import Invocation, read
from tests.e2e.conftest import CLAIMS, Claims, Result

SESSION = {"CLAIMS_SESSION": "s-1"}


def _fields(invocation: Invocation | None) -> tuple[object, ...] | None:
    return None if invocation is None else tuple(invocation)


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["heartbeat"], SESSION, (None, False, "s-1", None, None, None)),
        (["heartbeat", "t1"], SESSION, (None, False, "s-1", "t1", None, None)),
        (["--json", "heartbeat", "t1"], SESSION, (None, True, "s-1", "t1", None, None)),
        (["heartbeat", "t1", "--json"], SESSION, (None, True, "s-1", "t1", None, None)),
        (["heartbeat", "--session", "s-2"], SESSION, (None, False, "s-2", None, None, None)),
        (["heartbeat", "--session=s-2", "t1"], {}, (None, False, "s-2", "t1", None, None)),
        (["heartbeat", "--extend", "90s", "t1"], SESSION, (None, False, "s-1", "t1", 90_000, None)),
        (["heartbeat", "--extend=1h30m"], SESSION, (None, False, "s-1", None, 5_400_000, None)),
        (["heartbeat", "--token", "7"], SESSION, (None, False, "s-1", None, None, 7)),
        (["heartbeat", "--token", "3", "--token=9"], SESSION, (None, False, "s-1", None, None, 9)),
        (["heartbeat", "--", "-odd"], SESSION, (None, False, "s-1", "-odd", None, None)),
        # --db: the command's, else the group's, else CLAIMS_DB
        (["--db", "a", "heartbeat"], SESSION, ("a", False, "s-1", None, None, None)),
        (["--db=a", "heartbeat", "--db", "b"], SESSION, ("b", False, "s-1", None, None, None)),
        (
            ["--db", "a", "heartbeat"],
            {**SESSION, "CLAIMS_DB": "e"},
            ("a", False, "s-1", None, None, None),
        ),
        (["heartbeat"], {**SESSION, "CLAIMS_DB": "e"}, ("e", False, "s-1", None, None, None)),
        # what click answers: help, usage errors, other commands
        (["heartbeat", "-h"], SESSION, None),
        (["heartbeat", "--help"], SESSION, None),
        (["--version", "heartbeat"], SESSION, None),
        (["heartbeat", "--nope"], SESSION, None),
        (["heartbeat", "t1", "t2"], SESSION, None),
        (["heartbeat", "--session"], SESSION, None),
        (["heartbeat", "--session="], {}, None),
        (["heartbeat"], {}, None),
        (["heartbeat", "--extend", "soon"], SESSION, None),
        (["heartbeat", "--token", "x"], SESSION, None),
        (["heartbeat", "--json=1"], SESSION, None),
        (["heartbeat", "-"], SESSION, (None, False, "s-1", "-", None, None)),
        (["claim", "heartbeat"], SESSION, None),
        (["release"], SESSION, None),
    ],
)
def test_the_reader_takes_what_click_would_and_refuses_the_rest(
    args: list[str], environ: dict[str, str], expected: tuple[object, ...] | None
) -> None:
    assert _fields(read(args, environ)) == expected


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


CLICK = [sys.executable, "-c", "import sys; from cli.main import main; main(sys.argv[1:])"]
"""The same command lines through the click application, not the fast path."""


def _seen(result: Result) -> tuple[int, str, str]:
    return result.code, _TIME.sub("<time>", result.stdout), _TIME.sub("<time>", result.stderr)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["heartbeat", "t1"], SESSION),
        (["heartbeat"], SESSION),
        (["heartbeat", "t1", "--json"], SESSION),
        (["--json", "heartbeat", "--extend", "10m"], SESSION),
        (["heartbeat", "t1", "--token", "2"], SESSION),
        (["heartbeat", "t1", "--token", "1", "--json"], SESSION),  # a stale token
        (["heartbeat", "nope"], SESSION),
        (["heartbeat", "nope", "--json"], SESSION),
        (["heartbeat", "t1", "--session", "s-2"], {}),
        (["heartbeat", "t1", "--session", "s-2", "--json"], {}),
        (["heartbeat", "--session", "s-3"], {}),  # holds nothing
        (["heartbeat", "--session", "s-3", "--json"], {}),
    ],
)
def test_each_answer_is_the_click_commands(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    """The same command on two copies of one ledger, once through the console script
    (fast path) and once through click: the same exit code, stdout and stderr."""
    seed = Claims(tmp_path / "seed", f"sqlite://{tmp_path / 'seed' / 'ledger.db'}")
    seed.cwd.mkdir()
    assert seed("task", "add", "t1", "--title", "T").code == 0
    assert seed("claim", "t1", "--session", "s-1").code == 0
    assert seed("session", "start", "s-3").code == 0
    results = []
    for side, program in (("fast", [CLAIMS]), ("click", CLICK)):
        shutil.copytree(seed.cwd, tmp_path / side)
        claims = Claims(tmp_path / side, f"sqlite://{tmp_path / side / 'ledger.db'}", program)
        results.append(_seen(claims(*args, env=env)))
    assert results[0] == results[1]


def test_the_fast_path_loads_neither_click_nor_typing_extensions_nor_logging(
    tmp_path: Path,
) -> None:
    """A heartbeat through the console script's entry point, with what it loaded
    printed at exit: no click, no typing_extensions, no logging (nothing to report)."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    assert claims("task", "add", "t1", "--title", "T").code == 0
    assert claims("claim", "t1", "--session", "s-1").code == 0
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(repr(sorted(m for m in sys.modules"
        " if m in ('click', 'typing_extensions', 'logging')))))\n"
        "sys.argv = ['claims', 'heartbeat', 't1']\n"
        "from cli.entry import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**claims.env, **SESSION},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "t1: lease extended to" in done.stdout
    assert done.stderr.endswith("[]")


def test_a_notice_on_the_fast_path_is_a_notice_line(tmp_path: Path) -> None:
    """A stream snapshot that cannot be saved is told as the click path tells it:
    ``notice: ...`` on stderr, the heartbeat done."""
    claims = Claims(tmp_path, f"sqlite://{tmp_path / 'ledger.db'}")
    assert claims("task", "add", "t1", "--title", "T").code == 0
    assert claims("claim", "t1", "--session", "s-1").code == 0
    shutil.rmtree(tmp_path / "ledger.db.streams", ignore_errors=True)
    (tmp_path / "ledger.db.streams").write_text("not a folder")
    seed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from application.bootstrap import open_ledger\n"
            "from ledger.commands import Beat\n"
            "ledger = open_ledger(sys.argv[1])\n"
            "for _ in range(70):\n"
            "    ledger.service.heartbeat('t1', Beat(session_id='s-1'))\n"
            "ledger.close()\n",
            claims.db,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert seed.returncode == 0, seed.stderr
    result = claims("heartbeat", "t1", env=SESSION)
    assert result.code == 0, result.stderr
    assert "(heartbeat 71)" in result.stdout
    assert re.search(r"^notice: snapshot of task-t1 at version \d+ not saved", result.stderr, re.M)


def test_the_console_script_is_the_entry_with_the_fast_path() -> None:
    """The installed ``claims`` runs ``cli.entry:main``, where the fast paths live."""
    script = Path(CLAIMS).read_text()
    assert "cli.entry" in script
