"""The node's own status lists, answered from its store when the node checks a status.

A node verifying one of its own credentials would otherwise fetch its own list through its
public URL: through the reverse proxy in front of it, by a DNS name that may not resolve
inside its own network, or not at all when it is not serving (``vcnode verify --data``). The
store holds exactly what that URL serves (``StatusLists.get``: the signed list as last
published), so ``OwnStatusLists`` answers ``BASE/status/ISSUER/PURPOSE/N`` itself and hands
every other URL to the guarded HTTP client. The list's proof is still verified like any
other's (``status.check``).

The node holds the authoritative state of these lists, so it does not keep them for their
``ttl`` as it keeps another issuer's: a verification right after this node answered "revoked"
must say revoked. A list served with a ttl is kept in memory for ``OWN_LIST_MAX_AGE`` at most
(never longer than the ttl), and dropped at once when this process re-signs it
(``StatusLists.on_published``). A list served without one (``no-cache``: the operator wants a
change seen on the next fetch, docs/scaling.md) is read from the store every time, so every
replica's next verification sees a change made through any other. The checker is told not to
keep either (``max_age`` 0), so this is the only copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from did.cache import ExpiringCache, FrozenJSON
from did.errors import FetchError
from did.http import FetchedJSON
from node.statuslists import StatusLists

# How long a copy of one of the node's own lists served with a ttl may be used: a change made by
# another process or replica on the same store is seen within this bound (one made by this
# process at once), while verifying the node's own credentials reads each list from the store at
# most once per bound rather than once per verification (issue 13).
OWN_LIST_MAX_AGE = 1.0  # seconds
# Every list of a node large enough to have hundreds stays within the bound's reach; a copy is
# a few KiB to a few hundred KiB (a list's encodedList).
OWN_LIST_CACHE_ENTRIES = 256


@dataclass(frozen=True)
class _Copy:
    etag: str
    credential: FrozenJSON  # thawed for each caller: cached JSON is never shared (did.cache)


class OwnStatusLists:
    """A ``get_json`` (as ``did.http.GuardedHTTP``'s) for ``status.check.StatusChecker``.

    ``clock`` returns monotonic seconds (``time.monotonic``, or a test's).
    """

    def __init__(
        self,
        status_lists: StatusLists,
        http: Any | None,
        *,
        max_age: float = OWN_LIST_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = OWN_LIST_CACHE_ENTRIES,
    ) -> None:
        self.status_lists = status_lists
        self.http = http
        self.prefix = f"{status_lists.base_url}/status/"
        self.max_age = max_age
        self._copies: ExpiringCache[_Copy] = ExpiringCache(clock, max_entries=max_entries)
        # Bumped by every forget: a read that started before a change must not be kept after it.
        self._changes = 0
        status_lists.on_published(self.forget)

    def forget(self, url: str) -> None:
        """Drop the copy of the list at ``url`` (this process has just re-signed it)."""
        self._changes += 1
        self._copies.discard(url)

    async def get_json(self, url: str, *, max_bytes: int | None = None, headers: Mapping[str, str] | None = None) -> FetchedJSON:
        if url.startswith(self.prefix):
            parts = url[len(self.prefix):].split("/")
            # The route's rule (routes/status_lists.py): one URL per list, so "01" is no list.
            if len(parts) == 3 and parts[2].isascii() and parts[2].isdecimal() and len(parts[2]) <= 9 and parts[2] == str(int(parts[2])):
                copy = await self._copy(url, parts[0], parts[1], int(parts[2]))
                if copy is not None:
                    # max_age 0: the checker keeps no copy of its own, so it asks here each time
                    # and a change this process makes is seen at once.
                    return FetchedJSON(url, 200, {"ETag": copy.etag}, copy.credential.thaw(), 0)
            raise FetchError(f"{url} answered HTTP 404 (this node has no such status list)", reason="http-status", code="notFound")
        if self.http is None:
            raise FetchError(f"{url} is not this node's, and the network is off here", reason="network")
        kwargs: dict[str, Any] = {"max_bytes": max_bytes}
        if headers is not None:
            kwargs["headers"] = headers
        return await self.http.get_json(url, **kwargs)

    async def _copy(self, url: str, issuer: str, purpose: str, seq: int) -> _Copy | None:
        kept = self._copies.get(url)
        if kept is not None:
            return kept
        # The bound runs from before the read: what it returns is at least that fresh.
        started, changes = self._copies.now(), self._changes
        published = await self.status_lists.get(issuer, purpose, seq)
        if published is None:
            return None  # not kept: a list another process opens is served as soon as it exists
        copy = _Copy(published.etag, FrozenJSON(published.credential))
        # Never longer than the ttl, and not at all without one (served no-cache).
        keep = min(self.max_age, published.ttl_ms / 1000) if published.ttl_ms else 0.0
        if keep > 0 and self._changes == changes:
            self._copies.put_until(url, copy, started + keep)  # type: ignore[operator]
        return copy
