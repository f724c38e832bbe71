#!/usr/bin/env python3
"""How a node keeps verification off its event loop: two mechanisms side by side, one process.

    python3 bench/bench_offload.py [--n 600] [--concurrency 1,12] [--rounds 2] [--json]

A benchmark, not a test. Both mechanisms verify the same distinct OB3 credentials (eddsa-rdfc-2022,
a did:web issuer answered by an async resolver on the server loop, a revocation status entry
checked by the real ``status.check.StatusChecker`` against an in-memory list, fetched once):

* **bridge**: what node/service.py did until issue 10: the whole ``verify_credential`` on a
  worker thread's own event loop (a pool of 16, one loop per thread), DID resolution and the
  status check sent back to the server loop (``run_coroutine_threadsafe``), the status list's
  own proof verified on a second pool of 8 threads. Copied here verbatim, so it can be measured
  beside its replacement after it left the node.
* **offload**: the verification runs on the server loop; only the CPU-heavy steps (structural
  checks, each proof's canonicalization and signature check) go to ``node.offload.ThreadOffload``
  through ``vc``'s ``offload`` hook.
* **inline**: everything on the loop, no hand-off (the floor; the loop is blocked meanwhile).

Printed per mechanism and concurrency: verifications/s (wall clock), process CPU per verification,
and how late a 1 ms ticker on the server loop ran during the run (p50/p99/max): the loop's
responsiveness, which is what moving the work off it is for. Rounds alternate the mechanisms so
machine noise falls on all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import inspect
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_status import NOW, _Fetched  # noqa: E402
from bench_vc import sample_credential  # noqa: E402
from did.key import DIDKeyResolver  # noqa: E402
from did.resolver import ResolutionResult, Resolver  # noqa: E402
from node.offload import ThreadOffload  # noqa: E402
from status.bitstring import Bitstring  # noqa: E402
from status.check import StatusChecker  # noqa: E402
from status.credential import issue_status_list_credential, status_list_entry  # noqa: E402
from vc.credentials import issue_credential, verify_credential  # noqa: E402
from vc.crypto import Ed25519KeyPair  # noqa: E402
from vc.cryptosuites import SUITES  # noqa: E402
from vc.loader import default_loader  # noqa: E402

ISSUER = "did:web:issuer.example"
LIST_URL = "https://issuer.example/status/revocation/1"


# --- the bridge, as node/service.py had it (fdd0d8f, 7776260, 3f69d5c) ---------------------------


def _bridge_function(fn: Callable[..., Awaitable[Any]], loop: asyncio.AbstractEventLoop) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), loop))

    return call


class _LoopBridge:
    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.iscoroutinefunction(attr):
            return _bridge_function(attr, self._loop)
        return attr


_VERIFY_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-verify")
_LIST_VERIFY_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bench-verify-list")
_worker = threading.local()


def _worker_loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_worker, "loop", None)
    if loop is None or loop.is_closed():
        loop = _worker.loop = asyncio.new_event_loop()
    return loop


async def _off_loop(make: Callable[[], Awaitable[Any]], executor: ThreadPoolExecutor = _VERIFY_POOL) -> Any:
    def work() -> Any:
        return _worker_loop().run_until_complete(make())

    return await asyncio.get_running_loop().run_in_executor(executor, work)


async def verify_credential_off_loop(document: Any, *, resolver: Any, loader: Any, now: Any, check_status: Any = None) -> Any:
    loop = asyncio.get_running_loop()
    bridged = _LoopBridge(resolver, loop)
    bridged_status = _bridge_function(check_status, loop) if check_status is not None else None
    return await _off_loop(
        lambda: verify_credential(document, resolver=bridged, loader=loader, now=now, check_status=bridged_status),
        _LIST_VERIFY_POOL,
    )


# --- the workload ------------------------------------------------------------------------------


class _WebIssuer:
    """did:web answered on the server loop, as the node's cached DIDWebResolver answers."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def resolve(self, did: str, options: Any = None) -> ResolutionResult:
        await asyncio.sleep(0)
        return ResolutionResult.success(copy.deepcopy(self.document))


class _ServeList:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def get_json(self, url: str, *, max_bytes: int | None = None, headers: Any = None) -> _Fetched:
        await asyncio.sleep(0)
        return _Fetched(url, 200, {}, self.document, 3600)


def setup(n: int) -> tuple[list[dict[str, Any]], Resolver, dict[str, Any]]:
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    vm = f"{ISSUER}#{key.public_multibase}"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": ISSUER,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": ISSUER, "publicKeyMultibase": key.public_multibase}],
        "assertionMethod": [vm],
    }
    loader = default_loader()
    status_list = issue_status_list_credential(
        list_url=LIST_URL, issuer=ISSUER, purpose="revocation", bitstring=Bitstring(131_072), key=key,
        verification_method=vm, now=NOW, loader=loader,
    )
    credentials = []
    for i in range(n):
        doc = sample_credential(ISSUER)
        doc["id"] = f"urn:uuid:7f3b6a52-3c1e-4d8a-9a4e-{i:012x}"
        doc["credentialSubject"]["name"] = f"Learner {i}"
        doc["credentialStatus"] = status_list_entry(list_url=LIST_URL, index=1000 + i, purpose="revocation")
        credentials.append(issue_credential(doc, key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=NOW))
    resolver = Resolver({"key": DIDKeyResolver(), "web": _WebIssuer(document)})
    return credentials, resolver, status_list


def make_verify(mechanism: str, resolver: Resolver, status_list: dict[str, Any], workers: int) -> tuple[Callable[[dict[str, Any]], Awaitable[Any]], Callable[[], None]]:
    loader = default_loader()
    http = _ServeList(status_list)
    if mechanism == "bridge":
        checker = StatusChecker(http, resolver, loader, lambda: NOW, verify_credential=verify_credential_off_loop)

        async def verify(vc: dict[str, Any]) -> Any:
            loop = asyncio.get_running_loop()
            bridged, status = _LoopBridge(resolver, loop), _bridge_function(checker.check, loop)
            return await _off_loop(lambda: verify_credential(vc, resolver=bridged, loader=loader, now=NOW, check_status=status))

        return verify, lambda: None
    offload = ThreadOffload(workers) if mechanism == "offload" else None
    checker = StatusChecker(http, resolver, loader, lambda: NOW, verify_credential=functools.partial(verify_credential, offload=offload))

    async def verify(vc: dict[str, Any]) -> Any:
        return await verify_credential(vc, resolver=resolver, loader=loader, now=NOW, check_status=checker.check, offload=offload)

    return verify, (offload.close if offload is not None else lambda: None)


async def measure(verify: Callable[[dict[str, Any]], Awaitable[Any]], credentials: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    for vc in credentials[:10]:  # warm-up: fills the status-list cache and the context caches
        assert (await verify(vc)).verified
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t - 0.001)

    todo = iter(credentials)

    async def client() -> None:
        for vc in todo:
            result = await verify(vc)
            if not result.verified:
                raise SystemExit(f"not verified: {json.dumps(result.to_json())[:1000]}")

    tick = asyncio.create_task(ticker())
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    stop.set()
    await tick
    lags.sort()
    n = len(credentials)
    return {
        "ops_per_sec": round(n / wall, 1),
        "cpu_ms_per_op": round(cpu / n * 1000, 3),
        "loop_lag_p50_ms": round(statistics.median(lags) * 1000, 2),
        "loop_lag_p99_ms": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000, 2),
        "loop_lag_max_ms": round(lags[-1] * 1000, 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    credentials, resolver, status_list = setup(args.n)
    out: dict[str, Any] = {}
    for round_ in range(args.rounds):
        for concurrency in args.concurrency:
            for mechanism in args.mechanisms:
                verify, close = make_verify(mechanism, resolver, status_list, args.workers)
                try:
                    row = await measure(verify, credentials, concurrency)
                finally:
                    close()
                out.setdefault(f"{mechanism} c={concurrency}", []).append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=600, help="distinct credentials, each verified once per measurement")
    ap.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 12])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="ThreadOffload threads (default node.offload's)")
    ap.add_argument("--mechanisms", type=lambda s: s.split(","), default=["bridge", "offload", "inline"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = asyncio.run(run(args))
    env = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        print(json.dumps({"results": report, "environment": env}, indent=2))
        return 0
    print(f"{args.n} distinct OB3 credentials per measurement, eddsa-rdfc-2022, did:web issuer, revocation status; {env}")
    print(f"{'mechanism':18} {'verify/s':>9} {'CPU ms/op':>10} {'lag p50':>8} {'lag p99':>8} {'lag max':>8}")
    for name, rows in report.items():
        for r in rows:
            print(f"{name:18} {r['ops_per_sec']:9.0f} {r['cpu_ms_per_op']:10.3f} {r['loop_lag_p50_ms']:8.2f} "
                  f"{r['loop_lag_p99_ms']:8.2f} {r['loop_lag_max_ms']:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
