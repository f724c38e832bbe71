"""node.logs: the line handler's buffering and the JSON lines (the access log's cost, issue 12)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from node import logs


def _line_buffered() -> tuple[io.TextIOWrapper, io.BytesIO]:
    """A buffered text stream: what reaches ``raw`` is what the handler flushed."""
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding="utf-8"), raw


def test_info_lines_wait_for_a_flush_and_a_warning_writes_everything_before_it() -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", "json", stream=stream, buffered=True)
    try:
        log = logging.getLogger("vcnode.test")
        log.info("one")
        log.info("two")
        assert raw.getvalue() == b""  # buffered, not one write per line
        log.warning("three")
        lines = [json.loads(line) for line in raw.getvalue().decode().splitlines()]
        assert [(r["level"], r["message"]) for r in lines] == [("INFO", "one"), ("INFO", "two"), ("WARNING", "three")]
        log.info("four")
        logs.flush_lines()  # what the server does each second
        assert json.loads(raw.getvalue().decode().splitlines()[-1])["message"] == "four"
    finally:
        logs.configure_logging("INFO", "text")


def test_json_lines_carry_fields_and_fall_back_for_what_orjson_refuses() -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", "json", stream=stream, buffered=True)
    try:
        log = logging.getLogger("vcnode.access")
        log.info("x", extra={"fields": {"route": "/credentials/verify", "status": 200, "big": 2**70, "ok": "ünï"}})
        log.info("y", extra={"fields": {"odd": object()}})
        logs.flush_lines()
        first, second = (json.loads(line) for line in raw.getvalue().decode("utf-8").splitlines())
        assert first["route"] == "/credentials/verify" and first["big"] == 2**70 and first["ok"] == "ünï"
        assert second["odd"].startswith("<object object")
    finally:
        logs.configure_logging("INFO", "text")


def test_on_the_process_standard_error_a_warning_brings_the_lines_before_it_and_a_flush_the_rest() -> None:
    script = (
        "import logging, os\n"
        "from node import logs\n"
        "logs.configure_logging('INFO', 'text', buffered=True)\n"
        "log = logging.getLogger('vcnode.test')\n"
        "log.info('one'); log.warning('two'); log.info('three')\n"
        "logs.flush_lines(); log.info('four')\n"
        "os._exit(0)\n"  # no exit handlers: only what was flushed is written
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["INFO vcnode.test: one", "WARNING vcnode.test: two", "INFO vcnode.test: three"]


def test_a_command_writes_each_line_at_once() -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", "text", stream=stream)
    try:
        logging.getLogger("vcnode.test").info("now")
        assert raw.getvalue() == b"INFO vcnode.test: now\n"
    finally:
        logs.configure_logging("INFO", "text")


def _made(message: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return message, fields


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_direct_line_is_the_line_its_record_would_have_made(fmt: str) -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", fmt, stream=stream, buffered=True)
    try:
        log = logging.getLogger("vcnode.access")
        fields = {"method": "POST", "route": "/credentials/verify", "status": 200, "durationMs": 1.234, "issuer": "ünï"}
        created = datetime(2026, 12, 5, 6, 0, tzinfo=timezone.utc).timestamp() + 0.25
        assert logs.DirectLines(log).write(created, _made, ("POST /credentials/verify 200 1.2 ms", fields))
        record = log.makeRecord(log.name, logging.INFO, __file__, 0, "POST /credentials/verify 200 1.2 ms", (), None, extra={"fields": fields})
        record.created = created
        log.handle(record)
        logs.flush_lines()
        direct, recorded = raw.getvalue().decode("utf-8").splitlines()
        assert direct == recorded
        if fmt == "json":
            assert json.loads(direct)["time"] == "2026-12-05T06:00:00.250Z" and json.loads(direct)["issuer"] == "ünï"
    finally:
        logs.configure_logging("INFO", "text")


def test_a_direct_line_is_made_when_the_lines_are_next_written_and_keeps_its_place() -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", "text", stream=stream, buffered=True)
    made: list[str] = []

    def make(message: str) -> tuple[str, dict[str, Any]]:
        made.append(message)
        return message, {}

    try:
        direct = logs.DirectLines(logging.getLogger("vcnode.access"))
        assert direct.write(0.0, make, ("one",))
        assert made == [] and raw.getvalue() == b""  # nothing made in the request's own path
        logging.getLogger("vcnode.test").warning("two")  # writes everything before it, in order
        assert made == ["one"]
        assert raw.getvalue().decode().splitlines() == ["INFO vcnode.access: one", "WARNING vcnode.test: two"]
        assert direct.write(0.0, make, ("three",))
        logs.flush_lines()  # what the server does each second
        assert raw.getvalue().decode().splitlines()[-1] == "INFO vcnode.access: three"
    finally:
        logs.configure_logging("INFO", "text")


def test_a_direct_line_is_refused_wherever_a_record_could_go_elsewhere() -> None:
    stream, raw = _line_buffered()
    logs.configure_logging("INFO", "json", stream=stream, buffered=True)
    log = logging.getLogger("vcnode.access")
    direct = logs.DirectLines(log)
    capture = logging.Handler()
    args = ("x", {})
    try:
        logging.getLogger().addHandler(capture)  # a test's capture, an operator's own handler
        assert not direct.write(0.0, _made, args)
        logging.getLogger().removeHandler(capture)
        log.addFilter(lambda record: True)
        assert not direct.write(0.0, _made, args)
        log.filters.clear()
        log.setLevel(logging.WARNING)  # access lines turned off
        assert not direct.write(0.0, _made, args)
        log.setLevel(logging.NOTSET)
        logs.configure_logging("INFO", "json", stream=stream)  # a command's handler, not the server's
        assert not direct.write(0.0, _made, args)
        logs.flush_lines()
        assert raw.getvalue() == b""
    finally:
        logging.getLogger().removeHandler(capture)
        log.filters.clear()
        log.setLevel(logging.NOTSET)
        logs.configure_logging("INFO", "text")
