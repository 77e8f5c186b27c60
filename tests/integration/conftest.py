"""Fixtures of the integration suite: a store file per test, on each file backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.harness import FILE_BACKENDS, url_for


@pytest.fixture(params=FILE_BACKENDS)
def file_backend(request: pytest.FixtureRequest) -> str:
    """The name of a file backend: ``sqlite`` or ``jsonl``."""
    name: str = request.param
    return name


@pytest.fixture
def file_path(tmp_path: Path, file_backend: str) -> Path:
    """Where the test's store file lives (not created yet)."""
    return url_for(file_backend, tmp_path)[1]


@pytest.fixture
def file_url(tmp_path: Path, file_backend: str) -> str:
    """The store's URL, as agents pass it: ``sqlite:///abs/path`` or ``jsonl:///abs/path``."""
    return url_for(file_backend, tmp_path)[0]
