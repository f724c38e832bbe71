"""did.cache: every cache of the project, bounded in entries (or bytes) and time, driven only by
the injected clock, and never handing out shared mutable JSON."""

import threading
from datetime import datetime, timedelta, timezone

import pytest

from did.cache import LRU, ExpiringCache, FrozenJSON, Memo, TTLCache, json_copy
from tests.did.conftest import FakeClock

# --- TTLCache: documents fetched over HTTP --------------------------------------------------------


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


def test_max_age_zero_drops_what_was_kept():
    cache = TTLCache(FakeClock())
    cache.put("k", {"v": 1})
    assert not cache.put("k", {"v": 2}, max_age=0)  # the server now says no-store
    assert cache.get("k") is None


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


def test_every_get_is_a_private_copy_and_the_stored_value_is_a_snapshot():
    cache = TTLCache(FakeClock())
    document = {"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "Multikey"}]}
    cache.put("d", document)
    document["verificationMethod"][0]["type"] = "edited after put"
    first = cache.get("d")
    first["verificationMethod"].append("edited after get")
    first["id"] = "tampered"
    assert cache.get("d") == {"id": "did:web:example.com", "verificationMethod": [{"id": "#k", "type": "Multikey"}]}
    assert cache.get("d")["verificationMethod"] is not cache.get("d")["verificationMethod"]


def test_a_frozen_value_is_stored_as_it_is():
    cache = TTLCache(FakeClock())
    frozen = FrozenJSON({"a": [1, 2]})
    assert cache.put("k", frozen)
    assert cache.get("k") == {"a": [1, 2]}


def test_a_value_that_is_not_json_is_not_kept():
    cache = TTLCache(FakeClock())
    cache.put("k", {"v": 1})
    assert not cache.put("k", {"v": object()})
    assert cache.get("k") is None  # not the stale value either


# --- ExpiringCache: entries with their own expiry ---------------------------------------------------


def test_expiring_entries_live_until_their_own_time():
    now = [datetime(2025, 6, 1, tzinfo=timezone.utc)]
    cache: ExpiringCache[object] = ExpiringCache(lambda: now[0], max_entries=4)
    value = object()
    assert cache.put_until("a", value, now[0] + timedelta(seconds=10))
    assert cache.put_until("b", "b", now[0] + timedelta(seconds=1))
    assert not cache.put_until("c", "c", now[0])  # already expired: not kept
    assert cache.get("a") is value  # kept as given, no copy
    now[0] += timedelta(seconds=1)
    assert cache.get("b") is None and cache.get("a") is value
    now[0] += timedelta(seconds=9)
    assert cache.get("a") is None


def test_expiring_cache_evicts_expired_entries_before_live_ones():
    clock = FakeClock()
    cache: ExpiringCache[str] = ExpiringCache(clock, max_entries=2)
    cache.put_until("short", "s", clock.now + 5)
    cache.put_until("long", "l", clock.now + 100)
    assert cache.get("short") == "s"  # the most recently used, but expired when "new" comes
    clock.now += 10
    cache.put_until("new", "n", clock.now + 100)
    assert (cache.get("long"), cache.get("new")) == ("l", "n")


def test_expiring_cache_of_size_zero_keeps_nothing():
    clock = FakeClock()
    cache: ExpiringCache[str] = ExpiringCache(clock, max_entries=0)
    assert not cache.put_until("k", "v", clock.now + 100)
    assert cache.get("k") is None and len(cache) == 0


def test_discard_and_clear():
    clock = FakeClock()
    cache: ExpiringCache[str] = ExpiringCache(clock)
    cache.put_until("a", "a", clock.now + 10)
    cache.put_until("b", "b", clock.now + 10)
    cache.discard("a")
    cache.discard("missing")
    assert cache.get("a") is None and cache.get("b") == "b"
    cache.clear()
    assert len(cache) == 0


# --- LRU ----------------------------------------------------------------------------------------------


def test_lru_is_bounded_and_least_recently_used_goes_first():
    lru: LRU[str, int] = LRU(2)
    lru["a"] = 1
    lru["b"] = 2
    assert lru.get("a") == 1
    lru["c"] = 3
    assert "b" not in lru and lru.get("b") is None
    assert (lru.get("a"), lru.get("c"), len(lru)) == (1, 3, 2)
    info = lru.info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (3, 1, 2, 2)


def test_lru_bounded_by_size_drops_entries_until_the_new_one_fits_and_skips_oversized_ones():
    lru: LRU[str, bytes] = LRU(10, sizeof=len)
    lru["a"] = b"1234"
    lru["b"] = b"5678"
    lru["c"] = b"90"
    assert lru.currsize == 10
    lru["d"] = b"xyz"  # 13 > 10: "a" goes
    assert lru.get("a") is None and lru.currsize == 9
    lru["huge"] = b"x" * 11  # larger than the whole cache: not kept, nothing else lost
    assert lru.get("huge") is None and lru.currsize == 9
    lru["b"] = b"x" * 11  # replacing an entry with an oversized value drops the entry
    assert lru.get("b") is None


def test_lru_of_size_zero_keeps_nothing():
    lru: LRU[str, int] = LRU(0)
    lru["k"] = 1
    assert lru.get("k") is None and len(lru) == 0


def test_lru_is_safe_to_share_between_threads():
    lru: LRU[int, int] = LRU(64)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(5000):
                key = (i * 7 + offset) % 200
                if lru.get(key) not in (None, key):
                    raise AssertionError("a key returned another key's value")
                lru[key] = key
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(lru) == 64


# --- Memo -----------------------------------------------------------------------------------------------


def test_memo_forgets_everything_when_full():
    memo = Memo(3)
    for n in range(3):
        assert memo.remember(n, n * n) == n * n
    assert memo[2] == 4 and len(memo) == 3
    memo.remember(3, 9)
    assert dict(memo) == {3: 9}


# --- the copy helper --------------------------------------------------------------------------------


def test_frozen_json_thaws_equal_independent_copies_with_types_kept():
    value = {"a": [1, 1.5, True, None, "é", {"b": []}], "n": 2**70}
    frozen = FrozenJSON(value)
    value["a"].append("changed after freezing")
    one, two = frozen.thaw(), frozen.thaw()
    assert one == two == {"a": [1, 1.5, True, None, "é", {"b": []}], "n": 2**70}
    assert type(one["a"][2]) is bool and type(one["a"][1]) is float
    one["a"][5]["b"].append(1)
    assert two["a"][5]["b"] == []


def test_frozen_json_refuses_what_it_cannot_hold_and_json_copy_still_copies_it():
    class Odd:
        pass

    with pytest.raises(ValueError):
        FrozenJSON({"x": Odd()})
    value = {"x": [Odd()]}
    copied = json_copy(value)
    assert copied["x"] is not value["x"] and isinstance(copied["x"][0], Odd)
    plain = {"x": [1]}
    assert json_copy(plain) == plain and json_copy(plain)["x"] is not plain["x"]
