#!/usr/bin/env python3
"""What a node adds to a verification: server CPU per ``POST /credentials/verify`` beside the
library's own cost for the same credentials (issue 13: at most 1.0 ms of CPU beyond the library).

    python3 bench/bench_verify_cost.py [--credentials 100] [--requests 400] [--rounds 5] [--clients 4] [--json]

A benchmark, not a test. Two ``vcnode serve`` processes on 127.0.0.1 (one worker each, the
defaults otherwise: access log and metrics on), as operators run them:

* the *issuer* signs ``--credentials`` Open Badges 3.0 credentials (eddsa-rdfc-2022, a
  revocation status entry, lists served with a 5-minute ttl) and verifies them too: **own**,
  its own did:web and its own status list, answered from memory and its store;
* a second node verifies the same credentials: **other**, the issuer's did:web document and
  status list fetched once over HTTP, then from its caches.

Each server gets every credential once (warm-up: caches filled, code loaded), then
``--rounds`` rounds of ``--requests`` verifications from ``--clients`` concurrent clients; its
CPU per request is read from ``/proc/PID/task/*/schedstat`` (the clients, in this process, are
not counted). The **library** figure is ``vc.credentials.verify_credential`` in this process on
the same credentials, one at a time, inline (no offload), with the issuer's DID document and
status list already in hand (a resolver answering from memory, a ``StatusChecker`` whose list
is cached), the node's reporters, after the same warm-up: what any verifier must spend. The
difference is the node's cost: HTTP on both ends of the request, the body's validation, the
hand-offs to the offload pool, DID resolution and status through the node's own capabilities,
the accreditation report, the response's JSON, the access log and the metrics.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_observe import Served, issue_samples  # noqa: E402  (serve processes, CPU from schedstat)

from did.http import FetchedJSON  # noqa: E402
from did.key import DIDKeyResolver  # noqa: E402
from did.resolver import Resolver, ResolutionResult  # noqa: E402
from status.check import StatusChecker  # noqa: E402
from vc.credentials import verify_credential  # noqa: E402
from vc.edu import REPORTERS  # noqa: E402
from vc.loader import default_loader  # noqa: E402


class _Documents:
    """did:web resolution and list fetches answered from memory (fetched once from the issuer)."""

    def __init__(self, did: str, document: dict[str, Any], lists: dict[str, dict[str, Any]]) -> None:
        self.did, self.document, self.lists = did, document, lists

    async def resolve(self, did: str, options: Any = None) -> ResolutionResult:
        return ResolutionResult.success(self.document)

    async def get_json(self, url: str, **_: Any) -> FetchedJSON:
        return FetchedJSON(url, 200, {}, self.lists[url], 300)


def library_cost(issued: list[dict[str, Any]], docs: _Documents, requests: int, rounds: int) -> list[float]:
    """CPU seconds per verification, per round, of ``verify_credential`` alone (this thread)."""
    loader = default_loader()
    resolver = Resolver({"key": DIDKeyResolver(), "web": docs})
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    checker = StatusChecker(docs, resolver, loader, clock)

    async def verify(vc: dict[str, Any]) -> None:
        result = await verify_credential(vc, resolver=resolver, loader=loader, now=clock(), check_status=checker, reporters=REPORTERS)
        if not result.verified:
            raise SystemExit(f"the library did not verify: {json.dumps(result.to_json())[:1000]}")

    async def run() -> list[float]:
        for vc in issued:  # the servers' warm-up
            await verify(vc)
        out = []
        for r in range(rounds):
            t0 = time.thread_time()
            for i in range(requests):
                await verify(issued[(r * requests + i) % len(issued)])
            out.append((time.thread_time() - t0) / requests)
        return out

    return asyncio.run(run())


async def server_cost(http: aiohttp.ClientSession, server: Served, issued: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    async def verify(vc: dict[str, Any]) -> None:
        async with http.post(f"{server.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200 or not body.get("verified"):
                raise SystemExit(f"verification failed on {server.name}: {resp.status} {json.dumps(body)[:1000]}")

    async def phase(items: list[dict[str, Any]]) -> tuple[float, float]:
        counter = iter(items)

        async def client() -> None:
            for vc in counter:
                await verify(vc)

        cpu0, t0 = server.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.clients)))
        return (server.cpu_seconds() - cpu0) / len(items), len(items) / (time.perf_counter() - t0)

    await phase(issued)  # warm-up
    cpu, rate = [], []
    for r in range(args.rounds):
        c, w = await phase([issued[(r * args.requests + i) % len(issued)] for i in range(args.requests)])
        cpu.append(c)
        rate.append(w)
    return {"cpu": cpu, "rate": rate}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-verify-cost-") as tmp:
        folder = Path(tmp)
        # One process each (bench_observe's environment sets VCNODE_WORKERS=1): the cost of a request.
        issuer = Served("issuer", folder, {"VCNODE_STATUS_LIST_TTL_MS": str(args.status_ttl_ms)})
        other = Served("other", folder, {"VCNODE_ALLOW_INSECURE_HOSTS": f"localhost:{issuer.port}"})
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.clients * 2)) as http:
                for s in (issuer, other):
                    await s.ready(http)
                issued = await issue_samples(http, issuer, args.credentials)
                did = f"did:web:localhost%3A{issuer.port}"
                async with http.get(f"{issuer.url}/.well-known/did.json") as resp:
                    document = await resp.json()
                lists = {}
                for url in {vc["credentialStatus"]["statusListCredential"] for vc in issued}:
                    path = url.split(f"localhost:{issuer.port}", 1)[1]
                    async with http.get(f"{issuer.url}{path}") as resp:
                        lists[url] = await resp.json(content_type=None)
                measured = {name: await server_cost(http, s, issued, args) for name, s in (("own", issuer), ("other", other))}
        finally:
            for s in (issuer, other):
                s.stop()
    library = await asyncio.to_thread(library_cost, issued, _Documents(did, document, lists), args.requests, args.rounds)
    lib_ms = statistics.median(library) * 1000
    out: dict[str, Any] = {
        "credentials": args.credentials,
        "rounds": args.rounds,
        "requests_per_round": args.requests,
        "clients": args.clients,
        "status_list_ttl_ms": args.status_ttl_ms,
        "library_cpu_ms_per_verify": round(lib_ms, 3),
        "library_rounds_ms": [round(x * 1000, 3) for x in library],
    }
    for name, m in measured.items():
        server_ms = statistics.median(m["cpu"]) * 1000
        out[name] = {
            "server_cpu_ms_per_request": round(server_ms, 3),
            "rounds_ms": [round(x * 1000, 3) for x in m["cpu"]],
            "node_cost_ms": round(server_ms - lib_ms, 3),
            "verifications_per_sec": round(statistics.median(m["rate"]), 1),
        }
    out["target_ms"] = 1.0
    out["met"] = all(out[n]["node_cost_ms"] <= 1.0 for n in measured)
    out["environment"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--credentials", type=int, default=100, help="distinct credentials issued (default 100)")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds per server (default 5)")
    ap.add_argument("--requests", type=int, default=400, help="verifications per round (default 400)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--status-ttl-ms", type=int, default=300_000,
                    help="ttl of the issuer's status lists (default 300000; 0, the node's default: served no-cache, "
                    "so each verification reads the list again, from the issuer's store for its own credentials)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    args = ap.parse_args(argv)
    if min(args.credentials, args.rounds, args.requests, args.clients) < 1:
        ap.error("every count must be at least 1")
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    lib = report["library_cpu_ms_per_verify"]
    print(f"POST /credentials/verify, server CPU per request beside the library's own ({report['rounds']} rounds of "
          f"{report['requests_per_round']} from {report['clients']} clients; load average {report['environment']['load_average']})")
    print(f"  library verify_credential, inline: {lib:.3f} ms  (rounds {report['library_rounds_ms']})")
    for name, what in (("own", "the node's own credentials"), ("other", "another node's, cached")):
        m = report[name]
        print(f"  {what:32s} server {m['server_cpu_ms_per_request']:.3f} ms -> node cost {m['node_cost_ms']:.3f} ms "
              f"({m['verifications_per_sec']:.0f}/s; rounds {m['rounds_ms']})")
    print(f"  target: node cost <= {report['target_ms']} ms: {'met' if report['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
