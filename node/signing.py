"""Signing a batch of credentials on every core (issue 13): a process pool behind one function.

Signing is pure-Python canonicalization (pyld, ``vc.fastld``) under the GIL, so the node's
thread pool (``node.offload``) keeps the event loop free but signs on one core. A large batch
(``vcnode issue-batch``, ``POST /issuers/{name}/microcredentials`` with many items) is cut into
chunks signed by a pool of processes, one per core, each with its own loader and caches; the
results come back in order. What is signed, and when, is the caller's as before: issuance
admits (records and allocates) the credentials in a committed transaction first, hands them
here, and checks the key again afterwards (``node.issuance``); nothing here touches the store.

The workers are started with ``forkserver`` (the node's process has threads: the store's, the
offload pool's, which a plain fork would copy in a broken state) when the first batch of
``MIN_PARALLEL`` or more comes, and live as long as the process; a batch that finds them still
starting is signed in-process unless it is large (``COLD_MIN``). The issuer's 32-byte secret goes to them through the pool's pipe, per chunk, and
is kept by nobody there after the chunk. A batch below ``MIN_PARALLEL`` credentials, a node with
a loader of its own (the workers know only the shipped contexts), or a pool that cannot start
is signed in-process, through the caller's ``in_process``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

VC_V1 = "https://www.w3.org/2018/credentials/v1"
# Below this many credentials one core signs: a chunk's trip to a process (pickling the
# credentials and back, ~0.1 ms each) and waking the pool cost more than the cores give back.
MIN_PARALLEL = 32
# Starting the pool (a forkserver, then each process importing the library) costs about as much
# as signing this many credentials on one core (~0.8 s on the 2-core machine of bench/README.md):
# a smaller batch finding the pool cold is signed in-process while the pool starts beside it.
COLD_MIN = 1024
# Credentials per chunk: small enough to keep every process busy to the end and to report
# progress often, large enough that the trip costs little beside ~0.5 ms of signing each.
CHUNK = 16


def sign_one(credential: JsonObject, *, key: Any, verification_method: str, suite: Any, loader: Any, now: datetime) -> JsonObject:
    """The credential with its proof: VC 2.0 through ``vc.credentials.issue_credential``; a 1.1
    credential the operator asked for is signed as 1.1 (its data model checked by issuance)."""
    from vc.credentials import issue_credential
    from vc.proofs import add_proof

    if credential["@context"][0] == VC_V1:
        return add_proof(
            credential, suite=suite, key=key, verification_method=verification_method, purpose="assertionMethod",
            created=now, loader=loader,
        )
    return issue_credential(credential, key=key, verification_method=verification_method, suite=suite, loader=loader, now=now)


def _sign_chunk(seed: bytes, suite_name: str, now: datetime, items: list[tuple[JsonObject, str]]) -> list[JsonObject]:
    """In a pool process: sign ``items`` (credential, verification method) with the key ``seed``."""
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    key = Ed25519KeyPair.from_seed(seed)
    suite, loader = SUITES[suite_name], default_loader()
    return [sign_one(c, key=key, verification_method=vm, suite=suite, loader=loader, now=now) for c, vm in items]


def _warm() -> None:
    # Imported once per pool process, before its first chunk (the contexts, the fence).
    import vc.credentials  # noqa: F401
    from vc.loader import default_loader

    default_loader()


def default_processes() -> int:
    return os.cpu_count() or 1


class ProcessSigner:
    """The process pool, made on first use with ``processes`` workers (default: the cores)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or default_processes()
        self._pool: Executor | None = None
        self._broken = False
        self._warming: list[Any] = []  # one warm-up per process, submitted when the pool is made

    @property
    def ready(self) -> bool:
        """The pool's processes have started and imported the library."""
        return self._pool is not None and bool(self._warming) and all(f.done() for f in self._warming)

    def start(self) -> bool:
        """Make the pool and start its processes (without waiting); False if it cannot be had."""
        pool = self._executor()
        if pool is not None and not self._warming:
            self._warming = [pool.submit(_warm) for _ in range(self.processes)]
        return pool is not None

    async def warm(self) -> bool:
        """``start`` and wait until every process is up; False if the pool cannot be had."""
        if not self.start():
            return False
        try:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in self._warming))
        except BrokenProcessPool:
            self.close()
            self._broken = True
            return False
        return True

    def _executor(self) -> Executor | None:
        if self._broken:
            return None
        if self._pool is None:
            try:
                context = multiprocessing.get_context("forkserver")
                self._pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_warm)
            except (OSError, ValueError) as e:  # no forkserver here, no semaphores (some sandboxes)
                log.warning("batch signing stays on one core: the process pool cannot start (%s)", e)
                self._broken = True
                return None
        return self._pool

    async def sign(
        self,
        items: Sequence[tuple[JsonObject, str]],
        *,
        seed: bytes,
        suite_name: str,
        now: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> list[JsonObject] | None:
        """The signed credentials in order, or None when the pool cannot be had (then the caller
        signs in-process). A credential that fails to sign raises here, as in-process signing would."""
        pool = self._executor()
        if pool is None:
            return None
        loop = asyncio.get_running_loop()
        chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]

        async def run(chunk: list[tuple[JsonObject, str]]) -> list[JsonObject]:
            signed = await loop.run_in_executor(pool, _sign_chunk, seed, suite_name, now, chunk)
            if progress is not None:
                for _ in signed:
                    progress(1)
            return signed

        try:
            results = await asyncio.gather(*(run(c) for c in chunks))
        except BrokenProcessPool as e:
            # A worker died (killed, out of memory): nothing of this batch is handed out from the
            # pool; the caller signs it in-process, and later batches do too.
            log.error("the signing processes stopped (%s); signing on one core from now on", e)
            self.close()
            self._broken = True
            return None
        return [c for chunk in results for c in chunk]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._warming = []


_shared: ProcessSigner | None = None


def shared_signer() -> ProcessSigner:
    global _shared
    if _shared is None:
        _shared = ProcessSigner()
    return _shared


def _forget_after_fork() -> None:
    # A worker forked from a process that had a pool (vcnode serve --workers) makes its own.
    global _shared
    _shared = None


os.register_at_fork(after_in_child=_forget_after_fork)


async def sign_batch(
    items: Sequence[tuple[JsonObject, str]],
    *,
    key: Any,
    suite_name: str,
    loader: Any,
    now: datetime,
    in_process: Callable[[], Awaitable[list[JsonObject]]],
    progress: Callable[[int], None] | None = None,
    signer: ProcessSigner | None = None,
) -> list[JsonObject]:
    """Sign ``items`` (credential, verification method) with ``key``: on every core when the
    batch is large enough (``MIN_PARALLEL`` with the pool running, ``COLD_MIN`` to start it and
    wait), else (or when the pool cannot be had) through ``in_process``."""
    from vc.loader import default_loader

    if len(items) < MIN_PARALLEL or loader is not default_loader():
        return await in_process()
    signer = signer or shared_signer()
    if signer.processes < 2:
        return await in_process()
    if not signer.ready and len(items) < COLD_MIN:
        signer.start()  # for the next batch; this one would wait longer for the pool than it takes here
        return await in_process()
    signed = await signer.sign(items, seed=key.seed, suite_name=suite_name, now=now, progress=progress)
    return signed if signed is not None else await in_process()
