"""The entries ``claims hooks install`` merges into an agent's settings, as pure edits.

Claude Code (``.claude/settings.json``) and Codex (``.codex/hooks.json``) share one
shape: ``{"hooks": {Event: [{"matcher": ..., "hooks": [{"type": "command",
"command": ...}]}]}}``. Our entries are the command hooks whose command runs
``claims hook``; every other key, group and hook is kept as it was. MCP servers go to
``.mcp.json`` (``mcpServers``) for Claude Code and ``[mcp_servers.claims]`` in
``.codex/config.toml`` for Codex, whose ``[features] hooks`` switch is set there too.
Git hooks get a marked block that runs ``claims guard``.
"""

from __future__ import annotations

import shlex
from pathlib import PurePath
from typing import Any

Settings = dict[str, Any]

EVENTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "claude": (
        ("SessionStart", None),
        ("PostToolUse", "*"),
        ("Stop", None),
        ("SessionEnd", None),
    ),
    "codex": (("SessionStart", None), ("PostToolUse", None), ("Stop", None)),
}
"""Per agent: each event and its matcher (``None``: no matcher, every occurrence).
Codex has no session-end event: its lease expiring and the sweep cover it."""
AGENT_TYPES = {"claude": "claude-code", "codex": "codex"}
SERVER = "claims"
BEGIN = "# >>> claims guard >>>"
END = "# <<< claims guard <<<"
OURS = "# added by claims hooks install"


def hook_command(exe: str, agent: str) -> str:
    return f"{shlex.quote(exe)} hook --agent {AGENT_TYPES[agent]}"


def is_ours(entry: Any) -> bool:
    """A command hook that runs ``claims hook``."""
    if not isinstance(entry, dict) or entry.get("type") != "command":
        return False
    try:
        words = shlex.split(str(entry.get("command", "")))
    except ValueError:
        return False
    return len(words) >= 2 and PurePath(words[0]).name == "claims" and words[1] == "hook"


def add_hooks(settings: Settings, exe: str, agent: str) -> tuple[Settings, list[str]]:
    """``settings`` with our hook on each event; the events that gained one."""
    merged = dict(settings)
    hooks = dict(merged.get("hooks") or {})
    added = []
    for event, matcher in EVENTS[agent]:
        groups = list(hooks.get(event) or [])
        if any(is_ours(h) for g in groups if isinstance(g, dict) for h in g.get("hooks", [])):
            continue
        group: Settings = {} if matcher is None else {"matcher": matcher}
        group["hooks"] = [{"type": "command", "command": hook_command(exe, agent)}]
        hooks[event] = [*groups, group]
        added.append(event)
    merged["hooks"] = hooks
    return merged, added


def remove_hooks(settings: Settings) -> tuple[Settings, list[str]]:
    """``settings`` without our hooks (emptied groups and events go too); the events
    that lost one."""
    merged = dict(settings)
    hooks = dict(merged.get("hooks") or {})
    removed = []
    for event, groups in list(hooks.items()):
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            entries = group.get("hooks", []) if isinstance(group, dict) else []
            mine = [entry for entry in entries if is_ours(entry)]
            if not mine:
                kept.append(group)
                continue
            removed.append(event)
            rest = [entry for entry in entries if not is_ours(entry)]
            if rest:
                kept.append({**group, "hooks": rest})
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if hooks:
        merged["hooks"] = hooks
    else:
        merged.pop("hooks", None)
    return merged, removed


def add_mcp_server(config: Settings, exe: str) -> tuple[Settings, bool]:
    """``.mcp.json`` with our server under ``mcpServers``; whether it was added."""
    servers = dict(config.get("mcpServers") or {})
    if SERVER in servers:
        return config, False
    servers[SERVER] = {"command": exe, "args": ["mcp"]}
    return {**config, "mcpServers": servers}, True


def remove_mcp_server(config: Settings) -> tuple[Settings, bool]:
    servers = dict(config.get("mcpServers") or {})
    if SERVER not in servers:
        return config, False
    del servers[SERVER]
    merged = {**config, "mcpServers": servers}
    if not servers:
        del merged["mcpServers"]
    return merged, True


def codex_config_add(text: str, exe: str, *, mcp: bool) -> tuple[str, list[str]]:
    """``.codex/config.toml`` with ``[features] hooks = true`` (and our MCP server),
    added as marked lines so that uninstall takes exactly those out."""
    import tomllib

    parsed = tomllib.loads(text)
    features = parsed.get("features", {})
    lines = text.splitlines()
    changes = []
    if "hooks" not in features and "codex_hooks" not in features:
        header = [i for i, line in enumerate(lines) if line.strip() == "[features]"]
        if header:
            lines.insert(header[0] + 1, f"hooks = true  {OURS}")
        elif "features" in parsed:  # dotted keys (features.x = ...): one more, on top
            lines.insert(0, f"features.hooks = true  {OURS}")
        else:
            lines += ([""] if lines else []) + [f"[features]  {OURS}", f"hooks = true  {OURS}"]
        changes.append("[features] hooks = true")
    if mcp and SERVER not in parsed.get("mcp_servers", {}):
        lines += ([""] if lines else []) + [
            f"[mcp_servers.{SERVER}]  {OURS}",
            f"command = {_toml_string(exe)}  {OURS}",
            f'args = ["mcp"]  {OURS}',
        ]
        changes.append(f"[mcp_servers.{SERVER}]")
    return "\n".join(lines) + "\n", changes


def codex_config_remove(text: str) -> tuple[str, bool]:
    """``.codex/config.toml`` without the lines install added (and the blank line
    before a table it added)."""
    lines = text.splitlines()
    kept: list[str] = []
    for line in lines:
        if line.endswith(OURS):
            if line.lstrip().startswith("[") and kept and not kept[-1].strip():
                kept.pop()
            continue
        kept.append(line)
    if kept == lines:
        return text, False
    return ("\n".join(kept) + "\n") if kept else "", True


def git_hook_add(text: str | None, exe: str) -> str | None:
    """A git hook script that runs ``claims guard`` first; ``None`` if it already does."""
    if text is not None and BEGIN in text:
        return None
    block = f"{BEGIN}\n{shlex.quote(exe)} guard || exit $?\n{END}\n"
    if text is None or not text.strip():
        return "#!/bin/sh\n" + block
    first, _, rest = text.partition("\n")
    if first.startswith("#!"):
        return first + "\n" + block + rest
    return block + text


def git_hook_remove(text: str) -> str | None:
    """The script without our block (``""``: nothing else was in it); ``None`` if it
    had no block."""
    if BEGIN not in text:
        return None
    head, _, tail = text.partition(BEGIN)
    _, _, after = tail.partition(END + "\n")
    rest = head + after
    return "" if rest.strip() in ("", "#!/bin/sh") else rest


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
