"""Options every command shares, as decorators (``--db``, ``--json``, ``--session``)."""

from __future__ import annotations

from collections.abc import Callable
from types import UnionType
from typing import Any, Generic, TypeVar, cast

import click
from click.core import ParameterSource

from cli.app import app_of
from cli.durations import parse_duration_ms

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Parsed(click.ParamType, Generic[T]):  # type: ignore[type-arg]  # generic only in newer click
    """A parameter read by ``parse``, which raises ``ValueError`` with a message for the
    user; a value already of ``kinds`` (a default) passes as it is."""

    def __init__(self, name: str, parse: Callable[[str], T], kinds: type | UnionType) -> None:
        self.name = name
        self._parse = parse
        self._kinds = kinds

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> T:
        if isinstance(value, self._kinds):
            return cast(T, value)
        try:
            return self._parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Parsed("duration", parse_duration_ms, int)


def _set(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """Set the shared ``App``'s attribute; a value from the environment never replaces
    one already set by a flag (``claims --db X heartbeat`` with ``CLAIMS_DB`` set uses X:
    the group's flag is seen before the command's own option falls back to the variable)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        app = app_of(ctx)  # created on the outermost context, shared by subcommands
        if value is None or value is False:
            return
        from_environment = (
            param.name is not None
            and ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT
        )
        if from_environment and getattr(app, attribute) is not None:
            return
        setattr(app, attribute, value)

    return callback


def db_option(func: F) -> F:
    return click.option(
        "--db",
        envvar="CLAIMS_DB",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_set("db"),
        help=(
            "Store URL (sqlite:///path, jsonl:///path, postgresql://user@host/db, memory:)."
            " Default: nearest .claims/."
        ),
    )(func)


def json_option(func: F) -> F:
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_set("json"),
        help="Print exactly one JSON document (seed 002's bodies) on stdout.",
    )(func)


def session_option(func: F) -> F:
    return click.option(
        "--session",
        envvar="CLAIMS_SESSION",
        metavar="ID",
        expose_value=False,
        callback=_set("session"),
        help="The agent's stable session id (or CLAIMS_SESSION).",
    )(func)


def common(func: F) -> F:
    """``--db`` and ``--json``: on the group and on every command."""
    return db_option(json_option(func))


def ttl_option(func: F) -> F:
    return click.option(
        "--ttl",
        type=DURATION,
        default=None,
        help="Lease length: 90s, 30m, 2h or ms (default from CLAIMS_DEFAULT_TTL, 30m).",
    )(func)


def claim_options(func: F) -> F:
    """What a claim carries besides its session: agent type, tier, scope, constraints."""
    for decorator in reversed(
        [
            ttl_option,
            click.option(
                "--agent-type", default=None, help="cli, autonomous, ... (default: the session's)"
            ),
            click.option("--tier", default=None, help="The agent's tier."),
            click.option("--scope", multiple=True, help="Files or areas (repeatable)."),
            click.option("--constraint", multiple=True, help="Allowed actions (repeatable)."),
            click.option("--metadata", default=None, metavar="JSON", help="A JSON object."),
        ]
    ):
        func = decorator(func)
    return func


def request_id_option(func: F) -> F:
    return click.option(
        "--request-id",
        default=None,
        metavar="ID",
        help="Your id for this claim: a retry with the same id answers the first claim.",
    )(func)
