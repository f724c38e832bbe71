"""The aiohttp application: ``create_app(config, *, services=None)``.

The app owns two resources, each opened in a ``cleanup_ctx`` generator (cleanup runs only if
start-up succeeded): the one guarded ``aiohttp.ClientSession`` (``did.http``), used for
did:web and status lists, and the aiosqlite ``Store``. Tests pass ``services=`` with their
own store, resolver and clock; the caller then owns those resources.

``open_services`` is the same composition without the web app, for the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Mapping

from aiohttp import web

from did.cache import TTLCache
from did.http import GuardedHTTP, create_guarded_session
from did.key import DIDKeyResolver
from did.resolver import DIDResolver, ResolutionResult, Resolver
from did.web import DIDWebResolver
from node import auth, pages, problems
from node.config import Config
from node.keys import SETTING as MASTER_KEY_SETTING
from node.keys import MasterKey, new_master_record, open_master
from node.routes import CONFIG_KEY, SERVICE_KEY, dids, health, status_lists
from node.routes import microcredentials, openapi, vcapi  # microcredentials registers its store migration on import
from node.routes import trust as trust_routes  # node.trust registers its store migration on import
from node.service import DEFAULT_ISSUER, NodeService, Services, verify_credential_off_loop
from node.store import Store
from status.check import StatusChecker
from vc.loader import default_loader

log = logging.getLogger(__name__)

__all__ = ["CONFIG_KEY", "SERVICE_KEY", "create_app", "open_services"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def open_master_key(store: Store, config: Config, *, announce: bool = True) -> MasterKey:
    """The master key sealing the issuer keys: created on first use, then re-derived each start."""
    record = await store.get_setting(MASTER_KEY_SETTING)
    if record is None:
        master, record = await asyncio.to_thread(new_master_record, config.data_dir, config.passphrase, kdf=config.kdf)
        await store.set_setting(MASTER_KEY_SETTING, record)
    else:
        master = await asyncio.to_thread(open_master, config.data_dir, config.passphrase, record)
    if not announce:
        return master
    if master.mode == "keyfile":
        log.warning(
            "issuer keys are encrypted with the key file %s (readable by its owner only); anyone who copies the "
            "whole data folder can use them. Set VCNODE_PASSPHRASE before the first start to use a passphrase instead.",
            config.data_dir / record.get("file", "master.key"),
        )
    else:
        log.info("issuer keys are encrypted with a key derived from VCNODE_PASSPHRASE (Argon2id)")
    return master


class _OwnDIDWeb:
    """did:web resolution that answers the node's own DIDs from its store, the rest over HTTP.

    A node verifying its own credentials should not depend on reaching itself through its
    public URL (it may sit behind a proxy, or not be serving at all, as in the CLI).
    """

    def __init__(self, web_resolver: DIDResolver | None) -> None:
        self.web = web_resolver
        self.service: NodeService | None = None

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        if self.service is not None and self._may_be_own(did):
            issuer = await self.service.issuer_for_did(did)
            if issuer is not None:
                return ResolutionResult.success(await self.service.did_document(issuer.name))
        if self.web is None:
            from did.errors import MethodNotSupported

            return ResolutionResult.failure(MethodNotSupported("did:web resolution needs the network, which is off here"))
        return await self.web.resolve(did, options) if options else await self.web.resolve(did)

    def _may_be_own(self, did: str) -> bool:
        """Only DIDs under this node's base URL can be its issuers': other issuers' DIDs skip the
        store (a verifier checking a batch from a university queried it for every credential)."""
        if self.service is None:
            return False
        root = self.service.did_web(DEFAULT_ISSUER)
        return did == root or did.startswith(root + ":")


@asynccontextmanager
async def open_services(
    config: Config, *, network: bool = True, announce: bool = False
) -> AsyncIterator[NodeService]:
    """Open the store (initialising an empty data folder), the master key and, with
    ``network``, the guarded HTTP session; yield a ready ``NodeService``; close them all.
    ``announce`` logs how the keys are protected (the server does, at start-up)."""
    if not config.data_dir.exists():
        # The folder holds the sealed keys and the key file: nobody else needs to list it.
        config.data_dir.mkdir(parents=True, mode=0o700)
    store = await Store.open(config.data_dir)
    session = None
    try:
        master = await open_master_key(store, config, announce=announce)
        http = None
        own_web: _OwnDIDWeb
        if network:
            session = create_guarded_session(allowed_insecure_hosts=config.insecure_hosts)
            http = GuardedHTTP(session, allowed_insecure_hosts=config.insecure_hosts)
            # Other issuers' DID documents are kept as their Cache-Control allows (5 minutes when
            # it says nothing, never more than an hour): verifying a batch from one university
            # must not fetch its did.json once per credential.
            did_cache: TTLCache[dict[str, Any]] = TTLCache(time.monotonic, max_entries=1024)
            own_web = _OwnDIDWeb(DIDWebResolver(http, cache=did_cache))
        else:
            own_web = _OwnDIDWeb(None)
        resolver = Resolver({"key": DIDKeyResolver(), "web": own_web})
        loader = default_loader()
        check_status = None
        if http is not None:
            checker = StatusChecker(
                http,
                resolver,
                loader,
                utc_now,
                max_staleness=timedelta(seconds=config.status_max_staleness_seconds),
                verify_credential=verify_credential_off_loop,
            )
            check_status = checker.check
        services = Services(
            store=store, master_key=master, resolver=resolver, loader=loader, clock=utc_now, http=http, check_status=check_status
        )
        service = NodeService(config, services)
        own_web.service = service
        await service.init()
        yield service
    finally:
        if session is not None:
            await session.close()
        await store.close()


def _start_list_refresher(service: NodeService, config: Config) -> "asyncio.Task[None] | None":
    """With ``validUntil`` on status lists, re-sign them before they expire (at half-life)."""
    if not config.status_list_valid_seconds:
        return None
    period = max(1.0, min(60.0, config.status_list_valid_seconds / 4))

    async def loop() -> None:
        while True:
            try:
                refreshed = await service.status_lists.refresh_expiring()
                if refreshed:
                    log.info("re-signed %d status list(s) before their validUntil", refreshed)
            except Exception:  # keep refreshing; a failure is logged and retried next period
                log.exception("re-signing expiring status lists failed")
            await asyncio.sleep(period)

    return asyncio.get_running_loop().create_task(loop(), name="vcnode-status-list-refresher")


def create_app(config: Config, *, services: Services | None = None) -> web.Application:
    """The node's web application. Without ``services`` it opens its own (see module doc)."""
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CONFIG_KEY] = config
    problems.setup(app, max_body=config.max_body_bytes)

    if services is None:

        async def resources(app: web.Application) -> AsyncIterator[None]:
            async with open_services(config, announce=True) as service:
                app[SERVICE_KEY] = service
                for issuer in await service.list_issuers():
                    log.info("issuer %s: %s", issuer.name, " ".join(issuer.dids))
                refresher = _start_list_refresher(service, config)
                try:
                    yield
                finally:
                    if refresher is not None:
                        refresher.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await refresher

        app.cleanup_ctx.append(resources)
    else:

        async def start(app: web.Application) -> None:
            service = NodeService(config, services)
            await service.init()
            app[SERVICE_KEY] = service

        app.on_startup.append(start)

    async def verify_token(token: str) -> auth.Grant | None:
        return await app[SERVICE_KEY].check_token(token)

    auth.setup(app, verify_token)

    health.setup(app)
    dids.setup(app)
    status_lists.setup(app)
    vcapi.setup(app)
    microcredentials.setup(app)
    trust_routes.setup(app)
    openapi.setup(app)
    pages.setup(app)
    # routes: add here (each route module exposes setup(app); handlers reach the node's
    # operations through request.app[SERVICE_KEY], a node.service.NodeService)
    return app
