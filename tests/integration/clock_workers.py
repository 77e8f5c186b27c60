"""One claim operation in a process of its own, for runs under a skewed clock.

Run with ``faketime -f +1h python -m tests.integration.clock_workers URL OP TASK
SESSION [--ttl-ms N] [--extend-ms N]`` from the repository root: it opens the ledger as
any agent does (``open_ledger``, so on PostgreSQL the server's clock decides), performs
``claim``, ``takeover`` or ``heartbeat`` and prints one ``ClockOutcome`` as JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from application.bootstrap import open_ledger
from application.service import ClaimService
from ledger.commands import Beat, Claim, Takeover
from ledger.errors import LedgerError
from ledger.state import Lease
from ledger.terms import LeaseTerms


class ClockOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What the operation answered, and the process's own idea of the time."""

    host_now: datetime
    code: str | None = None
    session_id: str | None = None
    expires_at: datetime | None = None


def _operate(service: ClaimService, args: argparse.Namespace) -> Lease:
    terms = LeaseTerms(ttl_ms=args.ttl_ms)
    if args.op == "claim":
        return service.claim(args.task, Claim(session_id=args.session, terms=terms)).lease
    if args.op == "takeover":
        return service.takeover(args.task, Takeover(session_id=args.session, terms=terms)).lease
    beat = Beat(session_id=args.session, extend_ms=args.extend_ms)
    return service.heartbeat(args.task, beat).lease


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.integration.clock_workers")
    parser.add_argument("url")
    parser.add_argument("op", choices=("claim", "takeover", "heartbeat"))
    parser.add_argument("task")
    parser.add_argument("session")
    parser.add_argument("--ttl-ms", type=int, default=None)
    parser.add_argument("--extend-ms", type=int, default=None)
    args = parser.parse_args(argv)
    ledger = open_ledger(args.url)
    host_now = datetime.now(UTC)
    try:
        lease = _operate(ledger.service, args)
        outcome = ClockOutcome(
            host_now=host_now, session_id=lease.session_id, expires_at=lease.expires_at
        )
    except LedgerError as error:
        outcome = ClockOutcome(host_now=host_now, code=error.code)
    finally:
        ledger.close()
    sys.stdout.buffer.write(msgspec.json.encode(outcome) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
