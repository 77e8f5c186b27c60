"""Worker programs the projection tests run as separate processes.

Run one with ``python -m tests.projections.workers <command> ...`` from the
repository root:

- ``propose-once URL TASK FINGERPRINT NAME BARRIER``: warm up, wait at the barrier,
  propose the task once, print a ``ProposeOutcome`` as one JSON document;
- ``save-loop URL ACK``: catch the projections up and save their snapshots, over and
  over until killed, writing one line to ``ACK`` after each save that returned.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from application.bootstrap import open_ledger
from ledger.commands import RegisterTask
from ledger.errors import LedgerError
from ledger.store.factory import open_store
from projections.runner import ProjectionRunner
from tests.integration.workers import wait_at_barrier


class ProposeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``propose-once`` worker saw."""

    name: str
    task_id: str
    created: bool
    error_code: str | None = None
    active_task: dict[str, Any] | None = None
    holder: dict[str, Any] | None = None


def propose_once(
    url: str, task_id: str, fingerprint: str, name: str, barrier: Path
) -> ProposeOutcome:
    """Read the board and the fingerprint's stream, wait at the barrier, propose once."""
    service = open_ledger(url).service
    service.board()
    spec = RegisterTask(task_id=task_id, title=f"Proposed by {name}", fingerprint=fingerprint)
    wait_at_barrier(barrier, name)
    try:
        service.propose_task(spec)
    except LedgerError as exc:
        return ProposeOutcome(
            name=name,
            task_id=task_id,
            created=False,
            error_code=exc.code,
            active_task=exc.context.get("activeTask"),
            holder=exc.context.get("holder"),
        )
    finally:
        service.store.close()
    return ProposeOutcome(name=name, task_id=task_id, created=True)


def save_loop(url: str, ack: Path) -> None:
    """Catch up and save every projection, again and again, until killed."""
    store = open_store(url)
    runner = ProjectionRunner(store, save_every=1)
    with ack.open("ab") as acks:
        while True:
            board = runner.catch_up()
            runner.save()
            acks.write(f"{board.position}\n".encode("ascii"))
            acks.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.projections.workers")
    commands = parser.add_subparsers(dest="command", required=True)
    propose = commands.add_parser("propose-once")
    for name in ("url", "task_id", "fingerprint", "name"):
        propose.add_argument(name)
    propose.add_argument("barrier", type=Path)
    save = commands.add_parser("save-loop")
    save.add_argument("url")
    save.add_argument("ack", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "save-loop":
        save_loop(args.url, args.ack)
        return 0
    outcome = propose_once(args.url, args.task_id, args.fingerprint, args.name, args.barrier)
    sys.stdout.buffer.write(msgspec.json.encode(outcome) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
