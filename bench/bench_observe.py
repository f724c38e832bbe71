#!/usr/bin/env python3
"""What the access log and the metrics cost on ``POST /credentials/verify`` (issue 12: at most 5 %).

    python3 bench/bench_observe.py [--rounds 12] [--requests 150] [--clients 4] [--json]

A benchmark, not a test. Three ``vcnode serve`` processes on 127.0.0.1, as operators run them:

* an *issuer* node signs ``--credentials`` Open Badges 3.0 credentials (eddsa-rdfc-2022, a
  revocation status entry, its lists served with a ttl so verifiers may cache them);
* verifier **on**: the defaults, the access log (JSON lines, to a file, as a log collector
  would read them) and the Prometheus metrics (multiprocess mode, as ``serve`` always runs);
* verifier **off**: ``access_log = false``, ``metrics = false``.

Both verifiers are warmed (the issuer's did:web document and status list cached), then measured
in paired rounds: each round sends ``--requests`` verifications from ``--clients`` concurrent
clients to one verifier and then the same to the other, the order alternating from round to
round, so that the load of a shared machine falls on both alike. Per round: the throughput
ratio on/off, and the CPU time the verifier process spent per request (from /proc schedstat,
so the clients and the other processes are not counted). Printed: the median ratios with
their quartiles and range, the CPU per request on and off, and the CPU per request over the
whole run: the on node defers work to once a second (metrics tallied, access lines made),
and what falls outside its own phases is only counted there. On a machine others load, the
CPU ratio is the steadier figure: a saturated node's throughput is the inverse of its CPU per
request, while wall-clock throughput moves with whatever else runs in each round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_node import credential, percentile  # noqa: E402  (the same sample credential as bench_node)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"VCNODE_KDF": "interactive", "VCNODE_WORKERS": "1", **extra})  # one process: its CPU is what is read
    return env


class Served:
    def __init__(self, name: str, folder: Path, env: dict[str, str], args: tuple[str, ...] | list[str] = ()) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = folder / name
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "node", "serve", "--data", str(self.data), "--port", str(self.port), *args],
                env=environment(env), stdout=log, stderr=log, cwd=ROOT,
            )

    async def ready(self, http: aiohttp.ClientSession) -> None:
        for _ in range(300):
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log.read_text()}")
            try:
                async with http.get(f"{self.url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
        raise SystemExit(f"{self.name} did not start:\n{self.log.read_text()}")

    def cpu_seconds(self) -> float:
        """CPU time the server process's threads have run so far, in nanoseconds' resolution
        (Linux /proc/PID/task/*/schedstat; /proc/PID/stat counts in 10 ms ticks, too coarse
        for a round). Threads that ended are not counted: the node's offload threads live on."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # the thread ended while we looked
        return total / 1e9

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def vcnode(*args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "node", *args], env=environment({}), capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"vcnode {' '.join(args)}: {done.stderr}")
    return json.loads(done.stdout)


async def issue_samples(http: aiohttp.ClientSession, issuer: "Served", n: int) -> list[dict[str, Any]]:
    """``n`` sample credentials signed by ``issuer`` over VC-API (its did:web, an issue token)."""
    token = vcnode("token", "create", "--scopes", "issue", "--data", str(issuer.data), "--json")["token"]
    did = f"did:web:localhost%3A{issuer.port}"
    issued: list[dict[str, Any]] = []
    for i in range(n):
        body = {"credential": credential(did, i)}
        async with http.post(f"{issuer.url}/credentials/issue", json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
            if resp.status != 201:
                raise SystemExit(f"issuing failed: {resp.status} {await resp.text()}")
            issued.append((await resp.json())["verifiableCredential"])
    return issued


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-observe-") as tmp:
        folder = Path(tmp)
        issuer = Served("issuer", folder, {"VCNODE_STATUS_LIST_TTL_MS": "300000", "VCNODE_ACCESS_LOG": "false"})
        # A fresh folder is served under http://localhost:PORT (did:web names hosts, not addresses).
        insecure = {"VCNODE_ALLOW_INSECURE_HOSTS": f"localhost:{issuer.port}"}
        parts = {
            "both": {},
            "access-log": {"VCNODE_METRICS": "false"},
            "metrics": {"VCNODE_ACCESS_LOG": "false"},
            "neither": {"VCNODE_ACCESS_LOG": "false", "VCNODE_METRICS": "false"},  # A/A: the bench's own bias
        }[args.on]
        on = Served("on", folder, {**insecure, "VCNODE_LOG_FORMAT": "json", **parts})
        off = Served("off", folder, {**insecure, "VCNODE_ACCESS_LOG": "false", "VCNODE_METRICS": "false"})
        servers = [issuer, on, off]
        try:
            connector = aiohttp.TCPConnector(limit=args.clients * 2)
            async with aiohttp.ClientSession(connector=connector) as http:
                for s in servers:
                    await s.ready(http)
                issued = await issue_samples(http, issuer, args.credentials)

                async def verify(server: Served, vc: dict[str, Any]) -> float:
                    t = time.perf_counter()
                    async with http.post(f"{server.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                        body = await resp.json(content_type=None)
                        if resp.status != 200 or not body.get("verified"):
                            raise SystemExit(f"verification failed on {server.name}: {resp.status} {json.dumps(body)[:1000]}")
                    return time.perf_counter() - t

                async def phase(server: Served, offset: int) -> tuple[float, float, list[float]]:
                    counter = iter(range(args.requests))
                    latencies: list[float] = []

                    async def client() -> None:
                        for i in counter:
                            latencies.append(await verify(server, issued[(offset + i) % len(issued)]))

                    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
                    await asyncio.gather(*(client() for _ in range(args.clients)))
                    wall, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
                    return args.requests / wall, cpu / args.requests, latencies

                for server in (on, off):  # warm: caches filled, code paths loaded
                    await phase(server, 0)
                rounds = []
                # Over the whole run too: what the on node defers (metrics tallied and access lines
                # made each second) runs whenever its second comes, often while the other node has
                # its turn, outside the per-phase windows.
                whole_start = {s.name: s.cpu_seconds() for s in (on, off)}
                for r in range(args.rounds):
                    order = (on, off) if r % 2 == 0 else (off, on)
                    measured = {}
                    for server in order:
                        measured[server.name] = await phase(server, r * args.requests)
                    rounds.append(measured)
                await asyncio.sleep(1.5)  # the last second's deferred work done
                whole = {s.name: (s.cpu_seconds() - whole_start[s.name]) / (args.rounds * args.requests) for s in (on, off)}
                # The "on" node did log and count: one access line per request, metrics that add up.
                metrics_text = ""
                if args.on in ("both", "metrics"):
                    admin = vcnode("token", "create", "--scopes", "admin", "--data", str(on.data), "--json")["token"]
                    async with http.get(f"{on.url}/metrics", headers={"Authorization": f"Bearer {admin}"}) as resp:
                        metrics_text = await resp.text()
        finally:
            for s in servers:
                s.stop()
        access_lines = sum(1 for line in on.log.read_text().splitlines() if '"vcnode.access"' in line)

    ratios = [m["on"][0] / m["off"][0] for m in rounds]
    cpu_ratios = [m["on"][1] / m["off"][1] for m in rounds]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratios[0]] * 3
    cpu_quartiles = statistics.quantiles(cpu_ratios, n=4) if len(cpu_ratios) >= 2 else [cpu_ratios[0]] * 3
    lat = {name: sorted(x for m in rounds for x in m[name][2]) for name in ("on", "off")}
    def sample(prefix: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in metrics_text.splitlines() if line.startswith(prefix))

    verified = sample('vcnode_verifications_total{kind="credential",verified="true"}')
    return {
        "on": args.on,
        "rounds": args.rounds,
        "requests_per_round": args.requests,
        "clients": args.clients,
        "throughput_ratio_on_off": {
            "median": round(statistics.median(ratios), 4),
            "q1": round(quartiles[0], 4),
            "q3": round(quartiles[2], 4),
            "min": round(min(ratios), 4),
            "max": round(max(ratios), 4),
        },
        "cost_percent_median": round((1 - statistics.median(ratios)) * 100, 2),
        "verifications_per_sec": {
            "on": round(statistics.median(m["on"][0] for m in rounds), 1),
            "off": round(statistics.median(m["off"][0] for m in rounds), 1),
        },
        "server_cpu_ms_per_request": {
            "on": round(statistics.median(m["on"][1] for m in rounds) * 1000, 3),
            "off": round(statistics.median(m["off"][1] for m in rounds) * 1000, 3),
            "ratio_median": round(statistics.median(cpu_ratios), 4),
            "ratio_q1": round(cpu_quartiles[0], 4),
            "ratio_q3": round(cpu_quartiles[2], 4),
        },
        "cpu_cost_percent_median": round((statistics.median(cpu_ratios) - 1) * 100, 2),
        "whole_run_cpu_ms_per_request": {name: round(v * 1000, 3) for name, v in whole.items()},
        "whole_run_cpu_cost_percent": round((whole["on"] / whole["off"] - 1) * 100, 2),
        "p50_ms": {k: round(percentile(v, 0.5) * 1000, 2) for k, v in lat.items()},
        "p95_ms": {k: round(percentile(v, 0.95) * 1000, 2) for k, v in lat.items()},
        "per_round": [
            {"ratio": round(r, 4), "cpu_ratio": round(c, 4), "on_per_sec": round(m["on"][0], 1), "off_per_sec": round(m["off"][0], 1)}
            for r, c, m in zip(ratios, cpu_ratios, rounds)
        ],
        # What one verification reports (the hooks' work per request), from the on node's metrics.
        "check": {
            "access_lines_on": access_lines,
            "verifications_counted_on": verified,
            "offload_steps_per_verification": round(sample('vcnode_canonicalization_seconds_count{work="verify"}') / verified, 2) if verified else None,
            "cache_lookups_per_verification": round(sample("vcnode_remote_cache_lookups_total{") / verified, 2) if verified else None,
        },
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--credentials", type=int, default=100, help="distinct credentials issued (default 100)")
    ap.add_argument("--rounds", type=int, default=12, help="paired rounds (default 12)")
    ap.add_argument("--requests", type=int, default=150, help="verifications per verifier per round (default 150)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--on", choices=("both", "access-log", "metrics", "neither"), default="both",
                    help="what the 'on' verifier has (default both; access-log and metrics tell the two costs apart, "
                    "neither measures the bench's own bias between two identical nodes)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    args = ap.parse_args(argv)
    if min(args.credentials, args.rounds, args.requests, args.clients) < 1:
        ap.error("every count must be at least 1")
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    t, c = report["throughput_ratio_on_off"], report["server_cpu_ms_per_request"]
    print(f"POST /credentials/verify, {'access log + metrics' if args.on == 'both' else args.on} on vs off: {report['rounds']} paired rounds of "
          f"{report['requests_per_round']} requests from {report['clients']} clients (load average {report['environment']['load_average']})")
    print(f"  throughput on/off: median {t['median']:.3f} (quartiles {t['q1']:.3f}-{t['q3']:.3f}, range {t['min']:.3f}-{t['max']:.3f})"
          f"  -> cost {report['cost_percent_median']:.1f} %")
    print(f"  verifications/s: on {report['verifications_per_sec']['on']:.0f}, off {report['verifications_per_sec']['off']:.0f}")
    print(f"  server CPU per request: on {c['on']:.3f} ms, off {c['off']:.3f} ms: median ratio {c['ratio_median']:.3f} "
          f"(quartiles {c['ratio_q1']:.3f}-{c['ratio_q3']:.3f}) -> cost {report['cpu_cost_percent_median']:.1f} %")
    w = report["whole_run_cpu_ms_per_request"]
    print(f"  server CPU per request over the whole run (deferred work included): on {w['on']:.3f} ms, off {w['off']:.3f} ms "
          f"-> cost {report['whole_run_cpu_cost_percent']:.1f} %")
    print(f"  latency p50 on {report['p50_ms']['on']} ms / off {report['p50_ms']['off']} ms; "
          f"p95 on {report['p95_ms']['on']} ms / off {report['p95_ms']['off']} ms")
    k = report["check"]
    print(f"  check: {k['access_lines_on']} access lines written, {k['verifications_counted_on']:.0f} verifications counted; "
          f"per verification {k['offload_steps_per_verification']} offload steps, {k['cache_lookups_per_verification']} cache look-ups timed/counted")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
