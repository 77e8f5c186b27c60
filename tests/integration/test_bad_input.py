"""Refused commands on real store files: each gets its error code, and the log is unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from application.service import ClaimService
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.errors import LedgerError
from ledger.store.protocol import Head
from ledger.terms import LeaseTerms

Command = Callable[[ClaimService], object]


class Snapshot(msgspec.Struct, frozen=True):
    """The store's files, byte for byte, and its head."""

    files: dict[str, bytes]
    head: Head


def _snapshot(service: ClaimService, file_path: Path) -> Snapshot:
    """Every file of the store (SQLite's write-ahead log included; not its shared-memory index)."""
    files = {
        path.name: path.read_bytes()
        for path in sorted(file_path.parent.glob(f"{file_path.name}*"))
        if not path.name.endswith("-shm")
    }
    return Snapshot(files=files, head=service.store.head())


@pytest.fixture
def service(file_url: str) -> Iterator[ClaimService]:
    """A backlog with a held task, a free task and a Done task, and two started sessions."""
    service = open_ledger(file_url).service
    for task_id in ("held", "free", "finished"):
        service.register_task(RegisterTask(task_id=task_id, title=f"The {task_id} task"))
    service.start_session("s-owner")
    service.start_session("s-other")
    service.claim("finished", Claim(session_id="s-owner"))
    service.release("finished", Release(session_id="s-owner", reason="completed"))
    service.claim("held", Claim(session_id="s-owner"))
    yield service
    service.store.close()


CASES: dict[str, tuple[Command, str]] = {
    "claim-unknown-task": (
        lambda s: s.claim("no-such-task", Claim(session_id="s-other")),
        "TASK_NOT_FOUND",
    ),
    "heartbeat-unknown-task": (
        lambda s: s.heartbeat("no-such-task", Beat(session_id="s-owner")),
        "TASK_NOT_FOUND",
    ),
    "claim-ttl-below-minimum": (
        lambda s: s.claim("free", Claim(session_id="s-other", terms=LeaseTerms(ttl_ms=59_999))),
        "INVALID_TTL",
    ),
    "claim-ttl-above-maximum": (
        lambda s: s.claim("free", Claim(session_id="s-other", terms=LeaseTerms(ttl_ms=7_200_001))),
        "INVALID_TTL",
    ),
    "heartbeat-extend-out-of-range": (
        lambda s: s.heartbeat("held", Beat(session_id="s-owner", extend_ms=0)),
        "INVALID_TTL",
    ),
    "heartbeat-by-non-owner": (
        lambda s: s.heartbeat("held", Beat(session_id="s-other")),
        "NOT_CLAIM_OWNER",
    ),
    "release-by-non-owner": (
        lambda s: s.release("held", Release(session_id="s-other")),
        "NOT_CLAIM_OWNER",
    ),
    "heartbeat-by-unknown-session": (
        lambda s: s.heartbeat("held", Beat(session_id="s-ghost")),
        "SESSION_NOT_FOUND",
    ),
    "release-of-unclaimed-task": (
        lambda s: s.release("free", Release(session_id="s-other")),
        "TASK_NOT_CLAIMED",
    ),
    "release-with-stale-fencing-token": (
        lambda s: s.release("held", Release(session_id="s-owner", fencing_token=1)),
        "STALE_FENCING_TOKEN",
    ),
    "claim-of-done-task": (
        lambda s: s.claim("finished", Claim(session_id="s-other")),
        "TASK_NOT_CLAIMABLE",
    ),
    "claim-unknown-task-by-new-session": (
        lambda s: s.claim("no-such-task", Claim(session_id="s-new")),
        "TASK_NOT_FOUND",
    ),
    "claim-ttl-out-of-range-by-new-session": (
        lambda s: s.claim("free", Claim(session_id="s-new", terms=LeaseTerms(ttl_ms=1))),
        "INVALID_TTL",
    ),
    "claim-of-done-task-by-new-session": (
        lambda s: s.claim("finished", Claim(session_id="s-new")),
        "TASK_NOT_CLAIMABLE",
    ),
    "claim-next-ttl-out-of-range-by-new-session": (
        lambda s: s.claim_next(Claim(session_id="s-new", terms=LeaseTerms(ttl_ms=7_200_001))),
        "INVALID_TTL",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_command_leaves_the_log_unchanged(
    service: ClaimService, file_path: Path, case: str
) -> None:
    """A refused command raises its error code and leaves every byte of the store as it was."""
    command, code = CASES[case]
    before = _snapshot(service, file_path)

    with pytest.raises(LedgerError) as caught:
        command(service)

    assert caught.value.code == code
    assert _snapshot(service, file_path) == before
