"""``claims hooks install`` and ``uninstall`` on a project with settings of its own."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from cli.bytecode import package_roots, stale_sources
from tests.agents.conftest import Project

EXISTING: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(make test)"]},
    "hooks": {
        "PostToolUse": [
            {"matcher": "Write", "hooks": [{"type": "command", "command": "ruff format"}]}
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}],
    },
}
CODEX_TOML = 'model = "gpt-5-codex"\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\n'


def _settings(project: Project) -> dict[str, Any]:
    settings: dict[str, Any] = json.loads((project.cwd / ".claude" / "settings.json").read_text())
    return settings


def _with_settings(project: Project) -> Path:
    path = project.cwd / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2))
    return path


def test_install_keeps_every_unrelated_setting_and_hook(project: Project) -> None:
    """Install adds our four events and keeps the model, permissions and other hooks."""
    _with_settings(project)
    assert project("hooks", "install", "claude").code == 0
    settings = _settings(project)
    assert (settings["model"], settings["permissions"]) == ("opus", EXISTING["permissions"])
    assert settings["hooks"]["Notification"] == EXISTING["hooks"]["Notification"]
    assert settings["hooks"]["PostToolUse"][0] == EXISTING["hooks"]["PostToolUse"][0]
    assert {"SessionStart", "PostToolUse", "Stop", "SessionEnd"} <= settings["hooks"].keys()


def test_install_leaves_claim_ledger_compiled(project: Project) -> None:
    """After install no module of claim-ledger needs compiling: a hook's fresh process
    reads their bytecode even where Python may not write it (PYTHONDONTWRITEBYTECODE)."""
    assert project("hooks", "install", "claude").code == 0
    assert stale_sources(package_roots()) == []


def test_install_twice_adds_nothing_the_second_time(project: Project) -> None:
    """A second install changes nothing and says so."""
    _with_settings(project)
    project("hooks", "install", "claude", "--mcp")
    first = _settings(project)
    again = project.json("hooks", "install", "claude", "--mcp")
    assert again.body["changes"] == []
    assert _settings(project) == first


def test_uninstall_restores_the_settings(project: Project) -> None:
    """Uninstall after install leaves the settings as they were, and no .mcp.json."""
    _with_settings(project)
    project("hooks", "install", "claude", "--mcp")
    assert project("hooks", "uninstall", "claude").code == 0
    assert _settings(project) == EXISTING
    assert not (project.cwd / ".mcp.json").exists()


def test_install_registers_the_mcp_server_for_claude(project: Project) -> None:
    """--mcp writes the server to .mcp.json's mcpServers."""
    project("hooks", "install", "claude", "--mcp")
    servers = json.loads((project.cwd / ".mcp.json").read_text())["mcpServers"]
    assert servers["claims"] == {"command": "claims", "args": ["mcp"]}


def test_dry_run_writes_nothing(project: Project) -> None:
    """--dry-run lists the changes and leaves the files alone."""
    path = _with_settings(project)
    result = project.json("hooks", "install", "claude", "--dry-run")
    assert result.body["changes"]
    assert json.loads(path.read_text()) == EXISTING


def test_codex_install_keeps_its_config_and_uninstall_restores_it(project: Project) -> None:
    """Codex: hooks.json gains our events, config.toml the feature switch and the server;
    uninstall gives config.toml back byte for byte."""
    toml = project.cwd / ".codex" / "config.toml"
    toml.parent.mkdir()
    toml.write_text(CODEX_TOML)
    project("hooks", "install", "codex", "--mcp")
    config = tomllib.loads(toml.read_text())
    assert (config["model"], config["features"]["hooks"]) == ("gpt-5-codex", True)
    assert set(config["mcp_servers"]) == {"docs", "claims"}
    hooks = json.loads((project.cwd / ".codex" / "hooks.json").read_text())["hooks"]
    assert set(hooks) == {"SessionStart", "PostToolUse", "Stop"}
    project("hooks", "uninstall", "codex")
    assert toml.read_text() == CODEX_TOML
    assert not (project.cwd / ".codex" / "hooks.json").exists()


def test_git_install_keeps_an_existing_hook_and_uninstall_restores_it(project: Project) -> None:
    """An existing pre-commit keeps its lines; uninstall gives it back as it was."""
    hook = project.cwd / ".git" / "hooks" / "pre-commit"
    original = "#!/bin/sh\nmake lint\n"
    hook.write_text(original)
    project("hooks", "install", "git")
    assert "guard" in hook.read_text()
    assert "make lint" in hook.read_text()
    assert "guard" in (project.cwd / ".git" / "hooks" / "pre-push").read_text()
    project("hooks", "uninstall", "git")
    assert hook.read_text() == original
    assert not (project.cwd / ".git" / "hooks" / "pre-push").exists()
