"""``claims hook``: an agent's hook payload (Claude Code, Codex) on stdin, acted on.

Dispatched by ``cli.entry`` before click loads, so a PostToolUse costs the
interpreter, msgspec, the ledger core, the service and one store. It never breaks
the agent: an empty, malformed or unknown payload exits 0 and writes nothing, with
a notice on stderr. Only a lost lease speaks up: exit 2 and one line on stderr,
which Claude Code shows to the model.

- ``SessionStart``: start (or resume) the session; print what it holds and what
  ``claims next`` would give it (stdout goes into the agent's context).
- ``PostToolUse``, ``Stop``: heartbeat the session's recorded claim (``cli.work_record``);
  nothing recorded, nothing done.
- ``SessionEnd``: release what the session holds (reason ``session_ended``, which
  does not mark it done) and end the session.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from cli import work_record
from cli.location import resolve_db
from cli.work_tree import beat_stamp
from ledger.commands import Beat, Release
from ledger.errors import ClaimError, LedgerError

if TYPE_CHECKING:
    from application.bootstrap import Ledger

LOST = 2
"""Claude Code shows stderr to the model when a hook exits 2."""
END_REASON = "session_ended"
HEARTBEAT_EVENTS = frozenset({"PostToolUse", "Stop"})
EVENTS = frozenset({"SessionStart", "SessionEnd", *HEARTBEAT_EVENTS})


class Payload(msgspec.Struct, frozen=True):
    """The fields of Claude Code's and Codex's hook input this hook reads; the rest
    (``tool_name``, ``tool_input``, ...) are ignored."""

    session_id: str
    hook_event_name: str
    cwd: str | None = None
    reason: str | None = None
    stop_hook_active: bool = False
    transcript_path: str | None = None


class Answer(msgspec.Struct, frozen=True):
    code: int = 0
    stdout: str = ""
    stderr: str = ""


class Options(msgspec.Struct, frozen=True):
    agent: str = "agent"
    db: str | None = None


_decoder = msgspec.json.Decoder(Payload)


def main(argv: Sequence[str], raw: bytes | None = None) -> None:
    """``claims hook [--agent NAME] [--db URL]``: read stdin (unless the gate already
    did: ``raw``), act, exit."""
    payload = sys.stdin.buffer.read() if raw is None else raw
    answer = handle(payload, os.environ, options(argv))
    if answer.stdout:
        sys.stdout.write(answer.stdout + "\n")
    if answer.stderr:
        sys.stderr.write(answer.stderr + "\n")
    sys.stdout.flush()
    sys.exit(answer.code)


def options(argv: Sequence[str]) -> Options:
    """``--agent NAME`` and ``--db URL`` (also ``--x=value``); anything else is ignored."""
    values: dict[str, str] = {}
    items = list(argv)
    for index, item in enumerate(items):
        name, equals, value = item.partition("=")
        if name in ("--agent", "--db"):
            given = value if equals else (items[index + 1] if index + 1 < len(items) else "")
            if given:
                values[name[2:]] = given
    return Options(agent=values.get("agent", "agent"), db=values.get("db"))


def handle(raw: bytes, environ: Mapping[str, str], opts: Options) -> Answer:
    """The answer to one payload; never raises."""
    try:
        payload = _decoder.decode(raw)
    except msgspec.DecodeError as problem:
        return Answer(stderr=f"claims hook: ignored a payload that is not hook JSON: {problem}")
    if payload.hook_event_name not in EVENTS:
        return Answer(stderr=f"claims hook: ignored event {payload.hook_event_name!r}")
    session = environ.get("CLAIMS_SESSION") or payload.session_id
    cwd = Path(payload.cwd) if payload.cwd else Path.cwd()
    try:
        return _act(payload, session, cwd, environ, opts)
    except LedgerError as error:
        return Answer(stderr=f"claims hook: {payload.hook_event_name}: {error}")
    except OSError as error:
        return Answer(stderr=f"claims hook: {payload.hook_event_name}: {error}")


def _act(
    payload: Payload, session: str, cwd: Path, environ: Mapping[str, str], opts: Options
) -> Answer:
    folder = work_record.records_dir(cwd)
    record = work_record.load(folder, session)
    event = payload.hook_event_name
    if event in HEARTBEAT_EVENTS:
        answer = Answer()
        if record is not None and record.lost is None:
            answer = _heartbeat(_open(record.store), record, folder, payload)
        if event == "Stop":
            url = record.store if record is not None else _url(cwd, environ, opts)
            return _with_cost(answer, url, session, payload)
        return answer
    url = _url(cwd, environ, opts)
    ledger = _open(url)
    try:
        if event == "SessionStart":
            return _start(ledger, session, opts.agent, folder, url)
        answer = _end(ledger, session, record, folder, payload.reason)
    finally:
        ledger.close()
    return _with_cost(answer, url, session, payload)


def _url(cwd: Path, environ: Mapping[str, str], opts: Options) -> str:
    return opts.db or environ.get("CLAIMS_DB") or resolve_db(None, cwd)


def _with_cost(answer: Answer, url: str, session: str, payload: Payload) -> Answer:
    """At the end of a turn (Stop) and of a session (SessionEnd), record the measured
    token usage of the transcript the agent names, each message once (ADR 0013). A
    transcript that cannot be read leaves the answer as it was, with a notice."""
    if not payload.transcript_path or not Path(payload.transcript_path).is_file():
        return answer
    from application.cost import import_transcript

    ledger = _open(url)
    try:
        import_transcript(ledger.store, payload.transcript_path, session, clock=ledger.clock)
    except (LedgerError, OSError) as error:
        notice = f"claims hook: token usage not recorded: {error}"
        return msgspec.structs.replace(
            answer, stderr="\n".join(filter(None, [answer.stderr, notice]))
        )
    finally:
        ledger.close()
    return answer


def _open(url: str) -> Ledger:
    from application.bootstrap import open_ledger

    return open_ledger(url)


def _heartbeat(
    ledger: Ledger, record: work_record.WorkRecord, folder: Path | None, payload: Payload
) -> Answer:
    beat = Beat(session_id=record.session_id, fencing_token=record.fencing_token)
    try:
        ledger.service.heartbeat(record.task_id, beat)
        if folder is not None:
            beat_stamp(folder, record.session_id).touch()
    except ClaimError:
        from application.agents import lease_check

        loss = lease_check(ledger.service, record.task_id, record.session_id, record.fencing_token)
        if loss is None:
            raise
        work_record.save(folder, msgspec.structs.replace(record, lost=loss.code))
        if payload.hook_event_name == "Stop" and payload.stop_hook_active:
            return Answer(stderr=f"claims: {loss.line()}")
        return Answer(code=LOST, stderr=f"claims: {loss.line()}")
    finally:
        ledger.close()
    return Answer()


def _start(ledger: Ledger, session: str, agent: str, folder: Path | None, url: str) -> Answer:
    from application.agents import briefing

    service = ledger.service
    state = service.streams.session(session)
    if not state.started or state.ended:
        service.start_session(session, agent_type=agent)
    held = service.current_task(session)
    if held is not None and work_record.load(folder, session) is None:
        work_record.save(
            folder,
            work_record.WorkRecord(
                session_id=session,
                task_id=held.task.task_id,
                fencing_token=held.lease.fencing_token,
                store=url,
            ),
        )
    _export_session(session)
    return Answer(stdout=briefing(service, session))


def _export_session(session: str) -> None:
    """Claude Code gives SessionStart hooks ``CLAUDE_ENV_FILE``: lines written there are
    sourced before each Bash command, so the agent's ``claims`` calls know the session."""
    target = os.environ.get("CLAUDE_ENV_FILE")
    if target and "CLAIMS_SESSION" not in os.environ:
        with open(target, "a", encoding="utf-8") as env_file:
            env_file.write(f"export CLAIMS_SESSION={shlex.quote(session)}\n")


def _end(
    ledger: Ledger,
    session: str,
    record: work_record.WorkRecord | None,
    folder: Path | None,
    reason: str | None,
) -> Answer:
    service = ledger.service
    released = []
    if record is not None and record.lost is None:
        command = Release(session_id=session, reason=END_REASON, fencing_token=record.fencing_token)
        try:
            service.release(record.task_id, command)
            released.append(record.task_id)
        except ClaimError:
            pass
    state = service.streams.session(session)
    if state.started and not state.ended:
        _, orphaned = service.end_session(session, reason=reason or END_REASON)
        released.extend(orphaned)
    if record is not None and record.lost is None:
        work_record.forget(folder, session)  # a lost lease's record stays for the guard
    if not released:
        return Answer()
    return Answer(stderr=f"claims: session {session} ended; returned {', '.join(released)}")
