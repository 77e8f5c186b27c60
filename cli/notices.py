"""Where the library's warnings go on the command line: ``notice: ...`` on stderr."""

from __future__ import annotations


def notices_to_stderr() -> None:
    """Warnings the library logs (a snapshot set aside, a save that failed) reach the
    user once, as ``notice: ...`` lines on stderr."""
    import logging

    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("notice: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
        # The PostgreSQL pool reports each connection it replaces after a server
        # restart; the store retries on its own, so one command need not say so.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
