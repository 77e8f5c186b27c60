"""``claims demo``, the README's main command until the HTTP service lands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Claims


@pytest.mark.slow
def test_demo_races_agents_and_ends_verified(tmp_path: Path) -> None:
    """The demo's agents claim, one crashes, the lead forces a takeover, verify passes."""
    cli = Claims(tmp_path, f"sqlite://{tmp_path / 'demo.db'}")
    result = cli("demo", "--agents", "3", "--db", f"sqlite://{tmp_path / 'demo.db'}", timeout=240)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "crashes while holding" in out
    assert "taken over from agent-1 (forced)" in out
    assert "== in flight ==" in out
    assert "session agent-1: current task" in out
    assert "ok: " in out.split("== verify ==")[1]
