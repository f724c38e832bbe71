"""A guarded JSON-over-HTTPS client for fetching documents named by untrusted input.

A did:web DID or a status list URL inside a credential is chosen by whoever wrote the
credential, so fetching it must not become a way to reach the node's own network (SSRF).
``GuardedHTTP`` wraps the node's one shared ``aiohttp.ClientSession`` and enforces:

- HTTPS only; plain HTTP and non-public addresses only for an exact ``host:port`` in the
  explicit allow set (tests and local demos allow ``127.0.0.1:PORT``);
- every address a name resolves to is checked, by the session's DNS resolver
  (``GuardedResolver``; make the session with ``create_guarded_session``), so a public name
  pointing at 127.0.0.1 or 169.254.169.254 is refused too;
- a total time limit, a body size cap enforced while streaming, redirects followed by hand and
  only on the same host, and JSON that does not parse reported as ``FetchError``;
- a bound on fetches running at once, per ``host:port`` and in total: a credential names the
  hosts a verification fetches from, so many credentials naming slow hosts must not become
  unbounded outbound work. A fetch waits for a free slot within its time limit, then fails
  with ``reason="busy"``;
- optionally, a closed list of the only hosts ever fetched from (``allowed_hosts``), checked
  before any DNS look-up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable, Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from did.errors import FetchError
from did.ijson import loads_strict

DEFAULT_MAX_BYTES = 256 * 1024
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_CONCURRENT = 32
DEFAULT_MAX_PER_HOST = 4
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 16 * 1024


class ForbiddenAddress(OSError):
    """Raised by ``GuardedResolver``; an ``OSError`` so aiohttp reports it as a connection error
    (which ``GuardedHTTP`` recognises and turns into ``FetchError(reason="forbidden-address")``)."""


def normalize_host_port(value: str) -> str:
    """``HOST:PORT`` (IPv6 as ``[::1]:PORT``) in the canonical lowercase form used for matching."""
    text = value.strip().lower()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return f"{host}:{int(port)}"


def _host_key(host: str, port: int) -> str:
    host = host.lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def host_port_allowed(host: str, port: int, allowed: Iterable[str]) -> bool:
    """Whether ``host``:``port`` is one of the ``HOST:PORT`` entries of ``allowed`` (an operator's
    ``allow_insecure_hosts``; entries that are not ``HOST:PORT`` allow nothing)."""
    key = _host_key(host, port)
    for value in allowed:
        try:
            if normalize_host_port(value) == key:
                return True
        except ValueError:
            continue
    return False


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses (not loopback, private, link-local,
    multicast, unspecified, reserved, shared, documentation...). IPv4-mapped IPv6 is unwrapped."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def ip_literal(host: str) -> str | None:
    """The canonical IP address if ``host`` is an IP literal (``[...]`` allowed), else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """A DNS resolver that refuses names resolving to any non-public address, unless the exact
    ``host:port`` is allowed. Wraps another resolver (aiohttp's default unless given)."""

    def __init__(self, allowed_hosts: Iterable[str] = (), inner: AbstractResolver | None = None) -> None:
        self.allowed_hosts = frozenset(normalize_host_port(h) for h in allowed_hosts)
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if _host_key(host, port) in self.allowed_hosts:
            return results
        for result in results:
            if not is_public_address(result["host"]):
                raise ForbiddenAddress(f"{host} resolves to the non-public address {result['host']}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def create_guarded_session(
    *, allowed_insecure_hosts: Iterable[str] = (), resolver: AbstractResolver | None = None, **kwargs: Any
) -> aiohttp.ClientSession:
    """A ``ClientSession`` whose connector checks every resolved address (``GuardedResolver``).

    ``resolver`` replaces the underlying DNS resolver (tests use it to map names). Must be
    called with a running event loop; the caller owns and closes the session.
    """
    guard = GuardedResolver(allowed_insecure_hosts, inner=resolver)
    connector = aiohttp.TCPConnector(resolver=guard, ttl_dns_cache=60)
    return aiohttp.ClientSession(connector=connector, **kwargs)


def parse_max_age(cache_control: str | None) -> int | None:
    """Seconds a response may be reused per ``Cache-Control`` (RFC 9111 §5.2.2): 0 for
    ``no-store``/``no-cache``, ``max-age`` if present and well formed, else None."""
    if not cache_control:
        return None
    max_age: int | None = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():
                max_age = int(value)
    return max_age


class _HostSlots:
    __slots__ = ("free", "users", "running")

    def __init__(self, limit: int) -> None:
        self.free = asyncio.Semaphore(limit)
        self.users = 0  # fetches holding or waiting for this host's slots
        self.running = 0


class FetchSlots:
    """How many fetches may run at once: ``per_host`` for one ``host:port``, ``total`` in all
    (0: no bound). A fetch takes its host's slot first, so fetches queued behind one slow host
    hold no slot of the total while they wait. Hosts with no fetch running or waiting are
    forgotten, so the table stays as small as the work in flight."""

    def __init__(self, *, total: int = DEFAULT_MAX_CONCURRENT, per_host: int = DEFAULT_MAX_PER_HOST) -> None:
        if total < 0 or per_host < 0:
            raise ValueError("fetch slot limits must not be negative")
        self.total_limit = total
        self.per_host_limit = per_host
        self._total = asyncio.Semaphore(total) if total else None
        self._hosts: dict[str, _HostSlots] = {}
        self.running = 0  # fetches holding their slots now
        self.peak = 0  # the most that ever ran at once

    def running_for(self, host: str) -> int:
        entry = self._hosts.get(host)
        return 0 if entry is None else entry.running

    def hosts_tracked(self) -> int:
        return len(self._hosts)

    @asynccontextmanager
    async def hold(self, host: str) -> AsyncIterator[None]:
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = _HostSlots(self.per_host_limit or 1)
        entry.users += 1
        try:
            if self.per_host_limit:
                await entry.free.acquire()
            try:
                if self._total is not None:
                    await self._total.acquire()
                try:
                    entry.running += 1
                    self.running += 1
                    self.peak = max(self.peak, self.running)
                    try:
                        yield
                    finally:
                        entry.running -= 1
                        self.running -= 1
                finally:
                    if self._total is not None:
                        self._total.release()
            finally:
                if self.per_host_limit:
                    entry.free.release()
        finally:
            entry.users -= 1
            if not entry.users:
                del self._hosts[host]


@dataclass(frozen=True)
class FetchedJSON:
    url: str  # the final URL, after same-host redirects
    status: int
    headers: Mapping[str, str]
    data: Any
    max_age: int | None  # seconds, from Cache-Control; None if absent; 0 for no-store/no-cache


class GuardedHTTP:
    """Fetch JSON from untrusted URLs through a shared, guarded ``ClientSession``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allowed_insecure_hosts: Iterable[str] = frozenset(),
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 3,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        max_per_host: int = DEFAULT_MAX_PER_HOST,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        connector = session.connector
        if not isinstance(getattr(connector, "_resolver", None), GuardedResolver):
            raise ValueError(
                "GuardedHTTP needs a session whose connector checks resolved addresses;"
                " create it with did.http.create_guarded_session()"
            )
        self.session = session
        self.allowed_insecure_hosts = frozenset(normalize_host_port(h) for h in allowed_insecure_hosts)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.slots = FetchSlots(total=max_concurrent, per_host=max_per_host)
        # None: any host the other rules allow; else only these names ("host" or "host:port").
        self.allowed_hosts = None if allowed_hosts is None else frozenset(h.strip().lower() for h in allowed_hosts if h.strip())

    def is_allowed_insecure(self, host: str, port: int) -> bool:
        return _host_key(host, port) in self.allowed_insecure_hosts

    def check_url(self, url: str | URL) -> URL:
        """Refuse a URL the guard would not fetch (scheme, credentials, IP literal); return it parsed."""
        parsed = URL(url) if isinstance(url, str) else url
        if not parsed.is_absolute() or not parsed.host:
            raise FetchError(f"{url!s} is not an absolute http(s) URL", reason="insecure")
        if parsed.user is not None or parsed.password is not None:
            raise FetchError(f"{url!s} carries credentials", reason="insecure")
        port = parsed.port
        if port is None:
            raise FetchError(f"{url!s} has no port", reason="insecure")
        if self.allowed_hosts is not None and not {parsed.host.lower(), _host_key(parsed.host, port)} & self.allowed_hosts:
            raise FetchError(f"{parsed.host} is not among the hosts this node fetches from", reason="forbidden-address")
        allowed = self.is_allowed_insecure(parsed.host, port)
        if parsed.scheme == "http":
            if not allowed:
                raise FetchError(f"plain HTTP is refused ({url!s}); HTTPS is required", reason="insecure")
        elif parsed.scheme != "https":
            raise FetchError(f"scheme {parsed.scheme!r} is refused ({url!s}); HTTPS is required", reason="insecure")
        literal = ip_literal(parsed.host)
        # aiohttp skips the resolver for IP literals, so they are checked here
        if literal is not None and not allowed and not is_public_address(literal):
            raise FetchError(f"{parsed.host} is a non-public address", reason="forbidden-address")
        return parsed

    async def get_json(
        self, url: str, *, max_bytes: int | None = None, headers: Mapping[str, str] | None = None
    ) -> FetchedJSON:
        """GET ``url`` and parse its body as JSON, under the guard. Raises ``FetchError``.

        The time limit covers waiting for a free fetch slot (``slots``) and the fetch itself."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        request_headers = {"Accept": "application/json"}
        request_headers.update(headers or {})
        parsed = self.check_url(url)
        host = _host_key(parsed.host or "", parsed.port or 0)
        started = False
        try:
            async with asyncio.timeout(self.timeout):
                async with self.slots.hold(host):
                    started = True
                    return await self._get_json(parsed, limit, request_headers)
        except TimeoutError as e:
            if not started:
                raise FetchError(
                    f"fetching {url} waited {self.timeout:g} s for a free slot: {self.slots.running_for(host)} fetch(es) "
                    f"from {host} and {self.slots.running} in all were running (limits {self.slots.per_host_limit} per "
                    f"host, {self.slots.total_limit} in all)",
                    reason="busy",
                ) from e
            raise FetchError(f"fetching {url} took longer than {self.timeout:g} s", reason="timeout") from e

    async def _get_json(self, url: URL, limit: int, headers: Mapping[str, str]) -> FetchedJSON:
        current = url
        for _ in range(self.max_redirects + 1):
            try:
                async with self.session.get(current, headers=headers, allow_redirects=False) as response:
                    if response.status in REDIRECT_STATUSES:
                        current = self._redirect_target(current, response)
                        continue
                    if not 200 <= response.status < 300:
                        raise FetchError(
                            f"{current} answered HTTP {response.status}", reason="http-status", status=response.status
                        )
                    body = await self._read_capped(current, response, limit)
                    response_headers = CIMultiDictProxy(CIMultiDict(response.headers))
                    status = response.status
            except aiohttp.ClientConnectorError as e:
                if isinstance(e.os_error, ForbiddenAddress) or isinstance(e.__cause__, ForbiddenAddress):
                    raise FetchError(str(e.os_error), reason="forbidden-address") from e
                raise FetchError(f"could not connect to {current.host}: {e}", reason="network") from e
            except ForbiddenAddress as e:
                raise FetchError(str(e), reason="forbidden-address") from e
            except TimeoutError:  # aiohttp's own socket timeouts; ours is handled in get_json
                raise
            except aiohttp.ClientError as e:
                raise FetchError(f"fetching {current} failed: {e}", reason="network") from e
            return FetchedJSON(
                url=str(current),
                status=status,
                headers=response_headers,
                data=self._parse(current, body),
                max_age=parse_max_age(response_headers.get("Cache-Control")),
            )
        raise FetchError(f"more than {self.max_redirects} redirects fetching {url}", reason="redirect")

    def _redirect_target(self, current: URL, response: aiohttp.ClientResponse) -> URL:
        location = response.headers.get("Location")
        if not location:
            raise FetchError(f"{current} redirected without a Location", reason="redirect")
        target = current.join(URL(location))
        if (target.host or "").lower() != (current.host or "").lower():
            raise FetchError(f"{current} redirected to another host ({target.host}); refused", reason="redirect")
        return self.check_url(target)

    @staticmethod
    async def _read_capped(url: URL, response: aiohttp.ClientResponse, limit: int) -> bytes:
        declared = response.content_length
        if declared is not None and declared > limit:
            raise FetchError(f"{url} is {declared} bytes, over the {limit}-byte limit", reason="too-large")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise FetchError(f"{url} is over the {limit}-byte limit", reason="too-large")
        return bytes(body)

    @staticmethod
    def _parse(url: URL, body: bytes) -> Any:
        try:
            # RFC 8259 JSON only: Python also reads NaN and Infinity (and numbers past a double's
            # range as infinity), which no JSON peer can read back (DID Core 1.0 §6.2.2).
            # And I-JSON's unique member names (RFC 7493 §2.3): parsers disagree on which of two
            # values wins, so a fetched document must not be read one way here, another elsewhere.
            return loads_strict(body.decode("utf-8"), parse_float=_finite)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise FetchError(f"{url} did not return valid JSON: {e}", reason="malformed") from e
