"""GuardedHTTP on its own: what it refuses before connecting, what it returns, the DNS guard."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from did.errors import FetchError
from did.http import (
    ForbiddenAddress,
    GuardedHTTP,
    GuardedResolver,
    create_guarded_session,
    is_public_address,
    normalize_host_port,
    parse_max_age,
)


class MapResolver:
    """Stands in for DNS: a fixed name -> addresses table."""

    def __init__(self, table):
        self.table = table

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [
            {"hostname": host, "host": addr, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
            for addr in self.table[host]
        ]

    async def close(self):
        pass


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


def test_parse_max_age():
    assert parse_max_age(None) is None
    assert parse_max_age("public") is None
    assert parse_max_age("public, max-age=60") == 60
    assert parse_max_age('max-age="30"') == 30
    assert parse_max_age("max-age=60, no-store") == 0
    assert parse_max_age("No-Cache") == 0
    assert parse_max_age("max-age=-5") is None


def test_normalize_host_port():
    assert normalize_host_port("LocalHost:0080") == "localhost:80"
    assert normalize_host_port("[::1]:8443") == "[::1]:8443"
    for bad in ("localhost", "host:", "host:99999", ":80"):
        with pytest.raises(ValueError):
            normalize_host_port(bad)


async def test_refuses_a_session_without_the_dns_guard():
    import aiohttp

    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ValueError, match="create_guarded_session"):
            GuardedHTTP(plain)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://example.com/did.json", "insecure"),
        ("ftp://example.com/did.json", "insecure"),
        ("file:///etc/passwd", "insecure"),
        ("https://user:pw@example.com/", "insecure"),
        ("/relative/did.json", "insecure"),
        ("https://127.0.0.1/did.json", "forbidden-address"),
        ("https://169.254.169.254/latest/meta-data", "forbidden-address"),
        ("https://[::1]:8443/x", "forbidden-address"),
        ("https://[::ffff:127.0.0.1]/x", "forbidden-address"),
        ("https://10.0.0.8/x", "forbidden-address"),
    ],
)
async def test_refused_before_connecting(url, reason):
    session = create_guarded_session()
    try:
        with pytest.raises(FetchError) as info:
            await GuardedHTTP(session).get_json(url)
        assert info.value.reason == reason
        assert info.value.code == "internalError"  # a refusal, not a missing document
    finally:
        await session.close()


async def test_every_resolved_address_is_checked():
    """One private address among public ones is enough to refuse the name."""
    guard = GuardedResolver(inner=MapResolver({"mixed.example": ["93.184.215.14", "10.0.0.5"], "ok.example": ["93.184.215.14"]}))
    with pytest.raises(ForbiddenAddress, match="10.0.0.5"):
        await guard.resolve("mixed.example", 443)
    assert [r["host"] for r in await guard.resolve("ok.example", 443)] == ["93.184.215.14"]
    allowed = GuardedResolver(["mixed.example:8443"], inner=MapResolver({"mixed.example": ["10.0.0.5"]}))
    assert [r["host"] for r in await allowed.resolve("mixed.example", 8443)] == ["10.0.0.5"]
    with pytest.raises(ForbiddenAddress):  # the allowance is for one port only
        await allowed.resolve("mixed.example", 443)


async def test_dns_guard_inside_a_real_fetch():
    """A name that the (injected) DNS maps to a private address is refused by the connector."""
    session = create_guarded_session(resolver=MapResolver({"internal.example": ["192.168.0.10"]}))
    try:
        with pytest.raises(FetchError) as info:
            await GuardedHTTP(session).get_json("https://internal.example/status/1")
        assert info.value.reason == "forbidden-address"
        assert "192.168.0.10" in info.value.detail
    finally:
        await session.close()


async def test_fetched_json_fields(didweb, guarded):
    url = f"http://{didweb.host}/cached/did.json"
    fetched = await guarded.get_json(url, headers={"X-Test": "1"})
    assert fetched.url == url
    assert fetched.status == 200
    assert fetched.max_age == 60
    assert fetched.headers["content-type"].startswith("application/json")
    assert fetched.data["id"] == didweb.base_did + ":cached"
    redirected = await guarded.get_json(f"http://{didweb.host}/moved/did.json")
    assert redirected.url == f"http://{didweb.host}/moved-target/did.json"
    assert redirected.max_age is None


async def test_per_call_size_cap(didweb, guarded):
    url = f"http://{didweb.host}/.well-known/did.json"
    assert (await guarded.get_json(url)).data["id"] == didweb.base_did
    with pytest.raises(FetchError) as info:
        await guarded.get_json(url, max_bytes=100)
    assert info.value.reason == "too-large"
    assert info.value.code == "invalidDidDocument"


async def test_allowed_host_name_is_reachable_over_http(didweb):
    """An allowance for localhost:PORT lets the DNS answer 127.0.0.1 through, for that port only."""
    allow = {f"localhost:{didweb.port}"}
    session = create_guarded_session(allowed_insecure_hosts=allow)
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts=allow, timeout=2)
        fetched = await http.get_json(f"http://localhost:{didweb.port}/.well-known/did.json")
        assert fetched.data["id"] == f"did:web:localhost%3A{didweb.port}"
    finally:
        await session.close()


async def test_live_loopback_server_is_not_reached_without_allowance(didweb, unguarded_allowance):
    for url, reason in (
        (f"https://{didweb.host}/.well-known/did.json", "forbidden-address"),
        (f"http://{didweb.host}/.well-known/did.json", "insecure"),
        (f"https://localhost:{didweb.port}/.well-known/did.json", "forbidden-address"),
    ):
        with pytest.raises(FetchError) as info:
            await unguarded_allowance.get_json(url)
        assert info.value.reason == reason, url
    assert didweb.hits == {}


async def test_malformed_json_is_a_fetch_error(didweb, guarded):
    with pytest.raises(FetchError) as info:
        await guarded.get_json(f"http://{didweb.host}/malformed/did.json")
    assert info.value.reason == "malformed"
    assert "valid JSON" in info.value.detail


# --- bounds on outbound work: fetch slots, an allow-list of hosts ---------------------------


class Gate:
    """A JSON server whose answers wait for ``release``; it counts the requests it holds at once."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.release = None
        self.app = web.Application()
        self.app.router.add_get("/{name}", self.handle)

    async def handle(self, request):
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            await self.release.wait()
            return web.json_response({"name": request.match_info["name"]})
        finally:
            self.open -= 1


async def _gates(aiohttp_server, n):
    release = asyncio.Event()
    gates = []
    for _ in range(n):
        gate = Gate()
        gate.release = release
        gate.server = await aiohttp_server(gate.app)
        gates.append(gate)
    return release, gates


async def test_fetches_to_one_host_run_at_most_per_host_at_once(aiohttp_server):
    release, (gate,) = await _gates(aiohttp_server, 1)
    host = f"127.0.0.1:{gate.server.port}"
    session = create_guarded_session(allowed_insecure_hosts={host})
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts={host}, timeout=5, max_per_host=2, max_concurrent=10)
        tasks = [asyncio.ensure_future(http.get_json(f"http://{host}/{i}")) for i in range(8)]
        while gate.open < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert gate.open == 2 and http.slots.running == 2 and http.slots.running_for(host) == 2
        release.set()
        names = [(await t).data["name"] for t in tasks]
        assert names == [str(i) for i in range(8)] and gate.peak == 2
        assert http.slots.hosts_tracked() == 0 and http.slots.running == 0  # nothing left behind
    finally:
        await session.close()


async def test_fetches_in_all_are_bounded_and_a_queued_one_gives_up_busy(aiohttp_server):
    """Five slow hosts, three slots in all: the rest wait, and within the time limit fail as
    'busy' (a verification then reports a resolution error), never piling up unbounded work.

    The three that run are given a longer limit than the two that wait: with one limit for all,
    a running fetch timing out a moment before a waiting one's deadline hands it its slot, and
    that one then times out fetching instead of giving up busy (seen on a loaded machine)."""
    release, gates = await _gates(aiohttp_server, 5)
    hosts = [f"127.0.0.1:{g.server.port}" for g in gates]
    session = create_guarded_session(allowed_insecure_hosts=hosts)
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts=hosts, timeout=30, max_per_host=4, max_concurrent=3)
        running = [asyncio.ensure_future(http.get_json(f"http://{h}/{i}")) for i, h in enumerate(hosts[:3])]
        while sum(g.open for g in gates) < 3:
            await asyncio.sleep(0.01)
        http.timeout = 0.5  # read as each fetch starts: the two below wait at most this long
        started = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(http.get_json(f"http://{h}/x") for h in hosts[3:]), return_exceptions=True)
        assert asyncio.get_running_loop().time() - started >= 0.5
        assert [getattr(r, "reason", r) for r in results] == ["busy", "busy"], results
        assert [r.code for r in results] == ["internalError", "internalError"]  # the DID may exist
        assert all("waited 0.5 s for a free slot" in r.detail and "limits 4 per host, 3 in all" in r.detail for r in results)
        assert [g.peak for g in gates] == [1, 1, 1, 0, 0] and http.slots.peak == 3 and http.slots.running == 3
        release.set()
        assert [(await t).data["name"] for t in running] == ["0", "1", "2"]
        assert http.slots.hosts_tracked() == 0 and http.slots.running == 0  # nothing left behind
    finally:
        release.set()
        await session.close()


def test_fetch_slot_limits_are_checked():
    from did.http import FetchSlots

    with pytest.raises(ValueError):
        FetchSlots(total=-1)


async def test_allowed_hosts_refuse_every_other_host_before_any_lookup(didweb):
    class NoDNS:
        async def resolve(self, host, port=0, family=socket.AF_INET):
            raise AssertionError(f"no DNS look-up may happen ({host})")

        async def close(self):
            pass

    session = create_guarded_session(allowed_insecure_hosts={didweb.host}, resolver=NoDNS())
    try:
        http = GuardedHTTP(session, allowed_insecure_hosts={didweb.host}, allowed_hosts={didweb.host, "Partner.Example"})
        assert (await http.get_json(f"http://{didweb.host}/.well-known/did.json")).data["id"] == didweb.base_did
        for url in ("https://example.com/did.json", "https://93.184.215.14/x", f"http://localhost:{didweb.port}/x"):
            with pytest.raises(FetchError) as info:
                await http.get_json(url)
            assert info.value.reason == "forbidden-address" and "not among the hosts this node fetches from" in info.value.detail
        # A name alone allows it on any port (the other rules still apply: HTTPS, public addresses).
        with pytest.raises(AssertionError, match="no DNS look-up"):
            await http.get_json("https://partner.example:8443/did.json")
    finally:
        await session.close()


@pytest.mark.parametrize("path, status, code", [("missing", 404, "notFound"), ("gone", 410, "notFound"),
                                                 ("broken", 500, "internalError"), ("forbidden", 403, "internalError")])
async def test_http_status_errors_keep_the_status_and_only_404_and_410_are_not_found(didweb, guarded, path, status, code):
    with pytest.raises(FetchError) as info:
        await guarded.get_json(f"http://{didweb.host}/{path}/did.json")
    assert (info.value.reason, info.value.status, info.value.code) == ("http-status", status, code)
    assert f"answered HTTP {status}" in info.value.detail


def test_an_explicit_code_still_wins_over_the_reason():
    assert FetchError("no such list", reason="http-status", code="notFound").code == "notFound"
    assert FetchError("?", reason="something-new").code == "internalError"
