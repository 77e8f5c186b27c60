"""``claims hooks install`` compiles claim-ledger's modules where Python would not."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from cli.bytecode import bytecode_changes, package_roots, stale_sources


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "mod.py").write_text("VALUE = 1\n")
    return root


def _cached(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def test_the_modules_are_compiled_once(tmp_path: Path) -> None:
    root = _package(tmp_path)
    changes = bytecode_changes(False, [root])
    assert changes == [
        "bytecode: 3 modules of claim-ledger compiled (hooks start without compiling them)"
    ]
    assert all(_cached(source).is_file() for source in root.rglob("*.py"))
    assert bytecode_changes(False, [root]) == []


def test_a_dry_run_compiles_nothing(tmp_path: Path) -> None:
    root = _package(tmp_path)
    assert bytecode_changes(True, [root]) == [
        "bytecode: 3 modules of claim-ledger to compile (hooks start faster)"
    ]
    assert not any(_cached(source).exists() for source in root.rglob("*.py"))


def test_a_source_edited_after_its_bytecode_is_compiled_again(tmp_path: Path) -> None:
    root = _package(tmp_path)
    bytecode_changes(False, [root])
    module = root / "sub" / "mod.py"
    later = _cached(module).stat().st_mtime + 10
    os.utime(module, (later, later))
    assert stale_sources([root]) == [module]


def test_a_folder_it_cannot_write_is_reported(tmp_path: Path) -> None:
    root = _package(tmp_path)
    (root / "sub" / "__pycache__").write_text("not a folder")
    changes = bytecode_changes(False, [root])
    assert changes[0].startswith("bytecode: 1 modules of claim-ledger compiled")
    assert changes[1].startswith("bytecode: 2 modules could not be compiled")


def test_the_roots_are_the_installed_packages() -> None:
    names = {root.name for root in package_roots()}
    assert names == {"ledger", "application", "projections", "cli", "api"}
