"""Every cache in vcnode, in one module, on ``cachetools``; time only ever comes from an injected clock.

Kinds, by what they remember:

* ``LRU(maxsize, *, sizeof=None)``: a bounded map, least recently used out first, for results
  that never go stale (did:key documents, the resolver's verification-method memo, compressed
  status-list blocks, processed JSON-LD contexts). ``sizeof`` bounds the total size instead of
  the count. Thread-safe.
* ``ExpiringCache(clock, *, max_entries)``: entries that each carry their own expiry time (a
  fetched status list lives until its ``ttl``/``max-age``/staleness bound); least recently used
  out first when full, expired entries before that. Values are kept as given. Thread-safe.
* ``TTLCache(clock, *, max_entries, default_ttl, max_ttl)``: JSON documents fetched over HTTP
  (did:web documents, published accreditation lists). An entry lives for the response's
  ``Cache-Control: max-age`` capped at ``max_ttl`` (``default_ttl`` when the server says
  nothing); ``no-store``/``no-cache`` (max-age 0) are not stored. Values are frozen when stored
  and every ``get`` returns a private copy.
* ``Memo(max_entries)``: a plain dict for pure functions on the hottest paths (a JSON-LD IRI
  check that costs less than a cache's bookkeeping): reads are dict reads, and a full memo is
  emptied rather than evicted one by one.

Cached JSON handed to callers is never shared mutable state. The one copy helper is
``FrozenJSON`` (and ``json_copy``, its round trip): a ``marshal`` snapshot, immutable while
cached; ``thaw()`` unpacks a new copy (~1.2 µs for a did:key document, against ~7 µs for
``copy.deepcopy`` and ~2.7 µs for a recursive copy in Python; bench/README.md). Read-only views
were the alternative; they would hand out types (``frozendict``, tuples) that ``json`` and
``isinstance(x, list)`` checks all over the verify path do not accept.

``clock`` returns an aware ``datetime`` or monotonic seconds (a float); a naive datetime is
refused. No cache here reads a clock of its own.
"""

from __future__ import annotations

import copy
import marshal
import threading
from datetime import datetime, timedelta
from typing import Any, Callable, Generic, Hashable, Iterator, TypeVar

import cachetools

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
Clock = Callable[[], "datetime | float"]

_MISSING: Any = object()


# --- copies of cached JSON ----------------------------------------------------------------------


class FrozenJSON:
    """An immutable snapshot of a JSON value (dicts, lists, strings, numbers, booleans, None).

    Raises ``ValueError`` for a value ``marshal`` cannot hold (a custom class, a dict subclass):
    callers that cache treat that as "not cacheable".
    """

    __slots__ = ("_data",)

    def __init__(self, value: Any) -> None:
        self._data = marshal.dumps(value)

    def thaw(self) -> Any:
        """A new deep copy; nothing in it is shared with any other copy."""
        return marshal.loads(self._data)


def json_copy(value: Any) -> Any:
    """A private deep copy of a JSON value (``FrozenJSON`` round trip; ``copy.deepcopy`` for
    anything ``marshal`` cannot hold)."""
    try:
        return marshal.loads(marshal.dumps(value))
    except ValueError:
        return copy.deepcopy(value)


# --- no expiry --------------------------------------------------------------------------------------


class LRU(Generic[K, V]):
    """A bounded map: at most ``maxsize`` entries, or entries whose ``sizeof`` values sum to at
    most ``maxsize``; the least recently used go first. A value larger than the whole cache is
    simply not kept. Safe to share between threads.

    Mapping enough for ``pyld``'s context resolver (``get``, ``[key] = value``).
    """

    def __init__(self, maxsize: int, *, sizeof: Callable[[V], int] | None = None) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must not be negative")
        self._data: cachetools.LRUCache[K, V] = cachetools.LRUCache(maxsize, getsizeof=sizeof)
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    @property
    def maxsize(self) -> int:
        return int(self._data.maxsize)

    def get(self, key: K, default: Any = None) -> Any:
        with self._lock:
            data = self._data
            if key in data:  # a test, not a KeyError: a miss costs a quarter as much
                self._hits += 1
                return data[key]
            self._misses += 1
            return default

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            try:
                self._data[key] = value
            except ValueError:  # larger than the whole cache (or a cache of size 0): not kept
                self._data.pop(key, None)

    def pop(self, key: K, default: Any = None) -> Any:
        with self._lock:
            return self._data.pop(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data  # no reordering

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    @property
    def currsize(self) -> int:
        """The number of entries, or their total ``sizeof``."""
        return int(self._data.currsize)

    def info(self) -> cachetools.CacheInfo:
        """Hits and misses of ``get``, ``maxsize`` and ``currsize`` (as ``functools`` reports them)."""
        return cachetools.CacheInfo(self._hits, self._misses, self.maxsize, self.currsize)


class Memo(dict):  # type: ignore[type-arg]
    """A pure function's results, for a hot path: look up with ``memo[key]`` / ``memo.get``
    (plain dict reads, no lock needed), store with ``remember``, which empties the memo first
    when it holds ``max_entries``. Only for functions whose recomputation is cheap: a full memo
    forgets everything at once."""

    __slots__ = ("max_entries",)

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def remember(self, key: Any, value: T) -> T:
        if len(self) >= self.max_entries:
            self.clear()
        self[key] = value
        return value


# --- expiring entries ---------------------------------------------------------------------------


class ExpiringCache(Generic[T]):
    """Entries with an expiry each (``put_until``), on the injected ``clock``: an entry is
    returned while ``clock() < expires``. At most ``max_entries`` (0: nothing is kept); when
    full, expired entries go first, then the least recently used. Values are kept as given.
    ``observe``, when given, is called with ``True`` (a live entry) or ``False`` on every
    ``get``: the node counts its caches' hits with it (node.observe).
    """

    def __init__(self, clock: Clock, *, max_entries: int = 256, observe: Callable[[bool], None] | None = None) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must not be negative")
        self._clock = clock
        self._observe = observe
        self.max_entries = max_entries
        # (value, expires) per key; cachetools' TLRU reads each entry's expiry from it
        self._entries: cachetools.TLRUCache[Any, tuple[T, Any]] = cachetools.TLRUCache(
            max_entries, ttu=lambda _key, entry, _now: entry[1], timer=self._now
        )
        self._lock = threading.RLock()

    def _now(self) -> datetime | float:
        value = self._clock()
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("the cache clock must return an aware datetime")
            return value
        return float(value)

    def get(self, key: Any) -> T | None:
        """The live entry, or None (absent or expired)."""
        with self._lock:
            entry = self._entries.get(key)
        if self._observe is not None:
            self._observe(entry is not None)
        return None if entry is None else entry[0]

    def put_until(self, key: Any, value: T, expires: datetime | float) -> bool:
        """Keep ``value`` until ``expires`` (in the clock's terms); returns whether it was kept
        (not when already expired, nor in a cache of size 0)."""
        with self._lock, self._entries.timer as now:
            if self.max_entries == 0 or not now < expires:
                self._entries.pop(key, None)
                return False
            self._entries[key] = (value, expires)
            return key in self._entries

    def discard(self, key: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def now(self) -> datetime | float:
        """The cache's clock, read (for callers that keep times in the cache's terms)."""
        return self._now()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class TTLCache(ExpiringCache[T]):
    """JSON documents fetched over HTTP, kept as ``Cache-Control`` allows (see the module
    docstring). Stored frozen; ``get`` returns a private copy, so a caller editing its document
    cannot change what the next caller gets. A value ``FrozenJSON`` cannot hold is not kept."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_entries: int = 256,
        default_ttl: float = 300.0,
        max_ttl: float = 3600.0,
        observe: Callable[[bool], None] | None = None,
    ) -> None:
        if max_entries < 1 or default_ttl < 0 or max_ttl < 0:
            raise ValueError("max_entries must be positive and TTLs non-negative")
        super().__init__(clock, max_entries=max_entries, observe=observe)
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl

    def get(self, key: Any) -> T | None:
        """A copy of the live entry, or None (absent or expired)."""
        frozen = super().get(key)
        return None if frozen is None else frozen.thaw()  # type: ignore[attr-defined]

    def put(self, key: Any, value: T | FrozenJSON, max_age: float | None = None) -> bool:
        """Keep ``value`` (a JSON value, or one already frozen) for ``max_age`` seconds (None:
        ``default_ttl``), at most ``max_ttl``; returns whether it was kept (not for max-age 0)."""
        ttl = min(self.default_ttl if max_age is None else max_age, self.max_ttl)
        with self._lock, self._entries.timer as now:
            if ttl <= 0:
                self.discard(key)
                return False
            expires = now + timedelta(seconds=ttl) if isinstance(now, datetime) else now + ttl
            return self.put_until(key, value, expires)  # type: ignore[arg-type]

    def put_until(self, key: Any, value: T | FrozenJSON, expires: datetime | float) -> bool:
        if not isinstance(value, FrozenJSON):
            try:
                value = FrozenJSON(value)
            except ValueError:
                self.discard(key)
                return False
        return super().put_until(key, value, expires)  # type: ignore[arg-type]


__all__ = ["Clock", "ExpiringCache", "FrozenJSON", "LRU", "Memo", "TTLCache", "json_copy"]
