"""did:web (W3C CCG did:web Method Specification): DID <-> URL mapping and resolution.

Read (Resolve): replace ":" with "/" in the method-specific identifier, percent-decode the
port colon (``%3A``), prepend ``https://``, append ``/.well-known`` when there is no path, then
``/did.json``; the fetched document's ``id`` MUST be the DID. Fetching goes through
``GuardedHTTP`` (HTTPS only, SSRF guard, size and time limits). A host in the guard's explicit
allow set is fetched over plain HTTP: that is how tests and local demos run without TLS.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import unquote

from yarl import URL

from did.cache import LRU, FrozenJSON, TTLCache
from did.document import check_did_document
from did.errors import DIDError, InvalidDID, InvalidDIDDocument
from did.http import GuardedHTTP, ip_literal
from did.options import check_resolution_options
from did.resolver import ResolutionResult
from did.syntax import parse_did

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
# The JSON-LD representation first: a host that negotiates (this node does) then hands over the
# whole document, @context included, which `vcnode resolve` shows and JSON-LD consumers need.
ACCEPT = "application/did+ld+json, application/did+json;q=0.9, application/json;q=0.8"


def _split_domain(did: str, domain_part: str) -> tuple[str, int | None]:
    """The host and optional port of the first did:web segment; only ``%3A`` may be encoded."""
    if "%" in domain_part.replace("%3A", "").replace("%3a", ""):
        raise InvalidDID(f"the domain of {did!r} may percent-encode only the port colon (%3A)")
    domain = unquote(domain_part)
    host, sep, port_text = domain.partition(":")
    port: int | None = None
    if sep:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidDID(f"{did!r} has an invalid port {port_text!r}")
        port = int(port_text)
    if ip_literal(host) is None:
        labels = host.split(".")
        if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            raise InvalidDID(f"{host!r} in {did!r} is not a valid domain name")
        if _ends_in_number(labels[-1]):
            raise InvalidDID(
                f"{host!r} in {did!r} ends in a number, so it is an IPv4 address (as 127.1 or 2130706433 are), "
                "not a domain name; did:web MUST NOT include IP addresses"
            )
    return host, port


def _ends_in_number(label: str) -> bool:
    """Whether a host whose last label is ``label`` is an IPv4 address in some form: the WHATWG
    URL host parser reads a host ending in a number (decimal, or 0x hexadecimal; octal is
    decimal digits) as IPv4, as inet_aton does ``127.1``, ``2130706433`` and ``0x7f.1``. No
    top-level domain is a number, so such a host is never a domain name."""
    if label.isascii() and label.isdigit():
        return True
    return label[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in label[2:])


def _split_did_web(did: str) -> tuple[str, int | None, list[str]]:
    parsed = parse_did(did)
    if parsed.method != "web":
        raise InvalidDID(f"{did!r} is not a did:web")
    segments = parsed.msid.split(":")
    if any(segment == "" for segment in segments):
        raise InvalidDID(f"{did!r} has an empty path segment")
    for segment in segments[1:]:
        if unquote(segment) in (".", "..") or "/" in unquote(segment):
            raise InvalidDID(f"{did!r} has the path segment {segment!r}, which would change the URL's path")
    host, port = _split_domain(did, segments[0])
    return host, port, segments[1:]


def _document_url(scheme: str, host: str, port: int | None, path: list[str]) -> str:
    authority = host if port is None else f"{host}:{port}"
    location = "/".join(path) if path else ".well-known"
    return f"{scheme}://{authority}/{location}/did.json"


def did_web_to_url(did: str) -> str:
    """The HTTPS URL of a did:web's DID document (did:web §3.2 Read). A did:web naming an IP
    address is ``invalidDid`` (did:web §3.1: it "MUST NOT include IP addresses")."""
    host, port, path = _split_did_web(did)
    if ip_literal(host) is not None:
        raise InvalidDID(f"{did!r} names an IP address; did:web MUST NOT include IP addresses")
    return _document_url("https", host, port, path)


def url_to_did_web(url: str) -> str:
    """The did:web whose document lives at ``url`` (the reverse of ``did_web_to_url``).

    Accepts the document URL (``.../did.json``) or the base URL it sits under. A ':' inside a
    path segment is percent-encoded, so the DID maps back to the same URL (did:web §3.2 Read
    turns every ':' into '/'). A host that is an IPv4 address in a non-canonical form (``127.1``)
    is ``invalidDid``; a canonical IP address is mapped, not refused: a node whose
    ``allow_insecure_hosts`` holds its IP ``host:port`` names itself so (``node.issuers``), and
    resolvers refuse such a DID unless that host:port is allowed (``DIDWebResolver``).
    """
    parsed = URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise InvalidDID(f"{url!r} is not an http(s) URL")
    if parsed.query_string or parsed.fragment or parsed.user:
        raise InvalidDID(f"{url!r} has a query, fragment or credentials; a did:web URL has none")
    # The ASCII form (IDNA, lower case): yarl's ``host`` decodes punycode, and a DID holds
    # only ASCII (DID Core §3.1, idchar); the certificate names the same form (did:web §3.1).
    domain = parsed.raw_host or ""
    if not parsed.is_default_port():
        domain += f"%3A{parsed.port}"
    path = parsed.raw_path
    if path.endswith("/did.json"):
        path = path[: -len("/did.json")]
    path = path.strip("/")
    if path in ("", ".well-known"):
        did = f"did:web:{domain}"
    else:
        did = f"did:web:{domain}:" + ":".join(segment.replace(":", "%3A") for segment in path.split("/"))
    _split_did_web(did)  # the result must itself be a valid did:web
    return did


class DIDWebResolver:
    """did:web resolver (DIDResolver protocol) over a ``GuardedHTTP``; ``cache`` is an optional
    ``TTLCache`` (it carries the injected clock)."""

    # Every document is held to did.document's check before it is cached (``_fetch``), so the
    # Resolver need not check it again on each resolution.
    checks_documents = True

    def __init__(
        self, http: GuardedHTTP, *, cache: TTLCache[dict[str, Any]] | None = None, min_refresh_seconds: float = 30.0
    ) -> None:
        self.http = http
        self.cache = cache
        self.min_refresh_seconds = min_refresh_seconds
        # When each DID's cached document was last dropped by ``refresh`` (the cache's clock).
        self._refreshed: LRU[str, datetime | float] = LRU(4096)
        # One fetch per DID at a time: a batch of credentials from one issuer, verified
        # concurrently, must not turn into a burst of identical requests to that issuer.
        # The fetched document is frozen (did.cache.FrozenJSON): every waiter thaws its own copy.
        self._inflight: dict[str, asyncio.Future[FrozenJSON]] = {}

    def document_url(self, did: str) -> str:
        """Where the document is fetched from: the did:web URL, or plain HTTP for an allowed host."""
        host, port, path = _split_did_web(did)
        effective_port = 443 if port is None else port
        allowed = self.http.is_allowed_insecure(host, effective_port)
        if ip_literal(host) is not None and not allowed:
            raise InvalidDID(f"{did!r} names an IP address; did:web MUST NOT include IP addresses")
        if allowed:
            return _document_url("http", host, effective_port, path)
        return _document_url("https", host, port, path)

    # did:web defines no resolution options; any but ``accept`` is featureNotSupported.
    resolution_options: tuple[str, ...] = ()

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        try:
            check_resolution_options(options, self.resolution_options, "web")
            return await self._resolve(did)
        except DIDError as e:
            return ResolutionResult.failure(e)

    async def _resolve(self, did: str) -> ResolutionResult:
        url = self.document_url(did)
        if self.cache is not None:
            cached = self.cache.get(did)
            if cached is not None:
                return ResolutionResult.success(cached)
        task = self._inflight.get(did)
        if task is None:
            task = asyncio.ensure_future(self._fetch(did, url))
            self._inflight[did] = task
            task.add_done_callback(lambda t: self._fetch_done(did, t))
        # shielded: one caller giving up must not cancel the fetch the others wait for
        document = await asyncio.shield(task)
        return ResolutionResult.success(document.thaw())

    async def refresh(self, did: str) -> bool:
        """Drop ``did``'s cached document so the next resolution fetches it again; returns
        whether it did.

        A verification method the cached document lacks may be a key its controller added since
        it was cached (a key rotation): without this, a verifier would refuse the controller's
        new credentials until the cached copy expired. At most once per ``min_refresh_seconds``
        per DID, so documents naming made-up keys cannot turn every verification into a fetch.
        """
        if self.cache is None:
            return False  # nothing is cached: every resolution already fetches anew
        now = self.cache.now()
        last = self._refreshed.get(did)
        if last is not None:
            age = now - last
            seconds = age.total_seconds() if isinstance(age, timedelta) else float(age)
            if seconds < self.min_refresh_seconds:
                return False
        self._refreshed[did] = now
        self.cache.discard(did)
        return True

    def _fetch_done(self, did: str, task: asyncio.Future[FrozenJSON]) -> None:
        self._inflight.pop(did, None)
        if not task.cancelled():
            task.exception()  # retrieved, so a fetch every waiter abandoned logs no warning

    async def _fetch(self, did: str, url: str) -> FrozenJSON:
        fetched = await self.http.get_json(url, headers={"Accept": ACCEPT})
        document = fetched.data
        if not isinstance(document, dict):
            raise InvalidDIDDocument(f"{url} did not return a JSON object")
        if document.get("id") != did:
            raise InvalidDIDDocument(f"the document at {url} has id {document.get('id')!r}, not {did!r}")
        # checked before it is cached: a non-conforming document is refused, not kept
        check_did_document(document, did)
        frozen = FrozenJSON(document)  # parsed JSON: marshal holds every part of it
        if self.cache is not None:
            self.cache.put(did, frozen, fetched.max_age)
        return frozen
