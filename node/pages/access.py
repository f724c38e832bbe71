"""The pages' one way into the node: verification, issuers, achievements, and the guarded fetch.

Everything here goes through the node's capabilities (``node.node.Node``, ``request.app[NODE_KEY]``),
used exactly as the VC-API routes use them: ``verification.verify_credential`` /
``verify_presentation`` followed by ``trust.report`` (accreditation and stack reports). This
module is the only one of the pages that knows the node's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from aiohttp import web

from did.errors import FetchError
from node.node import Node
from node.observe import PAGE_URL, ObservedFetches
from node.pages.view import HostedAchievement, url_key
from node.routes import NODE_KEY

JsonObject = dict[str, Any]


class FetchOffError(Exception):
    """The node has no network client (it runs without one), so it fetches nothing."""


@dataclass(frozen=True)
class AchievementLink:
    slug: str
    title: str
    url: str


@dataclass(frozen=True)
class IssuerSummary:
    name: str
    dids: list[str]
    achievements: list[AchievementLink]


class NodeAccess:
    def __init__(self, node: Node) -> None:
        self.node = node

    @classmethod
    def of(cls, request: web.Request) -> "NodeAccess":
        return cls(request.app[NODE_KEY])

    @property
    def max_body(self) -> int:
        return self.node.config.max_body_bytes

    async def verify_credential(self, vc: Any, options: Mapping[str, Any]) -> JsonObject:
        """What ``POST /credentials/verify`` computes, as JSON, with the document kept."""
        result = await self.node.verification.verify_credential(vc, options)
        await self.node.trust.report(result)
        self.node.observer.verified(result)
        return result.to_json(include_document=True)

    async def verify_presentation(self, vp: Any, options: Mapping[str, Any]) -> JsonObject:
        """What ``POST /presentations/verify`` computes, as JSON, with every document kept."""
        result = await self.node.verification.verify_presentation(vp, options)
        await self.node.trust.report(result)
        self.node.observer.verified(result)
        return result.to_json(include_document=True)

    async def issuers(self) -> list[IssuerSummary]:
        achievements = self.node.achievements
        out = []
        for issuer in await self.node.issuers.list():
            links = [
                AchievementLink(a.slug, a.definition.title, a.definition.id) for a in await achievements.list(issuer.name)
            ]
            out.append(IssuerSummary(issuer.name, list(issuer.dids), links))
        return out

    async def achievement(self, issuer: str, slug: str) -> JsonObject:
        """The stored achievement's JSON (what its URL serves to programs); raises the node's
        404 errors (``UnknownIssuerError``, ``UnknownAchievementError``)."""
        stored = await self.node.achievements.get(issuer, slug)
        out = stored.to_json()
        out["issuerDid"] = (await self.node.issuers.get(issuer)).did
        return out

    async def hosted_achievements(self, ids: Iterable[str]) -> dict[str, HostedAchievement]:
        """Those of ``ids`` that are achievements this node's issuers define (however the URL is
        spelled: ``view.url_key``), each with the DIDs of the issuer defining it. Only ids on the
        node's own origin are looked up, and each issuer's achievements are read once."""
        base = url_key(self.node.achievements.base_url)
        if base is None:
            return {}
        scheme, host, port, prefix = base
        under = re.compile(re.escape(prefix) + r"/issuers/([^/]+)/achievements/[^/]+")
        wanted: dict[str, set[str]] = {}  # issuer name -> the ids that may be its achievements
        for i in ids:
            key = url_key(i)
            m = under.fullmatch(key[3]) if key is not None and key[:3] == (scheme, host, port) else None
            if m is not None:
                wanted.setdefault(m.group(1), set()).add(i)
        found: dict[str, HostedAchievement] = {}
        if not wanted:
            return found
        for issuer in await self.node.issuers.list():
            if issuer.name not in wanted:
                continue
            dids = frozenset(issuer.dids) | frozenset(issuer.former_did_keys)
            defined = {
                url_key(a.definition.id): HostedAchievement(a.definition.id, a.definition.title, issuer.name, a.awarding_body.name, dids)
                for a in await self.node.achievements.list(issuer.name)
            }
            for i in wanted[issuer.name]:
                if url_key(i) in defined:
                    found[i] = defined[url_key(i)]
        return found

    async def fetch_json(self, url: str) -> Any:
        """A JSON document from the web through the node's guarded client: the rules did:web
        resolution follows (HTTPS; no private or loopback address unless the operator allowed
        that host:port; time and size bounds). Raises ``FetchError`` or ``FetchOffError``."""
        http = self.node.http
        if http is None:
            raise FetchOffError()
        fetched = await ObservedFetches(http, PAGE_URL, self.node.observer.fetched).get_json(url, max_bytes=self.max_body)
        return fetched.data


__all__ = ["AchievementLink", "FetchError", "FetchOffError", "IssuerSummary", "NodeAccess"]
