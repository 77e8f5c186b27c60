"""Reading a JSONL log's lines by byte range, with ``os.pread`` on its descriptor
(no shared file position, so readers never move each other's place)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Final

import msgspec

CHUNK: Final = 1 << 20
"""Bytes read at a time."""


class _Hashed(msgspec.Struct, gc=False):
    hash: str = ""


_hash_decoder = msgspec.json.Decoder(_Hashed)


def line_chunks(fd: int, start: int, stop: int) -> Iterator[list[bytes]]:
    """The lines between two byte offsets, a chunk's worth at a time (the last one as
    it is, if it has no newline)."""
    read = 0
    pending = b""
    while start + read < stop:
        chunk = os.pread(fd, min(CHUNK, stop - start - read), start + read)
        if not chunk:
            break
        read += len(chunk)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        yield lines
    if pending:
        yield [pending]


def read_lines(fd: int, start: int, stop: int) -> Iterator[tuple[bytes, int, bool]]:
    """``(line, offset, complete)`` for each line between two byte offsets."""
    offset = start
    pending = b""
    while offset + len(pending) < stop:
        want = min(CHUNK, stop - offset - len(pending))
        chunk = os.pread(fd, want, offset + len(pending))
        if not chunk:
            break
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line, offset, True
            offset += len(line) + 1
    if pending:
        yield pending, offset, False


def line_hash(line: bytes) -> str | None:
    """The hash member of a stored line (``None`` if it has none that decodes)."""
    try:
        return _hash_decoder.decode(line).hash or None
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
