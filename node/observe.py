"""What the node reports while it works, through small hooks: ``Observer``.

The capabilities and the request middleware call these hooks; ``node.metrics.Metrics`` turns
them into Prometheus metrics, and a node composed without one reports to ``NO_OBSERVER``
(each hook does nothing). Nothing here imports ``prometheus_client``, and nothing below
``node/`` knows about either: ``did/`` and ``status/`` get plain callables (a cache's
``observe``), and the two wrappers here put timing around what ``node/`` hands them (the
offload hook, the guarded HTTP client).

Every hook is cheap (a counter or a histogram observation) and may be called from the offload
threads as well as the event loop. Labels are bounded by construction: route templates (never
raw paths), issuer names the node has, the specifications' error codes, fixed kinds.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

from did.errors import FetchError
from vc.proofs import Offload
from vc.results import VerificationResult

T = TypeVar("T")

# What a remote fetch was for (the ``kind`` label).
DID_DOCUMENT = "did-document"
STATUS_LIST = "status-list"
ACCREDITATIONS = "accreditations"
PAGE_URL = "verify-page-url"  # the verifier page's ?url=
FETCH_KINDS = (DID_DOCUMENT, STATUS_LIST, ACCREDITATIONS, PAGE_URL)
# Request methods reported as themselves; any other is reported as OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """The method as logs and metrics name it: one of ``METHODS``, or OTHER (a client's made-up
    method must neither add a series nor reach a log line)."""
    return method if method in METHODS else "OTHER"


def _ignore(*args: Any) -> None:
    return None


@dataclass(frozen=True)
class Observer:
    """The node's reporting hooks, each a plain callable (no-ops by default).

    - ``request(method, route, status, seconds)``: one HTTP request answered (route template);
    - ``verified(result)``: a verification the node was asked for (not the accreditation links
      it verifies on the way), with its kind and the error codes of its failed checks;
    - ``issued(issuer, n)``: ``n`` credentials signed for ``issuer``;
    - ``status_changed(issuer, status, n)``: ``n`` credentials of ``issuer`` set to ``status``;
    - ``list_published(seconds)``: one status list re-signed and stored;
    - ``offload_step(work, waited, seconds)``: one CPU-heavy step (canonicalization with its
      hash and signature, structural checks) run through the offload hook for ``work``
      (``verify``, ``issue``, ``status-list``): how long it waited for a thread, how long it ran;
    - ``fetched(kind, outcome, seconds)``: one remote fetch; ``outcome`` is ``ok`` or the
      ``did.errors.FetchError`` reason (``timeout``, ``http-status``, ``network``, ...);
    - ``cache_lookup(kind, hit)``: one look-up in the cache in front of such fetches.
    """

    request: Callable[[str, str, int, float], None] = _ignore
    verified: Callable[[VerificationResult], None] = _ignore
    issued: Callable[[str, int], None] = _ignore
    status_changed: Callable[[str, str, int], None] = _ignore
    list_published: Callable[[float], None] = _ignore
    offload_step: Callable[[str, float, float], None] = _ignore
    fetched: Callable[[str, str, float], None] = _ignore
    cache_lookup: Callable[[str, bool], None] = _ignore

    def cache_observer(self, kind: str) -> Callable[[bool], None]:
        """The ``observe`` callable a cache of ``kind`` documents takes (``did.cache``)."""
        return functools.partial(self.cache_lookup, kind)


NO_OBSERVER = Observer()


def timed_offload(offload: Offload[Any], work: str, report: Callable[[str, float, float], None]) -> Offload[Any]:
    """``offload`` with each step's wait for a thread and its own running time reported. The
    node's pool (``node.offload.ThreadOffload``) reports the CPU time it measures anyway; any
    other offload is wrapped, and reports the step's wall time."""
    timed = getattr(offload, "timed", None)
    if timed is not None:
        return timed(functools.partial(report, work))  # type: ignore[no-any-return]

    def run(step: Callable[[], T]) -> Awaitable[T]:
        # Not a coroutine of its own: the caller awaits the offload's, one frame less per step.
        submitted = time.perf_counter()

        def wrapped() -> T:
            start = time.perf_counter()
            try:
                return step()
            finally:
                report(work, start - submitted, time.perf_counter() - start)

        wrapped.__wrapped__ = step  # type: ignore[attr-defined]  # the step's kind, for an offload's inline choice
        return offload(wrapped)

    return run  # type: ignore[return-value]


class ObservedFetches:
    """A ``did.http.GuardedHTTP`` (or a stand-in with its ``get_json``) whose fetches of one
    ``kind`` are reported with their outcome and time; everything else is the client's own."""

    def __init__(self, http: Any, kind: str, report: Callable[[str, str, float], None]) -> None:
        self._http = http
        self._kind = kind
        self._report = report

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        start = time.perf_counter()
        outcome = "ok"
        try:
            return await self._http.get_json(url, **kwargs)
        except FetchError as e:
            outcome = e.reason or "error"
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            self._report(self._kind, outcome, time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)
