"""The aiohttp application: ``create_app(config, *, node=None)``.

The app owns two resources, each opened in a ``cleanup_ctx`` generator (cleanup runs only if
start-up succeeded) by ``node.node.open_node``: the one guarded ``aiohttp.ClientSession``
(``did.http``), used for did:web and status lists, and the store. Tests pass ``node=`` (a
``node.node.Node`` from ``node.node.compose``, over their own store, resolver and clock); the
caller then owns those resources.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

from aiohttp import web

from node import auth, logs, pages, problems, traffic
from node.accesslog import observe_requests
from node.config import Config, status_list_refresh_seconds
from node.metrics import Metrics
from node.node import Node, open_node
from node.observe import NO_OBSERVER
from node.store import StoreUnavailable
from node.routes import CONFIG_KEY, NODE_KEY, refuse_opened_scopes, dids, health, microcredentials, oid4vci, openapi, status_lists, vcapi
from node.routes import credentials as credential_routes
from node.routes import metrics as metrics_routes
from node.routes import trust as trust_routes
from node.routes.metrics import METRICS_KEY

log = logging.getLogger(__name__)

__all__ = ["CONFIG_KEY", "NODE_KEY", "create_app"]


def _start_list_refresher(node: Node, config: Config) -> "asyncio.Task[None] | None":
    """With ``validUntil`` on status lists, re-sign them before they expire (at half-life)."""
    if not config.status_list_valid_seconds:
        return None
    period = status_list_refresh_seconds(config.status_list_valid_seconds)

    async def loop() -> None:
        while True:
            try:
                refreshed = await node.status_lists.refresh_expiring()
                if refreshed:
                    log.info("re-signed %d status list(s) before their validUntil", refreshed)
            except Exception:  # keep refreshing; a failure is logged and retried next period
                log.exception("re-signing expiring status lists failed")
            await asyncio.sleep(period)

    return asyncio.get_running_loop().create_task(loop(), name="vcnode-status-list-refresher")


def _start_retention(node: Node, config: Config) -> "asyncio.Task[None] | None":
    """Erase kept credential bodies older than ``retention_days``, at start-up and daily
    (README, "Personal data in the store"); the status records stay."""
    if not config.retention_days:
        return None

    async def loop() -> None:
        while True:
            try:
                erased = await node.credentials.purge(now=node.clock(), older_than_days=config.retention_days)
                if erased:
                    log.info("erased %d credential bodies kept longer than retention_days (%d)", erased, config.retention_days)
            except StoreUnavailable as e:  # read-only, full, locked: said plainly, tried again tomorrow
                log.warning("credential bodies past retention_days could not be erased now: %s", e)
            except Exception:  # keep going; a failure is logged and retried tomorrow
                log.exception("erasing credential bodies past retention_days failed")
            await asyncio.sleep(86400)

    return asyncio.get_running_loop().create_task(loop(), name="vcnode-retention")


def create_app(
    config: Config, *, node: Node | None = None, metrics: Metrics | None = None, announce_keys: bool = True
) -> web.Application:
    """The node's web application. Without ``node`` it opens its own (see module doc).

    With ``config.metrics`` the app counts requests into ``metrics`` (a new ``Metrics`` when not
    given) and serves them at /metrics; the node it opens reports to them too, while a given
    ``node`` reports to the observer it was composed with (pass ``metrics.observer()`` to
    ``compose`` for both). ``config.access_log`` writes one line per request (node.accesslog).
    ``announce_keys``: log how the issuer keys are protected when the node opens; the workers of
    ``vcnode serve --workers N`` do not, since the arbiter has said it once before forking.
    """
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CONFIG_KEY] = config
    problems.setup(app, max_body=config.max_body_bytes)
    traffic.setup(app, config)  # after problems: it goes outside it (per-client limits come first)
    if config.metrics:
        app[METRICS_KEY] = metrics = metrics or Metrics()
    else:
        metrics = None
    if metrics is not None or config.access_log:
        # Outermost (outside the traffic limits too), so the status logged and counted is the one the client gets.
        app.middlewares.insert(
            0, observe_requests(metrics.request if metrics is not None else None, access_log=config.access_log)
        )

    async def flush_log_lines(app: web.Application) -> AsyncIterator[None]:
        # Access lines wait in the log handler's buffer for at most a second (node.logs).
        async def loop() -> None:
            while True:
                await asyncio.sleep(logs.FLUSH_SECONDS)
                logs.flush_lines()

        task = asyncio.get_running_loop().create_task(loop(), name="vcnode-log-flush")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        logs.flush_lines()

    app.cleanup_ctx.append(flush_log_lines)
    observer = metrics.observer() if metrics is not None else NO_OBSERVER
    if metrics is not None:
        flushed = metrics

        async def flush_metrics(app: web.Application) -> AsyncIterator[None]:
            # The hooks tally; this writes the tallies each second (and a last time at exit).
            task = asyncio.get_running_loop().create_task(flushed.flushing(), name="vcnode-metrics-flush")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        app.cleanup_ctx.append(flush_metrics)

    if node is None:

        async def resources(app: web.Application) -> AsyncIterator[None]:
            # A server may make a node of an empty folder, under the server's rules (node.identity).
            async with open_node(config, announce=announce_keys, create=True, serving=True, observer=observer) as opened:
                app[NODE_KEY] = opened
                where = "the database" if opened.config.database_url else config.data_dir
                log.info("base URL %s (recorded in %s)", opened.config.effective_base_url, where)
                for issuer in await opened.issuers.list():
                    log.info("issuer %s: %s", issuer.name, " ".join(issuer.dids))
                if getattr(opened.db, "read_only", None):
                    log.warning("%s: serving what it holds; every write is answered 503 until it can be written and the node restarted", opened.db.read_only)
                tasks = [t for t in (_start_list_refresher(opened, config), _start_retention(opened, config)) if t is not None]
                try:
                    yield
                finally:
                    for task in tasks:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task

        app.cleanup_ctx.append(resources)
    else:
        given = node

        async def start(app: web.Application) -> None:
            await given.start()
            app[NODE_KEY] = given

        app.on_startup.append(start)

    async def verify_token(token: str) -> auth.Grant | auth.Rejection | None:
        return await app[NODE_KEY].tokens.check(token)

    auth.setup(app, verify_token)

    health.setup(app)
    dids.setup(app)
    status_lists.setup(app)
    vcapi.setup(app)
    credential_routes.setup(app)  # after vcapi: its POST-only /credentials/* paths come first
    microcredentials.setup(app)
    trust_routes.setup(app)
    oid4vci.setup(app)
    openapi.setup(app)
    pages.setup(app)
    metrics_routes.setup(app)
    # routes: add here (each route module exposes setup(app); handlers reach the node's
    # capabilities through node.routes.node_of(request), a node.node.Node)

    async def check_openings(app: web.Application) -> None:
        refuse_opened_scopes(app)

    app.on_startup.append(check_openings)
    app.on_response_prepare.append(_nosniff)
    return app


async def _nosniff(request: web.Request, response: web.StreamResponse) -> None:
    # Every answer is exactly the type it says (JSON, JSON-LD, problem+json, HTML): a browser
    # must not guess another from a credential's text the node echoes.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
