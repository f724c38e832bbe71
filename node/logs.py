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
import os
import sys
import time
from typing import Any, Callable, TextIO

import orjson

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
    second, and orjson writes the object (compact UTF-8, as the standard encoder configured so
    would, in a fraction of its time; bench/bench_observe.py). What orjson refuses (a field
    that is no JSON type, an integer beyond 64 bits) is written by the standard encoder."""

    _fallback = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode

    @classmethod
    def _encode(cls, out: dict[str, Any]) -> str:
        try:
            return orjson.dumps(out).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError is one
            return cls._fallback(out)

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


# How long an INFO line (an access line, one per request) may wait in the buffer.
FLUSH_SECONDS = 1.0
_BUFFERED_STDERR: TextIO | None = None


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes lines at INFO and below into a buffer flushed at most every
    ``FLUSH_SECONDS`` (by the next line after that, or by ``flush_lines``, which the server
    calls each second), and flushes at once, with everything before it, for a WARNING or worse.

    At a line per request, a write(2) each was a third of the access log's cost. What this
    gives up: after a ``kill -9`` the last second of access lines may be missing (warnings and
    errors never are); a normal exit flushes (``logging.shutdown``)."""

    def __init__(self, stream: TextIO) -> None:
        if stream is sys.__stderr__ and stream is not None and (stream.line_buffering or stream.write_through):
            # The process's standard error writes every line at once: log lines go through a
            # buffered file of their own on a duplicate of its descriptor (made once, kept for
            # the process's life; closing it closes only the duplicate).
            global _BUFFERED_STDERR
            if _BUFFERED_STDERR is None or _BUFFERED_STDERR.closed:
                _BUFFERED_STDERR = open(  # noqa: SIM115  (kept open on purpose)
                    os.dup(stream.fileno()), "w", buffering=1 << 16, encoding=stream.encoding or "utf-8",
                    errors="backslashreplace", closefd=True,
                )
            stream = _BUFFERED_STDERR
        super().__init__(stream)
        self._flushed = time.monotonic()
        self._deferred: list[tuple[Callable[..., str], tuple[Any, ...]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write_deferred()  # the lines deferred before this record come before it
            self._write(self.format(record), record.levelno >= logging.WARNING)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def defer(self, render: Callable[..., str], args: tuple[Any, ...]) -> None:
        """An INFO line that ``render(*args)`` makes when the lines are next written: by the
        next record, the next flush (``flush_lines``, each second), or this call once a second
        has passed since the last (``DirectLines``)."""
        with self.lock:  # type: ignore[union-attr]  # made by createLock
            self._deferred.append((render, args))
            if time.monotonic() - self._flushed >= FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_deferred()
            super().flush()
            self._flushed = time.monotonic()

    def _write_deferred(self) -> None:
        # Under the handler's lock.
        deferred, self._deferred = self._deferred, []
        for render, args in deferred:
            try:
                line = render(*args)
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": f"a deferred line could not be made by {render!r}"}))
                continue
            self.stream.write(line + self.terminator)

    def _write(self, line: str, urgent: bool) -> None:
        self.stream.write(line + self.terminator)
        if urgent or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()


class DirectLines:
    """INFO lines for one logger written straight to the server's ``LineHandler``, without a
    ``LogRecord``, and made only when the handler next writes (``LineHandler.defer``, within a
    second): the same text the handler's formatter writes for such a record. A record, its
    handling and its formatting in the request's own path were most of an access line's cost
    at a line per request (bench/bench_observe.py).

    ``write`` says False, deferring nothing, whenever the line could go anywhere else: the
    root's handlers are not exactly that one handler (a test's capture, an operator's own
    configuration), the logger or the root has filters or handlers of its own, or INFO is off
    for the logger. The caller then logs the line the usual way, at once."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._root = logging.getLogger()

    def write(self, created: float, make: Callable[..., tuple[str, dict[str, Any]]], args: tuple[Any, ...]) -> bool:
        """Defer the line whose message and fields ``make(*args)`` gives, made at ``created``."""
        logger, root = self.logger, self._root
        handlers = root.handlers
        if len(handlers) != 1 or logger.handlers or logger.filters or root.filters or not logger.propagate:
            return False
        handler = handlers[0]
        if type(handler) is not LineHandler or handler.filters or logger.parent is not root:
            return False
        if not logger.isEnabledFor(logging.INFO) or logging.INFO < handler.level:
            return False
        formatter = handler.formatter
        if type(formatter) is JsonFormatter:
            handler.defer(_json_line, (formatter, logger.name, created, make, args))
        elif type(formatter) is logging.Formatter and formatter._fmt == TEXT_FORMAT:
            handler.defer(_text_line, (logger.name, make, args))
        else:
            return False
        return True


def _json_line(formatter: JsonFormatter, name: str, created: float, make: Callable[..., tuple[str, dict[str, Any]]], args: tuple[Any, ...]) -> str:
    message, fields = make(*args)
    out: dict[str, Any] = {"time": formatter._time(created), "level": "INFO", "logger": name, "message": message}
    out.update(fields)
    return formatter._encode(out)


def _text_line(name: str, make: Callable[..., tuple[str, dict[str, Any]]], args: tuple[Any, ...]) -> str:
    return f"INFO {name}: {make(*args)[0]}"


def flush_lines() -> None:
    """Flush what the root logger's line handlers hold (the server calls it each second)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LineHandler):
            handler.flush()


# Lines buffered when a process forks (gunicorn's arbiter making a worker) would be written by
# both: written out first.
os.register_at_fork(before=flush_lines)


def configure_logging(level: str = "INFO", fmt: str = "text", *, stream: TextIO | None = None, buffered: bool = False) -> None:
    """Send every log record at ``level`` and above to ``stream`` (standard error) in ``fmt``;
    replaces handlers an earlier call installed. ``buffered`` (the server, ``vcnode serve``):
    through a ``LineHandler``; otherwise (a command, whose own output on standard error must
    come after its log lines) each line is written at once."""
    target = stream or sys.stderr
    handler = LineHandler(target) if buffered else logging.StreamHandler(target)
    # Neither format shows the thread or process, and filling them in is a good part of a
    # record's cost at a line per request.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler], force=True)
    # aiosqlite's debug lines hold every statement with its parameters (credential records):
    # never wanted in a log, even at DEBUG.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().level))
    server = logging.getLogger("aiohttp.server")
    if _MALFORMED not in server.filters:
        server.addFilter(_MALFORMED)
