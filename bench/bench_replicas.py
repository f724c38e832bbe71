#!/usr/bin/env python3
"""Issue and verify throughput, and the cost of a status change, with one node on SQLite and
with one and two replicas on PostgreSQL (issue 13, docs/scaling.md).

    python3 bench/bench_replicas.py [--issue 600] [--verify 1200] [--changes 200] [--clients 16] [--json]
    python3 bench/bench_replicas.py --only pg-2      # one configuration

A benchmark, not a test. Each configuration runs real ``vcnode serve`` processes (one worker
each, access log off) on 127.0.0.1 under one base URL (https://bench.example, as replicas behind
one proxy are), a fresh store each time: a temporary data folder (SQLite), or a fresh schema on
the PostgreSQL server of ``VCNODE_TEST_DATABASE_URL`` (default
postgresql://postgres@127.0.0.1:5432/test). This process is the clients: ``--clients`` concurrent
requests spread round-robin over the replicas.

* **issue**: ``POST /credentials/issue``, one Open Badges 3.0 credential per request
  (bench_vc.py's sample, made distinct per learner), eddsa-rdfc-2022, one revocation entry: an
  index allocation and a credential record committed per credential (concurrent requests
  group-committed), signing outside the transaction;
* **verify**: ``POST /credentials/verify`` of those credentials on any replica: the node's own
  did:web from memory, its own status list from the store (a read per verification);
* **status change**: ``POST /credentials/status`` (revoke), first one at a time (the latency of
  one change: commit the bit, re-sign the 131,072-entry list, store it), then ``--clients`` at
  once (throughput: changes of one list queue on its row and its re-signing).
* **status list GET**: ``GET /status/default/revocation/1`` as wallets fetch it, the whole list
  (200) and revalidated with its ETag (``If-None-Match``: 304), on any replica: one read of the
  signed list from the store each (what a CDN in front takes off the nodes, docs/scaling.md);
* **store**: write transactions per second through the store API itself (one upsert each, 16
  concurrent tasks in this process): the ceiling every write path shares; on PostgreSQL the
  schema's write lock makes it one queue across replicas.

Printed per configuration: operations/s (wall clock), p50/p95 latency, and CPU milliseconds per
operation in the node processes and, on PostgreSQL, in the server's backends serving them
(found by application_name). The machine's load average is printed too: on a shared machine the
figures move with whatever else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bench_vc import sample_credential  # noqa: E402

BASE_URL = "https://bench.example"
ISSUER_DID = "did:web:bench.example"
APP_NAME = "vcnode-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def credential(i: int) -> dict[str, Any]:
    doc = sample_credential(ISSUER_DID)
    del doc["id"]
    doc["credentialSubject"] = {**doc["credentialSubject"], "id": f"urn:uuid:0b8f3a1c-2d4e-4f5a-9b6c-{i:012x}", "name": f"Learner {i}"}
    return doc


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("options", "application_name")]
    query += [("options", f"-csearch_path={schema}"), ("application_name", APP_NAME)]
    return parts._replace(query=urlencode(query, quote_via=quote)).geturl()


@dataclass
class Setup:
    name: str
    replicas: int
    database_url: str | None


class Cluster:
    """The replicas of one configuration, and the PostgreSQL backends serving them."""

    def __init__(self, setup: Setup, tmp: Path, pg_url: str) -> None:
        self.setup, self.tmp, self.pg_url = setup, tmp, pg_url
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        self.schema: str | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("VCNODE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        self.env.update({"VCNODE_KDF": "interactive", "VCNODE_PASSPHRASE": "bench", "VCNODE_ACCESS_LOG": "false",
                         "VCNODE_LOG_LEVEL": "WARNING", "VCNODE_RATE_LIMIT_PER_SECOND": "0"})
        self.token = ""

    async def start(self) -> None:
        if self.setup.database_url is not None:
            self.schema = f"vcbench_{secrets.token_hex(4)}"
            self.env["VCNODE_DATABASE_URL"] = with_schema(self.pg_url, self.schema)
        vcnode = [sys.executable, "-m", "node"]
        run = lambda *a: subprocess.run([*vcnode, *a], env=self.env, check=True, capture_output=True, cwd=ROOT)  # noqa: E731
        run("init", "--data", str(self.tmp / "r0"), "--base-url", BASE_URL)
        out = run("token", "create", "--scopes", "issue,status", "--issuer", "default", "--json", "--data", str(self.tmp / "r0"))
        self.token = json.loads(out.stdout)["token"]
        help_text = run("serve", "--help").stdout.decode()
        one_worker = ["--workers", "1"] if "--workers" in help_text else []
        for i in range(self.setup.replicas):
            port = free_port()
            log = open(self.tmp / f"r{i}.log", "wb")
            self.procs.append(subprocess.Popen(
                [*vcnode, "serve", "--data", str(self.tmp / ("r0" if self.setup.database_url is None else f"r{i}")),
                 "--host", "127.0.0.1", "--port", str(port), *one_worker],
                env=self.env, stdout=log, stderr=log, cwd=ROOT,
            ))
            self.urls.append(f"http://127.0.0.1:{port}")
        async with aiohttp.ClientSession() as http:
            for url, proc in zip(self.urls, self.procs):
                for _ in range(300):
                    if proc.poll() is not None:
                        raise SystemExit(f"vcnode serve exited: {(self.tmp / 'r0.log').read_text()[-2000:]}")
                    try:
                        async with http.get(url + "/readyz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.1)

    async def backend_pids(self) -> list[int]:
        if self.schema is None:
            return []
        conn = await asyncpg.connect(self.pg_url)
        try:
            return [r["pid"] for r in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", APP_NAME)]
        finally:
            await conn.close()

    async def cpu(self) -> tuple[float, dict[int, float]]:
        return sum(cpu_seconds(p.pid) for p in self.procs), {pid: cpu_seconds(pid) for pid in await self.backend_pids()}

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.schema is not None:
            conn = await asyncpg.connect(self.pg_url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            finally:
                await conn.close()


async def measure(cluster: Cluster, n: int, clients: int, op: Callable[[int, str], Awaitable[None]]) -> dict[str, Any]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def client() -> None:
        for i in counter:
            url = cluster.urls[i % len(cluster.urls)]
            t = time.perf_counter()
            await op(i, url)
            latencies.append(time.perf_counter() - t)

    node0, pg0 = await cluster.cpu()
    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    node1, pg1 = await cluster.cpu()
    pg_cpu = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items())
    return {
        "n": n, "clients": clients, "per_sec": round(n / wall, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2), "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "node_cpu_ms_per_op": round((node1 - node0) / n * 1000, 2),
        "pg_cpu_ms_per_op": round(pg_cpu / n * 1000, 2) if cluster.schema else None,
    }


async def store_writes(setup: Setup, tmp: Path, pg_url: str, n: int = 2000, tasks: int = 16) -> float:
    """Write transactions/s through the store API (one settings upsert each), ``tasks`` at once."""
    from node.store import PostgresDatabase, SQLiteDatabase
    from node.store import settings

    schema = f"vcbench_w_{secrets.token_hex(4)}"
    db = await (SQLiteDatabase.open(tmp / "w") if setup.database_url is None else PostgresDatabase.open(with_schema(pg_url, schema)))
    try:
        counter = iter(range(n))

        async def task() -> None:
            for i in counter:
                async with db.transaction() as tx:
                    await settings.put(tx, f"k{i % 64}", i)

        t0 = time.perf_counter()
        await asyncio.gather(*(task() for _ in range(tasks)))
        return round(n / (time.perf_counter() - t0), 1)
    finally:
        await db.close()
        if setup.database_url is not None:
            conn = await asyncpg.connect(pg_url)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


async def run_setup(setup: Setup, args: argparse.Namespace, pg_url: str) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-replicas-{setup.name}-"))
    cluster = Cluster(setup, tmp, pg_url)
    issued: list[dict[str, Any]] = []
    try:
        await cluster.start()
        headers = {"Authorization": f"Bearer {cluster.token}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

            async def issue(i: int, url: str) -> None:
                body = {"credential": credential(i), "options": {"cryptosuite": "eddsa-rdfc-2022"}}
                async with http.post(url + "/credentials/issue", json=body, headers=headers) as resp:
                    if resp.status != 201:
                        raise SystemExit(f"issue: {resp.status} {await resp.text()}")
                    issued.append((await resp.json())["verifiableCredential"])

            async def verify(i: int, url: str) -> None:
                async with http.post(url + "/credentials/verify", json={"verifiableCredential": issued[i % len(issued)]}) as resp:
                    out = await resp.json(content_type=None)
                    if resp.status != 200 or out.get("verified") is not True:
                        raise SystemExit(f"verify: {resp.status} {json.dumps(out)[:1500]}")

            revoked = iter(range(len(issued) + 10**9))

            async def change(i: int, url: str) -> None:
                body = {"credentialId": issued[next(revoked)]["id"], "status": "revoked"}
                async with http.post(url + "/credentials/status", json=body, headers=headers) as resp:
                    if resp.status != 200:
                        raise SystemExit(f"status: {resp.status} {await resp.text()}")

            for i in range(20):  # warm-up: contexts, caches, pools, the status list opened and signed
                await issue(10**6 + i, cluster.urls[i % len(cluster.urls)])
                await verify(i, cluster.urls[i % len(cluster.urls)])
            issued.clear()
            result = {"replicas": setup.replicas, "backend": "postgresql" if setup.database_url else "sqlite"}
            result["issue"] = await measure(cluster, args.issue, args.clients, issue)
            result["verify"] = await measure(cluster, args.verify, args.clients, verify)
            list_url = issued[0]["credentialStatus"]
            list_url = (list_url[0] if isinstance(list_url, list) else list_url)["statusListCredential"].removeprefix(BASE_URL)
            etag, size = "", 0

            async def fetch_list(i: int, url: str, conditional: bool = False) -> None:
                nonlocal etag, size
                async with http.get(url + list_url, headers={"If-None-Match": etag} if conditional else {}) as resp:
                    size = max(size, len(await resp.read()))
                    if resp.status != (304 if conditional else 200):
                        raise SystemExit(f"status list: {resp.status}")
                    etag = resp.headers.get("ETag", etag)

            result["status_list_get"] = await measure(cluster, args.verify, args.clients, fetch_list)
            result["status_list_304"] = await measure(cluster, args.verify, args.clients, lambda i, url: fetch_list(i, url, True))
            result["status_list_bytes"] = size  # the signed list with 20 + --issue entries used, none revoked
            result["status_change_one_at_a_time"] = await measure(cluster, min(args.changes // 4, 50), 1, change)
            result["status_change_concurrent"] = await measure(cluster, args.changes, args.clients, change)
    finally:
        await cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result["store_write_tx_per_sec"] = await store_writes(setup, Path(tempfile.mkdtemp(prefix="bench-w-")), pg_url)
    return result


SETUPS = {
    "sqlite-1": Setup("sqlite-1", 1, None),
    "pg-1": Setup("pg-1", 1, "pg"),
    "pg-2": Setup("pg-2", 2, "pg"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--issue", type=int, default=600, help="credentials issued, measured (default 600)")
    ap.add_argument("--verify", type=int, default=1200, help="verifications measured (default 1200)")
    ap.add_argument("--changes", type=int, default=200, help="concurrent status changes measured (default 200)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ap.add_argument("--only", choices=sorted(SETUPS), action="append", help="run only these configurations")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.changes + args.changes // 4 > args.issue:
        ap.error("--issue must be at least 1.25 × --changes (each change revokes a credential issued in the run)")
    pg_url = os.environ.get("VCNODE_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    report: dict[str, Any] = {
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in os.getloadavg()]},
    }
    for name in args.only or list(SETUPS):
        report[name] = asyncio.run(run_setup(SETUPS[name], args, pg_url))
        if not args.json:
            print_setup(name, report[name])
    report["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"load average before {report['environment']['load_average_before']}, after {report['environment']['load_average_after']} "
              f"({report['environment']['cpus']} CPUs)")
    return 0


def print_setup(name: str, r: dict[str, Any]) -> None:
    print(f"{name}: {r['replicas']} replica(s) on {r['backend']}; store write transactions {r['store_write_tx_per_sec']:.0f}/s")
    for key, label in (("issue", "issue"), ("verify", "verify"), ("status_list_get", "status list GET (200)"),
                       ("status_list_304", "status list GET (304)"), ("status_change_one_at_a_time", "status change, 1 at a time"),
                       ("status_change_concurrent", "status change, concurrent")):
        m = r[key]
        pg = f", PostgreSQL {m['pg_cpu_ms_per_op']:.2f} ms" if m["pg_cpu_ms_per_op"] is not None else ""
        print(f"  {label:28} {m['per_sec']:8.1f}/s  p50 {m['p50_ms']:7.2f} ms  p95 {m['p95_ms']:7.2f} ms  "
              f"CPU per op: nodes {m['node_cpu_ms_per_op']:.2f} ms{pg}  ({m['n']} ops, {m['clients']} clients)")


if __name__ == "__main__":
    raise SystemExit(main())
