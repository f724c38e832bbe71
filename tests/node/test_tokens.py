"""node/tokens.py: expiry, last use written at most once a minute, and the token never stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from node.auth import Grant, Rejection
from node.config import load_config
from node.errors import InvalidRequestError
from node.keys import new_master_record
from node.node import compose
from postgres_server import stores  # noqa: F401  (the fixture)
from node.tokens import parse_expiry
from support import query_one
from tests.conftest import FIXED_NOW


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def node(tmp_path, stores):
    """On each backend (tests/postgres_server.py)."""
    config = load_config({"data_dir": str(tmp_path), "base_url": "https://registry.example.edu"}, env={})
    db = await stores.open()
    master, _ = new_master_record(tmp_path, None)
    clock = Clock()
    node = compose(config, db=db, master_key=master, clock=clock)
    await node.start()
    return node, clock


@pytest.mark.parametrize(
    "text,expected",
    [
        ("30d", FIXED_NOW + timedelta(days=30)),
        ("12h", FIXED_NOW + timedelta(hours=12)),
        ("90m", FIXED_NOW + timedelta(minutes=90)),
        ("2w", FIXED_NOW + timedelta(weeks=2)),
        ("2031-09-01", datetime(2031, 9, 1, tzinfo=timezone.utc)),
        ("2031-09-01T12:30:00Z", datetime(2031, 9, 1, 12, 30, tzinfo=timezone.utc)),
        ("2031-09-01T14:30:00+02:00", datetime(2031, 9, 1, 12, 30, tzinfo=timezone.utc)),
    ],
)
def test_expiry_is_a_duration_a_date_or_a_datetime(text, expected) -> None:
    assert parse_expiry(text, FIXED_NOW) == expected


@pytest.mark.parametrize("text", ["30", "30y", "yesterday", "2031-09-01T12:30:00", "2001-01-01", "0d", "600000w"])
def test_an_expiry_that_is_unclear_past_or_beyond_the_calendar_is_refused(text) -> None:
    # 600000w overflowed datetime: a traceback from vcnode token create, not this error.
    with pytest.raises(InvalidRequestError, match="expiry"):
        parse_expiry(text, FIXED_NOW)


async def test_an_expired_token_is_rejected_with_its_expiry(node) -> None:
    core, clock = node
    new = await core.tokens.create(["issue"], expires=FIXED_NOW + timedelta(hours=1))
    assert isinstance(await core.tokens.check(new.token), Grant)
    clock.now += timedelta(hours=1)
    rejection = await core.tokens.check(new.token)
    assert isinstance(rejection, Rejection) and f"expired at {new.expires}" in rejection.reason
    assert new.token not in rejection.reason
    [record] = await core.tokens.list()
    assert record.state(clock.now) == "expired" and record.expires == new.expires


async def test_last_use_is_written_at_most_once_a_minute_per_token(node) -> None:
    core, clock = node
    new = await core.tokens.create(["issue"])
    writes = 0
    real = core.tokens.db.transaction

    def counting():
        nonlocal writes
        writes += 1
        return real()

    core.tokens.db.transaction = counting  # type: ignore[method-assign]
    for _ in range(20):
        assert isinstance(await core.tokens.check(new.token), Grant)
    await core.tokens.flush()
    assert writes == 1
    row = await query_one(core.db, "SELECT last_used FROM tokens WHERE id = ?", (new.id,))
    assert row["last_used"] == "2025-06-01T12:00:00Z"
    clock.now += timedelta(seconds=59)
    await core.tokens.check(new.token)
    await core.tokens.flush()
    assert writes == 1
    clock.now += timedelta(seconds=2)
    await core.tokens.check(new.token)
    await core.tokens.flush()
    assert writes == 2
    assert (await core.tokens.list())[0].last_used == "2025-06-01T12:01:01Z"
    # Another process (its own memory) that finds a use within the minute in the store writes nothing.
    core.tokens._touched.clear()
    await core.tokens.check(new.token)
    await core.tokens.flush()
    assert writes == 2
