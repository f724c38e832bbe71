#!/usr/bin/env python3
"""What node/traffic.py's middleware costs per request: the same node with and without it.

    python3 bench/bench_traffic.py [--requests 3000] [--rounds 5] [--json]

A benchmark, not a test. Two apps from ``create_app`` run in this process on 127.0.0.1, the
same configuration, one with ``traffic_middleware`` taken out. Clients fetch a cheap public
endpoint (``GET /.well-known/did.json``: a cached DID document) from each in turn, ``--rounds``
times, so both see the same machine load; this client is not exempt and the rate limit is set
too high to refuse, so every request takes the limiter's whole path (endpoint look-up, client
address, token bucket, connection bookkeeping). Printed: the process CPU time per request for
each (server and client share the process, so only the difference is the middleware's) and
the median difference over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
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
from node.traffic import traffic_middleware  # noqa: E402


async def start(config: Config, with_middleware: bool) -> tuple[web.AppRunner, int]:
    app = create_app(config)
    if not with_middleware:
        app.middlewares.remove(traffic_middleware)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site.port


async def round_trip(http: aiohttp.ClientSession, url: str, n: int, clients: int) -> float:
    """CPU seconds per request for ``n`` GETs from ``clients`` concurrent clients."""
    counter = iter(range(n))

    async def client() -> None:
        for _ in counter:
            async with http.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise SystemExit(f"{url}: {resp.status}")

    cpu = time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    return (time.process_time() - cpu) / n


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp:
        runners = []
        try:
            ports = {}
            for name, on in (("with", True), ("without", False)):
                config = Config().replace(
                    data_dir=Path(tmp) / name, kdf="interactive", log_level="WARNING",
                    exempt_clients=(), rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000,
                )
                runner, ports[name] = await start(config, on)
                runners.append(runner)
            rounds: dict[str, list[float]] = {"with": [], "without": []}
            async with aiohttp.ClientSession() as http:
                for name, port in ports.items():  # warm-up: DID documents cached, code paths hot
                    await round_trip(http, f"http://127.0.0.1:{port}/.well-known/did.json", 200, args.clients)
                for _ in range(args.rounds):
                    for name, port in ports.items():
                        rounds[name].append(await round_trip(http, f"http://127.0.0.1:{port}/.well-known/did.json", args.requests, args.clients))
        finally:
            for runner in runners:
                await runner.cleanup()
    diffs = [w - wo for w, wo in zip(rounds["with"], rounds["without"])]
    return {
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "cpu_us_per_request_with": [round(x * 1e6, 1) for x in rounds["with"]],
        "cpu_us_per_request_without": [round(x * 1e6, 1) for x in rounds["without"]],
        "median_cost_us": round(statistics.median(diffs) * 1e6, 1),
        "median_share": round(statistics.median(diffs) / statistics.median(rounds["without"]), 4),
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "load_average": [round(x, 2) for x in os.getloadavg()]},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=3000, help="requests per app per round (default 3000)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("node.node").setLevel(logging.ERROR)
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"GET /.well-known/did.json, {args.rounds} rounds of {args.requests} requests per app, {args.clients} clients")
    print(f"  CPU per request with the traffic middleware:    {report['cpu_us_per_request_with']} µs")
    print(f"  CPU per request without it:                     {report['cpu_us_per_request_without']} µs")
    print(f"  the middleware: {report['median_cost_us']} µs a request (median of the rounds), "
          f"{report['median_share'] * 100:.1f} % of this cheapest request; load average {report['environment']['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
