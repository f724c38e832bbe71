"""The node: one object holding its capabilities, built in one place.

``Node`` is what the HTTP routes (``request.app[NODE_KEY]``) and the CLI (``open_node``) work
with; each reaches only the capability it needs: ``node.issuance.issue(...)``,
``node.tokens.check(...)``. ``compose`` wires the capabilities from what they need from
outside (a ``Database``, the master key, the clock, the context loader, the HTTP client, the
offload hook), so a test builds a node over its own store and fakes; ``open_node`` opens those
resources for a data folder and closes them again.

    Node
    ├── issuers        node.issuers.Issuers             issuers, keys, DIDs and DID documents
    ├── keys           node.key_lifecycle.KeyLifecycle  key rotation and retirement
    ├── status_lists   node.statuslists.StatusLists     allocation, bits, re-signing, serving lists
    ├── issuance       node.issuance.Issuance           issue / issue_many
    ├── status         node.status_changes.StatusChanges  revoke, suspend, reinstate
    ├── credentials    node.records.CredentialRecords   what was issued (get / list)
    ├── tokens         node.tokens.Tokens               API tokens
    ├── challenges     node.challenges.Challenges       presentation challenges
    ├── verification   node.verification.Verification   verify credentials and presentations
    ├── achievements   node.achievements.Achievements   micro-credential achievements and issuing
    ├── trust          node.trust.Trust                 trusted bodies, held accreditations, assessment
    └── oid4vci        node.oid4vci.CredentialIssuer    credential offers and wallets (OpenID4VCI)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

from did.cache import TTLCache
from did.http import GuardedHTTP, create_guarded_session
from did.key import DIDKeyResolver
from did.resolver import Resolver
from did.web import DIDWebResolver
from node import identity
from node.achievements import Achievements
from node.challenges import Challenges
from node.config import Config
from node.identity import NotANodeError
from node.issuance import Issuance
from node.issuers import IssuerInfo, Issuers, OwnDIDWeb
from node.key_lifecycle import KeyLifecycle
from node.keys import SETTING as MASTER_KEY_SETTING
from node.keys import MasterKey, new_master_record, open_master
from node.oid4vci import CredentialIssuer
from node.observe import ACCREDITATIONS, DID_DOCUMENT, NO_OBSERVER, STATUS_LIST, ObservedFetches, Observer, timed_offload
from node.offload import OPERATOR, PUBLIC, Offload, shared_offload
from node.own_lists import OwnStatusLists
from node.records import CredentialRecords
from node.status_changes import StatusChanges
from node.statuslists import StatusLists
from node.store import DB_FILENAME, Database, StoreError, StoreUnavailable, open_database, schema_version, store_present
from node.store import settings as setting_rows
from node.tokens import Tokens
from node.trust import Trust
from node.verification import CheckStatus, Verification
from status.check import StatusChecker
from vc.credentials import verify_credential
from vc.edu import REPORTERS
from vc.loader import ContextLoader, default_loader

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# How often a serving node re-signs lists left stale by a process that died between committing
# a change and re-signing (another replica, or a worker of its own): start-up alone would leave
# them stale until a restart, and every replica serves them meanwhile.
REPAIR_PERIOD_S = 3.0


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Node:
    config: Config
    db: Database
    clock: Clock
    loader: ContextLoader
    resolver: Resolver
    http: GuardedHTTP | None  # None: offline (CLI operations); no did:web or status-list fetches
    check_status: CheckStatus | None
    issuers: Issuers
    status_lists: StatusLists
    issuance: Issuance
    status: StatusChanges
    credentials: CredentialRecords
    tokens: Tokens
    challenges: Challenges
    verification: Verification
    achievements: Achievements
    trust: Trust
    oid4vci: CredentialIssuer
    keys: KeyLifecycle
    # What the node reports (node.observe): metrics when the app has them, else nothing.
    observer: Observer = NO_OBSERVER

    async def start(self) -> list[IssuerInfo]:
        """Create the ``default`` issuer if missing and re-sign any list a crash left stale
        (idempotent; ``open_node`` and ``create_app`` call it)."""
        await self.issuers.ensure_default()
        try:
            await self.status_lists.republish_pending()
        except StoreUnavailable as e:
            if getattr(self.db, "read_only", None) is None:
                raise
            # A read-only store still serves what it has: the lists as last published.
            log.warning("status lists a crash left unpublished cannot be re-signed now: %s", e)
        return await self.issuers.list()

    async def schema_version(self) -> int:
        """The number of store migrations applied (``GET /healthz``: the store answers);
        ``node.store.StoreUnavailable`` when it does not."""
        return await schema_version(self.db)


async def repair_stale_lists(
    status_lists: StatusLists,
    *,
    period: float = REPAIR_PERIOD_S,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Re-sign, every ``period`` seconds, the lists a dead process left stale
    (``StatusLists.republish_pending``); runs until cancelled. A list being re-signed by its
    own process meanwhile is found published and left (the store keeps the later version)."""
    unavailable = False
    while True:
        await sleep(period)
        try:
            repaired = await status_lists.republish_pending()
        except StoreUnavailable as e:
            # Said once per outage, not every period; requests report it meanwhile.
            if not unavailable:
                log.warning("stale status lists cannot be re-signed while the store does not answer: %s", e)
            unavailable = True
            continue
        except Exception:  # keep repairing; a failure is logged and retried next period
            log.exception("re-signing stale status lists failed")
            continue
        unavailable = False
        if repaired:
            log.warning("re-signed %d status list(s) that a stopped process left stale", repaired)


@asynccontextmanager
async def repairing_lists(node: "Node", *, period: float = REPAIR_PERIOD_S) -> AsyncIterator[None]:
    """``repair_stale_lists`` running beside the block, cancelled when it ends; not for a store
    opened read-only (nothing could be re-signed)."""
    if getattr(node.db, "read_only", None):
        yield
        return
    task = asyncio.get_running_loop().create_task(repair_stale_lists(node.status_lists, period=period), name="vcnode-list-repair")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def compose(
    config: Config,
    *,
    db: Database,
    master_key: MasterKey,
    clock: Clock = utc_now,
    loader: ContextLoader | None = None,
    http: Any = None,
    offload: Offload[Any] | None = None,
    observer: Observer = NO_OBSERVER,
) -> Node:
    """The node's capabilities over ``db``. With ``http`` (a ``did.http.GuardedHTTP``, or a
    stand-in with its ``get_json``), other issuers' did:web documents and status lists are
    fetched through it; without, the node resolves only did:key and its own DIDs. ``observer``
    receives what the capabilities report (``node.metrics.Metrics.observer()``)."""
    loader = loader or default_loader()
    observed = observer is not NO_OBSERVER

    def offloading(work: str, lane: str = PUBLIC) -> Offload[Any]:
        # Each capability's CPU steps timed under the work they serve; the issuer's own work on
        # the operator lane, so that public verifications cannot queue it (node.offload).
        pool = offload or shared_offload(lane)
        return timed_offload(pool, work, observer.offload_step) if observed else pool

    def fetching(kind: str) -> Any:
        # Each kind of remote document gets the same client, its fetches reported under that kind.
        return ObservedFetches(http, kind, observer.fetched) if observed and http is not None else http

    def cache_observer(kind: str) -> Any:
        return observer.cache_observer(kind) if observed else None

    base_url = config.effective_base_url
    issuers = Issuers(
        db,
        base_url=base_url,
        default_purposes=config.status_purposes,
        master_key=master_key,
        clock=clock,
        refresh_seconds=config.issuer_refresh_ms / 1000,
    )
    web = None
    if http is not None:
        # Other issuers' DID documents are kept as their Cache-Control allows (5 minutes when
        # it says nothing, never more than an hour): verifying a batch from one university
        # must not fetch its did.json once per credential.
        did_cache: TTLCache[dict[str, Any]] = TTLCache(time.monotonic, max_entries=1024, observe=cache_observer(DID_DOCUMENT))
        web = DIDWebResolver(fetching(DID_DOCUMENT), cache=did_cache)
    resolver = Resolver({"key": DIDKeyResolver(), "web": OwnDIDWeb(issuers, web)})
    status_lists = StatusLists(
        db,
        base_url=base_url,
        length=config.status_list_length,
        ttl_ms=config.status_list_ttl_ms,
        valid_for=timedelta(seconds=config.status_list_valid_seconds) if config.status_list_valid_seconds else None,
        identity=issuers.signing_identity,
        loader=loader,
        clock=clock,
        offload=offloading("status-list", OPERATOR),
        observe_published=observer.list_published if observed else None,
    )
    check_status = None
    if http is not None:
        check_status = StatusChecker(
            # The node's own lists come from its store (node.own_lists), the rest over HTTP.
            OwnStatusLists(status_lists, fetching(STATUS_LIST)),
            resolver,
            loader,
            clock,
            max_staleness=timedelta(seconds=config.status_max_staleness_seconds),
            min_length=config.status_min_list_entries,
            any_publisher=config.status_list_publishers == "any",
            # The list's own proof is checked like any credential's: its heavy steps off the loop.
            verify_credential=functools.partial(verify_credential, offload=offloading("verify")),
            observe_cache=cache_observer(STATUS_LIST),
        ).check
    issuance = Issuance(
        db,
        config=config,
        clock=clock,
        loader=loader,
        issuers=issuers,
        status_lists=status_lists,
        offload=offloading("issue", OPERATOR),
        observe_issued=observer.issued if observed else None,
    )
    challenges = Challenges(db, clock=clock, ttl_seconds=config.challenge_ttl_seconds)
    verification = Verification(
        resolver=resolver,
        loader=loader,
        clock=clock,
        challenges=challenges,
        check_status=check_status,
        accept_caller_challenges=config.accept_caller_challenges,
        require_challenge=config.require_challenge,
        reporters=REPORTERS,
        offload=offloading("verify"),
    )
    status = StatusChanges(db, clock=clock, status_lists=status_lists, observe=observer.status_changed if observed else None)
    credentials = CredentialRecords(db, status_lists=status_lists)
    achievements = Achievements(db, base_url=base_url, clock=clock, issuers=issuers, issuance=issuance)
    return Node(
        config=config,
        db=db,
        clock=clock,
        loader=loader,
        resolver=resolver,
        http=http,
        check_status=check_status,
        issuers=issuers,
        status_lists=status_lists,
        issuance=issuance,
        status=status,
        credentials=credentials,
        tokens=Tokens(db, clock=clock, issuers=issuers),
        challenges=challenges,
        verification=verification,
        achievements=achievements,
        trust=Trust(
            db,
            clock=clock,
            issuers=issuers,
            verify=verification.verify_credential,
            http=fetching(ACCREDITATIONS),
            max_depth=config.trust_max_depth,
            max_staleness_seconds=config.status_max_staleness_seconds,
            observe_cache=cache_observer(ACCREDITATIONS),
            refresh_seconds=config.issuer_refresh_ms / 1000,
        ),
        oid4vci=CredentialIssuer(
            db,
            base_url=base_url,
            clock=clock,
            issuers=issuers,
            achievements=achievements,
            resolver=resolver,
            offer_ttl_seconds=config.oid4vci_offer_ttl_seconds,
            token_ttl_seconds=config.oid4vci_token_ttl_seconds,
            nonce_ttl_seconds=config.oid4vci_nonce_ttl_seconds,
        ),
        keys=KeyLifecycle(db, issuers=issuers, status_lists=status_lists, status=status, credentials=credentials),
        observer=observer,
    )


async def open_master_key(db: Database, config: Config, *, announce: bool = True) -> MasterKey:
    """The master key sealing the issuer keys: created on first use, then re-derived each start."""
    async with db.read() as tx:
        record = await setting_rows.get(tx, MASTER_KEY_SETTING)
    master = None
    if record is None:
        # Made inside the write transaction: processes starting together on an empty data
        # folder must end up with one master key, not each with its own.
        async with db.transaction() as tx:
            record = await setting_rows.get(tx, MASTER_KEY_SETTING)
            if record is None:
                master, record = await asyncio.to_thread(new_master_record, config.data_dir, config.passphrase, kdf=config.kdf)
                if not await setting_rows.put_new(tx, MASTER_KEY_SETTING, record):
                    raise StoreError("another process stored a master key at the same time; start again")
    if master is None:
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


@asynccontextmanager
async def open_node(
    config: Config,
    *,
    network: bool = True,
    announce: bool = False,
    create: bool = False,
    serving: bool = False,
    signing: bool = True,
    observer: Observer = NO_OBSERVER,
) -> AsyncIterator[Node]:
    """Open the store, the master key and, with ``network``, the guarded HTTP session; yield a
    started ``Node``; close them all. ``announce`` logs how the keys are protected (the server
    does, at start-up); ``observer`` as for ``compose``.

    Only ``create`` (``vcnode init``, ``vcnode serve``) makes a new node of a folder without a
    store; anything else refuses it with ``NotANodeError``, so a mistyped ``--data`` creates
    nothing. The node runs under the base URL its folder recorded (``node.identity``): a
    configuration naming another is refused with ``IdentityError``, and so is, when creating or
    ``serving``, a base URL on an IP address that was not explicitly allowed (and, serving a
    fresh folder on every interface, no base URL at all): checked before anything is created.
    Without ``signing`` the node is opened to read only: no master key (no passphrase needed,
    nothing can be signed) and no start-up work (``Node.start``). A ``serving`` node re-signs,
    while it is open, what another process left stale (``repair_stale_lists``).
    """
    fresh = not await store_present(config.data_dir, config.database_url)
    if fresh and not create:
        if config.database_url:
            from node.store import redact

            raise NotANodeError(
                f"the database {redact(config.database_url)} holds no vcnode store; check database_url, "
                f"or create one with: vcnode init --data {config.data_dir} --base-url URL (with the same database_url)"
            )
        raise NotANodeError(
            f"{config.data_dir} is not a vcnode data folder (there is no {DB_FILENAME} in it); check --data, "
            f"or create one with: vcnode init --data {config.data_dir} --base-url URL"
        )
    if fresh and create:
        problem = (identity.listening_problem(config) if serving else None) or identity.serving_problem(
            identity.configured_base_url(config), config.allow_insecure_hosts
        )
        if problem:
            raise identity.IdentityError(problem)
    if not config.data_dir.exists():
        # The folder holds the sealed keys and the key file: nobody else needs to list it.
        config.data_dir.mkdir(parents=True, mode=0o700)
    db = await open_database(config.data_dir, config.database_url)
    session = None
    try:
        settled = await identity.settle(db, config, clock=utc_now, record=create, signing=signing)
        if create or serving:
            problem = identity.serving_problem(settled.base_url, config.allow_insecure_hosts)
            if problem:
                raise identity.IdentityError(problem)
        config = dataclasses.replace(config, base_url=settled.base_url)
        master = await open_master_key(db, config, announce=announce) if signing else MasterKey.locked()
        http = None
        if network:
            session = create_guarded_session(allowed_insecure_hosts=config.insecure_hosts)
            http = GuardedHTTP(
                session,
                allowed_insecure_hosts=config.insecure_hosts,
                timeout=config.fetch_timeout_seconds,
                max_concurrent=config.fetch_max_concurrent,
                max_per_host=config.fetch_max_per_host,
                allowed_hosts=config.fetch_allow_hosts or None,
            )
        node = compose(config, db=db, master_key=master, clock=utc_now, http=http, observer=observer)
        if signing:
            await node.start()
        try:
            if serving and signing:
                async with repairing_lists(node):
                    yield node
            else:
                yield node
        finally:
            await node.tokens.flush()
    finally:
        if session is not None:
            await session.close()
        await db.close()
