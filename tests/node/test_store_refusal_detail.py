"""What an API client is told when the store cannot take a write (node/problems.py): what is
wrong and that nothing was written, never where the store lives on the server (the log keeps it)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from aiohttp import web

from node import problems
from node.routes import NODE_KEY
from node.store import StoreUnavailable

PATH = Path("/srv/vcnode/data/vcnode.sqlite3")


async def _full(request: web.Request) -> web.Response:
    # As the SQLite backend words it (node.store.sqlite: the reason, then the store's path).
    raise StoreUnavailable(f"the disk holding the store is full: nothing was written; free space and try again ({PATH})")


async def test_a_full_disk_is_a_503_without_the_servers_path(aiohttp_client, caplog) -> None:
    app = web.Application(middlewares=[problems.problem_middleware])
    app[NODE_KEY] = SimpleNamespace(db=SimpleNamespace(path=PATH))  # type: ignore[misc]
    app.router.add_post("/credentials/issue", _full)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR, logger="node.problems"):
        resp = await client.post("/credentials/issue", json={})
        body = await resp.json(content_type=None)
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    assert body["detail"] == "the disk holding the store is full: nothing was written; free space and try again"
    assert str(PATH) in caplog.text  # the operator's log says which store
