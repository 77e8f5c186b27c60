"""The CLI's per-invocation state: which store, which session, how to answer.

No click at import: the click commands and ``cli.fast_heartbeat`` (the hot path,
answered before click loads) share it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec

from cli.location import resolve_db
from ledger.errors import LedgerError

if TYPE_CHECKING:
    import click

    from application.bootstrap import Ledger
    from application.service import ClaimService
    from projections.board import Board


class App:
    """Holds the options every command shares and opens the service on first use."""

    def __init__(self) -> None:
        self.db: str | None = None
        self.json = False
        self.session: str | None = None
        self._ledger: Ledger | None = None

    @property
    def url(self) -> str:
        return resolve_db(self.db)

    @property
    def colour(self) -> bool:
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def ledger(self) -> Ledger:
        """The store, clock, settings and service, wired by the composition root."""
        if self._ledger is None:
            from application.bootstrap import open_ledger

            self._ledger = open_ledger(self.url)
        return self._ledger

    def service(self) -> ClaimService:
        return self.ledger().service

    def board_as_of(self, moment: int | datetime | None) -> tuple[Board, datetime] | None:
        """The board and ledger time as of a position or time; ``None`` for now."""
        if moment is None:
            return None
        service = self.service()
        if isinstance(moment, datetime):
            return service.board_at(when=moment)
        return service.board_at(position=moment)

    def require_session(self) -> str:
        if not self.session:
            import click

            raise click.UsageError("no session: pass --session ID or set CLAIMS_SESSION")
        return self.session

    def emit(self, body: msgspec.Struct | dict[str, Any], human: Callable[[], None]) -> None:
        """One JSON document on stdout with ``--json``, else the human rendering."""
        if self.json:
            sys.stdout.buffer.write(msgspec.json.encode(body) + b"\n")
            sys.stdout.flush()
        else:
            human()

    def fail(self, error: LedgerError) -> NoReturn:
        """Report an error in the chosen form and exit with its documented code."""
        if self.json:
            sys.stdout.buffer.write(msgspec.json.encode(error.body()) + b"\n")
            sys.stdout.flush()
        else:
            sys.stderr.write(f"error: {error.code}: {error.detail}\n")
            sys.stderr.flush()
        raise SystemExit(error.exit_code)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def app_of(ctx: click.Context) -> App:
    """The ``App`` of this command line, created on the outermost click context."""
    return ctx.ensure_object(App)


def error_document(code: str, message: str) -> bytes:
    """The ``--json`` answer to an error outside the ledger's own (usage, abort, the
    unexpected): the shape of ``LedgerError.body()``."""
    return msgspec.json.encode({"success": False, "error": code, "message": message}) + b"\n"


def internal_error(error: Exception, wants_json: bool) -> NoReturn:
    """The unexpected: one line (``INTERNAL_ERROR``, exit 1), in the chosen form.
    Callers re-raise instead when ``CLAIMS_DEBUG`` asks for the traceback."""
    message = f"unexpected error: {type(error).__name__}: {error}"
    if wants_json:
        sys.stdout.buffer.write(error_document("INTERNAL_ERROR", message))
        sys.stdout.flush()
    else:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    raise SystemExit(1)
