"""``vcnode serve --workers 2`` as an operator runs it (issue 13): two processes under one
supervisor serving one port over one store. Both answer; issuing through both never hands out a
status-list index twice; a worker killed with SIGKILL is replaced while the port keeps
answering; SIGTERM lets a request in flight finish before the node exits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.multiprocess import MultiProcessCollector

from served_node import bearer, clean_env, cli, served

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="worker processes are found through /proc")


def workers_of(supervisor: int) -> set[int]:
    """The live (not zombie) child processes of ``supervisor``, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == supervisor and fields[0] != "Z":
            found.add(int(entry))
    return found


def exactly(supervisor: int, count: int, without: int | None = None) -> set[int] | None:
    found = workers_of(supervisor)
    return found if len(found) == count and without not in found else None


async def until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def requests_counted(metrics_dir: Path, pid: int) -> float:
    """HTTP requests the worker ``pid`` counted (its own multiprocess file; the node sums them all)."""
    path = metrics_dir / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    return sum(
        s.value
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True)
        if metric.name == "vcnode_http_requests"
        for s in metric.samples
        if s.name == "vcnode_http_requests_total"
    )


def credential(did: str, i: int) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": f"did:example:learner{i}"},
    }


async def test_two_workers_answer_and_issue_without_reusing_status_indices(tmp_path: Path, unused_tcp_port: int) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "VCNODE_STATUS_PURPOSES": "revocation"}
    async with served(tmp_path / "node", unused_tcp_port, env=env, args=("--workers", "2")) as node:
        pids = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        _, out, _ = await cli("token", "create", "--scopes", "issue", "--json", *node.where())
        token = json.loads(out)["token"]
        did = f"did:web:localhost%3A{unused_tcp_port}"
        # A new connection per request, many at once: the kernel hands them to both workers.
        connector = aiohttp.TCPConnector(force_close=True, limit=16)
        issued: list[dict[str, Any]] = []
        async with aiohttp.ClientSession(connector=connector) as http:
            async def issue(i: int) -> None:
                body = {"credential": credential(did, i)}
                async with http.post(f"{node.url}/credentials/issue", json=body, headers=bearer(token)) as resp:
                    assert resp.status == 201, await resp.text()
                    issued.append((await resp.json())["verifiableCredential"])

            await asyncio.gather(*(issue(i) for i in range(80)))

            async def verify(vc: dict[str, Any]) -> None:
                async with http.post(f"{node.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                    result = await resp.json()
                    assert resp.status == 200 and result["verified"], result

            await asyncio.gather(*(verify(vc) for vc in issued))
        # Every credential got its own index in its list, whichever worker signed it.
        entries = [(vc["credentialStatus"]["statusListCredential"], vc["credentialStatus"]["statusListIndex"]) for vc in issued]
        assert len(set(entries)) == len(entries) == 80
        # Both workers served some of it (each counts its own requests; the metrics flush each second).
        counted = await until(
            lambda: c if sum(c := [requests_counted(metrics_dir, pid) for pid in pids]) >= 160 else None, 10, "every request counted"
        )
        assert all(n > 0 for n in counted), counted


async def test_a_killed_worker_is_replaced_while_the_port_keeps_answering(tmp_path: Path, unused_tcp_port: int) -> None:
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        before = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for _ in range(30):  # the survivor answers meanwhile (new connections go to live workers)
                async with http.get(f"{node.url}/healthz") as resp:
                    assert resp.status == 200
            after = await until(lambda: exactly(node.proc.pid, 2, without=victim), 30, "a replacement worker")
            assert len(after - before) == 1
            for _ in range(10):
                async with http.get(f"{node.url}/readyz") as resp:
                    assert resp.status == 200
        assert node.proc.returncode is None


def cpus_of(pid: int) -> set[tuple[int, ...]]:
    """The CPU sets the threads of ``pid`` may run on (one entry when they all agree)."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            found.add(tuple(sorted(os.sched_getaffinity(int(task)))))
        except OSError:
            continue
    return found


TWO_CPUS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")


@TWO_CPUS
async def test_each_worker_keeps_to_a_cpu_of_its_own_and_a_replacement_takes_the_one_left(tmp_path: Path, unused_tcp_port: int) -> None:
    """A worker's threads share one interpreter lock: all of them on one CPU, one worker per CPU."""
    everything = tuple(sorted(os.sched_getaffinity(0)))
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        workers = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        await until(lambda: all(f"worker {w} serving on CPU" in node.log() for w in workers), 30, "the workers serving")
        placed = {w: cpus_of(w) for w in workers}
        assert all(len(c) == 1 and len(next(iter(c))) == 1 for c in placed.values()), placed
        assert len({next(iter(c)) for c in placed.values()}) == 2, placed  # two CPUs, one each
        assert cpus_of(node.proc.pid) == {everything}  # the supervisor is not pinned
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        after = await until(lambda: exactly(node.proc.pid, 2, without=victim), 30, "a replacement worker")
        (replacement,) = after - workers
        await until(lambda: f"worker {replacement} serving on CPU" in node.log(), 30, "the replacement serving")
        assert cpus_of(replacement) == placed[victim], (placed, cpus_of(replacement))


@TWO_CPUS
async def test_workers_are_left_to_the_scheduler_with_pin_cpu_off_or_when_they_do_not_cover_the_cpus(
    tmp_path: Path, unused_tcp_port_factory: Any
) -> None:
    """A node with fewer workers than CPUs shares the machine: nodes each pinned to the same
    first CPUs would crowd them while the others idle."""
    everything = tuple(sorted(os.sched_getaffinity(0)))
    async with served(tmp_path / "free", unused_tcp_port_factory(), args=("--workers", "2"), env={"VCNODE_PIN_CPU": "false"}) as node:
        workers = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        await until(lambda: all(f"worker {w} serving" in node.log() for w in workers), 30, "the workers serving")
        assert all(cpus_of(w) == {everything} for w in workers) and "on CPU" not in node.log()
    async with served(tmp_path / "single", unused_tcp_port_factory(), args=("--workers", "1")) as node:
        assert cpus_of(node.proc.pid) == {everything} and "on CPU" not in node.log(), node.log()


@TWO_CPUS
async def test_a_pinned_worker_signs_a_large_batch_on_every_cpu(tmp_path: Path, unused_tcp_port: int) -> None:
    """The worker keeps to its CPU; the signing pool it starts has a process per CPU the node may
    use, each free to run on any of them."""
    everything = tuple(sorted(os.sched_getaffinity(0)))
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        workers = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        _, out, _ = await cli("token", "create", "--scopes", "issue", "--issuer", "default", "--json", "--data", str(node.data))
        token = json.loads(out)["token"]
        course = {"slug": "ds-101", "title": "Data Science 101", "description": "A module.", "learningOutcomes": ["Apply the methods"],
                  "ects": 5, "eqfLevel": 6, "assessment": {"type": "written examination"}, "participation": "online",
                  "qualityAssurance": {"description": "Institutional accreditation", "url": "https://body.example/decisions/1"},
                  "awardingBody": {"name": "University of Example", "countryCode": "NL"}}
        items = [{"achievementId": "ds-101", "learner": {"name": f"Learner {i}"}} for i in range(1024)]  # COLD_MIN: waits for the pool
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{node.url}/issuers/default/achievements", json=course, headers=bearer(token)) as resp:
                assert resp.status == 201, await resp.text()
            async with http.post(f"{node.url}/issuers/default/microcredentials", json={"items": items, "options": {"cryptosuite": "eddsa-jcs-2022"}},
                                 headers=bearer(token), timeout=aiohttp.ClientTimeout(total=300)) as resp:
                assert resp.status in (200, 201), await resp.text()
        pools = {w: [p for server in workers_of(w) for p in workers_of(server)] for w in workers}
        signed_by = [w for w, pool in pools.items() if pool]
        assert len(signed_by) == 1, pools
        (worker,) = signed_by
        assert len(cpus_of(worker)) == 1 and len(next(iter(cpus_of(worker)))) == 1  # the worker: one CPU
        assert len(pools[worker]) == len(everything) and all(cpus_of(p) == {everything} for p in pools[worker]), pools


async def test_a_worker_that_exits_is_replaced_and_the_metrics_folder_stays(tmp_path: Path, unused_tcp_port: int) -> None:
    """A worker that exits through its own clean-up (SIGTERM here; gunicorn's arbiter stops a
    worker that misses its heartbeat with SIGABRT, handled the same way) is replaced, and the
    metrics folder the node made stays until the node itself exits: the worker unwinds through
    ``serve``'s frames, whose clean-up used to remove the folder, so its replacement could not
    boot and the arbiter stopped the whole node."""
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        before = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        kept = re.search(r"metrics of this node's processes are kept in (\S+) \(removed on exit\)", node.log())
        assert kept, node.log()
        folder = Path(kept.group(1))
        assert folder.is_dir()
        victim = min(before)
        os.kill(victim, signal.SIGTERM)
        after = await until(lambda: exactly(node.proc.pid, 2, without=victim), 30, "a replacement worker")
        (replacement,) = after - before
        await until(lambda: f"worker {replacement} serving" in node.log() or node.proc.returncode is not None, 30, "the replacement")
        assert f"worker {replacement} serving" in node.log() and "Traceback" not in node.log(), node.log()
        assert folder.is_dir() and (folder / f"histogram_{replacement}.db").exists()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for _ in range(10):
                async with http.get(f"{node.url}/readyz") as resp:
                    assert resp.status == 200
        assert node.proc.returncode is None
    assert node.proc.returncode == 0 and not folder.exists()  # the node's own exit removes it


async def test_sighup_replaces_every_worker_and_the_node_keeps_serving(tmp_path: Path, unused_tcp_port: int) -> None:
    """SIGHUP to the supervisor (gunicorn's reload): new workers start, the old ones finish and
    exit, each through the clean-up that used to remove the metrics folder under the new ones."""
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        before = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        node.proc.send_signal(signal.SIGHUP)
        after = await until(lambda: (w := exactly(node.proc.pid, 2)) and not w & before and w, 30, "two new workers")
        await until(lambda: all(f"worker {pid} serving" in node.log() for pid in after) or node.proc.returncode is not None, 30, "the new workers")
        assert all(f"worker {pid} serving" in node.log() for pid in after) and "Traceback" not in node.log(), node.log()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            for _ in range(10):
                async with http.get(f"{node.url}/readyz") as resp:
                    assert resp.status == 200
        assert node.proc.returncode is None


async def test_sighup_to_a_single_process_node_is_said_and_ignored(tmp_path: Path, unused_tcp_port: int) -> None:
    """``--workers 1`` has no supervisor: SIGHUP's default action would end it mid-request."""
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "1")) as node:
        node.proc.send_signal(signal.SIGHUP)
        await until(lambda: "SIGHUP" in node.log() or node.proc.returncode is not None, 30, "the SIGHUP said")
        assert node.proc.returncode is None and "no workers to replace" in node.log(), node.log()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{node.url}/readyz") as resp:
                assert resp.status == 200
        node.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(node.proc.wait(), 30) == 0


async def test_sigusr2_is_refused_and_the_same_workers_keep_serving(tmp_path: Path, unused_tcp_port: int) -> None:
    """gunicorn re-executes its arbiter on SIGUSR2 (an upgrade in place): a second supervisor
    over the same folders, whose metrics folder the first removes when stopped. Refused."""
    async with served(tmp_path / "node", unused_tcp_port, args=("--workers", "2")) as node:
        before = await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
        node.proc.send_signal(signal.SIGUSR2)
        await until(lambda: "SIGUSR2" in node.log() or node.proc.returncode is not None, 30, "the refusal")
        await asyncio.sleep(2)  # a re-executed supervisor would be a child by now
        assert workers_of(node.proc.pid) == before and "Traceback" not in node.log(), node.log()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{node.url}/readyz") as resp:
                assert resp.status == 200


def tls_pair(folder: Path, name: str) -> tuple[Path, Path, str]:
    """A self-signed certificate and its key, and the certificate's SHA-256."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return cert, key, hashlib.sha256(der).hexdigest()


async def served_certificate(port: int) -> str | None:
    """The SHA-256 of the certificate a new connection gets, or None while nothing answers."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    except OSError:
        return None
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return hashlib.sha256(der).hexdigest()


async def served_until(port: int, expected: str, proc: Any, log: Path) -> None:
    """New connections get ``expected``, five in a row (old workers finishing may answer once more)."""
    deadline, streak = time.monotonic() + 60, 0
    while streak < 5:
        assert proc.returncode is None, log.read_text()
        assert time.monotonic() < deadline, f"the certificate served is not {expected}:\n{log.read_text()}"
        streak = streak + 1 if await served_certificate(port) == expected else 0
        await asyncio.sleep(0.05)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificates")
@pytest.mark.parametrize("workers", [1, 2])
async def test_sighup_serves_a_renewed_certificate_and_keeps_the_old_one_when_the_new_does_not_load(
    tmp_path: Path, unused_tcp_port: int, workers: int
) -> None:
    """A certificate's renewal hook reloads the node (SIGHUP): new connections get the new pair,
    without a restart; a pair that does not load (the new certificate beside the old key, a
    renewal half done) leaves the old one served, where loading it in each new worker would
    have failed their boot and stopped the node."""
    old_cert, old_key, old = tls_pair(tmp_path, "old")
    new_cert, new_key, new = tls_pair(tmp_path, "new")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(old_cert, cert)
    shutil.copy(old_key, key)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "node", "serve", "--data", str(tmp_path / "node"), "--port", str(unused_tcp_port),
            "--tls-cert", str(cert), "--tls-key", str(key), "--workers", str(workers),
            env=clean_env(), stdout=out, stderr=out,
        )
    try:
        await served_until(unused_tcp_port, old, proc, log)
        shutil.copy(new_cert, cert)  # the key not yet
        proc.send_signal(signal.SIGHUP)
        await until(lambda: "could not load the TLS certificate" in log.read_text() or proc.returncode is not None, 30, "the refusal")
        if workers > 1:  # the new workers are up, with the old pair
            await until(lambda: log.read_text().count("serving") >= 2 * workers or proc.returncode is not None, 30, "new workers")
        await served_until(unused_tcp_port, old, proc, log)
        shutil.copy(new_key, key)
        proc.send_signal(signal.SIGHUP)
        await served_until(unused_tcp_port, new, proc, log)
        context = ssl.create_default_context(cafile=str(new_cert))
        context.check_hostname = False
        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://127.0.0.1:{unused_tcp_port}/readyz", ssl=context) as resp:
                assert resp.status == 200
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 90) == 0, log.read_text()


def test_a_worker_takes_the_signals_its_copy_of_the_arbiters_queue_holds() -> None:
    """Both shapes of gunicorn's arbiter queue (a SimpleQueue now, a list in older releases),
    emptied; none at all when the arbiter had none."""
    import queue

    from node.workers import inherited_signals

    held = queue.SimpleQueue()
    for sig in (signal.SIGCHLD, signal.SIGTERM):
        held.put(sig)
    assert inherited_signals(held) == [signal.SIGCHLD, signal.SIGTERM]
    assert inherited_signals(held) == []
    listed = [signal.SIGHUP, signal.SIGINT]
    assert inherited_signals(listed) == [signal.SIGHUP, signal.SIGINT] and listed == []
    assert inherited_signals(None) == []


# ``vcnode serve`` whose workers take 2 s between their fork and their own signal handlers (a
# worker slow to start: a loaded machine). Each says it is there in MARKER first.
SLOW_START = """
import os, sys, time
from pathlib import Path
from node import workers
from node.cli import main

marker, init = Path(os.environ["MARKER"]), workers.NodeWorker.init_process

def slowly(self):
    with marker.open("a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(2)
    init(self)

workers.NodeWorker.init_process = slowly
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_stop_signal_reaching_workers_before_their_handlers_still_stops_them(
    tmp_path: Path, unused_tcp_port: int, stop: signal.Signals
) -> None:
    """Stopped while its workers are between their fork and their own signal handlers: the
    arbiter's one SIGQUIT (SIGTERM) to each reaches the arbiter's handlers, which they still
    have. The node stops in seconds, not when the arbiter's patience (65 s) runs out."""
    marker = tmp_path / "forked"
    data = tmp_path / "node"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SLOW_START, "serve", "--data", str(data), "--port", str(unused_tcp_port), "--workers", "2",
        env=clean_env({"MARKER": str(marker)}), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await until(lambda: marker.exists() and len(marker.read_text().split()) == 2 or proc.returncode is not None, 60, "two workers forked")
        assert proc.returncode is None
        proc.send_signal(stop)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 20)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            pytest.fail(f"the node did not stop within 20 s of {stop.name}; its log:\n{out.decode()[-6000:]}")
        assert proc.returncode == 0, out.decode()
        # Each worker stopped of itself, before it served: none was killed by the arbiter.
        log = out.decode()
        assert "SIGKILL" not in log and not [pid for pid in marker.read_text().split() if f"worker {pid} serving" in log], log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    # A request in flight: a verification waiting for the issuer's did:web document, which a
    # slow server here takes 2.5 s to answer (404). aiohttp counts a request whose body has
    # arrived and whose handler runs; bytes arriving after shutdown began are not read.
    port, slow_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    asked = asyncio.Event()

    async def slowly(request: web.Request) -> web.Response:
        asked.set()
        await asyncio.sleep(2.5)
        return web.json_response({}, status=404)

    slow = web.Application()
    slow.router.add_get("/.well-known/did.json", slowly)
    runner = web.AppRunner(slow)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", slow_port).start()
    did = f"did:web:localhost%3A{slow_port}"
    vc = credential(did, 1)
    vc["proof"] = {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
        "verificationMethod": f"{did}#key-1", "created": "2026-01-01T00:00:00Z", "proofValue": "z" + "1" * 86,
    }
    env = {"VCNODE_ALLOW_INSECURE_HOSTS": f"localhost:{slow_port}"}
    try:
        async with served(tmp_path / "node", port, env=env, args=("--workers", "2")) as node:
            await until(lambda: exactly(node.proc.pid, 2), 30, "two workers")
            async with aiohttp.ClientSession() as http:
                pending = asyncio.ensure_future(http.post(f"{node.url}/credentials/verify", json={"verifiableCredential": vc}))
                await asyncio.wait_for(asked.wait(), 20)  # the node is resolving the DID: in flight
                node.proc.send_signal(signal.SIGTERM)
                await asyncio.sleep(1)
                assert node.proc.returncode is None  # still draining
                with pytest.raises(OSError):  # but no longer accepting
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                resp = await asyncio.wait_for(pending, 30)
                result = await resp.json()
                # Answered in full: not verified (the DID document could not be had), but answered.
                assert resp.status == 400 and result["verified"] is False
                assert any(c["check"] == "proof" for c in result["checks"]), result
            assert await asyncio.wait_for(node.proc.wait(), 30) == 0  # the supervisor exits cleanly
    finally:
        await runner.cleanup()
