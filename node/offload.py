"""Where the node's CPU-heavy steps run: a small thread pool behind one ``offload`` hook.

Canonicalization, signing and signature checks are synchronous CPU work; run on the event loop
they would stall health checks and status-list GETs while the node verifies or issues. The
capabilities (``node.verification``, ``node.issuance``, ``node.statuslists``) and the ``vc``
library (``vc.proofs.Offload``) hand each such step to ``await offload(step)`` and keep
everything else (store, DID resolution, status-list fetches) on the server's loop.

A step never waits for anything but the CPU, so one bounded pool cannot deadlock, however
many verifications wait on it; the node's own I/O never needs a pool thread. It replaced a
design that ran whole verifications on worker threads' own event loops and bridged their I/O
back to the server loop (bench/README.md, "bench_offload.py", has the measurement).
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, TypeVar

from node.cores import usable_cpus
from vc.proofs import Offload

__all__ = ["OPERATOR", "PUBLIC", "Offload", "ThreadOffload", "shared_offload"]

T = TypeVar("T")
# ``report(waited, seconds)``: how long a step waited for a thread and the CPU time it took.
Report = Callable[[float, float], None]


def default_workers() -> int:
    # The steps hold the GIL for most of their time (pyld is pure Python; libsodium releases
    # it), so threads beyond the cores add no throughput; they only lengthen the queue the
    # event loop's thread waits in for the GIL.
    return max(2, min(4, usable_cpus()))


# What handing a step to a thread costs the node, in CPU seconds: the submission, the wake-up
# of the event loop through its self-pipe when the step is done, and the future's callbacks
# (bench/README.md, "bench_offload.py": ~0.1 ms). A step that costs less than this runs inline.
HAND_OFF_SECONDS = 0.0001
# How fast a step kind's estimate forgets a slow run: one slow step keeps the kind on the pool
# for the next ~log(slow / HAND_OFF_SECONDS) / -log(DECAY) runs (a 20 ms one: ~50).
DECAY = 0.9


def step_kind(step: Callable[..., Any]) -> Any:
    """What identifies a kind of step across calls: the code of the function it runs (through
    ``__wrapped__`` and ``functools.partial``), or None for a callable without one."""
    seen = 0
    while seen < 8:
        inner = getattr(step, "__wrapped__", None) or getattr(step, "func", None)
        if inner is None:
            break
        step, seen = inner, seen + 1
    return getattr(step, "__code__", None)


class ThreadOffload:
    """``await offload(step)``: ``step()`` on one of ``max_workers`` threads, unless the step is
    of a kind that has lately cost less than the hand-off itself (``inline_below`` CPU seconds),
    which then runs inline, on the caller's thread (issue 13: no thread hand-off for work smaller
    than the hand-off).

    Each kind of step (``step_kind``) keeps a decaying maximum of the CPU time its runs took
    (``time.thread_time``, so waiting for the GIL is not counted): a kind never seen runs on the
    pool; a kind whose every recent run was cheap (a credential's structural checks) runs inline;
    one expensive run (a much larger document) sends the kind back to the pool until the estimate
    has decayed again. The worst an unlucky inline run can cost the loop is one step of a kind
    that was cheap until then, the same order as the request's JSON parsing and bounds walk,
    which run on the loop anyway (node.problems.read_json). ``inline_below=0`` offloads every step.
    """

    def __init__(self, max_workers: int | None = None, *, name: str = "vcnode-cpu", inline_below: float = HAND_OFF_SECONDS) -> None:
        self.max_workers = max_workers or default_workers()
        self.inline_below = inline_below
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix=name)
        self._estimates: dict[Any, float] = {}  # step kind -> decaying max of its CPU seconds

    def _measured(self, kind: Any, step: Callable[[], T], report: Report | None = None, submitted: float = 0.0) -> Callable[[], T]:
        estimates = self._estimates

        def run() -> T:
            start = time.thread_time()
            started = time.perf_counter() if report is not None else 0.0
            try:
                return step()
            finally:
                spent = time.thread_time() - start
                if kind is not None:
                    # A plain dict update, atomic under the GIL; racing updates lose one sample at worst.
                    estimates[kind] = max(spent, estimates.get(kind, 0.0) * DECAY)
                if report is not None:
                    report(started - submitted, spent)

        return run

    def __call__(self, step: Callable[[], T]) -> Awaitable[T]:
        return self._run(step, None)

    def timed(self, report: Report) -> Offload[Any]:
        """This pool, each step's wait for a thread and its CPU time reported as
        ``report(waited, seconds)``, from the thread that ran it, with the measurement the
        inline choice takes anyway (no wrapper per step: node.observe.timed_offload)."""
        return functools.partial(self._run, report=report)

    async def _run(self, step: Callable[[], T], report: Report | None) -> T:
        kind = step_kind(step)
        run = self._measured(kind, step, report, time.perf_counter() if report is not None else 0.0)
        if kind is not None and self._estimates.get(kind, float("inf")) < self.inline_below:
            return run()
        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# The lanes: "public" for what anyone may ask (verifying), "operator" for the issuer's own work
# (issuing, re-signing status lists). One client's flood of costly verifications queued every
# issuance behind it in one first-in-first-out pool (a QA sweep measured an operator's issue at
# 3.7 s against 8 ms); on a lane of its own, issuing only shares the GIL with the flood.
PUBLIC, OPERATOR = "public", "operator"
OPERATOR_WORKERS = 2
_shared: dict[str, ThreadOffload] = {}


def shared_offload(lane: str = PUBLIC) -> ThreadOffload:
    """The process's pool for ``lane``, made on first use (every node of a process shares the cores)."""
    pool = _shared.get(lane)
    if pool is None:
        pool = _shared[lane] = ThreadOffload(OPERATOR_WORKERS if lane == OPERATOR else None, name=f"vcnode-{lane}")
    return pool


def _forget_after_fork() -> None:
    # A forked child (a worker of ``vcnode serve --workers N``) has none of its parent's threads:
    # a pool made before the fork would queue steps that no thread ever runs.
    _shared.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
