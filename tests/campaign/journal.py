"""Agents' side files: one line per operation, written and fsynced before the next one.

An operation the store acknowledged (``outcome == "ok"``) names what it wrote: the
event ids the service returned, or, over HTTP, the task stream version the answer
reported. The checker later finds every one of them in the log. A kill can cut the
last line; only complete lines count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

OK = "ok"
UNEXPECTED = "unexpected"
"""An exception that is not a ``LedgerError``: a traceback where a clear error belongs."""


class OpRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    agent: str
    op: str
    outcome: str
    """``ok``, the error's code (``STORE_ERROR``...), or ``unexpected``."""
    task: str | None = None
    detail: str = ""
    ids: list[str] = []
    """Event ids the store returned (library agents)."""
    stream: str | None = None
    version: int | None = None
    """A stream version an HTTP answer reported as written."""
    session: str | None = None
    token: int | None = None
    faults: list[str] = []
    """Faults that fired during this operation."""


class Written(msgspec.Struct, frozen=True, kw_only=True):
    """What an acknowledged operation says it wrote."""

    ids: list[str] = []
    stream: str | None = None
    version: int | None = None


NOTHING = Written()

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(OpRecord)


class Journal:
    """An append-only side file of ``OpRecord`` lines, each fsynced on its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("ab")

    def write(self, record: OpRecord) -> None:
        self._file.write(_encoder.encode(record) + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def read_journal(path: Path) -> Iterator[OpRecord]:
    """The complete lines of a side file (a kill may cut the last one)."""
    if not path.exists():
        return
    data = path.read_bytes()
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        yield _decoder.decode(line)


def count_lines(path: Path) -> int:
    """How many complete lines a side file holds, without decoding them."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0
