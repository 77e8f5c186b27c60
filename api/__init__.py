"""The HTTP API, live events and dashboard of seed 002, served by ``claims serve``.

Heavy to import (FastAPI, pydantic): only ``claims serve`` and ``claims demo
--serve`` import it, never the hook commands.
"""
