"""The layers as drawn: each package imports only the packages below it.

``ledger`` (events, pure rules, the store) is at the bottom; ``projections`` (the read
side) above it; ``application`` (the service, its bodies, the composition root) above
both; the faces ``cli`` and ``api`` on top, apart from each other except where
``claims serve`` starts the server. Every import counts: at the top of a module,
inside a function, or only for type checking.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "application", "cli", "api")
FORBIDDEN: dict[str, frozenset[str]] = {
    "ledger": frozenset({"projections", "application", "cli", "api"}),
    "projections": frozenset({"application", "cli", "api"}),
    "application": frozenset({"cli", "api"}),
    "api": frozenset({"cli"}),
    "cli": frozenset({"api"}),
}
ALLOWED: frozenset[tuple[str, str]] = frozenset({("cli/commands/serve.py", "api")})
"""(module, package) edges allowed against the rule: ``claims serve`` runs the server."""


def imported_packages(source: str) -> Iterator[tuple[int, str]]:
    """The top-level package of every absolute import in ``source``, with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def crossings(package: str) -> list[str]:
    """Every import in ``package`` that crosses a forbidden edge, as ``file:line -> pkg``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, target in imported_packages(path.read_text()):
            if target in FORBIDDEN[package] and (relative, target) not in ALLOWED:
                found.append(f"{relative}:{line} -> {target}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_the_layers_below(package: str) -> None:
    """No module of the package imports a package it must not know."""
    assert crossings(package) == []


def test_the_rule_sees_an_import_inside_a_function() -> None:
    """A lazy import inside a function is found like a top-level one."""
    source = "def f() -> None:\n    from projections.board import Board\n"
    assert list(imported_packages(source)) == [(2, "projections")]


def test_the_rule_sees_a_type_checking_import() -> None:
    """An import only for type checking is an edge too."""
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import api.app\n"
    assert (3, "api") in list(imported_packages(source))


def test_every_package_has_a_rule() -> None:
    """A new top-level package must be placed in the layers before it lands."""
    installed = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert installed - {"tests", "bench", "scripts"} == set(PACKAGES)
