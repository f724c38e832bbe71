"""The pages' one way into the node: verification, issuers, achievements, and the guarded fetch.

Everything here goes through the node's capabilities (``node.node.Node``, ``request.app[NODE_KEY]``),
used exactly as the VC-API routes use them: ``verification.verify_credential`` /
``verify_presentation``, then ``trust.check_achievement_issuers`` (an achievement of this node
awarded by another issuer) and ``trust.report`` (accreditation and stack reports). This
module is the only one of the pages that knows the node's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from aiohttp import web

from did.errors import FetchError
from node.node import Node
from node.observe import PAGE_URL, ObservedFetches
from node.routes import NODE_KEY
from node.trust import check_achievement_issuers

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
        await check_achievement_issuers(result, issuers=self.node.issuers, achievements=self.node.achievements)
        await self.node.trust.report(result)
        self.node.observer.verified(result)
        return result.to_json(include_document=True)

    async def verify_presentation(self, vp: Any, options: Mapping[str, Any]) -> JsonObject:
        """What ``POST /presentations/verify`` computes, as JSON, with every document kept."""
        result = await self.node.verification.verify_presentation(vp, options)
        await check_achievement_issuers(result, issuers=self.node.issuers, achievements=self.node.achievements)
        await self.node.trust.report(result)
        self.node.observer.verified(result)
        return result.to_json(include_document=True)

    async def own_dids(self) -> frozenset[str]:
        """Every DID this node's issuers sign or signed under: the node vouches for these."""
        dids: set[str] = set()
        for issuer in await self.node.issuers.list():
            dids |= set(issuer.dids) | set(issuer.former_did_keys)
        return frozenset(dids)

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
