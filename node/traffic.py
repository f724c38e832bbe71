"""What one client can take from the node: connections, request rate, time to send a body.

A node on the public internet is talked to by clients that are slow, idle, greedy or hostile.
Three bounds keep one of them from starving the rest (docs/reliability.md, "Limits"):

* **Connections.** ``ConnectionGuard`` wraps the server's protocol factory (``GuardedSite``):
  at most ``max_connections`` open, ``max_connections_per_client`` from one client address.
  A connection waiting for a request (an idle keep-alive, or a request head still trickling
  in: slowloris) is closed by aiohttp's keep-alive timer after ``idle_timeout_seconds``; and
  when a limit is reached, the connection that has waited longest is closed to admit the new
  one (that client's own first, for its limit), so idle sockets can never lock anyone out.
  Only when every connection is busy with a request is a new one refused, with a 503.
* **Request rate.** ``RateLimiter`` is a token bucket per client address on the public
  endpoints (those declared without a token scope, plus unknown paths; ``/healthz`` is exempt):
  ``rate_limit_per_second`` requests a second, bursts of ``rate_limit_burst``; over it, 429
  with ``Retry-After``. A request carrying a valid token is not limited, so operators and
  partners keep working while the public endpoints are flooded. The client address is the
  peer's, or the last ``X-Forwarded-For`` hop added by a proxy in ``trusted_proxies``; IPv6
  clients are counted per /64, what one host usually holds.
* **Slow bodies.** A request body must have arrived ``body_timeout_seconds`` after the head
  (408, connection closed), whoever reads it (``read_json``, a page's form).

``traffic_middleware`` does the per-request part (rate, body timer, marking a connection busy)
in a few microseconds; it is the outermost middleware. ``serve(app, config)`` runs the app
behind the guard, as ``vcnode serve`` does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import re
import resource
import signal
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from ssl import SSLContext
from typing import Any, Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, ContentEncodingError, InvalidHeader, InvalidURLError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from node import auth
from node.config import Config
from node.store import StoreError
from node.problems import PROBLEM_BASE, PROBLEM_JSON, HTTPProblem, problem_response, unsupported_coding
from node.routes.endpoint import Endpoint

log = logging.getLogger(__name__)

# How many clients' buckets are remembered; past it the least recently seen is forgotten
# (and starts again with a full bucket), so a spray of addresses cannot grow memory.
MAX_TRACKED_CLIENTS = 65_536
# Connections the kernel queues before the node accepts them (aiohttp's default), and how many
# asyncio accepts in one turn of its loop.
BACKLOG = 128
# How many accepted sockets may be open beyond max_connections for a moment, under a flood of
# new connections: asyncio accepts a batch (BACKLOG) in one turn of the loop, hands each to the
# guard two turns later (a task, then connection_made), and the idle connection the guard closes
# to admit it releases its socket one turn after that. Until then every turn may accept another
# batch: three batches are open before the first batch's evictions are released.
ACCEPTING = 3 * BACKLOG


class AddressSet:
    """IP addresses and networks, matched against text addresses; single addresses by a set
    look-up (the common case costs no parsing). IPv4 entries match their IPv4-mapped form too."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        networks = [ipaddress.ip_network(e, strict=False) for e in entries]
        exact = {str(n.network_address) for n in networks if n.num_addresses == 1}
        exact |= {f"::ffff:{a}" for a in exact if ":" not in a}
        self.exact = frozenset(exact)
        self.networks = tuple(n for n in networks if n.num_addresses > 1)

    def __bool__(self) -> bool:
        return bool(self.exact or self.networks)

    def __contains__(self, address: object) -> bool:
        if address in self.exact:
            return True
        if not self.networks or not isinstance(address, str) or not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)


@dataclass(frozen=True)
class TrafficLimits:
    max_connections: int = 1000
    max_connections_per_client: int = 100
    idle_timeout: float = 15.0
    body_timeout: float = 30.0
    rate: float = 20.0  # requests per second per client; 0: no limit
    burst: int = 100
    in_progress: int = 8  # requests one client may have in progress at once; 0: no limit
    trusted_proxies: AddressSet = field(default_factory=AddressSet)
    exempt: AddressSet = field(default_factory=AddressSet)  # clients the per-client limits skip

    @classmethod
    def from_config(cls, config: Config) -> "TrafficLimits":
        return cls(
            max_connections=config.max_connections,
            max_connections_per_client=config.max_connections_per_client,
            idle_timeout=float(config.idle_timeout_seconds),
            body_timeout=float(config.body_timeout_seconds),
            rate=float(config.rate_limit_per_second),
            burst=config.rate_limit_burst,
            in_progress=config.max_requests_per_client,
            trusted_proxies=AddressSet(config.trusted_proxies),
            exempt=AddressSet(config.exempt_clients),
        )


def client_key(address: str | None) -> str:
    """The client an address stands for: an IPv4 address itself, an IPv6 address its /64."""
    if not address:
        return "?"
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def client_address(peer: str | None, forwarded_for: str | None, trusted: AddressSet) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
    ``X-Forwarded-For`` entry not itself a trusted proxy (what the first untrusted hop said)."""
    if not peer or not forwarded_for or peer not in trusted:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


class RateLimiter:
    """A token bucket per client: ``rate`` requests a second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_TRACKED_CLIENTS) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # client -> [tokens, when]
        self.refused = 0

    def take(self, client: str) -> float:
        """0 when the request may go ahead (one token taken), else the seconds until it could."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.popitem(last=False)
            self._buckets[client] = [self.burst - 1.0, now]
            return 0.0
        self._buckets.move_to_end(client)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        self.refused += 1
        return (1.0 - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


# --- connections -----------------------------------------------------------------------------


def _refusal() -> bytes:
    body = json.dumps({
        "type": PROBLEM_BASE + "too-many-connections",
        "title": "Too many connections",
        "status": 503,
        "detail": "the node has as many connections busy with requests as it accepts; try again shortly",
    }).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


_REFUSAL = _refusal()


# What the HTTP parser refused, by kind: (status, kind, detail). Fixed texts: the parser's own
# messages quote the bytes it choked on, and those may be an Authorization header's token.
_PARSER_REFUSALS = {
    "uri-too-long": (414, "URI too long", "the request target is longer than the node reads (8190 bytes); send a shorter URL"),
    "headers-too-large": (431, "Request header fields too large", "a header line is longer than the node reads (8190 bytes), or there are too many header fields"),
    "malformed-header": (400, "Malformed HTTP request", "a header line is malformed (a bare LF, a control character, or no colon)"),
    "malformed-request-line": (400, "Malformed HTTP request", "the request line is not METHOD TARGET HTTP/1.1"),
    "malformed-target": (400, "Malformed HTTP request", "the request target is not a valid URL path"),
    "malformed-http": (400, "Malformed HTTP request", "the request is not valid HTTP/1.1"),
}
# The pure-Python parser (AIOHTTP_NO_EXTENSIONS) passes LineTooLong the whole line: the request
# line starts with a method and a space, a header line with its name and a colon.
_REQUEST_LINE = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+ ")


def refusal_kind(exc: BaseException | None) -> str:
    """Which of ``_PARSER_REFUSALS`` an exception of aiohttp's HTTP parser is."""
    # RFC 9112 §3: a request-target longer than the server parses gets 414; a header section
    # too large gets 431 (RFC 6585 §5). The C parser's callbacks say which part overflowed.
    frames = {f.name.rsplit(".", 1)[-1] for f in traceback.extract_tb(exc.__traceback__)} if exc is not None else set()
    if isinstance(exc, LineTooLong):
        line = exc.args[0] if exc.args and isinstance(exc.args[0], (bytes, bytearray)) else b""
        in_c_parser = any(f.startswith("cb_on_") for f in frames)
        too_long_target = "cb_on_url" in frames if in_c_parser else bool(_REQUEST_LINE.match(line))
        return "uri-too-long" if too_long_target else "headers-too-large"
    if isinstance(exc, BadHttpMessage) and exc.message == "Too many headers received":
        return "headers-too-large"
    if isinstance(exc, InvalidURLError):
        return "malformed-target"
    if isinstance(exc, BadStatusLine):
        return "malformed-request-line"
    if isinstance(exc, InvalidHeader) or (isinstance(exc, BadHttpMessage) and "header" in exc.message.lower()):
        return "malformed-header"
    return "malformed-http"


class ProblemRequestHandler(RequestHandler):
    """aiohttp's protocol, answering a request its HTTP parser refuses (a request line or header
    over 8 KiB, bytes a header may not hold) as the node answers everything: a problem+json
    414, 431 or 400 instead of plain text. Logged at debug level: it is the client's fault, and
    one ERROR with a traceback per malformed request would let anyone fill the log. Neither the
    answer nor the log line holds a byte of the request: the offending header may carry a token
    (docs/CONTRACTS.md: nothing of the Authorization header is ever echoed). Nor the client's
    address, which the node never logs (docs/operations.md, "The access log")."""

    __slots__ = ()

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; the connection is broken")
        if isinstance(exc, ContentEncodingError):
            # The parser refuses br and zstd when their optional libraries are missing.
            log.debug("refused a request: a Content-Encoding it cannot decode")
            problem = unsupported_coding("br" if "br" in str(exc) else "zstd" if "zstd" in str(exc) else "")
            response = problem_response(problem.to_json(), problem.status, problem.headers)
        else:
            kind = refusal_kind(exc)
            status, title, detail = _PARSER_REFUSALS[kind]
            log.debug("refused a malformed request: %s", kind)
            response = problem_response(
                {"type": PROBLEM_BASE + ("bad-http" if status == 400 else kind), "title": title, "detail": detail}, status
            )
        response.force_close()
        return response


class _Connection(asyncio.Protocol):
    """One accepted connection: counted, then handed to aiohttp's protocol (``inner``)."""

    __slots__ = ("guard", "inner", "client", "counted", "busy")

    def __init__(self, guard: "ConnectionGuard") -> None:
        self.guard = guard
        self.inner: RequestHandler | None = None
        self.client = "?"
        self.counted = False  # holds a place in the counts
        self.busy = False  # a request is being handled

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.client = client_key(peer[0] if isinstance(peer, tuple) and peer else None)
        if not self.guard.admit(self, peer[0] if isinstance(peer, tuple) and peer else None):
            transport.write(_REFUSAL)  # type: ignore[attr-defined]
            transport.close()
            return
        self.inner = self.guard.make_handler()
        self.guard.handlers[self.inner] = self
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.release(self)
        if self.inner is not None:
            self.guard.handlers.pop(self.inner, None)
            self.inner.connection_lost(exc)


class _Client:
    __slots__ = ("count", "idle")

    def __init__(self) -> None:
        self.count = 0
        self.idle: OrderedDict[_Connection, None] = OrderedDict()


class ConnectionGuard:
    """Counts connections in all and per client, and closes the longest-waiting idle one when a
    new connection would pass a limit (see the module docstring)."""

    def __init__(self, limits: TrafficLimits) -> None:
        self.limits = limits
        self.make_handler: Callable[[], RequestHandler] = _no_server
        self.handlers: dict[Any, _Connection] = {}  # aiohttp's protocol -> its connection
        self._idle: OrderedDict[_Connection, None] = OrderedDict()  # longest waiting first
        self._clients: dict[str, _Client] = {}
        self.open = 0
        self.refused = 0
        self.evicted = 0

    def factory(self, make_handler: Callable[[], RequestHandler]) -> Callable[[], asyncio.Protocol]:
        """The protocol factory for ``loop.create_server``; ``make_handler`` makes aiohttp's
        protocol for a connection once it is admitted."""
        self.make_handler = make_handler
        return lambda: _Connection(self)

    def admit(self, conn: _Connection, peer: str | None) -> bool:
        limits = self.limits
        client = self._clients.get(conn.client)
        unlimited = peer in limits.exempt or peer in limits.trusted_proxies
        if client is not None and not unlimited and client.count >= limits.max_connections_per_client:
            if not client.idle:
                self.refused += 1
                return False
            self._evict(next(iter(client.idle)))
        if self.open >= limits.max_connections:
            if not self._idle:
                self.refused += 1
                return False
            self._evict(next(iter(self._idle)))
        if client is None:
            client = self._clients[conn.client] = _Client()
        client.count += 1
        self.open += 1
        conn.counted = True
        self._idle[conn] = None
        client.idle[conn] = None
        return True

    def _evict(self, conn: _Connection) -> None:
        self.evicted += 1
        self.release(conn)
        if conn.inner is not None:
            conn.inner.force_close()

    def release(self, conn: _Connection) -> None:
        if not conn.counted:
            return
        conn.counted = False
        self.open -= 1
        self._idle.pop(conn, None)
        client = self._clients[conn.client]
        client.idle.pop(conn, None)
        client.count -= 1
        if not client.count:
            del self._clients[conn.client]

    def request_started(self, protocol: Any) -> _Connection | None:
        conn = self.handlers.get(protocol)
        if conn is not None and conn.counted:
            conn.busy = True
            self._idle.pop(conn, None)
            self._clients[conn.client].idle.pop(conn, None)
        return conn

    def request_done(self, conn: _Connection) -> None:
        conn.busy = False
        if conn.counted:
            self._idle[conn] = None
            self._clients[conn.client].idle[conn] = None

    def clients(self) -> int:
        return len(self._clients)


def _no_server() -> RequestHandler:
    raise RuntimeError("ConnectionGuard.factory(server) was not called")


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a ``ConnectionGuard`` and are served by
    ``ProblemRequestHandler`` (made with ``handler_args``: the keyword arguments the runner
    was given, e.g. ``keepalive_timeout``)."""

    __slots__ = ("_host", "_port", "_guard", "_bound", "_handler_args", "_sock")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, guard: ConnectionGuard,
                 handler_args: dict[str, Any] | None = None, ssl_context: SSLContext | None = None,
                 backlog: int = BACKLOG, shutdown_timeout: float = 60.0, sock: Any = None) -> None:
        super().__init__(runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog)
        self._host, self._port, self._guard = host, port, guard
        self._handler_args = dict(handler_args or {})
        self._bound: int | None = None
        # A socket already listening (a worker of ``vcnode serve --workers N`` serves the one
        # its supervisor bound): accepted from instead of binding host:port.
        self._sock = sock

    @property
    def port(self) -> int:
        return self._bound if self._bound is not None else self._port

    @property
    def name(self) -> str:
        return f"{'https' if self._ssl_context else 'http'}://{self._host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        args = self._handler_args

        def make_handler() -> RequestHandler:
            return ProblemRequestHandler(server, loop=loop, **args)

        if self._sock is not None:
            self._server = await loop.create_server(
                self._guard.factory(make_handler), sock=self._sock, ssl=self._ssl_context, backlog=self._backlog
            )
        else:
            self._server = await loop.create_server(
                self._guard.factory(make_handler), self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
                reuse_address=True,
            )
        self._bound = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


# --- per request ------------------------------------------------------------------------------


class Traffic:
    """The app's limits, rate limiter and connection guard (``request.app[TRAFFIC_KEY]``)."""

    def __init__(self, limits: TrafficLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.limiter = RateLimiter(limits.rate, limits.burst, clock=clock) if limits.rate else None
        self.guard = ConnectionGuard(limits)
        self.in_progress: dict[str, int] = {}  # client -> its requests being answered (none: absent)

    def client(self, request: web.Request) -> str | None:
        """The rate-limited client a request comes from (None: exempt)."""
        address = request.remote
        if self.limits.trusted_proxies:
            address = client_address(address, request.headers.get("X-Forwarded-For"), self.limits.trusted_proxies)
        return None if address in self.limits.exempt else client_key(address)


TRAFFIC_KEY = web.AppKey("vcnode.traffic", Traffic)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _limited(request: web.Request) -> bool:
    """Whether the rate limit applies: public endpoints and paths that are no endpoint."""
    endpoint = getattr(request.match_info.route.handler, "__self__", None)
    if isinstance(endpoint, Endpoint):
        return endpoint.scope is None and endpoint.rate_limited
    return True


async def _has_valid_token(request: web.Request) -> bool:
    if not request.headers.get("Authorization"):
        return False
    try:
        await auth.authenticate(request)
    except (HTTPProblem, StoreError):  # a store that does not answer cannot vouch for it: the 429 stands
        return False
    return True


def _too_many(wait: float) -> web.Response:
    seconds = max(1, math.ceil(wait))
    return problem_response(
        {
            "type": PROBLEM_BASE + "too-many-requests",
            "title": "Too many requests",
            "detail": f"this client has sent more requests than the node answers for one client; try again in {seconds} s",
        },
        429,
        {"Retry-After": str(seconds)},
    )


def _too_many_at_once(limit: int) -> web.Response:
    return problem_response(
        {
            "type": PROBLEM_BASE + "too-many-requests",
            "title": "Too many requests",
            "detail": f"this client already has {limit} requests in progress, as many as the node answers for one "
            "client at once; send the next when one is answered",
        },
        429,
        {"Retry-After": "1"},
    )


def _body_timed_out(request: web.Request, seconds: float) -> None:
    if not request.content.is_eof():
        request.content.set_exception(HTTPProblem(
            408, "request-timeout", "Request timeout",
            f"the request body did not arrive within {seconds:g} s; send it at once, or a smaller one",
        ))


@web.middleware
async def traffic_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    traffic = request.app[TRAFFIC_KEY]
    conn = traffic.guard.request_started(request.protocol) if traffic.guard.handlers else None
    timer = None
    counted: str | None = None
    try:
        limits = traffic.limits
        limited = (traffic.limiter is not None or limits.in_progress) and _limited(request)
        client = traffic.client(request) if limited else None
        if client is not None:
            refusal = None
            wait = traffic.limiter.take(client) if traffic.limiter is not None else 0.0
            if wait:
                refusal = _too_many(wait)
            elif limits.in_progress and traffic.in_progress.get(client, 0) >= limits.in_progress:
                # One client's costly requests (verifications of large documents) at a rate the
                # bucket allows would otherwise hold every CPU thread between them.
                refusal = _too_many_at_once(limits.in_progress)
            if refusal is not None and not await _has_valid_token(request):
                if request.body_exists and not request.content.is_eof():
                    refusal.force_close()  # the body is not read: the connection cannot carry on
                return refusal
            if limits.in_progress:
                counted = client
                traffic.in_progress[client] = traffic.in_progress.get(client, 0) + 1
        if request.body_exists and not request.content.is_eof():
            timer = asyncio.get_running_loop().call_later(
                traffic.limits.body_timeout, _body_timed_out, request, traffic.limits.body_timeout
            )
        response = await handler(request)
        if timer is not None and request.content.exception() is not None:
            # The body timed out: close after the 408 instead of reading what is left of the
            # body first (aiohttp's lingering close), which would only meet the timeout again.
            request.content.feed_eof()
            response.force_close()
        return response
    finally:
        if counted is not None:
            left = traffic.in_progress[counted] - 1
            if left:
                traffic.in_progress[counted] = left
            else:
                del traffic.in_progress[counted]  # only clients with requests in progress are kept
        if timer is not None:
            timer.cancel()
        if conn is not None:
            traffic.guard.request_done(conn)


def setup(app: web.Application, config: Config) -> Traffic:
    """Install the limits of ``config`` on ``app`` (its outermost middleware)."""
    traffic = Traffic(TrafficLimits.from_config(config))
    app[TRAFFIC_KEY] = traffic
    app.middlewares.insert(0, traffic_middleware)
    return traffic


# --- serving ----------------------------------------------------------------------------------


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (never past the hard
    limit); the limit in force afterwards. Each connection is one file descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


async def start(app: web.Application, config: Config, *, ssl_context: SSLContext | None = None,
                port: int | None = None, sock: Any = None) -> tuple[web.AppRunner, GuardedSite]:
    """Start serving ``app`` on ``config.host`` and ``port`` (default ``config.port``; 0 picks a
    free one), or on the listening socket ``sock``, behind its ``ConnectionGuard``. The caller
    ends it with ``runner.cleanup()``."""
    traffic = app[TRAFFIC_KEY]
    # Room for every connection, those accepted beyond it for a moment (ACCEPTING), the store,
    # the outbound fetches and the log. Short of it, a flood of connections makes accept() fail
    # (EMFILE): asyncio then stops accepting for a second, health checks included.
    wanted = config.max_connections + ACCEPTING + config.fetch_max_concurrent + 256
    files = raise_open_files(wanted)
    if files < wanted:
        log.warning(
            "only %d open files are allowed (the hard limit) where max_connections=%d wants %d: a burst of new connections "
            "may find accept() failing (EMFILE); raise the limit (systemd LimitNOFILE=, docker --ulimit nofile=) or lower "
            "max_connections", files, config.max_connections, wanted,
        )
    handler_args: dict[str, Any] = {"access_log": None, "keepalive_timeout": traffic.limits.idle_timeout}
    runner = web.AppRunner(app, **handler_args)
    await runner.setup()
    try:
        site = GuardedSite(
            runner, config.host, config.port if port is None else port, guard=traffic.guard,
            handler_args=handler_args, ssl_context=ssl_context, sock=sock,
        )
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, site


async def serve(app: web.Application, config: Config, *, ssl_context: SSLContext | None = None,
                ready: Callable[[GuardedSite], None] | None = None, on_hangup: Callable[[], Any] | None = None) -> None:
    """Serve ``app`` behind its ``ConnectionGuard`` until SIGINT or SIGTERM (``vcnode serve``).
    SIGHUP calls ``on_hangup`` (the TLS certificate loaded again: node.tls), or is logged;
    SIGUSR1 and SIGUSR2 are logged and change nothing."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    runner, site = await start(app, config, ssl_context=ssl_context)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # SIGHUP's default action would end the process mid-request. A supervisor (``--workers N``)
    # replaces its workers on it; a single process has none to replace and reads no
    # configuration again (a reload or logrotate's habit must not take the node down); it only
    # loads its TLS certificate again, as new workers would.
    loop.add_signal_handler(signal.SIGHUP, on_hangup or _hangup)
    # SIGUSR1 and SIGUSR2 would end the process at once too (their default action), with no
    # drain, the buffered access lines lost and the metrics folder left behind; with --workers
    # N the arbiter takes them (logs reopened, an upgrade in place refused). One process does
    # neither: its log goes to stdout and stderr, which need no reopening.
    loop.add_signal_handler(signal.SIGUSR1, _usr1)
    loop.add_signal_handler(signal.SIGUSR2, _usr2)
    try:
        if ready is not None:
            ready(site)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            loop.remove_signal_handler(sig)
        await runner.cleanup()


def _hangup() -> None:
    log.warning(
        "SIGHUP: a single-process node (--workers 1) has no workers to replace and re-reads no configuration "
        "(without --tls-cert it has no certificate to load again); still serving (SIGTERM stops it; restart it "
        "to apply a new configuration)"
    )


def _usr1() -> None:
    log.warning("SIGUSR1: the log goes to stdout and stderr, which need no reopening; still serving")


# What SIGUSR2 gets, from one process here and from the arbiter of several (node.workers).
NO_UPGRADE_IN_PLACE = (
    "SIGUSR2: vcnode does not re-execute itself for an upgrade in place; still serving. "
    "To upgrade, restart it (or replace replicas behind the proxy one at a time)"
)


def _usr2() -> None:
    log.warning(NO_UPGRADE_IN_PLACE)
