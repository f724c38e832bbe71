"""What operators watch, on real ``vcnode serve`` processes: the access log, ``GET /metrics``
and ``GET /readyz`` (issue 12, point 6; docs/operations.md, "What to monitor").

An issuer node and a verifier node run as subprocesses, their logs in files; tokens are made
with ``vcnode token create``. The metrics are scraped after real requests and read with
prometheus_client's own parser, and every counter is held to what those requests did.
"""

from __future__ import annotations

import asyncio
import copy
import json
import fcntl
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from served_node import ServedNode, bearer, cli, served

V2 = "https://www.w3.org/ns/credentials/v2"
LEARNER = "Zoë Quillfeather-Secretname"


def scrape(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


async def metrics(http: aiohttp.ClientSession, node: ServedNode, token: str | None = None) -> dict[Any, float]:
    async with http.get(f"{node.url}/metrics", headers=bearer(token) if token else {}) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "text/plain"
        return scrape(await resp.text())


def access_lines(node: ServedNode) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in node.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "vcnode.access"]


async def token(node: ServedNode, scopes: str, *extra: str) -> str:
    _, out, _ = await cli("token", "create", "--scopes", scopes, *extra, *node.where(), "--json")
    return json.loads(out)["token"]


async def test_metrics_and_access_log_follow_real_requests(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    issuer_port, verifier_port, dead_port = (unused_tcp_port_factory() for _ in range(3))
    issuer_env = {"VCNODE_LOG_FORMAT": "json", "VCNODE_STATUS_LIST_TTL_MS": "300000"}
    verifier_env = {"VCNODE_ALLOW_INSECURE_HOSTS": f"localhost:{issuer_port},localhost:{dead_port}"}
    async with (
        served(tmp_path / "issuer", issuer_port, env=issuer_env, log_name="issuer.log") as issuer,
        served(tmp_path / "verifier", verifier_port, env=verifier_env, args=("--log-format", "json"), log_name="verifier.log") as verifier,
    ):
        issue_token = await token(issuer, "issue,status", "--issuer", "default")
        admin = await token(issuer, "admin")
        verifier_admin = await token(verifier, "admin")
        async with aiohttp.ClientSession() as http:
            # Metrics are an admin's unless the node makes them public.
            async with http.get(f"{issuer.url}/metrics") as resp:
                assert resp.status == 401 and resp.content_type == "application/problem+json"
            async with http.get(f"{issuer.url}/metrics", headers=bearer(issue_token)) as resp:
                assert resp.status == 403
            before = await metrics(http, issuer, admin)
            assert value(before, "vcnode_credentials_issued_total", issuer="default") == 0

            issued = []
            for n in range(2):
                body = {"credential": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": f"did:web:localhost%3A{issuer_port}",
                                       "credentialSubject": {"id": f"did:example:learner-{n}", "name": LEARNER}}}
                async with http.post(f"{issuer.url}/credentials/issue", json=body, headers=bearer(issue_token)) as resp:
                    assert resp.status == 201, await resp.text()
                    issued.append((await resp.json())["verifiableCredential"])
            revoke = {"credentialId": issued[1]["id"], "status": "revoked"}
            async with http.post(f"{issuer.url}/credentials/status", json=revoke, headers=bearer(issue_token)) as resp:
                assert resp.status == 200, await resp.text()
            # Paths with data in them: an unknown achievement with a query, an unknown route.
            async with http.get(f"{issuer.url}/issuers/default/achievements/{LEARNER}?email=zoe%40example.edu") as resp:
                assert resp.status == 404
            for n in range(5):
                async with http.get(f"{issuer.url}/learners/{LEARNER}-{n}/transcript") as resp:
                    assert resp.status == 404

            # The verifier: the first credential twice (did:web document and list from their caches
            # the second time), the revoked one, and one whose key is on a host nobody listens on.
            for vc in (issued[0], issued[0], issued[1]):
                async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
                    assert resp.status == (200 if vc is issued[0] else 400), await resp.text()
            unreachable = copy.deepcopy(issued[0])
            unreachable["proof"]["verificationMethod"] = f"did:web:localhost%3A{dead_port}#key-1"
            async with http.post(f"{verifier.url}/credentials/verify", json={"verifiableCredential": unreachable}) as resp:
                assert resp.status == 400

            after = await metrics(http, issuer, admin)
            seen = await metrics(http, verifier, verifier_admin)

    # --- the issuer's metrics ------------------------------------------------------------------
    assert value(after, "vcnode_credentials_issued_total", issuer="default") == 2
    assert value(after, "vcnode_status_changes_total", issuer="default", status="revoked") == 1
    assert value(after, "vcnode_http_requests_total", method="POST", route="/credentials/issue", status="201") == 2
    assert value(after, "vcnode_http_requests_total", method="POST", route="/credentials/status", status="200") == 1
    assert value(after, "vcnode_http_requests_total", method="GET", route="/metrics", status="401") == 1
    assert value(after, "vcnode_http_requests_total", method="GET", route="/metrics", status="403") == 1
    assert value(after, "vcnode_http_requests_total", method="GET", route="/issuers/{name}/achievements/{slug}", status="404") == 1
    # Five different unknown paths are one series: a route label never holds a raw path.
    assert value(after, "vcnode_http_requests_total", method="GET", route="unmatched", status="404") == 5
    assert not [ls for (_, ls) in after if any(LEARNER in v for _, v in ls)]
    assert value(after, "vcnode_http_request_duration_seconds_count", method="POST", route="/credentials/issue") == 2
    # The revocation re-signed the list (and the first issue published it).
    assert value(after, "vcnode_status_list_publish_seconds_count") >= 2
    assert value(after, "vcnode_canonicalization_seconds_count", work="issue") >= 2
    assert value(after, "vcnode_canonicalization_seconds_count", work="status-list") >= 2
    assert value(after, "vcnode_canonicalization_seconds_sum", work="issue") > 0

    # --- the verifier's ------------------------------------------------------------------------
    assert value(seen, "vcnode_verifications_total", kind="credential", verified="true") == 2
    assert value(seen, "vcnode_verifications_total", kind="credential", verified="false") == 2
    assert value(seen, "vcnode_verification_errors_total", kind="credential", code="STATUS_CHECK_FAILED") == 1
    assert total(seen, "vcnode_verification_errors_total", kind="credential") >= 2
    # One fetch of the issuer's DID document and of its list; the rest came from the caches (the
    # status of all four credentials was checked, the one with the unreachable key's too).
    assert value(seen, "vcnode_remote_fetches_total", kind="did-document", outcome="ok") == 1
    assert value(seen, "vcnode_remote_fetches_total", kind="status-list", outcome="ok") == 1
    assert value(seen, "vcnode_remote_fetches_total", kind="did-document", outcome="network") == 1
    assert value(seen, "vcnode_remote_cache_lookups_total", kind="status-list", result="miss") == 1
    assert value(seen, "vcnode_remote_cache_lookups_total", kind="status-list", result="hit") == 3
    assert value(seen, "vcnode_remote_cache_lookups_total", kind="did-document", result="hit") >= 2
    assert value(seen, "vcnode_remote_fetch_seconds_count", kind="did-document") == 2
    assert value(seen, "vcnode_canonicalization_seconds_count", work="verify") >= 3
    assert value(seen, "vcnode_http_requests_total", method="POST", route="/credentials/verify", status="400") == 2

    # --- the access log: one JSON line per request, and nothing secret anywhere in the log -------
    lines = access_lines(issuer)
    assert {tuple(sorted(line)) for line in lines} == {
        ("durationMs", "issuer", "level", "logger", "message", "method", "route", "status", "time")
    }
    issues = [line for line in lines if line["route"] == "/credentials/issue"]
    assert [(line["method"], line["status"]) for line in issues] == [("POST", 201), ("POST", 201)]
    assert all(isinstance(line["durationMs"], float) and line["durationMs"] > 0 for line in issues)
    achievement = next(line for line in lines if line["route"] == "/issuers/{name}/achievements/{slug}")
    assert achievement["issuer"] == "default" and achievement["status"] == 404
    assert len([line for line in lines if line["route"] == "unmatched"]) == 5
    log = issuer.log() + verifier.log()
    for secret in (issue_token, admin, verifier_admin, LEARNER, "Quillfeather", "zoe%40example.edu", "zoe@example.edu", "transcript"):
        assert secret not in log, f"{secret!r} is in the log"
    assert all(line["message"].startswith(("GET ", "POST ")) for line in access_lines(verifier))


async def test_public_metrics_text_log_and_switching_both_off(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    async with aiohttp.ClientSession() as http:
        async with served(tmp_path / "public", unused_tcp_port_factory(), env={"VCNODE_METRICS_PUBLIC": "true"}) as node:
            async with http.get(f"{node.url}/healthz") as resp:
                assert resp.status == 200
            samples = await metrics(http, node)  # no token
            assert value(samples, "vcnode_http_requests_total", method="GET", route="/healthz", status="200") == 1
            # OpenMetrics for a scraper that asks for it.
            async with http.get(f"{node.url}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}) as resp:
                assert resp.content_type == "application/openmetrics-text"
                assert (await resp.text()).rstrip().endswith("# EOF")
            async with http.get(f"{node.url}/openapi.json") as resp:
                operation = (await resp.json())["paths"]["/metrics"]["get"]
                assert "security" not in operation and "401" not in operation["responses"]
        text = node.log()
        assert "INFO vcnode.access: GET /healthz 200 " in text  # the text format

        off = {"VCNODE_METRICS": "false", "VCNODE_ACCESS_LOG": "false"}
        async with served(tmp_path / "quiet", unused_tcp_port_factory(), env=off, log_name="quiet.log") as node:
            async with http.get(f"{node.url}/metrics") as resp:
                assert resp.status == 404
            async with http.get(f"{node.url}/openapi.json") as resp:
                assert "/metrics" not in (await resp.json())["paths"]
        assert "vcnode.access" not in node.log() and "metrics of this node" not in node.log()


async def test_two_processes_of_one_node_add_up(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    """Several processes serving one node (``serve --workers``, replicas on one host) share a
    metrics directory; whichever answers the scrape reports the sum."""
    shared = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "VCNODE_METRICS_PUBLIC": "true"}
    data = tmp_path / "data"
    async with aiohttp.ClientSession() as http:
        async with served(data, unused_tcp_port_factory(), env=env, log_name="a.log") as a:
            async with served(data, unused_tcp_port_factory(), env=env, log_name="b.log") as b:
                for node, n in ((a, 3), (b, 2)):
                    for _ in range(n):
                        async with http.get(f"{node.url}/healthz") as resp:
                            assert resp.status == 200
                # Each process writes its tallies every second (node.metrics.FLUSH_SECONDS), so
                # the other process's last requests show within that.
                for node in (a, b):
                    for _ in range(50):
                        samples = await metrics(http, node)
                        if value(samples, "vcnode_http_requests_total", method="GET", route="/healthz", status="200") == 5:
                            break
                        await asyncio.sleep(0.1)
                    assert value(samples, "vcnode_http_requests_total", method="GET", route="/healthz", status="200") == 5
                    assert value(samples, "vcnode_http_request_duration_seconds_count", method="GET", route="/healthz") == 5
                assert sorted(p.name.split("_")[0] for p in shared.iterdir()) == ["counter", "counter", "histogram", "histogram"]
    # A directory the environment named is the operator's: used as it is, not removed.
    assert shared.is_dir()


async def test_serve_keeps_its_own_metrics_directory_and_removes_it(tmp_path: Path, unused_tcp_port: int) -> None:
    async with served(tmp_path / "data", unused_tcp_port) as node:
        line = next(line for line in node.log().splitlines() if "metrics of this node's processes are kept in" in line)
        folder = Path(line.split(" kept in ", 1)[1].removesuffix(" (removed on exit)"))
        assert folder.is_dir() and any(folder.iterdir())
    assert node.proc.returncode == 0
    assert not folder.exists()



async def test_sigusr1_and_sigusr2_to_a_single_process_node_are_said_and_ignored(tmp_path: Path, unused_tcp_port: int) -> None:
    """Their default action would end ``--workers 1`` at once: no drain, the buffered access
    lines lost, the metrics folder left behind. The arbiter of --workers N refuses SIGUSR2."""
    async with aiohttp.ClientSession() as http:
        async with served(tmp_path / "data", unused_tcp_port, args=("--workers", "1")) as node:
            folder = _kept_in(node)
            for sig, said in ((signal.SIGUSR2, "SIGUSR2: vcnode does not re-execute itself"), (signal.SIGUSR1, "SIGUSR1: ")):
                node.proc.send_signal(sig)
                for _ in range(100):
                    if said in node.log() or node.proc.returncode is not None:
                        break
                    await asyncio.sleep(0.05)
                assert node.proc.returncode is None and said in node.log(), node.log()
                async with http.get(f"{node.url}/healthz") as resp:
                    assert resp.status == 200
            assert "WARNING node.traffic: SIGUSR2: " in node.log() and "still serving" in node.log()
            node.proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(node.proc.wait(), 30) == 0
        assert node.log().count("INFO vcnode.access: GET /healthz 200 ") == 2  # flushed on the way out
        assert not folder.exists() and "Traceback" not in node.log()


def _kept_in(node: ServedNode) -> Path:
    line = next(line for line in node.log().splitlines() if "metrics of this node's processes are kept in" in line)
    return Path(line.split(" kept in ", 1)[1].removesuffix(" (removed on exit)"))


async def test_the_metrics_directory_of_a_killed_node_is_removed_by_the_next(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    """A node killed (SIGKILL, the OOM killer) cannot remove its metrics directory; the next node
    started on the host removes it, and only the directories whose node has ended."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    async with served(tmp_path / "data", unused_tcp_port_factory(), env=env, args=("--workers", "2"), log_name="killed.log") as node:
        left = _kept_in(node)
        node.proc.kill()  # the supervisor: its workers follow it on their own
        await node.proc.wait()
    assert left.parent == tmp and (left / "vcnode-owner").is_file()
    # Beside it: a directory an operator made (no owner), one being made (owner not yet
    # written), and one of a node that runs (this process stands in for it).
    operator = tmp / "vcnode-metrics-operator"
    operator.mkdir()
    running = tmp / "vcnode-metrics-running"
    running.mkdir()
    with open(f"/proc/{os.getpid()}/stat") as f:
        started = f.read().rsplit(")", 1)[1].split()[19]
    (running / "vcnode-owner").write_text(f"{os.getpid()} {started}")
    # A process id used again: the id of a running process, the start time of another.
    reused = tmp / "vcnode-metrics-reused"
    reused.mkdir()
    (reused / "vcnode-owner").write_text(f"{os.getpid()} {int(started) + 1}")
    # Another port: the killed supervisor's workers serve on until they notice it is gone.
    async with served(tmp_path / "data", unused_tcp_port_factory(), env=env, log_name="next.log") as node:
        own = _kept_in(node)
        assert not left.exists() and not reused.exists()
        assert operator.is_dir() and running.is_dir() and own.is_dir()
        assert "removed 2 metrics folders left by nodes that were killed" in node.log()
    assert not own.exists()
    assert sorted(p.name for p in tmp.iterdir()) == ["vcnode-metrics-operator", "vcnode-metrics-running"]


async def _lock_between_reads(shm: int) -> None:
    """Takes the WAL locks (bytes 120-127 of the -shm file) once no read of the node holds one:
    a worker's own read (a /readyz probe, a background task) may hold its read mark for a moment,
    and a non-blocking lock taken at that instant is refused (CI failed so once)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            fcntl.lockf(shm, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.005)


async def test_readyz_fails_while_the_store_does_not_answer(tmp_path: Path, unused_tcp_port: int) -> None:
    """Another process holds the SQLite store's WAL locks (bytes 120-127 of its -shm file, as a
    process wedged inside the store would): the node's reads cannot start, so /readyz says 503
    (problem+json) within its time limit instead of hanging, and 200 again once they can."""
    async with served(tmp_path / "data", unused_tcp_port) as node, aiohttp.ClientSession() as http:
        async with http.get(f"{node.url}/readyz") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "ready"
        shm = os.open(node.data / "vcnode.sqlite3-shm", os.O_RDWR)
        try:
            await _lock_between_reads(shm)
            started = time.monotonic()
            async with http.get(f"{node.url}/readyz") as resp:
                assert resp.status == 503 and resp.content_type == "application/problem+json"
                problem = await resp.json()
            assert time.monotonic() - started < 5
            assert "store does not answer" in problem["detail"] and problem["status"] == 503
        finally:
            fcntl.lockf(shm, fcntl.LOCK_UN, 8, 120)
            os.close(shm)
        for _ in range(150):  # the read that timed out may still be finishing
            async with http.get(f"{node.url}/readyz") as resp:
                if resp.status == 200:
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("/readyz did not recover once the store answered")
