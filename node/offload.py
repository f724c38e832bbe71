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
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from vc.proofs import Offload

__all__ = ["Offload", "ThreadOffload", "shared_offload"]

T = TypeVar("T")


def default_workers() -> int:
    # The steps hold the GIL for most of their time (pyld is pure Python; libsodium releases
    # it), so threads beyond the cores add no throughput; they only lengthen the queue the
    # event loop's thread waits in for the GIL.
    return max(2, min(4, os.cpu_count() or 2))


class ThreadOffload:
    """``await offload(step)``: ``step()`` on one of ``max_workers`` threads."""

    def __init__(self, max_workers: int | None = None, *, name: str = "vcnode-cpu") -> None:
        self.max_workers = max_workers or default_workers()
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix=name)

    async def __call__(self, step: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, step)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


_shared: ThreadOffload | None = None


def shared_offload() -> ThreadOffload:
    """The process's pool, made on first use (every node of a process shares the cores)."""
    global _shared
    if _shared is None:
        _shared = ThreadOffload()
    return _shared
