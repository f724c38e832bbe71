#!/usr/bin/env python3
"""Soak: mixed issue / verify / revoke traffic against a running node for a given time.

    python3 bench/soak.py [--duration 600] [--interval 10] [--clients 4] [--out soak.json]

A benchmark, not a test (issue 14, point 6; docs/reliability.md, "Soak"). It starts a real
``vcnode serve`` process on 127.0.0.1 over a fresh data folder (tests/served.py: the node in
its own process, so its memory is its own), makes an ``issue,status`` token with ``vcnode token
create``, and keeps ``--clients`` concurrent clients busy for ``--duration`` seconds, each
request chosen at random by ``--mix`` (issue:verify:revoke, default 3:6:1):

* issue: ``POST /credentials/issue``, a new credential with a revocation status entry;
* verify: ``POST /credentials/verify`` of a credential issued earlier (the node resolves its
  own did:web and fetches its own status list over HTTP, within the list's ttl);
* revoke: ``POST /credentials/status`` of an issued, not yet revoked credential (the list is
  re-signed before the answer).

Every ``--interval`` seconds it records the requests done, their p50/p99 latency (all and per
kind) and the node's resident memory (RSS, from /proc). At the end it prints the table and
the RSS growth from the first sample at or after ``--settle`` seconds (default 60) to the end,
and to the highest, against the target of under 10 %; ``--out`` writes everything as JSON.
Every answer must be the expected one (201, 200 verified, 200), or the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import aiohttp  # noqa: E402

from served import serve_node  # noqa: E402

V2 = "https://www.w3.org/ns/credentials/v2"
KINDS = ("issue", "verify", "revoke")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass
class Window:
    """What happened since the last sample."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def add(self, kind: str, seconds: float) -> None:
        self.latencies[kind].append(seconds)


@dataclass
class Issued:
    credentials: list[dict[str, Any]] = field(default_factory=list)
    revocable: list[str] = field(default_factory=list)


class SoakError(SystemExit):
    pass


async def run(args: argparse.Namespace) -> dict[str, Any]:
    weights = [int(x) for x in args.mix.split(":")]
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="vcnode-soak-") as tmp, serve_node(
        Path(tmp), status_list_ttl_ms=args.status_ttl_ms, log_level="WARNING",
    ) as node:
        token = node.token("issue,status", "default")
        auth = {"Authorization": f"Bearer {token}"}
        issued = Issued()
        window = Window()
        samples: list[dict[str, Any]] = []
        started = time.monotonic()
        until = started + args.duration
        n = 0

        async def issue(http: aiohttp.ClientSession) -> None:
            nonlocal n
            n += 1
            body = {"credential": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": node.did,
                                   "credentialSubject": {"id": f"did:example:learner-{n}", "name": f"Learner {n}"}}}
            async with http.post(node.url + "/credentials/issue", json=body, headers=auth) as resp:
                out = await resp.json(content_type=None)
                if resp.status != 201:
                    raise SoakError(f"issue: {resp.status} {json.dumps(out)[:1000]}")
            vc = out["verifiableCredential"]
            issued.credentials.append(vc)
            issued.revocable.append(vc["id"])

        async def verify(http: aiohttp.ClientSession) -> None:
            vc = rng.choice(issued.credentials)
            async with http.post(node.url + "/credentials/verify", json={"verifiableCredential": vc}) as resp:
                out = await resp.json(content_type=None)
                # A credential revoked since it was issued verifies as revoked: also the right answer.
                revoked = any(c["check"] == "status" and c["outcome"] == "failed" for c in out.get("checks", []))
                if not (resp.status == 200 and out["verified"]) and not (resp.status == 400 and revoked):
                    raise SoakError(f"verify: {resp.status} {json.dumps([c for c in out.get('checks', []) if c['outcome'] != 'passed'])[:2000]}")

        async def revoke(http: aiohttp.ClientSession) -> None:
            credential_id = issued.revocable.pop(rng.randrange(len(issued.revocable)))
            body = {"credentialId": credential_id, "status": "revoked"}
            async with http.post(node.url + "/credentials/status", json=body, headers=auth) as resp:
                out = await resp.json(content_type=None)
                if resp.status != 200:
                    raise SoakError(f"revoke: {resp.status} {json.dumps(out)[:1000]}")

        actions = {"issue": issue, "verify": verify, "revoke": revoke}

        async def client(http: aiohttp.ClientSession) -> None:
            while time.monotonic() < until:
                kind = rng.choices(KINDS, weights)[0]
                if kind != "issue" and not issued.revocable:
                    kind = "issue"
                t = time.monotonic()
                await actions[kind](http)
                window.add(kind, time.monotonic() - t)

        async def sampler() -> None:
            nonlocal window
            last = started
            while True:
                await asyncio.sleep(max(0.0, min(args.interval, until - time.monotonic())))
                now = time.monotonic()
                done, window = window, Window()
                everything = [x for values in done.latencies.values() for x in values]
                sample = {
                    "t": round(now - started, 1),
                    "requests": len(everything),
                    "per_sec": round(len(everything) / (now - last), 1),
                    "p50_ms": _ms(percentile(everything, 0.5)),
                    "p99_ms": _ms(percentile(everything, 0.99)),
                    "rss_mib": round(node.rss_bytes() / 2**20, 1),
                    "open_files": node.open_files(),
                    "issued": len(issued.credentials),
                }
                for kind in KINDS:
                    sample[kind] = {"n": len(done.latencies[kind]), "p50_ms": _ms(percentile(done.latencies[kind], 0.5)),
                                    "p99_ms": _ms(percentile(done.latencies[kind], 0.99))}
                samples.append(sample)
                if not args.quiet:
                    print(_row(sample), flush=True)
                last = now
                if now >= until:
                    return

        if not args.quiet:
            print(_header(), flush=True)
        connector = aiohttp.TCPConnector(limit=args.clients)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
            await asyncio.gather(sampler(), *(client(http) for _ in range(args.clients)))
        errors = node.internal_errors()
    return _summary(args, samples, errors)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _header() -> str:
    return f"{'t (s)':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'issue p99':>9} {'verify p99':>10} {'revoke p99':>10} {'RSS MiB':>8} {'files':>6} {'issued':>7}"


def _row(s: dict[str, Any]) -> str:
    def f(v: Any) -> str:
        return "-" if v is None else f"{v:g}"

    return (f"{s['t']:>7g} {s['per_sec']:>7g} {f(s['p50_ms']):>7} {f(s['p99_ms']):>8} {f(s['issue']['p99_ms']):>9} "
            f"{f(s['verify']['p99_ms']):>10} {f(s['revoke']['p99_ms']):>10} {s['rss_mib']:>8g} {s['open_files']:>6} {s['issued']:>7}")


def _summary(args: argparse.Namespace, samples: list[dict[str, Any]], errors: list[str]) -> dict[str, Any]:
    settled = next((s for s in samples if s["t"] >= args.settle), samples[0])
    later = [s for s in samples if s["t"] >= settled["t"]]
    last, peak = later[-1], max(later, key=lambda s: s["rss_mib"])
    total = sum(s["requests"] for s in samples)
    return {
        "duration_s": args.duration,
        "clients": args.clients,
        "mix": args.mix,
        "status_list_ttl_ms": args.status_ttl_ms,
        "requests": total,
        "per_sec": round(total / samples[-1]["t"], 1),
        "per_kind": {k: sum(s[k]["n"] for s in samples) for k in KINDS},
        "rss_mib_settled": settled["rss_mib"],
        "rss_settled_at_s": settled["t"],
        "rss_mib_last": last["rss_mib"],
        "rss_mib_peak": peak["rss_mib"],
        "rss_growth_last": round(last["rss_mib"] / settled["rss_mib"] - 1, 4),
        "rss_growth_peak": round(peak["rss_mib"] / settled["rss_mib"] - 1, 4),
        "target_met": peak["rss_mib"] / settled["rss_mib"] - 1 < 0.10,
        "internal_errors": errors[:10],
        "samples": samples,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "load_average": [round(x, 2) for x in os.getloadavg()]},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    ap.add_argument("--interval", type=float, default=10, help="seconds between samples (default 10)")
    ap.add_argument("--settle", type=float, default=60, help="RSS growth is counted from the first sample at or after this (default 60)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--mix", default="3:6:1", help="issue:verify:revoke weights (default 3:6:1)")
    ap.add_argument("--status-ttl-ms", type=int, default=10_000, help="the node's status list ttl (default 10000)")
    ap.add_argument("--seed", type=int, default=14, help="seed of the request mix (default 14)")
    ap.add_argument("--out", type=Path, help="write the samples and summary as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no table while running")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.interval <= 0 or args.clients < 1 or len(args.mix.split(":")) != 3:
        ap.error("--duration and --interval must be positive, --clients at least 1, --mix three weights a:b:c")
    summary = asyncio.run(run(args))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    print(f"\n{summary['requests']} requests in {summary['duration_s']:g} s ({summary['per_sec']} req/s; "
          f"{summary['per_kind']}), {summary['clients']} clients; load average {summary['environment']['load_average']}")
    print(f"RSS {summary['rss_mib_settled']} MiB at {summary['rss_settled_at_s']:g} s, {summary['rss_mib_last']} MiB at the end "
          f"({summary['rss_growth_last'] * 100:+.1f} %), peak {summary['rss_mib_peak']} MiB ({summary['rss_growth_peak'] * 100:+.1f} %): "
          f"target under +10 % {'met' if summary['target_met'] else 'NOT met'}")
    if summary["internal_errors"]:
        print("internal errors in the node's log:", *summary["internal_errors"], sep="\n  ")
        return 1
    return 0 if summary["target_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
