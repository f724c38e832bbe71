#!/usr/bin/env python3
"""Verify throughput and latency through a running node's HTTP API (POST /credentials/verify).

    python3 bench/bench_node.py [--credentials 200] [--requests 600] [--clients 4] [--json]

A benchmark, not a test. Two nodes run in this process on 127.0.0.1, each a real ``create_app``
server with its own store in a temporary folder, as two universities would:

* the *issuer* node signs ``--credentials`` distinct Open Badges 3.0 credentials
  (eddsa-rdfc-2022, with a revocation status entry) through its own /credentials/issue; its
  issuer is a did:web on 127.0.0.1:<port>, its status lists carry a ttl (``--status-ttl-ms``);
* the *verifier* node is then asked to verify them: ``--requests`` POSTs from ``--clients``
  concurrent clients, cycling through the credentials. For each it resolves the issuer's did:web
  and fetches the status list over HTTP from the issuer node, so its did:web and status list
  caches are on the path (the first requests fill them; those are the warm-up).

Printed: requests per second (wall clock, all clients together), latency p50/p95/p99 per
request, the first (cold-cache) request's latency, and the process CPU time per request (both
nodes and the clients share this process, so that figure is an upper bound on the verifier's
cost). Every response must be 200 with ``verified: true``, or the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from node.app import create_app  # noqa: E402
from node.config import Config  # noqa: E402
from node.routes import NODE_KEY  # noqa: E402
from bench_vc import sample_credential  # noqa: E402  (the same sample credential in every bench)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def credential(issuer_did: str, i: int) -> dict[str, Any]:
    """The interop sample (bench_vc.py's), made distinct per learner; the node gives it an id."""
    doc = sample_credential(issuer_did)
    del doc["id"]
    doc["credentialSubject"] = {
        **doc["credentialSubject"], "id": f"urn:uuid:0b8f3a1c-2d4e-4f5a-9b6c-{i:012x}", "name": f"Learner {i}"
    }
    return doc


async def start(config: Config) -> tuple[web.AppRunner, web.Application]:
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.port).start()
    return runner, app


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-node-") as tmp:
        issuer_port, verifier_port = free_port(), free_port()
        # did:web names hosts, not IP addresses: a node on http://127.0.0.1:PORT is served only
        # because that host:port is allowed explicitly (as the conformance kit does).
        issuer_cfg = Config().replace(
            data_dir=Path(tmp) / "issuer", host="127.0.0.1", port=issuer_port, status_purposes=("revocation",),
            base_url=f"http://127.0.0.1:{issuer_port}", allow_insecure_hosts=(f"127.0.0.1:{issuer_port}",),
            status_list_ttl_ms=args.status_ttl_ms, kdf="interactive", log_level="WARNING",
        )
        verifier_cfg = Config().replace(
            data_dir=Path(tmp) / "verifier", host="127.0.0.1", port=verifier_port, kdf="interactive",
            base_url=f"http://127.0.0.1:{verifier_port}",
            allow_insecure_hosts=(f"127.0.0.1:{issuer_port}", f"127.0.0.1:{verifier_port}"), log_level="WARNING",
        )
        runners = []
        try:
            issuer_runner, issuer_app = await start(issuer_cfg)
            runners.append(issuer_runner)
            verifier_runner, _ = await start(verifier_cfg)
            runners.append(verifier_runner)
            node = issuer_app[NODE_KEY]
            issuer = await node.issuers.get("default")
            token = (await node.tokens.create(["issue"], issuer="default")).token

            async with aiohttp.ClientSession() as http:
                # --- issue (not measured beyond a total) -------------------------------------
                issue_url = f"http://127.0.0.1:{issuer_port}/credentials/issue"
                headers = {"Authorization": f"Bearer {token}"}
                t0 = time.perf_counter()
                issued: list[dict[str, Any]] = [None] * args.credentials  # type: ignore[list-item]

                async def issue_some(worker: int) -> None:
                    for i in range(worker, args.credentials, args.clients):
                        body = {"credential": credential(issuer.did, i), "options": {"cryptosuite": "eddsa-rdfc-2022"}}
                        async with http.post(issue_url, json=body, headers=headers) as resp:
                            if resp.status != 201:
                                raise SystemExit(f"issuing failed: {resp.status} {await resp.text()}")
                            issued[i] = (await resp.json())["verifiableCredential"]

                await asyncio.gather(*(issue_some(w) for w in range(args.clients)))
                issue_seconds = time.perf_counter() - t0

                # --- verify ----------------------------------------------------------------------
                verify_url = f"http://127.0.0.1:{verifier_port}/credentials/verify"

                async def verify(vc: dict[str, Any]) -> float:
                    t = time.perf_counter()
                    async with http.post(verify_url, json={"verifiableCredential": vc}) as resp:
                        body = await resp.json(content_type=None)
                        if resp.status != 200 or not body.get("verified"):
                            raise SystemExit(f"verification failed: {resp.status} {json.dumps(body)[:2000]}")
                    return time.perf_counter() - t

                cold = await verify(issued[0])  # resolves the did:web, fetches the status list
                warm = min(args.warmup, args.requests)
                for i in range(warm):
                    await verify(issued[(i + 1) % len(issued)])

                latencies: list[float] = []
                counter = iter(range(args.requests))

                async def client() -> None:
                    for i in counter:  # a shared iterator: exactly --requests in all
                        latencies.append(await verify(issued[(warm + 1 + i) % len(issued)]))

                cpu0, t0 = time.process_time(), time.perf_counter()
                await asyncio.gather(*(client() for _ in range(args.clients)))
                wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        finally:
            for runner in reversed(runners):
                await runner.cleanup()

    latencies.sort()
    return {
        "requests": args.requests,
        "clients": args.clients,
        "credentials": args.credentials,
        "distinct_credentials_verified": min(args.requests, args.credentials),
        "ops_per_sec": round(args.requests / wall, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "mean_ms": round(sum(latencies) / len(latencies) * 1000, 3),
        "cold_first_request_ms": round(cold * 1000, 3),
        "process_cpu_ms_per_request": round(cpu / args.requests * 1000, 3),
        "issue_per_sec": round(args.credentials / issue_seconds, 1),
        "status_list_ttl_ms": args.status_ttl_ms,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "load_average": [round(x, 2) for x in os.getloadavg()]},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--credentials", type=int, default=200, help="distinct credentials issued (default 200)")
    ap.add_argument("--requests", type=int, default=600, help="verify requests measured (default 600)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--warmup", type=int, default=20, help="verify requests before measuring (default 20)")
    ap.add_argument("--status-ttl-ms", type=int, default=300_000,
                    help="ttl of the issuer's status lists (default 300000; 0: served no-cache)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    args = ap.parse_args(argv)
    if args.credentials < 1 or args.requests < 1 or args.clients < 1:
        ap.error("--credentials, --requests and --clients must be at least 1")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("node.node").setLevel(logging.ERROR)  # the temporary nodes' key-file notices
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"POST /credentials/verify on a node, {report['requests']} requests from {report['clients']} concurrent "
          f"clients over {report['distinct_credentials_verified']} distinct credentials "
          f"(eddsa-rdfc-2022, did:web issuer on another node, revocation status list, ttl {report['status_list_ttl_ms']} ms)")
    print(f"  {report['ops_per_sec']:.0f} verifications/s (wall clock)   latency p50 {report['p50_ms']:.2f} ms  "
          f"p95 {report['p95_ms']:.2f} ms  p99 {report['p99_ms']:.2f} ms  (mean {report['mean_ms']:.2f} ms)")
    print(f"  first request (cold: did:web resolution and status list fetch) {report['cold_first_request_ms']:.1f} ms")
    print(f"  process CPU per request {report['process_cpu_ms_per_request']:.2f} ms (both nodes and the clients)")
    print(f"  issuing beforehand: {report['issue_per_sec']:.0f} credentials/s; load average "
          f"{report['environment']['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
