"""The heap of a long-lived process (a serving worker, the signing pool's processes,
``vcnode issue-batch``): what it made before its work begins lives as long as it does."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Called once a process is set up. What it made until then (modules, JSON-LD contexts,
    the app, the node and its caches) lives as long as the process: collected once, then moved
    out of the cyclic collector's way (``gc.freeze``), so that later full collections walk only
    what its work makes. In a verifier a full collection walked some 80,000 objects (about
    40 ms, the loop stalled) and came several times a minute under load
    (bench/bench_observe.py: 12 in 20,000 verifications)."""
    gc.collect()
    gc.freeze()
