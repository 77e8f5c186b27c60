"""Task and session ids: what the ledger accepts as a name."""

from __future__ import annotations

import re

from ledger.errors import InvalidInput

MAX_ID = 128
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]*")


def check_id(value: str, *, kind: str) -> str:
    """A task or session id: 1 to 128 printable ASCII characters, no spaces, no ``..``."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{kind} id must be a non-empty string", field=f"{kind}Id")
    if len(value) > MAX_ID:
        raise InvalidInput(f"{kind} id is longer than {MAX_ID} characters", field=f"{kind}Id")
    if not _ALLOWED.fullmatch(value) or ".." in value:
        raise InvalidInput(
            f"{kind} id {value!r} may hold only letters, digits and . _ : @ / + = -,"
            " must start with a letter or digit, and may not contain '..'",
            field=f"{kind}Id",
        )
    return value
