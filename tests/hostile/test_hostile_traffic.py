"""Hostile traffic against a real ``vcnode serve`` process (issue 14, point 5).

Clients on other loopback addresses (127.0.0.2, ...) stand for other hosts; the operator and
the load balancer's health check come from 127.0.0.1. Each test keeps a hostile load going
while it measures what the node must keep doing: answer /healthz, answer its operators, bound
what it holds. Durations are a few seconds here; docs/reliability.md ("Hostile traffic") has
the longer runs (``VCNODE_HOSTILE_SCALE``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web

from node.traffic import ACCEPTING
from served import ServedNode, serve_node

SCALE = float(os.environ.get("VCNODE_HOSTILE_SCALE") or 1)  # >1: more connections, longer floods
V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture(scope="module", autouse=True)
def enough_files() -> None:
    """Thousands of client sockets in this process: raise the soft limit where the hard one allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = int(6000 * SCALE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


class Timings:
    def __init__(self) -> None:
        self.values: list[float] = []
        self.statuses: list[int] = []

    def p(self, q: float) -> float:
        values = sorted(self.values)
        return values[min(len(values) - 1, int(len(values) * q))]


async def _probe_health(url: str, until: float, out: Timings) -> None:
    """GET /healthz every 50 ms on a fresh connection from 127.0.0.1, as a load balancer does."""
    while time.monotonic() < until:
        started = time.monotonic()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=10)) as resp:
                await resp.read()
                out.statuses.append(resp.status)
        out.values.append(time.monotonic() - started)
        await asyncio.sleep(0.05)


# --- connections and floods ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with serve_node(
        tmp_path_factory.mktemp("hostile"), tokens=(("issue", "default"),),
        max_connections=int(800 * SCALE), max_connections_per_client=100, idle_timeout_seconds=3,
        body_timeout_seconds=3, rate_limit_per_second=20, rate_limit_burst=40,
    ) as node:
        yield node


async def _idle_connections(port: int, sources: list[str], n: int) -> list[Any]:
    """``n`` connections that send nothing, opened 50 at a time: one by one, on a loaded host,
    the first would reach the node's idle timeout before the last were open, and the node would
    never hold as many as it allows. Stops at the first batch with a connection refused."""
    held: list[Any] = []
    for start in range(0, n, 50):
        opened = await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port, local_addr=(sources[i % len(sources)], 0)) for i in range(start, min(n, start + 50))),
            return_exceptions=True,
        )
        held += [c for c in opened if not isinstance(c, BaseException)]
        if len(held) < min(n, start + 50):
            break
    return held


async def _slowloris(port: int, n: int, until: float, closed: list[float], still_open: list[float]) -> None:
    """Open ``n`` connections from 127.0.1.20 that send a request head one byte at a time.

    ``closed`` gets how long each lasted until the node closed it; ``still_open`` how long each
    had lasted when the run ended with it open. A connection that could not even be opened
    raises out of here, so the test names that cause instead of finding both lists empty."""

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.1.20", 0))
        opened = time.monotonic()
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 10_000:
                if time.monotonic() > until:
                    still_open.append(time.monotonic() - opened)
                    writer.close()
                    return
                writer.write(bytes([byte]))
                await writer.drain()
                if reader.at_eof():
                    break
                await asyncio.sleep(0.25)
                if reader.at_eof() or writer.transport.is_closing():
                    break
        except (ConnectionError, OSError):
            pass
        closed.append(time.monotonic() - opened)
        writer.close()

    await asyncio.gather(*(one() for _ in range(n)))


async def _flood(url: str, source: str, until: float, statuses: list[int]) -> None:
    connector = aiohttp.TCPConnector(local_addr=(source, 0), limit=20)
    body = {"verifiableCredential": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:example:x",
                                     "credentialSubject": {"id": "did:example:y"}}}
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while time.monotonic() < until:
                async with http.post(url + "/credentials/verify", json=body) as resp:
                    await resp.read()
                    statuses.append(resp.status)
                    if resp.status == 429:
                        assert resp.headers["Retry-After"].isdigit()

        await asyncio.gather(*(worker() for _ in range(20)))


async def test_health_and_operators_are_answered_while_idle_slow_and_flooding_clients_press(node: ServedNode) -> None:
    duration = 6.0 * SCALE
    until = time.monotonic() + 600  # set once the idle connections are open (below)
    port = node.port
    # Thousands of idle connections from eight "hosts" (per scale): more than the node holds in
    # all, and more than each host may hold.
    hosts = [f"127.0.0.{i}" for i in range(2, 2 + int(8 * SCALE))]
    files: list[int] = []

    async def sample_files() -> None:
        while time.monotonic() < until:
            files.append(node.open_files())
            await asyncio.sleep(0.2)

    sampling = asyncio.ensure_future(sample_files())  # from the first idle connection on
    idle = await _idle_connections(port, hosts, int(2000 * SCALE))
    # The pressing runs this long from here: on a loaded host opening them may take seconds (a
    # full accept queue drops SYNs, retried after 1 s), which would leave the slow clients too
    # little time to meet the idle timer.
    until = time.monotonic() + duration
    health, flood, slow_closed, slow_open = Timings(), [], [], []
    operator: list[int] = []

    async def operate() -> None:
        token = node.token("issue", "default")
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < until - 1:
                credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": node.did,
                              "credentialSubject": {"id": "did:example:ana"}}
                async with http.post(node.url + "/credentials/issue", json={"credential": credential},
                                     headers={"Authorization": f"Bearer {token}"}) as resp:
                    await resp.read()
                    operator.append(resp.status)
                await asyncio.sleep(0.5)

    await asyncio.gather(
        sampling,
        _probe_health(node.url, until, health),
        _slowloris(port, int(100 * SCALE), until, slow_closed, slow_open),
        _flood(node.url, "127.0.1.30", until, flood),
        operate(),
    )
    held_by_node = max(files)
    for _, writer in idle:
        writer.close()

    assert len(idle) == int(2000 * SCALE)  # every connection was accepted (older idle ones closed for them)
    assert health.statuses and set(health.statuses) == {200}
    # Shared, loaded two-core machine: generous bounds; the figures are printed for the record.
    assert health.p(0.99) < 2.0, health.values
    assert operator and set(operator) == {201}, operator
    assert flood.count(429) > flood.count(400) > 0  # the flood got its share, then was told to wait
    # The node held as many connections as it allows, and more only for a moment (the accept
    # batches of node.traffic.ACCEPTING, while the ones it closed are released), plus its own files.
    assert int(800 * SCALE) <= held_by_node < int(800 * SCALE) + ACCEPTING + 64, files
    assert sorted(files)[len(files) // 2] < int(800 * SCALE) + 64, files
    # Slowloris: closed by the idle timer (3 s) or to make room, never left open for the run.
    # A connection opened less than 3 s before the end may rightly still be open then.
    assert slow_closed and max(slow_closed) < 3 + 2.0, (sorted(slow_closed)[-5:], sorted(slow_open)[-5:])
    assert all(lasted < 3 + 2.0 for lasted in slow_open), sorted(slow_open)[-5:]
    assert node.internal_errors() == []
    print(
        f"\nhealthz under load: {len(health.values)} probes, p50 {health.p(0.5) * 1000:.0f} ms, "
        f"p99 {health.p(0.99) * 1000:.0f} ms; flood: {len(flood)} requests, {flood.count(429)} refused (429); "
        f"operator: {len(operator)} issued; node files held at most: {held_by_node}"
    )


async def test_a_burst_of_new_connections_never_runs_the_node_out_of_open_files(tmp_path: Path) -> None:
    """Thousands of connections opened at once, against a node started with a service manager's
    low soft limit on open files (which the node raises as far as it needs). Each connection it
    admits past max_connections closes an idle one, but that one's socket is released only a few
    turns of the loop later, and each turn accepts another batch (node.traffic.ACCEPTING). With
    room for one batch only, accept() failed with EMFILE (222 times in one such burst) and asyncio
    stopped accepting for a second each time, health checks included."""
    n, hosts = int(3000 * SCALE), [f"127.0.0.{i}" for i in range(2, 40)]  # under 100 a host: the total limit evicts
    with serve_node(tmp_path / "node", files_limit=256, max_connections=300, max_connections_per_client=100,
                    idle_timeout_seconds=3) as node:

        async def connect(i: int) -> Any:
            return (await asyncio.open_connection("127.0.0.1", node.port, local_addr=(hosts[i % len(hosts)], 0)))[1]

        writers = await asyncio.gather(*(connect(i) for i in range(n)))
        await asyncio.sleep(1)  # the last batches admitted, their evictions released
        async with aiohttp.ClientSession() as http:
            async with http.get(node.url + "/healthz") as resp:
                assert resp.status == 200
        for writer in writers:
            writer.close()
        log = node.log.read_text(errors="replace").splitlines()
        assert [line for line in log if "out of system resource" in line or "Too many open files" in line] == []
        assert node.internal_errors() == []


# --- remote hosts that answer slowly, endlessly, or not at all --------------------------------


class Remote:
    """Hosts a did:web document or status list might live on, each misbehaving its own way."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.app = web.Application()
        self.app.router.add_get("/hang/{tail:.*}", self.hang)
        self.app.router.add_get("/drip/{tail:.*}", self.drip)
        self.app.router.add_get("/endless/{tail:.*}", self.endless)
        self.app.router.add_get("/{tail:.*}", self.hang)  # a did:web at the root: /.well-known/did.json

    async def _counted(self, body: Any) -> Any:
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            return await body
        finally:
            self.open -= 1

    async def hang(self, request: web.Request) -> web.StreamResponse:
        async def never() -> web.StreamResponse:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        return await self._counted(never())

    async def drip(self, request: web.Request) -> web.StreamResponse:
        return await self._counted(self._stream(request, b"a", 0.2))  # a byte every 0.2 s, forever

    async def endless(self, request: web.Request) -> web.StreamResponse:
        return await self._counted(self._stream(request, b"a" * 65536, 0))  # as fast as it is read, forever

    @staticmethod
    async def _stream(request: web.Request, chunk: bytes, pause: float) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"id": "')
        while True:
            await response.write(chunk)
            await asyncio.sleep(pause)


async def _remotes(n: int) -> AsyncIterator[tuple[list[int], Remote]]:
    remote = Remote()
    # handler_cancellation: a fetch the node gave up on ends its handler, so `open` counts live fetches.
    runner = web.AppRunner(remote.app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    ports = []
    for _ in range(n):
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.append(site.port)
    try:
        yield ports, remote
    finally:
        await runner.cleanup()


def _credential(issuer: str, status_url: str | None = None) -> dict[str, Any]:
    vc: dict[str, Any] = {
        "@context": [V2], "type": ["VerifiableCredential"], "issuer": issuer, "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ana"},
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "proofPurpose": "assertionMethod",
                  "verificationMethod": issuer + "#key-1", "created": "2025-01-01T00:00:00Z", "proofValue": "z" + "1" * 86},
    }
    if status_url:
        vc["credentialStatus"] = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                  "statusListIndex": "7", "statusListCredential": status_url}
    return vc


async def _verify(http: aiohttp.ClientSession, url: str, vc: dict[str, Any]) -> tuple[float, int, Any]:
    started = time.monotonic()
    async with http.post(url + "/credentials/verify", json={"verifiableCredential": vc}) as resp:
        return time.monotonic() - started, resp.status, await resp.json(content_type=None)


def _did(port: int, path: str = "") -> str:
    return f"did:web:127.0.0.1%3A{port}" + (":" + path if path else "")


async def test_slow_and_endless_remote_hosts_cost_one_time_limit_and_nothing_more(tmp_path: Path) -> None:
    async for (port,), remote in _remotes(1):
        host = f"127.0.0.1:{port}"
        with serve_node(tmp_path, allow_insecure_hosts=host, fetch_timeout_seconds=2) as node:
            cases = {
                "did:web that never answers": _credential(_did(port, "hang")),
                "did:web that drips a byte at a time": _credential(_did(port, "drip")),
                "did:web that streams without end": _credential(_did(port, "endless")),
                "status list that drips": _credential("did:key:z6MkpGL58vgNYdStEgWEvdAnvM1qHPrvQXbJFLozvgzzb1uJ", f"http://{host}/drip/list"),
                "status list that streams without end": _credential("did:key:z6MkpGL58vgNYdStEgWEvdAnvM1qHPrvQXbJFLozvgzzb1uJ", f"http://{host}/endless/list"),
            }
            rss_before = node.rss_bytes()
            health = Timings()
            async with aiohttp.ClientSession() as http:
                probe = asyncio.ensure_future(_probe_health(node.url, time.monotonic() + 3, health))
                answers = await asyncio.gather(*(_verify(http, node.url, vc) for vc in cases.values()))
                await probe
            rss_after = node.rss_bytes()
            for (name, vc), (elapsed, status, result) in zip(cases.items(), answers):
                assert status == 400 and result["verified"] is False, (name, result)
                assert elapsed < 2 + 2.5, (name, elapsed)  # one fetch time limit, then an answer
                failed = {c["check"]: c for c in result["checks"] if c["outcome"] != "passed"}
                if name.startswith("status"):
                    assert failed["status"]["outcome"] == "unknown" and failed["status"]["error"]["code"] == "STATUS_RETRIEVAL_ERROR"
                else:
                    assert "proof" in failed, (name, failed)
            assert set(health.statuses) == {200} and health.p(0.99) < 2.0
            # The endless bodies were cut at the size cap (256 KiB did:web, 4 MiB status list).
            assert rss_after - rss_before < 64 * 1024 * 1024, (rss_before, rss_after)
            assert node.internal_errors() == []


async def test_many_verifications_each_naming_another_remote_issuer_are_bounded(tmp_path: Path) -> None:
    n, total, per_host = int(40 * SCALE), 8, 2
    async for ports, remote in _remotes(n):
        allow = ",".join(f"127.0.0.1:{p}" for p in ports)
        with serve_node(
            tmp_path, allow_insecure_hosts=allow, fetch_timeout_seconds=2, fetch_max_concurrent=total, fetch_max_per_host=per_host,
        ) as node:
            health = Timings()
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                probe = asyncio.ensure_future(_probe_health(node.url, time.monotonic() + 3, health))
                started = time.monotonic()
                answers = await asyncio.gather(*(_verify(http, node.url, _credential(_did(p))) for p in ports))
                wall = time.monotonic() - started
                await probe
            assert remote.peak <= total, remote.peak  # never more fetches at once than allowed
            assert remote.peak == total  # and the bound was reached: the test measured something
            assert all(status == 400 and not result["verified"] for _, status, result in answers)
            details = json.dumps([result["checks"] for _, _, result in answers])
            assert "for a free slot" in details  # queued past the time limit: told so, not left waiting
            # Every answer within about one fetch time limit: queued fetches give up at their deadline.
            assert wall < 2 + 3.0, wall
            assert set(health.statuses) == {200} and health.p(0.99) < 2.0
            assert node.internal_errors() == []
