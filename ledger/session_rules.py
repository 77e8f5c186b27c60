"""A session's lifecycle as a pure decision: start, restart, end."""

from __future__ import annotations

from ledger.commands import EndSession, SessionCommand, StartSession
from ledger.errors import SessionNotFound
from ledger.events import Event, SessionEnded, SessionStarted
from ledger.state import SessionState


def decide_session(state: SessionState, command: SessionCommand) -> list[Event]:
    """The events ``command`` makes on a session in ``state`` (none when nothing changes)."""
    match command:
        case StartSession():
            return _start(state, command)
        case EndSession():
            return _end(state, command)


def _start(state: SessionState, cmd: StartSession) -> list[Event]:
    running = state.started and not state.ended and state.pid == cmd.pid
    if running and state.agent_type == cmd.agent_type and state.tier == cmd.tier:
        return []
    return [
        SessionStarted(
            session_id=cmd.session_id,
            agent_type=cmd.agent_type,
            tier=cmd.tier,
            host=cmd.host,
            pid=cmd.pid,
        )
    ]


def _end(state: SessionState, cmd: EndSession) -> list[Event]:
    if not state.started:
        raise SessionNotFound(
            f"session {cmd.session_id!r} does not exist", sessionId=cmd.session_id
        )
    if state.ended:
        return []
    return [SessionEnded(session_id=cmd.session_id, reason=cmd.reason)]
