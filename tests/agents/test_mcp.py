"""``claims mcp`` driven by the official MCP SDK's client over stdio."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.agents.conftest import Project
from tests.e2e.conftest import CLAIMS

TOOLS = {
    "claim_task",
    "claim_next",
    "heartbeat",
    "release_task",
    "current_task",
    "list_in_flight",
    "propose_task",
}


def _with_client(
    project: Project, session: str, work: Callable[[ClientSession], Awaitable[Any]]
) -> Any:
    """Start ``claims mcp`` for ``session`` (CLAIMS_SESSION, as a client configures it),
    connect the SDK's client and run ``work`` with it."""
    params = StdioServerParameters(
        command=CLAIMS,
        args=["mcp"],
        env={**project.env, "CLAIMS_SESSION": session},
        cwd=str(project.cwd),
    )

    async def run() -> Any:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            return await work(client)

    return anyio.run(run)


def test_the_server_lists_its_tools(project: Project) -> None:
    """tools/list names the seven tools."""

    async def names(client: ClientSession) -> set[str]:
        return {tool.name for tool in (await client.list_tools()).tools}

    assert _with_client(project, "m-1", names) == TOOLS


def test_a_claim_returns_the_fencing_token(project: Project) -> None:
    """claim_task answers the CLI's claim body, fencing token included."""

    async def claim(client: ClientSession) -> Any:
        return await client.call_tool("claim_task", {"task_id": "t1"})

    result = _with_client(project, "m-1", claim)
    assert result.is_error is False
    assert result.structured_content["claim"]["fencingToken"] == 2
    assert result.structured_content["claim"]["sessionId"] == "m-1"


def test_a_second_clients_claim_is_a_tool_error_with_the_code(project: Project) -> None:
    """Another client's claim of the held task is a tool error carrying TASK_ALREADY_CLAIMED."""

    async def claim(client: ClientSession) -> Any:
        return await client.call_tool("claim_task", {"task_id": "t1"})

    _with_client(project, "m-1", claim)
    refused = _with_client(project, "m-2", claim)
    assert refused.is_error is True
    text = refused.content[0].text
    body = json.loads(text[text.index("{") :])
    assert (body["error"], body["claim"]["sessionId"]) == ("TASK_ALREADY_CLAIMED", "m-1")


def test_release_task_without_a_reason_gives_the_task_back(project: Project) -> None:
    """release_task defaults to released: the session's current claim, back to todo."""

    async def claim_then_release(client: ClientSession) -> Any:
        await client.call_tool("claim_task", {"task_id": "t1"})
        return await client.call_tool("release_task", {})

    result = _with_client(project, "m-1", claim_then_release)
    assert result.structured_content["released"]["status"] == "todo"
