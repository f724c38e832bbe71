"""The node's own status lists, answered from its store when the node checks a status.

A node verifying one of its own credentials would otherwise fetch its own list through its
public URL: through the reverse proxy in front of it, by a DNS name that may not resolve
inside its own network, or not at all when it is not serving (``vcnode verify --data``). The
store holds exactly what that URL serves (``StatusLists.get``: the signed list as last
published), so ``OwnStatusLists`` answers ``BASE/status/ISSUER/PURPOSE/N`` itself and hands
every other URL to the guarded HTTP client. The list's proof is still verified like any
other's (``status.check``).
"""

from __future__ import annotations

from typing import Any, Mapping

from did.errors import FetchError
from did.http import FetchedJSON
from node.statuslists import StatusLists


class OwnStatusLists:
    """A ``get_json`` (as ``did.http.GuardedHTTP``'s) for ``status.check.StatusChecker``."""

    def __init__(self, status_lists: StatusLists, http: Any | None) -> None:
        self.status_lists = status_lists
        self.http = http
        self.prefix = f"{status_lists.base_url}/status/"

    async def get_json(self, url: str, *, max_bytes: int | None = None, headers: Mapping[str, str] | None = None) -> FetchedJSON:
        if url.startswith(self.prefix):
            parts = url[len(self.prefix):].split("/")
            if len(parts) == 3 and parts[2].isascii() and parts[2].isdecimal() and len(parts[2]) <= 9:
                published = await self.status_lists.get(parts[0], parts[1], int(parts[2]))
                if published is not None:
                    # The Cache-Control the list is served with (routes/status_lists.py).
                    max_age = published.ttl_ms // 1000 if published.ttl_ms else 0
                    return FetchedJSON(url, 200, {"ETag": published.etag}, published.credential, max_age)
            raise FetchError(f"{url} answered HTTP 404 (this node has no such status list)", reason="http-status", code="notFound")
        if self.http is None:
            raise FetchError(f"{url} is not this node's, and the network is off here", reason="network")
        kwargs: dict[str, Any] = {"max_bytes": max_bytes}
        if headers is not None:
            kwargs["headers"] = headers
        return await self.http.get_json(url, **kwargs)
