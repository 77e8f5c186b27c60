"""Render the command reference of ``docs/cli.md`` from the click command tree.

The reference is the ``--help`` text of every command, walked from ``cli.main.cli``
in the order of ``cli.main.COMMANDS``, at a fixed width so the output does not
depend on the terminal. It replaces the part of ``docs/cli.md`` between the two
marker lines and leaves the hand-written sections around them alone.

    python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from cli.main import COMMANDS, cli

BEGIN = "<!-- BEGIN GENERATED: scripts/gen_cli_docs.py -->"
END = "<!-- END GENERATED: scripts/gen_cli_docs.py -->"
WIDTH = 88
PROG = "claims"
DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def context_for(
    command: click.Command, name: str, parent: click.Context | None = None
) -> click.Context:
    """The context click would make for ``command`` (its own ``context_settings``
    applied), at a fixed help width."""
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    return click.Context(command, info_name=name, parent=parent, **settings)


def root_context() -> click.Context:
    """The context of the ``claims`` group."""
    return context_for(cli, PROG)


def walk(ctx: click.Context) -> Iterator[click.Context]:
    """``ctx`` and the context of every command below it, depth first."""
    yield ctx
    command = ctx.command
    if not isinstance(command, click.Group):
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None:
            raise SystemExit(f"{ctx.command_path} lists {name!r} but cannot load it")
        yield from walk(context_for(sub, name, ctx))


def check_registry(ctx: click.Context) -> None:
    """Every entry of ``COMMANDS`` is listed by the group, and nothing else is."""
    listed = ctx.command.list_commands(ctx) if isinstance(ctx.command, click.Group) else []
    if sorted(listed) != sorted(COMMANDS):
        raise SystemExit(f"the claims group lists {listed}, COMMANDS holds {sorted(COMMANDS)}")


def source_of(ctx: click.Context) -> str | None:
    """The module a top-level command is loaded from, as a file path."""
    names = ctx.command_path.split()
    if len(names) < 2:
        return "cli/main.py"
    target = COMMANDS.get(names[1])
    if target is None:
        return None
    module = target.partition(":")[0]
    return module.replace(".", "/") + ".py"


def section(ctx: click.Context) -> str:
    """One command's heading, where it is defined, and its help text."""
    depth = len(ctx.command_path.split())
    heading = "#" * min(depth + 2, 5)
    source = source_of(ctx)
    lines = [f"{heading} `{ctx.command_path}`", ""]
    if source is not None:
        lines += [f"Defined in `{source}`.", ""]
    lines += ["```text", ctx.get_help().rstrip(), "```", ""]
    return "\n".join(lines)


def render() -> str:
    """The generated reference, markers included."""
    ctx = root_context()
    check_registry(ctx)
    parts = [
        BEGIN,
        "",
        "<!-- Do not edit by hand: run `python scripts/gen_cli_docs.py`. -->",
        "",
    ]
    parts += [section(each) for each in walk(ctx)]
    parts.append(END)
    return "\n".join(parts)


def splice(document: str, generated: str) -> str:
    """``document`` with the text between the markers replaced by ``generated``."""
    start = document.find(BEGIN)
    stop = document.find(END)
    if start < 0 or stop < start:
        raise SystemExit(f"the markers {BEGIN!r} and {END!r} are missing or out of order")
    return document[:start] + generated + document[stop + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="the file to update")
    options = parser.parse_args(argv)
    target: Path = options.target
    current = target.read_text(encoding="utf-8")
    updated = splice(current, render())
    if options.check:
        if updated != current:
            print(f"{target} is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    if updated != current:
        target.write_text(updated, encoding="utf-8")
        print(f"updated {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
