"""Keep the bearer token out of the access log.

The browser's ``EventSource`` and the dashboard link carry the token as the
``access_token`` query parameter (``api.auth``). uvicorn's access log prints each
request's path with its query string; this filter replaces the token's value with
``***`` before the line is written.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_TOKEN = re.compile(r"(?i)(access_token=)[^&\s]*")


def redact_query(text: str) -> str:
    """``text`` with the value of every ``access_token`` parameter replaced by ``***``."""
    return _TOKEN.sub(r"\1***", text)


class RedactToken(logging.Filter):
    """A logging filter that redacts ``access_token`` in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install() -> None:
    """Redact tokens in uvicorn's access log (call after uvicorn configured logging)."""
    logging.getLogger(ACCESS_LOGGER).addFilter(RedactToken())
