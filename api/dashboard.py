"""The dashboard: one static page at ``/`` that draws ``/api/board`` and follows ``/api/events``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@cache
def page() -> str:
    return files("api").joinpath("static/dashboard.html").read_text(encoding="utf-8")


@router.get("/")
async def dashboard() -> HTMLResponse:
    return HTMLResponse(page(), headers={"Cache-Control": "no-cache"})
