"""``claims hooks install|uninstall claude|codex|git``: wire a project in one command."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cli import agent_settings as edits
from cli.app import app_of
from cli.bytecode import bytecode_changes
from cli.options import common

AGENTS = click.Choice(["claude", "codex", "git"])


def _project_options(func: Any) -> Any:
    decorators: list[Callable[[Any], Any]] = [
        click.argument("agent", type=AGENTS),
        click.option(
            "--project",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="The project's root.",
        ),
        click.option("--dry-run", is_flag=True, help="Say what would change; write nothing."),
        click.option("--mcp", "with_mcp", is_flag=True, help="Also register `claims mcp`."),
        click.option(
            "--command",
            "exe",
            default="claims",
            show_default=True,
            help="How the agent runs claims (a path if it is not on PATH).",
        ),
        common,
        click.pass_context,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.group()
def hooks() -> None:
    """Install or remove the agent hooks, the MCP server and the git guard."""


@hooks.command()
@_project_options
def install(
    ctx: click.Context, agent: str, project: Path, dry_run: bool, with_mcp: bool, exe: str
) -> None:
    """Merge claims' hooks into the project's agent settings, keeping everything else.

    claude: .claude/settings.json (SessionStart, PostToolUse, Stop, SessionEnd);
    --mcp adds .mcp.json. codex: .codex/hooks.json (SessionStart, PostToolUse,
    Stop) and [features] hooks = true in .codex/config.toml; --mcp adds
    [mcp_servers.claims]. git: pre-commit and pre-push run `claims guard`. Run
    twice, nothing is added twice. Also creates .claims/ so every agent in the
    project finds the same ledger, and compiles claim-ledger's modules where Python
    would not cache them itself (PYTHONDONTWRITEBYTECODE, an editable install), so a
    hook's fresh process starts without compiling them.

    \b
    claims hooks install claude --mcp
    claims hooks install git
    """
    changes = _install(agent, project.resolve(), exe, with_mcp, dry_run)
    _report(ctx, changes, dry_run)


@hooks.command()
@_project_options
def uninstall(
    ctx: click.Context, agent: str, project: Path, dry_run: bool, with_mcp: bool, exe: str
) -> None:
    """Remove what `claims hooks install` added (MCP entries too); nothing else.

    \b
    claims hooks uninstall claude
    """
    changes = _uninstall(agent, project.resolve(), dry_run)
    _report(ctx, changes, dry_run)


def _install(agent: str, root: Path, exe: str, with_mcp: bool, dry_run: bool) -> list[str]:
    return _wired(agent, root, exe, with_mcp, dry_run) + bytecode_changes(dry_run)


def _wired(agent: str, root: Path, exe: str, with_mcp: bool, dry_run: bool) -> list[str]:
    if agent == "git":
        return _git(root, lambda text: edits.git_hook_add(text, exe), dry_run)
    changes = []
    ledger_dir = root / ".claims"
    if not ledger_dir.is_dir():
        changes.append(f"{_rel(ledger_dir, root)}/: created (the project's ledger)")
        if not dry_run:
            ledger_dir.mkdir(parents=True)
    folder = ".claude" if agent == "claude" else ".codex"
    target = root / folder / ("settings.json" if agent == "claude" else "hooks.json")
    settings, added = edits.add_hooks(_read_json(target), exe, agent)
    changes += [f"{_rel(target, root)}: {event} hook added" for event in added]
    if added and not dry_run:
        _write_json(target, settings)
    if agent == "claude" and with_mcp:
        servers = root / ".mcp.json"
        config, changed = edits.add_mcp_server(_read_json(servers), exe)
        if changed:
            changes.append(f".mcp.json: mcpServers.{edits.SERVER} added")
            if not dry_run:
                _write_json(servers, config)
    if agent == "codex":
        toml = root / ".codex" / "config.toml"
        before = toml.read_text() if toml.exists() else ""
        text, added_toml = edits.codex_config_add(before, exe, mcp=with_mcp)
        changes += [f"{_rel(toml, root)}: {what} added" for what in added_toml]
        if added_toml and not dry_run:
            toml.parent.mkdir(parents=True, exist_ok=True)
            toml.write_text(text)
    return changes


def _uninstall(agent: str, root: Path, dry_run: bool) -> list[str]:
    if agent == "git":
        return _git(root, edits.git_hook_remove, dry_run)
    changes = []
    folder = ".claude" if agent == "claude" else ".codex"
    target = root / folder / ("settings.json" if agent == "claude" else "hooks.json")
    if target.exists():
        settings, removed = edits.remove_hooks(_read_json(target))
        changes += [f"{_rel(target, root)}: {event} hook removed" for event in removed]
        if removed and not dry_run:
            _write_json(target, settings, drop_if_empty=True)
    servers = root / ".mcp.json"
    if agent == "claude" and servers.exists():
        config, changed = edits.remove_mcp_server(_read_json(servers))
        if changed:
            changes.append(f".mcp.json: mcpServers.{edits.SERVER} removed")
            if not dry_run:
                _write_json(servers, config, drop_if_empty=True)
    toml = root / ".codex" / "config.toml"
    if agent == "codex" and toml.exists():
        text, changed = edits.codex_config_remove(toml.read_text())
        if changed:
            changes.append(f"{_rel(toml, root)}: the lines install added removed")
            if not dry_run:
                _write_text_or_remove(toml, text)
    return changes


def _git(root: Path, edit: Any, dry_run: bool) -> list[str]:
    """Apply ``edit`` (add or remove our block) to pre-commit and pre-push."""
    hooks_dir = _git_hooks_dir(root)
    removing = edit is edits.git_hook_remove
    changes = []
    for name in ("pre-commit", "pre-push"):
        path = hooks_dir / name
        before = path.read_text() if path.exists() else None
        if removing and before is None:
            continue
        after = edit(before)
        if after is None:
            continue
        changes.append(f"{_rel(path, root)}: claims guard {'removed' if removing else 'added'}")
        if not dry_run:
            _write_text_or_remove(path, after)
            if after:
                path.chmod(0o755)
    return changes


def _git_hooks_dir(root: Path) -> Path:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as problem:
        raise click.UsageError(f"{root} is not in a git working tree: {problem}") from problem
    path = Path(done.stdout.strip())
    return path if path.is_absolute() else root / path


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text() or "{}")
    except json.JSONDecodeError as problem:
        raise click.UsageError(f"{path} is not valid JSON ({problem}); fix it first") from None
    if not isinstance(value, dict):
        raise click.UsageError(f"{path} does not hold a JSON object")
    return value


def _write_json(path: Path, value: dict[str, Any], *, drop_if_empty: bool = False) -> None:
    if drop_if_empty and not value:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def _write_text_or_remove(path: Path, text: str) -> None:
    if text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    else:
        path.unlink(missing_ok=True)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _report(ctx: click.Context, changes: list[str], dry_run: bool) -> None:
    app = app_of(ctx)
    body = {"success": True, "dryRun": dry_run, "changes": changes}

    def human() -> None:
        prefix = "would change: " if dry_run else ""
        for change in changes:
            click.echo(prefix + change)
        if not changes:
            click.echo("nothing to change")

    app.emit(body, human)
