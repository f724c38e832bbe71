"""Signing a batch of credentials on every core (issue 13): a process pool, part by part.

Signing is pure-Python canonicalization (pyld, ``vc.fastld``) under the GIL, so the node's
thread pool (``node.offload``) keeps the event loop free but signs on one core. A large batch
(``vcnode issue-batch``, ``POST /issuers/{name}/microcredentials`` with many items) is signed
by a pool of processes, one per core, each with its own loader and caches; a process sends
back only the proofs. What is signed, and when, is the caller's: issuance admits the batch in
stages (``stages``) inside one admission transaction, queuing each stage's units (``units``)
here as soon as their indexes are allocated (nothing is handed out before its completing
transaction, after that one), and opens its completing transaction while the last parts
(``tail``) are still signing, checking the key there (``node.issuance``); nothing here touches
the store. The pool (``ProcessSigner``) sends the queued units to the processes in parts, cut
when a process asks for its next one.

The processes are started with ``forkserver`` (the node's process has threads: the store's, the
offload pool's, which a plain fork would copy in a broken state) when the first batch of
``MIN_PARALLEL`` or more comes, and live as long as the process; a batch that finds them still
starting is signed in-process unless it is large (``COLD_MIN``). Each talks with the node over
a socket pair that the node's event loop reads and writes itself: no thread of the node waits
on the GIL to hand a part over or to take an answer back. The issuer's 32-byte secret goes to
them with each part, and is kept by nobody there after the part. A batch below ``MIN_PARALLEL``
credentials, a node with a loader of its own (the processes know only the shipped contexts), or
a pool that cannot start is signed in-process (``pool_for`` says None); the units of a process
that dies are handed back to be signed in-process.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import pickle
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Awaitable, Callable, Sequence

from node.cores import unpinned_cpus, usable_cpus

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

VC_V1 = "https://www.w3.org/2018/credentials/v1"
# Below this many credentials one core signs: a part's trip to a process (pickling the
# credentials and back, ~0.1 ms each) and waking the pool cost more than the cores give back.
MIN_PARALLEL = 32
# Starting the pool (a forkserver importing the library, then the processes forked from it and
# loading the contexts) costs about as much as signing several hundred credentials on one core
# (0.3-0.4 s on the 2-core machine of bench/README.md; 0.5-0.8 s while each process imported the
# library itself, when this was chosen):
# a smaller batch finding the pool cold is signed in-process while the pool starts beside it.
COLD_MIN = 1024
# How the pool cuts what is queued into parts (``ProcessSigner._cut``), each part one trip to a
# process: when a process asks, 1 / processes of what is queued for the batch (guided
# self-scheduling; a quarter with two processes measured 1.5-2 % slower, bench/README.md).
# The first parts are large, so that few trips are made (each wakes this process's event loop,
# which shares the cores with the signers); the last ones small, so that the processes finish
# together. Between PART_MIN (a unit: what issuance queues at a time, ``units``) and PART_MAX
# credentials, so that progress is reported often.
PART_MIN = 8
PART_MAX = 512
# How issuance admits a batch the pool signs (``stages``): first this many credentials per
# process, prepared and admitted before anything is signed (~5 ms on the 2-core machine of
# bench/README.md); then stages of at most GROWTH times what went before, each prepared while
# the processes sign the earlier ones (preparing takes ~25 µs a credential on an idle core,
# several times that beside two signing processes; signing ~500 µs).
FIRST_PART = 32
GROWTH = 4
# How much lower the pool processes' scheduling priority is than the node's (nice(2)): the
# node's event loop, which feeds them and takes back their answers, wakes at once, and requests
# served beside a batch are not starved by it.
NICENESS = 5
# A pool process asks for its next part when this many credentials of its part are left to sign
# (~1 ms): the node cuts it then, from what is queued, and it is there when the process is done.
LOOKAHEAD = 2
# What the forkserver imports before it forks the pool's processes (``ProcessSigner.start``):
# the library they sign with, imported once there instead of once in each process (~0.25 s of
# CPU each on the 2-core machine of bench/README.md, while the node is busy with the batch that
# started the pool). ``__main__`` is multiprocessing's own default.
PRELOAD = ["__main__", "node.heap", "node.signing", "vc.credentials", "vc.cryptosuites", "vc.loader", "vc.proofs"]
_FRAME = struct.Struct(">Q")


def units(count: int, start: int = 0) -> list[tuple[int, int]]:
    """``(start, stop)`` of each unit of ``PART_MIN`` credentials of ``start``..``count``: what a
    caller hands the pool (``ProcessSigner.sign_chunk``), which sends several together."""
    return [(i, min(count, i + PART_MIN)) for i in range(start, count, PART_MIN)]


def stages(count: int, processes: int) -> list[list[tuple[int, int]]]:
    """The units of a batch of ``count`` (``units``), grouped in the stages issuance prepares
    and admits them in (``node.issuance``): each stage's units go to the pool as soon as the
    stage is admitted, while the next one is prepared. The first stage is ``FIRST_PART``
    credentials per process, so that every core signs within a few milliseconds; each later
    one is at most ``GROWTH`` times what went before it (it is prepared in less time than the
    processes take to sign that)."""
    out, start = [], 0
    while start < count:
        stop = min(count, start * (GROWTH + 1) if start else processes * FIRST_PART)
        out.append(units(stop, start))
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


def _sign_chunk(
    seed: bytes, suite_name: str, now: datetime, items: list[tuple[JsonObject, str]], near_end: Callable[[], None] | None = None
) -> tuple[bool, list[Any]]:
    """In a pool process: sign ``items`` (credential, verification method) with the key ``seed``.

    Returns ``(True, proofs)`` when each signed credential is its credential with the ``proof``
    member set (as the eddsa suites sign), else ``(False, credentials)``: the node already
    holds the credentials, and a proof is a fraction of the bytes to send back, to pickle and to
    read (a process blocks on a full channel until the node reads it). ``near_end()`` is called
    when ``LOOKAHEAD`` credentials are left to sign."""
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    key = Ed25519KeyPair.from_seed(seed)
    suite, loader = SUITES[suite_name], default_loader()
    signed = []
    for left, (c, vm) in zip(range(len(items), 0, -1), items):
        if left == LOOKAHEAD and near_end is not None:
            near_end()
        signed.append(sign_one(c, key=key, verification_method=vm, suite=suite, loader=loader, now=now))
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


def _start(node_pid: int, cpus: frozenset[int]) -> None:
    # A pool process yields to the node's own processes (NICENESS). What it imports and loads
    # (the library, the contexts) lives as long as it does: set aside from the cyclic collector,
    # whose full collections would otherwise walk it again and again while the parts are signed.
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
    pool processes would wait for parts forever, and keep the forkserver alive with them (each
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
    # Before a pool process's first part: the library (already there when the forkserver
    # preloaded it, ``PRELOAD``; not when that forkserver was running before the pool) and
    # the contexts, which each process loads for itself.
    import vc.credentials  # noqa: F401
    from vc.loader import default_loader

    default_loader()


def default_processes() -> int:
    return usable_cpus()


def _frame(message: Any) -> bytes:
    """``message`` as it goes over a pool process's channel: its pickle's length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(data)) + data


def _write(out: IO[bytes], message: Any) -> None:
    out.write(_frame(message))
    out.flush()


def _read(source: IO[bytes]) -> Any:
    head = source.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError
    size = _FRAME.unpack(head)[0]
    data = source.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _serve(channel: socket.socket, node_pid: int, cpus: frozenset[int]) -> None:
    """A pool process: sign the parts the node sends over ``channel`` until it closes it.

    Messages, each a length-prefixed pickle. From the node: ``(part, seed, suite name, now,
    items)``. To the node: ``("ready",)`` once started; ``("more",)`` when ``LOOKAHEAD``
    credentials of a part are left, so that the next part is cut and on its way before this
    one is done; ``("done", part, only_proofs, out)`` (``_sign_chunk``'s answer) or
    ``("failed", part, exception)``."""
    _start(node_pid, cpus)
    stream = channel.makefile("rwb")
    try:
        _write(stream, ("ready",))
        while True:
            part, seed, suite_name, now, items = _read(stream)
            try:
                only_proofs, out = _sign_chunk(seed, suite_name, now, items, near_end=lambda: _write(stream, ("more",)))
            except Exception as e:  # the node raises it where in-process signing would have
                try:
                    pickle.loads(pickle.dumps(e))
                except Exception:  # one that does not survive the trip: said as text
                    e = RuntimeError(f"{type(e).__name__}: {e}")
                _write(stream, ("failed", part, e))
            else:
                _write(stream, ("done", part, only_proofs, out))
    except (EOFError, OSError):  # the node closed the pool, or is gone
        pass


@dataclass(eq=False)
class _Unit:
    """Credentials of one caller (``ProcessSigner.sign_chunk``) waiting for a process; units of one
    batch (the same key, suite and time) are signed together, as many as one part takes."""

    items: list[tuple[JsonObject, str]]
    batch: tuple[bytes, str, datetime]
    future: "asyncio.Future[tuple[bool, list[Any]] | None]"


@dataclass(eq=False)
class _Process:
    process: Any
    channel: socket.socket
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    writer: asyncio.StreamWriter | None = None
    reader: "asyncio.Task[None] | None" = None
    parts: dict[int, list[_Unit]] = field(default_factory=dict)  # sent, not yet answered
    hungry: bool = False  # asked for a part (ready, or ``LOOKAHEAD`` from the end of its last)


class ProcessSigner:
    """The process pool, made on first use with ``processes`` processes (default: the cores).

    Fed from the event loop (no threads): callers queue their credentials (``sign_chunk``) and a
    process is handed the next part when it asks for one, shortly before it finishes the part
    it signs, so that parts are cut as late as possible. A part is a run of queued units of one
    batch: ``1 / processes`` of what is queued for the batch (between ``PART_MIN`` and
    ``PART_MAX`` credentials). The end of a batch is then cut small and taken by whichever
    process is free, rather than queued early behind a process that the node's own work slows."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or default_processes()
        self._procs: list[_Process] = []
        self._queue: collections.deque[_Unit] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broken = False
        self._closing = False
        self._next_part = 0
        self._feeding = False

    @property
    def pids(self) -> list[int]:
        return [p.process.pid for p in self._procs]

    @property
    def ready(self) -> bool:
        """The pool's processes have started and imported the library."""
        return bool(self._procs) and all(p.ready.is_set() for p in self._procs)

    def start(self) -> bool:
        """Make the pool and start its processes (without waiting); False if it cannot be had."""
        if self._broken:
            return False
        loop = asyncio.get_running_loop()
        if self._procs and self._loop is not loop:  # made under another event loop (a test's): not usable here
            self.close()
        if self._procs:
            return True
        multiprocessing.active_children()  # reaps the processes of a pool closed earlier
        self._closing = False
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs
            for _ in range(self.processes):
                ours, theirs = socket.socketpair()
                process = context.Process(target=_serve, args=(theirs, os.getpid(), unpinned_cpus()), name="vcnode-signer", daemon=True)
                try:
                    process.start()
                finally:
                    theirs.close()
                proc = _Process(process, ours)
                self._procs.append(proc)
                proc.reader = loop.create_task(self._listen(proc), name="vcnode-signer-reader")
        except (OSError, ValueError) as e:  # no forkserver here, no socket pairs (some sandboxes)
            log.warning("batch signing stays on one core: the process pool cannot start (%s)", e)
            self.close()
            self._broken = True
            return False
        self._loop = loop
        return True

    async def warm(self) -> bool:
        """``start`` and wait until every process is up; False if the pool cannot be had."""
        if not self.start():
            return False
        procs = list(self._procs)
        for proc in procs:
            ready = asyncio.ensure_future(proc.ready.wait())
            assert proc.reader is not None
            await asyncio.wait({ready, proc.reader}, return_when=asyncio.FIRST_COMPLETED)  # up, or gone
            ready.cancel()
            if not proc.ready.is_set():
                return False
        return self._procs == procs

    def sign_chunk(
        self, items: Sequence[tuple[JsonObject, str]], *, seed: bytes, suite_name: str, now: datetime
    ) -> Awaitable[list[JsonObject] | None]:
        """``items`` (credential, verification method) signed by one of the processes, in order;
        None when the pool cannot be had (then the caller signs in-process). A credential that
        fails to sign raises there, as in-process signing would. Queued now, not when awaited:
        the units a caller queues in one turn of the loop are handed out at its next turn,
        before whatever the caller does after yielding."""
        if not self.start():
            return _nothing()
        unit = _Unit(list(items), (seed, suite_name, now), asyncio.get_running_loop().create_future())
        self._queue.append(unit)
        if not self._feeding:  # once the caller's other units are queued too (the same turn of the loop)
            self._feeding = True
            asyncio.get_running_loop().call_soon(self._feed)
        return self._signed(unit)

    @staticmethod
    async def _signed(unit: _Unit) -> list[JsonObject] | None:
        answer = await unit.future
        if answer is None:
            return None
        only_proofs, out = answer
        return with_proofs(unit.items, out) if only_proofs else out

    async def _listen(self, proc: _Process) -> None:
        try:
            reader, proc.writer = await asyncio.open_unix_connection(sock=proc.channel, limit=2**16)
            while True:
                size = _FRAME.unpack(await reader.readexactly(_FRAME.size))[0]
                message = pickle.loads(await reader.readexactly(size))
                kind = message[0]
                if kind == "ready":
                    proc.ready.set()
                    proc.hungry = True
                elif kind == "more":
                    proc.hungry = True
                else:
                    units = proc.parts.pop(message[1])
                    if kind == "done":
                        self._answer(units, message[2], message[3])
                    else:
                        for unit in units:
                            if not unit.future.done():
                                unit.future.set_exception(message[2])
                    if not proc.parts:
                        proc.hungry = True
                self._feed()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the process died (killed, out of memory), or its channel broke
            if not self._closing:
                # Nothing it signed is handed out; the callers sign in-process, and later batches too.
                log.error("the signing processes stopped (process %s: %s); signing on one core from now on", proc.process.pid,
                          "it ended" if isinstance(e, asyncio.IncompleteReadError) else e)
                self.close()
                self._broken = True

    @staticmethod
    def _answer(units: list[_Unit], only_proofs: bool, out: list[Any]) -> None:
        start = 0
        for unit in units:
            stop = start + len(unit.items)
            if not unit.future.done():  # a caller gone away (an abandoned batch) takes nothing
                unit.future.set_result((only_proofs, out[start:stop]))
            start = stop

    def _feed(self) -> None:
        """Hand a part to each process that asked for one, while units are queued."""
        self._feeding = False
        for proc in [p for p in self._procs if p.hungry and p.ready.is_set() and p.writer is not None]:
            part = self._cut()
            if not part:
                return
            self._next_part += 1
            proc.parts[self._next_part] = part
            proc.hungry = False
            seed, suite_name, now = part[0].batch
            assert proc.writer is not None
            proc.writer.write(_frame((self._next_part, seed, suite_name, now, [i for u in part for i in u.items])))

    def _cut(self) -> list[_Unit]:
        """The next part: units from the front of the queue, of the first unit's batch."""
        while self._queue and self._queue[0].future.done():  # callers gone away
            self._queue.popleft()
        if not self._queue:
            return []
        batch = self._queue[0].batch
        queued = sum(len(u.items) for u in self._queue if u.batch == batch and not u.future.done())
        size = max(PART_MIN, min(PART_MAX, -(-queued // self.processes)))
        part: list[_Unit] = []
        taken = 0
        while self._queue and taken < size and self._queue[0].batch == batch:
            unit = self._queue.popleft()
            if not unit.future.done():
                part.append(unit)
                taken += len(unit.items)
        return part

    def close(self) -> None:
        """Stop the processes (each ends when its channel closes); what is queued or out is
        answered None, to be signed in-process."""
        self._closing = True
        procs, self._procs = self._procs, []
        live = self._loop is not None and not self._loop.is_closed()
        for proc in procs:
            if live and proc.reader is not None and proc.reader is not _current_task():
                proc.reader.cancel()
            if live and proc.writer is not None:
                proc.writer.close()
            else:  # the loop that served it is gone (a test's): its transport cannot be closed through it
                proc.channel.close()
            for units in proc.parts.values():
                self._queue.extend(units)
        queued, self._queue = self._queue, collections.deque()
        if live:
            for unit in queued:
                if not unit.future.done():
                    unit.future.set_result(None)


async def _nothing() -> None:
    return None


def _current_task() -> "asyncio.Task[Any] | None":
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None


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


def _pool_wanted(count: int, loader: Any, signer: ProcessSigner | None) -> ProcessSigner | None:
    from vc.loader import default_loader

    if count < MIN_PARALLEL or loader is not default_loader():
        return None
    signer = signer or shared_signer()
    return signer if signer.processes >= 2 else None


def pool_for(count: int, loader: Any, signer: ProcessSigner | None = None) -> ProcessSigner | None:
    """The pool that signs a batch of ``count`` credentials (``signer``, else the process's own),
    or None when one core signs it: a batch below ``MIN_PARALLEL``, a loader of the node's own
    (the processes know only the shipped contexts), one core, a pool that cannot start, or a
    pool still starting for a batch below ``COLD_MIN`` (started here for the next batch)."""
    signer = _pool_wanted(count, loader, signer)
    if signer is None:
        return None
    if not signer.ready and count < COLD_MIN:
        signer.start()  # for the next batch; this one would wait longer for the pool than it takes here
        return None
    return signer if signer.start() else None


def start_for(count: int, loader: Any, signer: ProcessSigner | None = None) -> None:
    """Start the pool now for a batch of about ``count`` credentials that comes later (``vcnode
    issue-batch`` knows its rows before it checks them): the processes start while the rows are
    checked, instead of after."""
    signer = _pool_wanted(count, loader, signer)
    if signer is not None:
        signer.start()
