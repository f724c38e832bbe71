"""GuardedHTTP on its own: what it refuses before connecting, what it returns, the DNS guard."""

from __future__ import annotations

import socket

import pytest

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
