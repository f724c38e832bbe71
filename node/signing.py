"""Signing a batch of credentials on every core (issue 13): a process pool, a credential at a time.

Signing is pure-Python canonicalization (pyld, ``vc.fastld``) under the GIL, so the node's
thread pool (``node.offload``) keeps the event loop free but signs on one core. A large batch
(``vcnode issue-batch``, ``POST /issuers/{name}/microcredentials`` with many items) is signed
by a pool of processes, one per core, each with its own loader and caches; a process sends
back only the proofs. What is signed, and when, is the caller's: issuance admits the batch in
stages (``stages``) inside one admission transaction, queuing each stage's units (``units``)
here as soon as their indexes are allocated (nothing is handed out before its completing
transaction, after that one), and opens its completing transaction while the last credentials
(``tail``) are still signing, checking the key there (``node.issuance``); nothing here touches
the store. The pool (``ProcessSigner``) sends what is queued to every process and a claim for
each credential down a pipe the processes read in turn (``_Worker``): each takes the next
credential when it is done with one, so that they finish a batch together.

The processes are started with ``forkserver`` (the node's process has threads: the store's, the
offload pool's, which a plain fork would copy in a broken state) when the first batch of
``MIN_PARALLEL`` or more comes, and live as long as the process; a batch that finds them still
starting is signed in-process unless it is large (``COLD_MIN``). Each talks with the node over
a socket pair that the node's event loop reads and writes itself: no thread of the node waits
on the GIL to hand work over or to take an answer back. The issuer's 32-byte secret goes to
them with each batch, and is kept by nobody there once the node has forgotten the batch (all
its credentials answered, or its callers gone). A batch below ``MIN_PARALLEL``
credentials, a node with a loader of its own (the processes know only the shipped contexts), or
a pool that cannot start is signed in-process (``pool_for`` says None); when a process dies,
what is not answered yet is handed back to be signed in-process.
"""

from __future__ import annotations

import asyncio
import array
import bisect
import collections
import fcntl
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import socket
import struct
import termios
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Sequence

from node.cores import unpinned_cpus, usable_cpus

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

VC_V1 = "https://www.w3.org/2018/credentials/v1"
# Below this many credentials one core signs: the trip to the processes (pickling the
# credentials and back, ~0.1 ms each) and waking the pool cost more than the cores give back.
MIN_PARALLEL = 32
# Starting the pool (a forkserver importing the library, then the processes forked from it and
# loading the contexts) costs about as much as signing several hundred credentials on one core
# (0.3-0.4 s on the 2-core machine of bench/README.md; 0.5-0.8 s while each process imported the
# library itself, when this was chosen):
# a smaller batch finding the pool cold is signed in-process while the pool starts beside it.
COLD_MIN = 1024
# What issuance queues at a time (``units``): a caller's future each, answered as a whole.
PART_MIN = 8
# A pool process sends back what it signed every REPLY_EVERY credentials (and whenever it has
# nothing to take next): each answer wakes this process's event loop, which shares the cores
# with the signers, and lets issuance write those bodies and report progress.
REPLY_EVERY = 32
# Items go to the processes in messages of at most SLICE credentials: a process reads the next
# one when it claims a credential it does not hold yet, so that a large stage waits as bytes in
# its channel rather than as objects in its memory.
SLICE = 64
# Claims out at once (taken or waiting on the claims pipe, not answered), per process: topped up
# as answers come back. Enough that a process never waits for one while the node's loop wakes
# to take an answer; few enough that a batch whose callers went away stops at once.
CLAIMS_AHEAD = 2 * REPLY_EVERY
# How issuance admits a batch the pool signs (``stages``): first this many credentials per
# process, prepared and admitted before anything is signed, one core working while the others
# wait; then stages of at most GROWTH times what went before, each prepared while the
# processes sign the earlier ones (preparing takes ~25 µs a credential on an idle core, several
# times that beside two signing processes; signing ~350 µs). 16 and 3 against 32 and 4: the
# first claims out 2.7-7.8 ms sooner in a batch of 256 (small credentials, micro-credentials),
# the two CPUs' idle share 1.7-2.0 points lower (bench/README.md, thirteenth pass).
FIRST_PART = 16
GROWTH = 3
# How much lower the pool processes' scheduling priority is than the node's (nice(2)): the
# node's event loop, which feeds them and takes back their answers, wakes at once, and requests
# served beside a batch are not starved by it.
NICENESS = 5
# What the forkserver imports before it forks the pool's processes (``ProcessSigner.start``):
# the library they sign with, imported once there instead of once in each process (~0.25 s of
# CPU each on the 2-core machine of bench/README.md, while the node is busy with the batch that
# started the pool). ``__main__`` is multiprocessing's own default.
PRELOAD = ["__main__", "node.heap", "node.signing", "vc.credentials", "vc.cryptosuites", "vc.loader", "vc.proofs"]
_FRAME = struct.Struct(">Q")
_CLAIM = struct.Struct(">QQ")  # batch id, index in the batch
_CLAIMS_A_WRITE = select.PIPE_BUF // _CLAIM.size


def units(count: int, start: int = 0) -> list[tuple[int, int]]:
    """``(start, stop)`` of each unit of ``PART_MIN`` credentials of ``start``..``count``: what a
    caller hands the pool (``ProcessSigner.sign_chunk``), which sends those of a turn together."""
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


def _signed_or_proof(credential: JsonObject, verification_method: str, *, key: Any, suite: Any, loader: Any, now: datetime) -> tuple[bool, Any]:
    """In a pool process: ``credential`` signed, as ``(True, proof)`` when the signed document is
    the credential with its ``proof`` member set (as the eddsa suites sign), else ``(False,
    document)``: the node already holds the credential, and a proof is a fraction of the bytes
    to send back, to pickle and to read (a process blocks on a full channel until the node
    reads it)."""
    document = sign_one(credential, key=key, verification_method=verification_method, suite=suite, loader=loader, now=now)
    rest, given = ({k: v for k, v in d.items() if k != "proof"} for d in (document, credential))
    if rest != given or list(rest) != list(given):
        return False, document
    return True, document["proof"]


def with_proof(credential: JsonObject, answer: tuple[bool, Any]) -> JsonObject:
    """The signed credential a pool process's answer (``_signed_or_proof``) stands for: the
    credential with its ``proof`` (where it has one already, in its place; else last, as
    ``vc.proofs.add_proof`` puts it), or the document sent back whole."""
    only_proof, value = answer
    return {**credential, "proof": value} if only_proof else value


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


def _exactly(channel: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = channel.recv_into(view[got:])
        if n == 0:
            raise EOFError
        got += n
    return buffer


def _receive(channel: socket.socket) -> Any:
    # Unbuffered: a process waits on its channel and on the claims at once (select), which a
    # buffered reader holding a read-ahead message would fool.
    return pickle.loads(_exactly(channel, _FRAME.unpack(_exactly(channel, _FRAME.size))[0]))


def _portable(error: Exception) -> Exception:
    """``error`` as it can travel to the node, which raises it where in-process signing would
    have: itself, or said as text when it does not survive pickling."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


@dataclass(eq=False)
class _Held:
    """A batch as a pool process holds it: what signs its credentials, and its items from
    ``start`` on (those before are signed here or claimed by another process), each still
    pickled (``_feed``): a process unpickles only the items it claims."""

    seed: bytes
    suite_name: str
    now: datetime
    start: int = 0
    items: list[bytes] = field(default_factory=list)
    key: Any = None

    @property
    def end(self) -> int:
        return self.start + len(self.items)


class _Worker:
    """A pool process's loop (``_serve``). The node sends each batch's items to every process,
    in order, and one claim (batch id, index) per credential down a pipe all the processes read
    (``CLAIMS_AHEAD`` a process at a time): each takes the next claim when it is done with a
    credential, so that the cores finish a batch within a credential of each other, whatever
    else runs on them. A claim may come before its item (the node sends the items first, but its
    channel to this process may be slower than the pipe): the process then reads its channel
    until the item is there. Messages from the node: ``("items", batch, seed, suite name, now,
    items)``, each item ``(credential, verification method)`` pickled on its own; ``("forget",
    batch)`` once the node needs nothing more of a batch (all answered, or its callers gone).
    To the node: ``("ready",)`` once started; ``("done", batch, answers)``, each answer
    ``(index, True, proof)``, ``(index, False, document)`` (``_signed_or_proof``), ``(index,
    None, exception)``, or ``(index, None, None)`` for a claim of a batch forgotten, left
    unsigned; sent every ``REPLY_EVERY`` credentials, and before the process waits."""

    def __init__(self, channel: socket.socket, claims: int) -> None:
        from vc.crypto import Ed25519KeyPair
        from vc.cryptosuites import SUITES
        from vc.loader import default_loader

        self.channel, self.claims = channel, claims
        # Looked up once, not once a credential.
        self.key_pair, self.suites, self.loader = Ed25519KeyPair, SUITES, default_loader()
        self.batches: dict[int, _Held] = {}
        self.newest = 0  # batch ids grow: a claim of an older one not held is of one forgotten
        self.answering = 0
        self.answers: list[tuple[int, bool | None, Any]] = []

    def run(self) -> None:
        _send(self.channel, ("ready",))
        while True:
            claim = self._claim()
            if claim is None:
                self._answer()  # what is signed goes back before this process waits
                if self.channel in select.select([self.claims, self.channel], [], [])[0]:
                    self._hear()
                continue
            batch, index = claim
            held = self._item(batch, index)
            if batch != self.answering:
                self._answer()
                self.answering = batch
            # A claim of a batch forgotten (its callers went away) is answered unsigned: the
            # node counts every claim back (``CLAIMS_AHEAD``).
            self.answers.append(self._sign(held, index) if held is not None else (index, None, None))
            if len(self.answers) >= REPLY_EVERY:
                self._answer()

    def _claim(self) -> tuple[int, int] | None:
        # Whole records only: the node writes whole ones, each write below PIPE_BUF (atomic),
        # and the pipe hands each read to one reader at a time.
        try:
            record = os.read(self.claims, _CLAIM.size)
        except (BlockingIOError, InterruptedError):
            return None
        if not record:
            raise EOFError  # the node closed the pool
        return _CLAIM.unpack(record)

    def _item(self, batch: int, index: int) -> _Held | None:
        while (held := self.batches.get(batch)) is None or index >= held.end:
            if held is None and batch <= self.newest:
                return None
            self._hear()
        if index - held.start >= PART_MIN:  # the items before it are done with here
            del held.items[: index - held.start]
            held.start = index
        return held

    def _hear(self) -> None:
        message = _receive(self.channel)
        if message[0] == "items":
            _, batch, seed, suite_name, now, items = message
            held = self.batches.get(batch)
            if held is None:
                held = self.batches[batch] = _Held(seed, suite_name, now)
                self.newest = max(self.newest, batch)
            held.items.extend(items)
        elif message[0] == "forget":
            self.batches.pop(message[1], None)
            self.newest = max(self.newest, message[1])

    def _sign(self, held: _Held, index: int) -> tuple[int, bool | None, Any]:
        try:
            credential, verification_method = pickle.loads(held.items[index - held.start])
            if held.key is None:
                held.key = self.key_pair.from_seed(held.seed)
            only_proof, value = _signed_or_proof(
                credential, verification_method, key=held.key, suite=self.suites[held.suite_name], loader=self.loader, now=held.now
            )
        except Exception as e:  # the node raises it where in-process signing would have
            return index, None, _portable(e)
        return index, only_proof, value

    def _answer(self) -> None:
        if self.answers:
            _send(self.channel, ("done", self.answering, self.answers))
            self.answers = []


def _send(channel: socket.socket, message: Any) -> None:
    channel.sendall(_frame(message))


def _serve(channel: socket.socket, claims: Any, node_pid: int, cpus: frozenset[int]) -> None:
    """A pool process: sign the credentials it claims (``_Worker``; ``claims``, the read end of
    the claims pipe, a ``multiprocessing`` connection for the trip) until the node closes the pool."""
    _start(node_pid, cpus)
    try:
        _Worker(channel, claims.fileno()).run()
    except (EOFError, OSError):  # the node closed the pool, or is gone
        pass


@dataclass(eq=False)
class _Unit:
    """Credentials of one caller (``ProcessSigner.sign_chunk``): its batch's items from ``start``
    on, answered one by one as the processes sign them."""

    items: list[tuple[JsonObject, str]]
    start: int
    future: "asyncio.Future[list[tuple[bool, Any]] | None]"
    answers: list[Any]
    left: int


@dataclass(eq=False)
class _Batch:
    """Units of one key, suite and time (a caller's batch, queued stage by stage), signed as one
    run of items that the processes claim one at a time."""

    id: int
    seed: bytes
    suite_name: str
    now: datetime
    units: list[_Unit] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    unsent: list[tuple[JsonObject, str]] = field(default_factory=list)
    size: int = 0
    settled: int = 0  # units answered, failed or given up
    queued: int = 0  # claims waiting here for room in the pipe
    out: int = 0  # claims down the pipe or taken, not answered

    @property
    def key(self) -> tuple[bytes, str, datetime]:
        return self.seed, self.suite_name, self.now


@dataclass(eq=False)
class _Process:
    process: Any
    channel: socket.socket
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    writer: asyncio.StreamWriter | None = None
    reader: "asyncio.Task[None] | None" = None
    early: list[bytes] = field(default_factory=list)  # frames for it before its writer is made


class ProcessSigner:
    """The process pool, made on first use with ``processes`` processes (default: the cores).

    Fed from the event loop (no threads): callers queue their credentials (``sign_chunk``); at
    the loop's next turn the pool sends them to every process and queues a claim for each, put
    down the claims pipe as the processes answer (``CLAIMS_AHEAD``), which they read in turn
    (``_Worker``): a process takes the next credential when it is done with one, so the end of a
    batch is shared to the credential, not cut in parts ahead of time, and no trip to the node
    stands between two credentials."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or default_processes()
        self._procs: list[_Process] = []
        self._batches: dict[int, _Batch] = {}  # by id: those whose callers wait, one a key (what a caller's next units join)
        self._claims: int | None = None  # the write end of the claims pipe
        self._backlog: collections.deque[tuple[_Batch, int]] = collections.deque()
        self._out = 0  # claims down the pipe or taken, not answered
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broken = False
        self._closing = False
        self._next_batch = 0
        self._feeding = False

    @property
    def pids(self) -> list[int]:
        return [p.process.pid for p in self._procs]

    @property
    def ready(self) -> bool:
        """The pool's processes have started and imported the library."""
        return bool(self._procs) and all(p.ready.is_set() for p in self._procs)

    @property
    def batches_sent(self) -> int:
        """How many batches went to the processes since the pool was made."""
        return self._next_batch

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
            # Non-blocking at both ends: the node never waits to put claims in (it keeps at most
            # CLAIMS_AHEAD a process out), a process that finds none waits on it and its channel.
            read_end, self._claims = os.pipe()
            os.set_blocking(read_end, False)
            os.set_blocking(self._claims, False)
            claims = multiprocessing.connection.Connection(read_end, writable=False)  # passed to a process as its own descriptor
            try:
                for _ in range(self.processes):
                    ours, theirs = socket.socketpair()
                    process = context.Process(target=_serve, args=(theirs, claims, os.getpid(), unpinned_cpus()), name="vcnode-signer",
                                              daemon=True)
                    try:
                        process.start()
                    finally:
                        theirs.close()
                    proc = _Process(process, ours)
                    self._procs.append(proc)
                    proc.reader = loop.create_task(self._listen(proc), name="vcnode-signer-reader")
            finally:
                claims.close()
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
        """``items`` (credential, verification method) signed by the processes, in order; None
        when the pool cannot be had (then the caller signs in-process). A credential that fails
        to sign raises there, as in-process signing would. Queued now, not when awaited: the
        units a caller queues in one turn of the loop go out at its next turn, one run of the
        batch (the same key, suite and time), before whatever the caller does after yielding."""
        if not self.start():
            return _nothing()
        loop = asyncio.get_running_loop()
        batch = self._batch_of((seed, suite_name, now))
        if batch is None:
            self._next_batch += 1
            batch = self._batches[self._next_batch] = _Batch(self._next_batch, seed, suite_name, now)
        unit = _Unit(list(items), batch.size, loop.create_future(), [None] * len(items), len(items))
        if not unit.items:
            unit.future.set_result([])
            return self._signed(unit)
        batch.units.append(unit)
        batch.starts.append(batch.size)
        batch.unsent += unit.items
        batch.size += len(unit.items)
        unit.future.add_done_callback(lambda _: self._settled(batch))
        if not self._feeding:  # once the caller's other units are queued too (the same turn of the loop)
            self._feeding = True
            loop.call_soon(self._feed)
        return self._signed(unit)

    def _batch_of(self, key: tuple[bytes, str, datetime]) -> _Batch | None:
        return next((batch for batch in self._batches.values() if batch.key == key), None)

    @staticmethod
    async def _signed(unit: _Unit) -> list[JsonObject] | None:
        answers = await unit.future
        if answers is None:
            return None
        return [with_proof(credential, answer) for (credential, _), answer in zip(unit.items, answers)]

    def untaken(self, *, seed: bytes, suite_name: str, now: datetime) -> int | None:
        """How many credentials of the batch (``sign_chunk``'s key) no process has taken yet:
        queued here or waiting in the claims pipe (as near as the pipe's byte count says, when
        other batches' claims wait there too). None when the pool holds no such batch (all
        answered, or the pool closed: its callers sign the rest in-process)."""
        batch = self._batch_of((seed, suite_name, now))
        if batch is None or self._claims is None:
            return None
        waiting = array.array("i", [0])
        fcntl.ioctl(self._claims, termios.FIONREAD, waiting, True)
        return len(batch.unsent) + batch.queued + min(batch.out, waiting[0] // _CLAIM.size)

    def _feed(self) -> None:
        """Send every process the items queued since the last turn, then queue their claims."""
        self._feeding = False
        for batch in self._batches.values():
            if not batch.unsent:
                continue
            unsent, batch.unsent = batch.unsent, []
            # Each item pickled on its own: every process gets every item (any may claim it),
            # and unpickles only those it claims, half of them with two processes.
            pickled = [pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL) for item in unsent]
            for at in range(0, len(pickled), SLICE):
                frame = _frame(("items", batch.id, batch.seed, batch.suite_name, batch.now, pickled[at : at + SLICE]))
                for proc in self._procs:
                    self._deliver(proc, frame)
            self._backlog.extend((batch, index) for index in range(batch.size - len(unsent), batch.size))
            batch.queued += len(unsent)
        self._pump()

    @staticmethod
    def _deliver(proc: _Process, frame: bytes) -> None:
        if proc.writer is None:
            proc.early.append(frame)
        else:
            proc.writer.write(frame)

    def _pump(self) -> None:
        """Put queued claims down the pipe, up to ``CLAIMS_AHEAD`` a process out; claims of a batch
        forgotten meanwhile are dropped. Called again as answers come back."""
        room = CLAIMS_AHEAD * self.processes - self._out
        while self._claims is not None and room > 0 and self._backlog:
            taken: list[tuple[_Batch, int]] = []
            # Each write at most PIPE_BUF bytes: whole (atomic), or refused, never a torn claim.
            while self._backlog and len(taken) < min(room, _CLAIMS_A_WRITE):
                batch, index = self._backlog.popleft()
                batch.queued -= 1
                if batch.id in self._batches:
                    taken.append((batch, index))
            if not taken:
                return
            try:
                os.write(self._claims, b"".join(_CLAIM.pack(batch.id, index) for batch, index in taken))
            except BlockingIOError:  # the pipe is full (made smaller by the system: pipe-user-pages-soft): again at the next answer
                self._backlog.extendleft(reversed(taken))
                for batch, _ in taken:
                    batch.queued += 1
                return
            except OSError:  # no process reads the pipe any more: their channels' end closes the pool (``_listen``)
                return
            self._out += len(taken)
            room -= len(taken)
            for batch, _ in taken:
                batch.out += 1

    async def _listen(self, proc: _Process) -> None:
        try:
            reader, proc.writer = await asyncio.open_unix_connection(sock=proc.channel, limit=2**16)
            for frame in proc.early:
                proc.writer.write(frame)
            proc.early.clear()
            while True:
                size = _FRAME.unpack(await reader.readexactly(_FRAME.size))[0]
                message = pickle.loads(await reader.readexactly(size))
                if message[0] == "ready":
                    proc.ready.set()
                else:
                    self._out -= len(message[2])
                    self._answered(message[1], message[2])
                    self._pump()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the process died (killed, out of memory), or its channel broke
            if not self._closing:
                # Nothing it signed is handed out; the callers sign in-process, and later batches too.
                log.error("the signing processes stopped (process %s: %s); signing on one core from now on", proc.process.pid,
                          "it ended" if isinstance(e, asyncio.IncompleteReadError) else e)
                self.close()
                self._broken = True

    def _answered(self, batch_id: int, answers: list[tuple[int, bool | None, Any]]) -> None:
        batch = self._batches.get(batch_id)
        if batch is None:  # forgotten: its callers went away
            return
        batch.out -= len(answers)
        for index, only_proof, value in answers:
            unit = batch.units[bisect.bisect_right(batch.starts, index) - 1]
            if unit.future.done():  # failed already, or its caller went away
                continue
            if only_proof is None:
                if value is not None:
                    unit.future.set_exception(value)
                continue
            unit.answers[index - unit.start] = (only_proof, value)
            unit.left -= 1
            if not unit.left:
                unit.future.set_result(unit.answers)

    def _settled(self, batch: _Batch) -> None:
        """A unit of ``batch`` is answered, failed or given up: once all are, the batch is
        forgotten here and in the processes (its seed with it), and claims left of it skipped."""
        batch.settled += 1
        if batch.settled < len(batch.units) or self._batches.pop(batch.id, None) is None:
            return
        frame = _frame(("forget", batch.id))
        for proc in self._procs:
            self._deliver(proc, frame)

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
        if self._claims is not None:
            os.close(self._claims)
            self._claims = None
        self._out = 0
        self._backlog.clear()
        batches, self._batches = list(self._batches.values()), {}
        if live:
            for batch in batches:
                for unit in batch.units:
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
