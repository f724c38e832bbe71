"""TTLCache: bounded in entries and time, driven only by the injected clock."""

from datetime import datetime, timedelta, timezone

import pytest

from did.cache import TTLCache
from tests.did.conftest import FakeClock


def test_bounded_entries_drop_least_recently_used():
    cache = TTLCache(FakeClock(), max_entries=2)
    cache.put("a", {"n": 1})
    cache.put("b", {"n": 2})
    assert cache.get("a") == {"n": 1}  # a is now the most recently used
    cache.put("c", {"n": 3})
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == {"n": 1} and cache.get("c") == {"n": 3}


def test_ttl_and_max_age():
    clock = FakeClock()
    cache = TTLCache(clock, default_ttl=100, max_ttl=1000)
    assert cache.put("default", 1)
    assert cache.put("short", 2, max_age=5)
    assert cache.put("long", 3, max_age=10**9)  # capped at max_ttl
    assert not cache.put("nostore", 4, max_age=0)
    assert cache.get("nostore") is None
    clock.now += 6
    assert (cache.get("short"), cache.get("default")) == (None, 1)
    clock.now += 100
    assert (cache.get("default"), cache.get("long")) == (None, 3)
    clock.now += 1000
    assert cache.get("long") is None


def test_aware_datetime_clock():
    now = [datetime(2025, 6, 1, tzinfo=timezone.utc)]
    cache = TTLCache(lambda: now[0], default_ttl=60)
    cache.put("k", "v")
    now[0] += timedelta(seconds=59)
    assert cache.get("k") == "v"
    now[0] += timedelta(seconds=2)
    assert cache.get("k") is None


def test_naive_datetime_clock_is_refused():
    cache = TTLCache(lambda: datetime(2025, 6, 1))
    with pytest.raises(ValueError, match="aware"):
        cache.put("k", "v")
