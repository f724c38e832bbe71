"""The pages' one way into the node: verification, issuers, achievements, and the guarded fetch.

Everything here is today's API of ``NodeService`` (``request.app[SERVICE_KEY]``), used exactly
as the VC-API routes use it: ``verify_credential`` / ``verify_presentation`` followed by
``node.trust.report_trust`` (accreditation and stack reports). When the service is split into
smaller objects, this module is the only one of the pages to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from aiohttp import web

from did.errors import FetchError
from node import trust
from node.achievements import Achievements
from node.routes import SERVICE_KEY
from node.service import NodeService

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
    def __init__(self, service: NodeService) -> None:
        self.service = service

    @classmethod
    def of(cls, request: web.Request) -> "NodeAccess":
        return cls(request.app[SERVICE_KEY])

    @property
    def max_body(self) -> int:
        return self.service.config.max_body_bytes

    async def verify_credential(self, vc: Any, options: Mapping[str, Any]) -> JsonObject:
        """What ``POST /credentials/verify`` computes, as JSON, with the document kept."""
        result = await self.service.verify_credential(vc, options)
        await trust.report_trust(self.service, result)
        return result.to_json(include_document=True)

    async def verify_presentation(self, vp: Any, options: Mapping[str, Any]) -> JsonObject:
        """What ``POST /presentations/verify`` computes, as JSON, with every document kept."""
        result = await self.service.verify_presentation(vp, options)
        await trust.report_trust(self.service, result)
        return result.to_json(include_document=True)

    async def issuers(self) -> list[IssuerSummary]:
        achievements = Achievements(self.service)
        out = []
        for issuer in await self.service.list_issuers():
            links = [
                AchievementLink(a.slug, a.definition.title, a.definition.id) for a in await achievements.list(issuer.name)
            ]
            out.append(IssuerSummary(issuer.name, list(issuer.dids), links))
        return out

    async def achievement(self, issuer: str, slug: str) -> JsonObject:
        """The stored achievement's JSON (what its URL serves to programs); raises the node's
        404 errors (``UnknownIssuerError``, ``UnknownAchievementError``)."""
        stored = await Achievements(self.service).get(issuer, slug)
        out = stored.to_json()
        out["issuerDid"] = (await self.service.get_issuer(issuer)).did
        return out

    async def fetch_json(self, url: str) -> Any:
        """A JSON document from the web through the node's guarded client: the rules did:web
        resolution follows (HTTPS; no private or loopback address unless the operator allowed
        that host:port; time and size bounds). Raises ``FetchError`` or ``FetchOffError``."""
        http = self.service.services.http
        if http is None:
            raise FetchOffError()
        fetched = await http.get_json(url, max_bytes=self.max_body)
        return fetched.data


__all__ = ["AchievementLink", "FetchError", "FetchOffError", "IssuerSummary", "NodeAccess"]
