#!/usr/bin/env python3
"""Every core of one machine (issue 13), side by side in one run:

    python3 bench/bench_workers.py [--seconds 5] [--rounds 3] [--issue-rounds 15] [--clients 16] [--batch 256] [--also-batch 1024] [--json]

A benchmark, not a test. Three comparisons, each in alternating rounds so that a shared
machine's load falls on both sides alike:

1. **HTTP verify, ``vcnode serve --workers 2`` against ``--workers 1``** (target ≥ 1.7×).
   An issuer node (one worker) signs ``--credentials`` Open Badges 3.0 credentials
   (eddsa-rdfc-2022, revocation entry, lists with a 5-minute ttl); two verifier nodes, one with
   each worker count, verify them: the issuer's did:web and status list fetched once, then
   cached, as a verifier sees a university's credentials. ``--clients`` concurrent keep-alive
   connections for ``--seconds`` per round, from a small HTTP/1.1 client over raw asyncio streams
   (prepared request bytes; its own CPU is a few percent of the server's). A client opens a new
   connection every ``--per-connection`` requests: the workers share one listening socket and
   each takes whatever connections it accepts, so long-lived connections would stay with
   whichever worker happened to accept them (browsers and proxies' pools do reconnect).
2. **HTTP verify with two workers against the JavaScript library in process** (target ≥ 4×):
   ``node bench.mjs`` of the interop harness (Digital Bazaar's ``vc.verifyCredential``, the same
   sample credential verified again and again with a did:key issuer, one process, sequential),
   run between the rounds. It is installed from ``../shared/interop`` into ``.cache/`` as the
   tests do (``VC_INTEROP_DIR`` names an installed copy). The node's requests do more: HTTP, a
   did:web issuer, a status list, distinct credentials.
3. **Batch issuance on every core against one core** (target ≥ 1.7×): ``--batch`` credentials
   through the node's issuance (``Issuance.issue_many``, as ``vcnode issue-batch`` and
   ``POST .../microcredentials`` call it: admission, index allocation, list publication,
   signing, key check) in this process, with the process pool (``node.signing``) and with it
   turned off (``MIN_PARALLEL`` out of reach: the offload thread, one core). The process sets
   its start-up heap aside from the collector once the node is open, and keeps its threads on
   one CPU (the pool's processes on all), as ``vcnode serve`` places a worker.
   ``--issue-rounds`` pairs (15 by default: a pair takes well under a second); then the same for
   ``--also-batch`` credentials (1,024: a cohort's file; half as many pairs, at least 5). Each
   for two kinds of credential. The target is the issue's batch paths' (issue 13: "``issue-batch``,
   ``POST .../microcredentials`` with many items"): the EU micro-credential (Annex I) they make
   (``Achievements.issue``: requests naming an achievement; 2.9 KB of JSON against 1.0, two to
   three times the signing). Beside it, for comparison, the VC-API's small Open Badges sample
   through ``Issuance.issue_many`` directly: no path of the node batches these (``POST
   /credentials/issue`` takes one credential, signed in-process), and with a third of the
   signing a credential, the fixed costs of a batch (its first stage, its commit) weigh most.
   Beside each pair, a control: a batch as issuance made it (proofs taken off) signed alone
   (no preparing, store or hand-outs) by the pool's processes and by a pool of one process.
   Its ratio is what two cores give over one for signing on this machine in those minutes, the ceiling the
   issuance ratio is read against: a 2-vCPU host's second core is not always all there. Each
   side's CPU a credential (this process's and the pool processes', from /proc schedstat) is
   printed beside: what the same work costs when both CPUs run at once.

The clients, this process, take their share of the cores too: their CPU per request is printed
beside the servers'. Printed per comparison: the median of the rounds' ratios and the rounds themselves; for HTTP
also each verifier's CPU per request (all its processes, from /proc schedstat) and how the
requests split between the two workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_node import credential  # noqa: E402  (the interop sample, one learner each)
from bench_issue_batch import ACHIEVEMENT  # noqa: E402  (an Annex I achievement, as issue-batch's bench uses)
from bench_observe import Served, vcnode  # noqa: E402


def processes_of(pid: int) -> list[int]:
    """``pid`` and its children (a supervisor's workers), from /proc."""
    out = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def cpu_of(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir() if Path(f"/proc/{pid}/task").exists() else ():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def request_bytes(port: int, vc: dict[str, Any]) -> bytes:
    body = json.dumps({"verifiableCredential": vc}).encode()
    head = (
        f"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def load(port: int, requests: list[bytes], *, clients: int, seconds: float, per_connection: int, offset: int) -> int:
    """Verifications answered 200 within ``seconds``, by ``clients`` keep-alive connections."""
    stop = time.perf_counter() + seconds
    done = 0

    async def client(k: int) -> None:
        nonlocal done
        i = offset + k * 7919
        while time.perf_counter() < stop:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                for _ in range(per_connection):
                    if time.perf_counter() >= stop:
                        break
                    writer.write(requests[i % len(requests)])
                    i += 1
                    status = await reader.readline()
                    length = 0
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    body = await reader.readexactly(length)
                    if not status.startswith(b"HTTP/1.1 200"):
                        raise SystemExit(f"verification failed: {status!r} {body[:500]!r}")
                    done += 1
            finally:
                writer.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return done


async def http_rounds(args: argparse.Namespace, folder: Path, js: list[float]) -> dict[str, Any]:
    issuer = Served("issuer", folder, {"VCNODE_STATUS_LIST_TTL_MS": "300000", "VCNODE_ACCESS_LOG": "false"}, ["--workers", "1"])
    allow = {"VCNODE_ALLOW_INSECURE_HOSTS": f"localhost:{issuer.port}", "VCNODE_RATE_LIMIT_PER_SECOND": "0"}
    if not args.access_log:
        allow["VCNODE_ACCESS_LOG"] = "false"
    one = Served("one-worker", folder, allow, ["--workers", "1"])
    two = Served("two-workers", folder, allow, ["--workers", "2"])
    servers = [issuer, one, two]
    try:
        async with aiohttp.ClientSession() as http:
            for s in servers:
                await s.ready(http)
            token = vcnode("token", "create", "--scopes", "issue", "--data", str(issuer.data), "--json")["token"]
            did = f"did:web:localhost%3A{issuer.port}"
            issued = []
            for i in range(args.credentials):
                body = {"credential": credential(did, i)}
                async with http.post(f"{issuer.url}/credentials/issue", json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
                    if resp.status != 201:
                        raise SystemExit(f"issuing failed: {resp.status} {await resp.text()}")
                    issued.append((await resp.json())["verifiableCredential"])
        prepared = {s.name: [request_bytes(s.port, vc) for vc in issued] for s in (one, two)}
        for s in (one, two):  # warm: every worker's caches (did:web, list, contexts) filled
            await load(s.port, prepared[s.name], clients=args.clients, seconds=2, per_connection=5, offset=0)
        rounds = []
        for r in range(args.rounds):
            measured: dict[str, Any] = {}
            for s in ((one, two) if r % 2 == 0 else (two, one)):
                pids = processes_of(s.proc.pid)
                cpu0 = {p: cpu_of(p) for p in pids}
                t0, mine = time.perf_counter(), time.process_time()
                n = await load(s.port, prepared[s.name], clients=args.clients, seconds=args.seconds,
                               per_connection=args.per_connection, offset=r * 1000)
                wall, mine = time.perf_counter() - t0, time.process_time() - mine
                spent = {p: cpu_of(p) - cpu0[p] for p in pids}
                measured[s.name] = {"per_sec": n / wall, "cpu_ms": sum(spent.values()) / n * 1000, "client_cpu_ms": mine / n * 1000,
                                    "split": sorted((v for p, v in spent.items() if p != s.proc.pid or len(pids) == 1), reverse=True)}
            rounds.append(measured)
            if args.js:  # between the rounds: the same minutes' machine
                js.append(js_verify_rate(args))
    finally:
        for s in servers:
            s.stop()
    return {"rounds": rounds}


def js_verify_rate(args: argparse.Namespace) -> float:
    from support import interop_harness

    harness = interop_harness()
    done = subprocess.run(
        ["node", "bench.mjs", "--n", str(args.js_n), "--warmup", "100", "--suite", "eddsa-rdfc-2022"],
        cwd=harness, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"node bench.mjs failed: {done.stderr[-2000:]}")
    return float(json.loads(done.stdout)["results"]["eddsa-rdfc-2022"]["verify"]["opsPerSec"])


# What each kind of batch is, as printed.
KINDS = {"credentials": "credentials (Issuance.issue_many)", "microcredentials": "micro-credentials (Achievements.issue)"}
# Whose ratio the target is (issue 13's batch paths: issue-batch, POST .../microcredentials);
# the small credentials' is printed for comparison.
TARGET_KINDS = {"microcredentials"}


async def issuance_rounds(folder: Path, batch_size: int, pairs: int, kind: str = "credentials") -> list[dict[str, float]]:
    from node import signing
    from node.config import Config
    from node.cores import allowed_cpus, pin_process
    from node.node import open_node
    from node.heap import settle_heap

    # Placed as ``vcnode serve`` places a worker when the workers cover the CPUs (pin_cpu, the
    # default): its threads on one CPU, the signing pool's processes on every CPU. Both sides
    # alike; after the HTTP rounds, whose clients this process runs.
    if len(cpus := allowed_cpus()) > 1:
        pin_process(cpus[0])
    cfg = Config().replace(data_dir=folder / f"{kind}-{batch_size}", base_url="https://university.example", status_purposes=("revocation",),
                           kdf="interactive", log_level="WARNING")
    rounds = []

    async def measured(signer: Any, work: Awaitable[Any]) -> tuple[float, float]:
        """Credentials a second, and the CPU a credential costs (µs, this process's and
        ``signer``'s processes'): what the same work costs when two CPUs run at once against
        one, on this host in these minutes."""

        def cpu() -> float:
            return cpu_of(os.getpid()) + sum(cpu_of(pid) for pid in signer.pids)

        before, t0 = cpu(), time.perf_counter()
        await work
        elapsed = time.perf_counter() - t0
        return batch_size / elapsed, (cpu() - before) / batch_size * 1e6

    async with open_node(cfg, create=True, network=False) as node:
        issuer = await node.issuers.get("default")
        if kind == "microcredentials":
            await node.achievements.create("default", ACHIEVEMENT)
        serial = 0

        def fresh() -> list[dict[str, Any]]:
            # New learners each batch: signing a credential seen before costs less (its
            # canonicalization's memos hit), and issuance never signs one twice.
            nonlocal serial
            out = []
            for _ in range(batch_size):
                if kind == "microcredentials":  # a request as POST .../microcredentials and issue-batch's rows make them
                    out.append({"achievementId": "ds-101", "learner": {"name": f"Learner {serial}", "email": f"learner{serial}@example.org"},
                                "grade": "ABC"[serial % 3]})
                else:
                    out.append({**credential(issuer.did, serial), "id": f"urn:uuid:0b8f3a1c-2d4e-4f5a-9b6c-{serial:012x}"})
                serial += 1
            return out

        async def issue(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if kind == "microcredentials":
                outcome = await node.achievements.issue("default", requests)
                return [i.credential for i in outcome.issued]
            return await node.issuance.issue_many("default", requests)

        async def batch(parallel: bool) -> tuple[float, float]:
            requests = fresh()
            saved = signing.MIN_PARALLEL
            signing.MIN_PARALLEL = saved if parallel else 1 << 62
            try:
                return await measured(signing.shared_signer(), issue(requests))
            finally:
                signing.MIN_PARALLEL = saved

        # The control: signing alone (no preparing, store or hand-outs), the same credentials
        # by the pool's two processes and by one process of a pool of one, in the same minutes.
        # What two cores give over one for this work on this machine now: the ceiling the
        # issuance ratio is read against (a 2-vCPU host's second core comes and goes). The
        # credentials are a batch as issuance made them (its status entries included), their
        # proofs taken off.
        key = await node.issuers.keypair("default")
        items = [({k: v for k, v in c.items() if k != "proof"}, c["proof"]["verificationMethod"]) for c in await issue(fresh())]
        solo = signing.ProcessSigner(1)

        async def signing_alone(signer: Any) -> tuple[float, float]:
            # One time for the whole batch, as issuance signs it: the pool joins into one part
            # only units of one batch (the same key, suite and time).
            now = datetime.now(timezone.utc)
            return await measured(signer, asyncio.gather(*(signer.sign_chunk(items[a:b], seed=key.seed, suite_name="eddsa-rdfc-2022", now=now)
                                                            for a, b in signing.units(batch_size))))

        await signing.shared_signer().warm()
        await solo.warm()
        settle_heap()  # as a serving process does once it is up (vcnode serve, each worker)
        for _ in range(2):  # the pool's processes started, every cache warm on both sides
            await batch(True)
            await batch(False)
            await signing_alone(solo)
            await signing_alone(signing.shared_signer())
        for r in range(pairs):
            got = {}
            for parallel in ((True, False) if r % 2 == 0 else (False, True)):
                name = "every_core" if parallel else "one_core"
                got[name], got[f"cpu_us_{name}"] = await batch(parallel)
            for signer in ((solo, signing.shared_signer()) if r % 2 == 0 else (signing.shared_signer(), solo)):
                name = "signing_one" if signer is solo else "signing_every"
                got[name], got[f"cpu_us_{name}"] = await signing_alone(signer)
            rounds.append(got)
        signing.shared_signer().close()
        solo.close()
    return rounds


def issuance_report(batch_size: int, rounds: list[dict[str, float]], kind: str = "credentials") -> dict[str, Any]:
    return {
        "batch": batch_size,
        "kind": kind,
        "every_core_per_sec": round(statistics.median(r["every_core"] for r in rounds), 1),
        "one_core_per_sec": round(statistics.median(r["one_core"] for r in rounds), 1),
        "ratio_median": round(statistics.median(r["every_core"] / r["one_core"] for r in rounds), 3),
        "ratio_rounds": [round(r["every_core"] / r["one_core"], 3) for r in rounds],
        "signing_alone_ratio_median": round(statistics.median(r["signing_every"] / r["signing_one"] for r in rounds), 3),
        "cpu_us_per_credential": {name: round(statistics.median(r[f"cpu_us_{name}"] for r in rounds))
                                  for name in ("one_core", "every_core", "signing_one", "signing_every")},
        "target": 1.7 if kind in TARGET_KINDS else None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    js: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        http = await http_rounds(args, Path(tmp), js)
        # Each size for each kind of credential: the EU micro-credential that POST
        # .../microcredentials and vcnode issue-batch make (Annex I: the target's), and for
        # comparison the VC-API's small Open Badges credential through issue_many directly (no
        # path batches it; a third of the signing work, so fixed costs weigh most). A cohort's
        # file is often larger: fixed costs (the first trip, the last part, the commit) weigh
        # less there.
        batches = {}
        for kind in KINDS:
            batches[kind] = [(args.batch, await issuance_rounds(Path(tmp), args.batch, args.issue_rounds, kind))]
            if args.also_batch:
                batches[kind].append((args.also_batch, await issuance_rounds(Path(tmp), args.also_batch, max(5, args.issue_rounds // 2), kind)))
    rounds = http["rounds"]
    ratio = [m["two-workers"]["per_sec"] / m["one-worker"]["per_sec"] for m in rounds]
    two_rate = statistics.median(m["two-workers"]["per_sec"] for m in rounds)
    out: dict[str, Any] = {
        "http_verify": {
            "clients": args.clients, "seconds_per_round": args.seconds, "per_connection": args.per_connection,
            "credentials": args.credentials, "access_log": args.access_log,
            "one_worker_per_sec": round(statistics.median(m["one-worker"]["per_sec"] for m in rounds), 1),
            "two_workers_per_sec": round(two_rate, 1),
            "ratio_median": round(statistics.median(ratio), 3),
            "ratio_rounds": [round(x, 3) for x in ratio],
            "cpu_ms_per_request": {
                name: round(statistics.median(m[name]["cpu_ms"] for m in rounds), 3) for name in ("one-worker", "two-workers")
            },
            "client_cpu_ms_per_request": round(statistics.median(m[n]["client_cpu_ms"] for m in rounds for n in m), 3),
            "two_workers_cpu_split_seconds": [[round(x, 2) for x in m["two-workers"]["split"]] for m in rounds],
            "target": 1.7,
        },
        "issuance": [issuance_report(size, rounds, kind) for kind in KINDS for size, rounds in batches[kind]],
    }
    if js:
        js_rate = statistics.median(js)
        out["javascript"] = {
            "verify_per_sec_rounds": js, "verify_per_sec": round(js_rate, 1),
            "http_two_workers_over_js": round(two_rate / js_rate, 3), "target": 4.0,
        }
    out["environment"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "load_average": [round(x, 2) for x in os.getloadavg()]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5, help="seconds of load per node per round (default 5)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    # A pair of issuance rounds takes well under a second, and a 2-vCPU machine's second core
    # is the one that moves (bench/README.md): more pairs, a steadier median.
    ap.add_argument("--issue-rounds", type=int, default=15, help="alternating batch issuance rounds (default 15)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent connections (default 16)")
    ap.add_argument("--per-connection", type=int, default=25, help="requests per connection before reconnecting (default 25)")
    ap.add_argument("--credentials", type=int, default=100, help="distinct credentials verified (default 100)")
    ap.add_argument("--batch", type=int, default=256, help="credentials per issuance batch (default 256)")
    ap.add_argument("--also-batch", type=int, default=1024, help="a second, larger batch (default 1024; 0: none)")
    ap.add_argument("--js-n", type=int, default=500, help="verifications per JavaScript run (default 500)")
    ap.add_argument("--no-js", dest="js", action="store_false", help="skip the JavaScript library (no node/npm)")
    ap.add_argument("--no-access-log", dest="access_log", action="store_false",
                    help="verifiers without their access log (on by default, as operators run them; here to a file)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    args = ap.parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    h = report["http_verify"]
    print(f"Every core of one machine ({report['environment']['cpus']} CPUs, load average {report['environment']['load_average']})")
    print(f"  HTTP verify, {h['clients']} clients: 2 workers {h['two_workers_per_sec']:.0f}/s, 1 worker {h['one_worker_per_sec']:.0f}/s "
          f"-> {h['ratio_median']:.2f}x (rounds {h['ratio_rounds']}; target >= 1.7)")
    print(f"    server CPU per request: 1 worker {h['cpu_ms_per_request']['one-worker']:.3f} ms, "
          f"2 workers {h['cpu_ms_per_request']['two-workers']:.3f} ms; the clients {h['client_cpu_ms_per_request']:.3f} ms; "
          f"2 workers' CPU split (s) {h['two_workers_cpu_split_seconds']}")
    if "javascript" in report:
        j = report["javascript"]
        print(f"  JavaScript vc.verifyCredential in process: {j['verify_per_sec']:.0f}/s (runs {j['verify_per_sec_rounds']}) "
              f"-> HTTP with 2 workers is {j['http_two_workers_over_js']:.2f}x (target >= 4)")
    for b in report["issuance"]:
        print(f"  batch issuance of {b['batch']} {KINDS[b['kind']]}: every core {b['every_core_per_sec']:.0f}/s, one core {b['one_core_per_sec']:.0f}/s "
              f"-> {b['ratio_median']:.2f}x (rounds {b['ratio_rounds']}; "
              + ("target >= 1.7)" if b["target"] else "no path batches these: for comparison)"))
        print(f"    control, signing alone: two processes / one {b['signing_alone_ratio_median']:.2f}x (this machine's ceiling now)")
        c = b["cpu_us_per_credential"]
        print(f"    CPU a credential (this process and the pool's): issuance one core {c['one_core']} us, every core {c['every_core']} us; "
              f"signing alone, one process {c['signing_one']} us, two {c['signing_every']} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
