"""How the node's log lines are written: ``configure_logging(level, fmt)``.

``text`` (the default) is ``LEVEL logger: message``, for people; ``json`` is one JSON object
per line (``time`` in UTC with milliseconds, ``level``, ``logger``, ``message``, a record's
structured ``fields`` such as the access log's, and ``exception`` with the traceback when
there is one), for log collectors. Chosen by ``log_format`` (``--log-format``,
``VCNODE_LOG_FORMAT``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request its parser refuses with the parser's error, which quotes the
    offending bytes: a request line with its query string, a header line with its value (an
    ``Authorization`` header's token). Such records keep their message and lose the quote: the
    error's class and status only, at WARNING (the client sent it, the node is fine)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = f"{record.getMessage()}: malformed request refused ({type(exc).__name__}, {exc.code})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_MALFORMED = MalformedRequestFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a record's ``fields`` (a dict passed as ``extra``) join it.

    Written for the access log's rate (a line per request): the second's text is made once per
    second and the encoder once, which keeps a line near 5 µs (bench/bench_observe.py)."""

    _encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def _time(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return self._encode(out)


def configure_logging(level: str = "INFO", fmt: str = "text", *, stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` and above to ``stream`` (standard error) in ``fmt``;
    replaces handlers an earlier call installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    # aiosqlite's debug lines hold every statement with its parameters (credential records):
    # never wanted in a log, even at DEBUG.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    server = logging.getLogger("aiohttp.server")
    if _MALFORMED not in server.filters:
        server.addFilter(_MALFORMED)
