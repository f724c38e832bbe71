"""A small bounded, time-limited cache for resolved documents (did:web), honouring Cache-Control.

Entries live for the response's ``max-age`` capped at ``max_ttl`` (``default_ttl`` when the
server says nothing); ``no-store``/``no-cache`` (max-age 0) are not stored. At most
``max_entries`` are kept, least recently used dropped first. Time comes from the injected
``clock``: a callable returning an aware ``datetime`` or monotonic seconds (float); the cache
never reads a clock of its own.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import datetime
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
Clock = Callable[[], "datetime | float"]


class TTLCache(Generic[T]):
    def __init__(
        self,
        clock: Clock,
        *,
        max_entries: int = 256,
        default_ttl: float = 300.0,
        max_ttl: float = 3600.0,
    ) -> None:
        if max_entries < 1 or default_ttl < 0 or max_ttl < 0:
            raise ValueError("max_entries must be positive and TTLs non-negative")
        self._clock = clock
        self.max_entries = max_entries
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()

    def _now(self) -> float:
        value = self._clock()
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("the cache clock must return an aware datetime")
            return value.timestamp()
        return float(value)

    def get(self, key: str) -> T | None:
        """A deep copy of the entry, or None if absent or expired (callers may mutate it)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._now() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return copy.deepcopy(value)

    def put(self, key: str, value: T, max_age: float | None = None) -> bool:
        """Store ``value`` for ``max_age`` seconds (capped); returns whether it was stored."""
        ttl = self.default_ttl if max_age is None else min(max_age, self.max_ttl)
        ttl = min(ttl, self.max_ttl)
        if ttl <= 0:
            self._entries.pop(key, None)
            return False
        self._entries[key] = (self._now() + ttl, copy.deepcopy(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


__all__ = ["TTLCache", "Clock"]
