"""The node's Prometheus metrics (``GET /metrics``), from the ``prometheus_client`` library.

``Metrics`` holds the metrics and hands out an ``node.observe.Observer`` whose hooks update
them; the request middleware (``node.accesslog``) and the capabilities call those hooks.
docs/operations.md, "What to monitor", lists every metric and what to watch for.

Several worker processes: ``prometheus_client``'s multiprocess mode. Each process writes its
values to memory-mapped files in one directory (``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics``
sums the files of every process, whichever worker answers the scrape. The library chooses the
mode when it is first imported, so the directory is settled before that:
``prepare_multiprocess_dir()`` (``vcnode serve`` calls it first thing, and the processes it
starts inherit the variable). Without the variable set beforehand, serve makes a fresh private
directory (so it starts empty) and removes it on exit; one an operator sets is used as given
and must be emptied before the node starts, as the library requires. Nothing in ``node/`` imports
``prometheus_client`` at module level (tests/node/test_observe.py checks it), so importing the
CLI or the app never fixes the mode too early. A process without the variable (tests, a
library user) keeps its metrics in memory, per ``Metrics``.

Only counters and histograms are used: they sum across processes with no per-process mode to
choose, and a finished process's counts stay in the totals.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from node.observe import METHODS, Observer
from vc.results import VerificationResult

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# Request latencies: a status list GET is sub-millisecond, a verification with remote fetches
# can take seconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STEP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """The directory every process of this node writes its metrics to, and whether this call
    made it (then the caller removes it on exit, ``remove_multiprocess_dir``). Call it before
    ``prometheus_client`` is imported, in the process that starts the others; it sets
    ``PROMETHEUS_MULTIPROC_DIR``, which they inherit."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path, False
    path = Path(tempfile.mkdtemp(prefix="vcnode-metrics-"))
    os.environ[ENV] = str(path)
    return path, True


def remove_multiprocess_dir(path: Path) -> None:
    if os.environ.get(ENV) == str(path):
        del os.environ[ENV]
    shutil.rmtree(path, ignore_errors=True)


def _multiprocess_dir() -> str | None:
    """The directory of the library's multiprocess mode, if it is on in this process."""
    from prometheus_client import values

    on = bool(getattr(values.ValueClass, "_multiprocess", False))
    path = os.environ.get(ENV)
    if path and not on:
        log.warning(
            "%s is set but prometheus_client was imported before it was: this process's metrics are its own only", ENV
        )
    return path if on and path else None


class Metrics:
    """Every metric of one node, in its own registry (two apps in one process count apart)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = _multiprocess_dir()
        r = self.registry
        self.requests = Counter(
            "vcnode_http_requests", "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"], registry=r,
        )
        self.request_seconds = Histogram(
            "vcnode_http_request_duration_seconds", "Time to answer an HTTP request (handler and middlewares), by route template",
            ["method", "route"], buckets=REQUEST_BUCKETS, registry=r,
        )
        self.verifications = Counter(
            "vcnode_verifications", "Verifications asked of the node (VC-API and the verifier page), by kind and verdict",
            ["kind", "verified"], registry=r,
        )
        self.verification_errors = Counter(
            "vcnode_verification_errors", "Error codes of failed checks in those verifications (embedded credentials' included)",
            ["kind", "code"], registry=r,
        )
        self.issued = Counter("vcnode_credentials_issued", "Credentials signed, by issuer", ["issuer"], registry=r)
        self.status_changes = Counter(
            "vcnode_status_changes", "Credentials revoked, suspended or reinstated, by issuer and new status",
            ["issuer", "status"], registry=r,
        )
        self.list_publish = Histogram(
            "vcnode_status_list_publish_seconds", "Time to re-sign and store one status list credential",
            buckets=STEP_BUCKETS, registry=r,
        )
        self.cpu_steps = Histogram(
            "vcnode_canonicalization_seconds",
            "Running time of each CPU-heavy step run off the event loop (JSON-LD canonicalization with its hash "
            "and signature, structural checks), by the work it serves: verify, issue, status-list",
            ["work"], buckets=STEP_BUCKETS, registry=r,
        )
        # A counter, not a histogram: a step is observed on every verification, and the mean
        # wait (its rate over the steps' count) is what shows a saturated pool.
        self.cpu_wait = Counter(
            "vcnode_offload_wait_seconds", "Time CPU-heavy steps waited for a free thread (the pool's queue), summed; "
            "divided by vcnode_canonicalization_seconds_count it is the mean wait",
            ["work"], registry=r,
        )
        self.fetches = Counter(
            "vcnode_remote_fetches", "Remote documents fetched, by kind (did-document, status-list, accreditations, "
            "verify-page-url) and outcome (ok, or the refusal: timeout, http-status, network, too-large, ...)",
            ["kind", "outcome"], registry=r,
        )
        self.fetch_seconds = Histogram(
            "vcnode_remote_fetch_seconds", "Time of a remote fetch, by kind", ["kind"], buckets=REQUEST_BUCKETS, registry=r,
        )
        self.cache_lookups = Counter(
            "vcnode_remote_cache_lookups", "Look-ups in the caches in front of remote fetches, by kind and result (hit, miss)",
            ["kind", "result"], registry=r,
        )

        # Each metric's children by label values: labels() validates and locks on every call,
        # and the hooks run on every request (bench/bench_observe.py has the cost).
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:  # two threads may both make it: labels() gives them the same child
            child = self._children[key] = metric.labels(*values)
        return child

    # --- the hooks (node.observe.Observer) ------------------------------------------------

    def observer(self) -> Observer:
        return Observer(
            request=self.request,
            verified=self.verified,
            issued=lambda issuer, n: self._child(self.issued, issuer).inc(n),
            status_changed=lambda issuer, status, n: self._child(self.status_changes, issuer, status).inc(n),
            list_published=self.list_publish.observe,
            offload_step=self.offload_step,
            fetched=self.fetched,
            cache_lookup=lambda kind, hit: self._child(self.cache_lookups, kind, "hit" if hit else "miss").inc(),
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self._child(self.requests, method, route, str(status)).inc()
        self._child(self.request_seconds, method, route).observe(seconds)

    def verified(self, result: VerificationResult) -> None:
        kind = result.kind
        self._child(self.verifications, kind, "true" if result.verified else "false").inc()
        if result.verified:
            return
        for problem in result.errors:
            # The specifications' codes (and the node's <CHECK>_CHECK_FAILED): a fixed set.
            code = problem.code if isinstance(problem.code, str) and _CODE.match(problem.code) else "OTHER"
            self._child(self.verification_errors, kind, code).inc()

    def offload_step(self, work: str, waited: float, seconds: float) -> None:
        self._child(self.cpu_wait, work).inc(waited)
        self._child(self.cpu_steps, work).observe(seconds)

    def fetched(self, kind: str, outcome: str, seconds: float) -> None:
        self._child(self.fetches, kind, outcome).inc()
        self._child(self.fetch_seconds, kind).observe(seconds)

    # --- exposition ---------------------------------------------------------------------------

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The metrics in the format ``accept`` asks for (Prometheus text, or OpenMetrics), and
        its content type; in multiprocess mode, summed over every process's files."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import choose_encoder

        registry: Any = self.registry
        if self.multiprocess_dir is not None:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
        encoder, content_type = choose_encoder(accept)
        return encoder(registry), content_type
