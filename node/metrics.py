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
directory (so it starts empty) and removes it on exit, and removes those that killed nodes left
(``sweep_multiprocess_dirs``); one an operator sets is used as given and must be emptied before
the node starts, as the library requires. Nothing in ``node/`` imports
``prometheus_client`` at module level (tests/node/test_observe.py checks it), so importing the
CLI or the app never fixes the mode too early. A process without the variable (tests, a
library user) keeps its metrics in memory, per ``Metrics``.

Only counters and histograms are used: they sum across processes with no per-process mode to
choose, and a finished process's counts stay in the totals.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import functools
import logging
import math
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from node.observe import Observer, method_label
from vc.errors import DID as DID_ERRORS
from vc.results import VerificationResult

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "vcnode-metrics-"  # the directories prepare_multiprocess_dir makes
OWNER = "vcnode-owner"  # in each: the process that made it (prometheus_client reads only *.db files)
# The directories prepare_multiprocess_dir made: path -> the process that made it (and removes it).
_made_by: dict[str, int] = {}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# Request latencies: a status list GET is sub-millisecond, a verification with remote fetches
# can take seconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0  # how far behind the updates another process's scrape may be
PENDING_MAX = 100_000  # hook calls kept for the next flush at most (a few seconds of a busy node's)
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
    left = sweep_multiprocess_dirs(Path(tempfile.gettempdir()))
    if left:
        log.info("removed %d metrics folder%s left by nodes that were killed: %s", len(left), "" if len(left) == 1 else "s",
                 ", ".join(str(p) for p in left))
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    (path / OWNER).write_text(_identity(os.getpid()))
    os.environ[ENV] = str(path)
    _made_by[str(path)] = os.getpid()
    return path, True


def _identity(pid: int) -> str:
    """``pid`` and when that process started (clock ticks since boot, from /proc; ``-`` where
    there is no /proc): a process id can be used again, the pair cannot."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            started = f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        started = "-"
    return f"{pid} {started}"


def _gone(owner: str) -> bool:
    """Whether the process ``owner`` (``_identity``'s text) has ended."""
    pid, started = owner.split()
    if started != "-":
        return _identity(int(pid)) != owner  # ended, or its id now another process's
    try:  # made where there is no /proc: by the id alone
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process
        return False
    return False


def sweep_multiprocess_dirs(parent: Path) -> list[Path]:
    """Remove the directories that nodes which are no longer running made in ``parent`` and
    could not remove (killed: SIGKILL, the OOM killer, a power cut); returns them.

    A node removes the directory it made when it exits. One killed leaves it behind, with a
    file per process of the node. Only directories that carry an ``OWNER`` file naming a process
    that has ended are removed: one being made (no file yet), one of a running node, or one an
    operator made are left alone."""
    removed = []
    for path in sorted(parent.glob(PREFIX + "*")):
        try:
            owner = (path / OWNER).read_text().strip()
            gone = _gone(owner)
        except (OSError, ValueError):
            continue
        if gone:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def remove_multiprocess_dir(path: Path) -> None:
    """Remove the directory ``prepare_multiprocess_dir`` made, in the process that made it only.

    A worker of ``vcnode serve --workers N`` is forked inside the call that started it and, when
    it exits, unwinds through its parent's frames, ``serve``'s clean-up included. Removing the
    directory there took it from the supervisor and the other workers: the worker started in
    the place of one that had exited could not open its metrics files, failed to boot, and
    gunicorn's arbiter then stopped the whole node."""
    if _made_by.get(str(path)) != os.getpid():
        return
    del _made_by[str(path)]
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


_PROBING = threading.Lock()


@functools.lru_cache(maxsize=1)  # once per process: every app's Metrics asks
def _bulk_histograms_work() -> bool:
    """Whether a histogram child can take n observations at once through the library's
    internals (``_sum``, ``_buckets``, ``_upper_bounds``, unchanged since the library's first
    releases). Checked on a probe: n values added at once must expose exactly what observing
    them one by one does; if not (a new version changed them), ``flush`` replays each value
    through the public ``observe`` (slower, the same numbers). tests/node/test_observe.py holds
    the two equal."""
    from prometheus_client import CollectorRegistry, Histogram
    from prometheus_client import values as value_classes
    from prometheus_client.exposition import generate_latest

    values = (0.0004, 0.003, 0.003, 7.0, 100.0)
    try:
        one, bulk = CollectorRegistry(), CollectorRegistry()
        # In multiprocess mode every metric's values live in the shared files, whatever its
        # registry, and every scrape would show the probe as a family of its own, once more
        # per process started. Its histograms take the in-memory values instead: the internals
        # checked are the histogram's, the same in either mode. The library reads ValueClass
        # when a metric is made; no metric of the node's is made meanwhile (this runs in the
        # first Metrics, before any other exists), and the lock keeps two first Metrics made
        # at once from restoring each other's swap.
        with _PROBING:
            shared = value_classes.ValueClass
            value_classes.ValueClass = value_classes.MutexValue
            try:
                by_one = Histogram("probe_seconds", "probe", ["x"], buckets=STEP_BUCKETS, registry=one).labels("a")
                at_once = Histogram("probe_seconds", "probe", ["x"], buckets=STEP_BUCKETS, registry=bulk).labels("a")
            finally:
                value_classes.ValueClass = shared
        for v in values:
            by_one.observe(v)
        bounds = [*STEP_BUCKETS, math.inf]
        if at_once._upper_bounds != bounds:
            raise ValueError("the bucket bounds are kept otherwise")
        counts = [0] * len(bounds)
        for v in values:
            counts[bisect.bisect_left(bounds, v)] += 1
        at_once._sum.inc(sum(values))
        for i, n in enumerate(counts):
            if n:
                at_once._buckets[i].inc(n)
        def samples(registry: Any) -> list[str]:  # _created: when each was made, which differs
            return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]

        same = samples(one) == samples(bulk)
    except Exception:  # anything missing or different: the public path
        same = False
    if not same:
        log.warning("prometheus_client's histogram internals changed: metrics are written one observation at a time")
    return same


def _error_label(problem: Any) -> str:
    """The ``code`` label of a failed check: the specification's code, except that DID
    Resolution's (``https://www.w3.org/ns/did#…``: an issuer's domain unreachable, a document
    not found) are prefixed ``DID_``, so that its INTERNAL_ERROR (the issuer's server) and the
    node's own (a bug here) are told apart."""
    code = problem.code
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return "OTHER"
    if isinstance(problem.type, str) and problem.type.startswith(DID_ERRORS):
        return f"DID_{code}"
    return code


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
            "CPU time of each CPU-heavy step run off the event loop (JSON-LD canonicalization with its hash "
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

        # Updates are tallied here and written to the metrics by flush() (each second, and
        # before every exposition): a prometheus_client update in multiprocess mode takes a
        # lock and writes a memory-mapped file, several microseconds, and a verification
        # makes about nine (bench/bench_observe.py). A tally is a dict addition under a lock.
        self._lock = threading.Lock()
        self._counts: dict[tuple[Any, ...], float] = {}  # (metric, *labels) -> amount
        self._observed: dict[tuple[Any, ...], list[float]] = {}  # (histogram, *labels) -> [sum, per-bucket counts...]
        self._children: dict[tuple[Any, ...], Any] = {}
        # The hooks a request and a verification call (request, verified, cache_lookup,
        # offload_step) only append what they are told here, for flush() to tally (each second
        # and before every exposition): a deque's append is atomic and takes no lock of ours.
        # Tallied under the lock from the offload threads instead, the steps' timings cost a
        # verification 4-5 % of its CPU in bench/bench_observe.py (a thread holding the lock
        # when the interpreter handed the GIL to the event loop made the loop's next hook wait
        # for that thread in turn); tallied one by one in the request's own path, the rest
        # cost it about as much again as in a loop of them.
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self.bulk_histograms = _bulk_histograms_work()
        # Each histogram's bucket bounds as the library keeps them (+Inf last): value v goes in
        # the first bucket whose bound is >= v, as Histogram.observe puts it.
        self._bounds = {
            h: [*buckets, math.inf]
            for h, buckets in (
                (self.request_seconds, REQUEST_BUCKETS),
                (self.list_publish, STEP_BUCKETS),
                (self.cpu_steps, STEP_BUCKETS),
                (self.fetch_seconds, REQUEST_BUCKETS),
            )
        }

    # --- the hooks (node.observe.Observer) ------------------------------------------------

    def observer(self) -> Observer:
        return Observer(
            request=self.request,
            verified=self.verified,
            issued=lambda issuer, n: self._count(self.issued, n, issuer),
            status_changed=lambda issuer, status, n: self._count(self.status_changes, n, issuer, status),
            list_published=lambda seconds: self._observe(self.list_publish, seconds),
            offload_step=self.offload_step,
            fetched=self.fetched,
            cache_lookup=self.cache_lookup,
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._pending.append((Metrics._tally_request, method, route, status, seconds))
        if len(self._pending) > PENDING_MAX:  # no flusher running (a node that is not serving): tally now
            self._flush_safely()

    def cache_lookup(self, kind: str, hit: bool) -> None:
        self._pending.append((Metrics._tally_lookup, kind, hit))

    def verified(self, result: VerificationResult) -> None:
        verified = result.verified  # a property that walks the checks: read once
        # The specifications' codes (and the node's <CHECK>_CHECK_FAILED): a fixed set.
        # One code per failed check: ``errors`` adds VC DM 2.0 §7.1's CRYPTOGRAPHIC_SECURITY_ERROR
        # beside a failed proof's own code, which would count one failure twice.
        codes = () if verified else tuple(_error_label(p) for p in result.check_problems)
        self._pending.append((Metrics._tally_verified, result.kind, verified, codes))

    def offload_step(self, work: str, waited: float, seconds: float) -> None:
        self._pending.append((Metrics._tally_step, work, waited, seconds))

    # What flush() does with them, under the lock.

    def _tally_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method_label(method)
        self._add_count((self.requests, method, route, str(status)), 1)
        self._add_observation((self.request_seconds, method, route), seconds)

    def _tally_lookup(self, kind: str, hit: bool) -> None:
        self._add_count((self.cache_lookups, kind, "hit" if hit else "miss"), 1)

    def _tally_verified(self, kind: str, verified: bool, codes: tuple[str, ...]) -> None:
        self._add_count((self.verifications, kind, "true" if verified else "false"), 1)
        for code in codes:
            self._add_count((self.verification_errors, kind, code), 1)

    def _tally_step(self, work: str, waited: float, seconds: float) -> None:
        self._add_count((self.cpu_wait, work), waited)
        self._add_observation((self.cpu_steps, work), seconds)

    def fetched(self, kind: str, outcome: str, seconds: float) -> None:
        self._count(self.fetches, 1, kind, outcome)
        self._observe(self.fetch_seconds, seconds, kind)

    def _count(self, metric: Any, amount: float, *labels: str) -> None:
        with self._lock:
            self._add_count((metric, *labels), amount)

    def _add_count(self, key: tuple[Any, ...], amount: float) -> None:
        """Add ``amount`` to the counter child ``key`` (counter, *labels); under the lock."""
        self._counts[key] = self._counts.get(key, 0.0) + amount

    def _observe(self, metric: Any, value: float, *labels: str) -> None:
        with self._lock:
            self._add_observation((metric, *labels), value)

    def _add_observation(self, key: tuple[Any, ...], value: float) -> None:
        """Tally ``value`` for the histogram child ``key`` (histogram, *labels); under the lock."""
        bounds = self._bounds[key[0]]
        tally = self._observed.get(key)
        if tally is None:
            tally = self._observed[key] = [0.0] * (len(bounds) + 1) if self.bulk_histograms else []
        if not self.bulk_histograms:
            tally.append(value)  # replayed one by one at flush
            return
        tally[0] += value
        tally[bisect.bisect_left(bounds, value) + 1] += 1

    # --- writing the tallies to the metrics ------------------------------------------------------

    def flush(self) -> None:
        """Write what the hooks tallied since the last flush to the metrics (and so, in
        multiprocess mode, to this process's files, which every process's scrape reads)."""
        pending = self._pending
        with self._lock:
            for _ in range(len(pending)):  # what is there now; what comes meanwhile waits for the next flush
                entry = pending.popleft()
                entry[0](self, *entry[1:])
            counts, self._counts = self._counts, {}
            observed, self._observed = self._observed, {}
        for (metric, *labels), amount in counts.items():
            self._child(metric, labels).inc(amount)
        for (metric, *labels), tally in observed.items():
            child = self._child(metric, labels)
            if not self.bulk_histograms:
                for value in tally:
                    child.observe(value)
                continue
            # What Histogram.observe does, n observations at once: the sum, and the count of
            # the one bucket each value falls in (the exposition makes them cumulative).
            child._sum.inc(tally[0])
            for i, n in enumerate(tally[1:]):
                if n:
                    child._buckets[i].inc(n)

    def _child(self, metric: Any, labels: list[str]) -> Any:
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels) if labels else metric
        return child

    async def flushing(self, period: float = FLUSH_SECONDS) -> None:
        """Flush every ``period`` seconds until cancelled (then once more): the app runs it."""
        try:
            while True:
                await asyncio.sleep(period)
                self._flush_safely()
        finally:
            self._flush_safely()

    def _flush_safely(self) -> None:
        try:
            self.flush()
        except OSError as e:
            # The multiprocess directory is gone (removed by the supervisor as the node stops,
            # or by someone else): the tallies cannot be written, and that must not stop the
            # worker's shutdown or its later flushes.
            log.warning("metrics could not be written to %s: %s", self.multiprocess_dir, e)

    # --- exposition ---------------------------------------------------------------------------

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The metrics in the format ``accept`` asks for (Prometheus text, or OpenMetrics), and
        its content type; in multiprocess mode, summed over every process's files."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import choose_encoder

        self.flush()
        registry: Any = self.registry
        if self.multiprocess_dir is not None:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)
        encoder, content_type = choose_encoder(accept)
        return encoder(registry), content_type
