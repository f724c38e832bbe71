"""Signing a batch of credentials on every core (issue 13): a process pool, chunk by chunk.

Signing is pure-Python canonicalization (pyld, ``vc.fastld``) under the GIL, so the node's
thread pool (``node.offload``) keeps the event loop free but signs on one core. A large batch
(``vcnode issue-batch``, ``POST /issuers/{name}/microcredentials`` with many items) is cut into
parts (``parts``) signed by a pool of processes, one per core, each with its own loader and
caches; a process sends back only the proofs. What is signed, and when, is the caller's:
issuance admits the batch in stages (``stages``) inside one admission transaction, handing
each stage's parts here as soon as their indexes are allocated (nothing is handed out before
its completing transaction, after that one), and opens its completing transaction while the
last parts (``tail``) are still signing, checking the key there (``node.issuance``); nothing
here touches the store.

The workers are started with ``forkserver`` (the node's process has threads: the store's, the
offload pool's, which a plain fork would copy in a broken state) when the first batch of
``MIN_PARALLEL`` or more comes, and live as long as the process; a batch that finds them still
starting is signed in-process unless it is large (``COLD_MIN``). The issuer's 32-byte secret
goes to them through the pool's pipe, per chunk, and is kept by nobody there after the chunk.
A batch below ``MIN_PARALLEL`` credentials, a node with a loader of its own (the workers know
only the shipped contexts), or a pool that cannot start is signed in-process (``pool_for``
says None); a chunk whose process dies is handed back to be signed in-process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, Sequence

from node.cores import unpinned_cpus, usable_cpus

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
# How a batch is cut (``parts``), each part one trip to a process: each is half of what remains
# for the processes (guided self-scheduling). The first parts are large, so that few trips are
# made (each wakes this process's pool threads and event loop, which share the cores with the
# signers: with 16 credentials per trip this process spent 8-10 ms of CPU beside a
# 256-credential batch, with 64 about 4); the last ones small, so that the processes finish
# together. Between PART_MIN and PART_MAX credentials, so that progress is reported often.
PART_MIN = 8
PART_MAX = 512
# How issuance admits a batch the pool signs (``stages``): first this many credentials per
# process, prepared and admitted before anything is signed (~5 ms on the 2-core machine of
# bench/README.md); then stages of at most GROWTH times what went before, each prepared while
# the processes sign the earlier ones (preparing takes ~25 µs a credential on an idle core,
# several times that beside two signing processes; signing ~500 µs).
FIRST_PART = 32
GROWTH = 4
# How long issuance waits, not holding the GIL, once it has handed a stage's parts to the pool:
# the pool's threads need the GIL to pickle and send them, and the thread preparing the next
# stage would keep it from them for the interpreter's switch interval (5 ms).
HANDOFF = 0.001
# How much lower the pool processes' scheduling priority is than the node's (nice(2)): the
# node's threads that feed them and take back their results wake at once, and requests served
# beside a batch are not starved by it.
NICENESS = 5


def parts(count: int, processes: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each part of a batch of ``count`` signed by ``processes``."""
    out, start = [], 0
    while start < count:
        size = max(PART_MIN, min(PART_MAX, -(-(count - start) // processes)))
        out.append((start, min(count, start + size)))
        start += size
    return out


def stages(count: int, processes: int) -> list[list[tuple[int, int]]]:
    """The parts of a batch of ``count``, grouped in the stages issuance prepares and admits
    them in (``node.issuance``): each stage's parts go to the processes as soon as the stage is
    admitted, while the next one is prepared. The first stage is one small part per process
    (``FIRST_PART``), so that every core signs within a few milliseconds; each later one is at
    most ``GROWTH`` times what went before it (it is prepared in less time than the processes
    take to sign that), cut as ``parts`` cuts a batch."""
    first = min(count, processes * FIRST_PART)
    size = -(-first // processes)
    out = [[(start, min(first, start + size)) for start in range(0, first, size)]] if first else []
    start = first
    while start < count:
        stop = min(count, start * (GROWTH + 1))
        out.append([(start + a, start + b) for a, b in parts(stop - start, processes)])
        start = stop
    return out


def tail(count: int, pool: "ProcessSigner | None") -> int:
    """How many of a batch of ``count`` credentials may still be signing when issuance opens
    its completing transaction: about as many as the processes sign while the transaction
    writes the rest (~30 µs a credential in the store, ~500 µs to sign one on each process),
    so that it holds the write lock about as long as it would after signing. 0 when one part
    signs the whole batch in-process (``pool`` None): nothing runs beside it to overlap."""
    if pool is None:
        return 0
    return min(count, max(PART_MIN, count * pool.processes // 16))


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


def _sign_chunk(seed: bytes, suite_name: str, now: datetime, items: list[tuple[JsonObject, str]]) -> tuple[bool, list[Any]]:
    """In a pool process: sign ``items`` (credential, verification method) with the key ``seed``.

    Returns ``(True, proofs)`` when each signed credential is its credential with the ``proof``
    member set (as the eddsa suites sign), else ``(False, credentials)``: the node already
    holds the credentials, and a proof is a fraction of the bytes to send back, to pickle and to
    read (a process blocks on a full pipe until the node reads it)."""
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    key = Ed25519KeyPair.from_seed(seed)
    suite, loader = SUITES[suite_name], default_loader()
    signed = [sign_one(c, key=key, verification_method=vm, suite=suite, loader=loader, now=now) for c, vm in items]
    proofs = []
    for (credential, _), document in zip(items, signed):
        rest, given = ({k: v for k, v in d.items() if k != "proof"} for d in (document, credential))
        if rest != given or list(rest) != list(given):
            return False, signed
        proofs.append(document["proof"])
    return True, proofs


def with_proofs(items: Sequence[tuple[JsonObject, str]], proofs: Sequence[Any]) -> list[JsonObject]:
    """The credentials of ``items`` with their ``proof`` (where a credential has one already,
    in its place; else last, as ``vc.proofs.add_proof`` puts it)."""
    return [{**credential, "proof": proof} for (credential, _), proof in zip(items, proofs)]


def _start(node_pid: int, cpus: frozenset[int] = frozenset()) -> None:
    # A pool process yields to the node's own processes (NICENESS). What it imports and loads
    # (the library, the contexts) lives as long as it does: set aside from the cyclic collector,
    # whose full collections would otherwise walk it again and again while the chunks are signed.
    # It runs on any of ``cpus``: the node's process that started the pool may be pinned to one
    # (node.cores), and the pool is there to use the others.
    from node.heap import settle_heap

    if cpus:
        try:
            os.sched_setaffinity(0, cpus)  # before the thread below: it inherits this
        except (AttributeError, OSError):
            pass
    _end_with(node_pid)
    os.nice(NICENESS)
    _warm()
    settle_heap()


def _end_with(pid: int) -> None:
    """End this process when the node's process ``pid`` ends, however it ends.

    A node that exits shuts its pool down, but one killed (SIGKILL, the OOM killer) cannot: its
    pool processes would wait for chunks forever, and keep the forkserver alive with them (each
    holds the forkserver's liveness pipe), two or more idle processes left for every kill. A
    thread here waits on a pidfd of the node (no PID reuse can fool it) and exits the process."""

    def wait() -> None:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(0)  # gone already
        except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): ask every second
            while True:
                time.sleep(1)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                except PermissionError:
                    pass
        select.select([fd], [], [])
        os._exit(0)

    threading.Thread(target=wait, name="vcnode-end-with-node", daemon=True).start()


def _warm() -> None:
    # Imported once per pool process, before its first chunk (the contexts, the fence).
    import vc.credentials  # noqa: F401
    from vc.loader import default_loader

    default_loader()


def default_processes() -> int:
    return usable_cpus()


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
                self._pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_start, initargs=(os.getpid(), unpinned_cpus()))
            except (OSError, ValueError) as e:  # no forkserver here, no semaphores (some sandboxes)
                log.warning("batch signing stays on one core: the process pool cannot start (%s)", e)
                self._broken = True
                return None
        return self._pool

    async def sign_chunk(
        self, items: Sequence[tuple[JsonObject, str]], *, seed: bytes, suite_name: str, now: datetime
    ) -> list[JsonObject] | None:
        """``items`` (credential, verification method) signed by one of the processes, in order;
        None when the pool cannot be had (then the caller signs in-process). A credential that
        fails to sign raises here, as in-process signing would."""
        pool = self._executor()
        if pool is None:
            return None
        try:
            only_proofs, out = await asyncio.get_running_loop().run_in_executor(pool, _sign_chunk, seed, suite_name, now, list(items))
        except BrokenProcessPool as e:
            # A worker died (killed, out of memory): nothing it signed is handed out; the caller
            # signs the chunk in-process, and later batches too.
            if not self._broken:
                log.error("the signing processes stopped (%s); signing on one core from now on", e)
            self.close()
            self._broken = True
            return None
        return with_proofs(items, out) if only_proofs else out

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


def pool_for(count: int, loader: Any, signer: ProcessSigner | None = None) -> ProcessSigner | None:
    """The pool that signs a batch of ``count`` credentials (``signer``, else the process's own),
    or None when one core signs it: a batch below ``MIN_PARALLEL``, a loader of the node's own
    (the processes know only the shipped contexts), one core, a pool that cannot start, or a
    pool still starting for a batch below ``COLD_MIN`` (started here for the next batch)."""
    from vc.loader import default_loader

    if count < MIN_PARALLEL or loader is not default_loader():
        return None
    signer = signer or shared_signer()
    if signer.processes < 2:
        return None
    if not signer.ready and count < COLD_MIN:
        signer.start()  # for the next batch; this one would wait longer for the pool than it takes here
        return None
    return signer if signer.start() else None
