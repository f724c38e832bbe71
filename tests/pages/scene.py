"""A real node with what the verifier page is shown: issuers, an accreditation chain, micro-
credentials (valid, revoked, suspended, tampered, hostile), a stack and a holder's key.

One in-process node on 127.0.0.1 (``tests/e2e/running.py``) holds four issuers: ``ministry``
(an accreditation body the node trusts), ``agency`` (accredited by the ministry to accredit),
``uni`` (accredited by the agency to issue, EQF 5-6 in the Netherlands) and ``default``. All
credentials are issued through the node's HTTP API, as an institution would.
"""

from __future__ import annotations

import copy
import socket
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))

from did.key import did_key_from_public_key  # noqa: E402
from node.node import Node  # noqa: E402
from node.routes import NODE_KEY  # noqa: E402
from running import RunningNode, start  # noqa: E402
from vc.crypto import Ed25519KeyPair  # noqa: E402
from vc.credentials import issue_credential  # noqa: E402
from vc.cryptosuites import SUITES  # noqa: E402
from vc.loader import default_loader  # noqa: E402
from vc.presentations import create_presentation, sign_presentation  # noqa: E402

JsonObject = dict[str, Any]

BODY = {"name": "University of Example", "countryCode": "NL", "country": "Netherlands"}
ESCO_REGRESSION = "http://data.europa.eu/esco/skill/4f2a3ad4-5b56-4e1a-8c57-1d1d7a5c0e1f"
DS101: JsonObject = {
    "slug": "ds-101",
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python for data analysis.",
    "humanCode": "DS-101",
    "learningOutcomes": [
        {"statement": "Apply linear regression to real data", "url": ESCO_REGRESSION, "framework": "ESCO"},
        "Explain the assumptions behind a statistical test",
    ],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "B", "C", "F"]},
    "participation": "blended",
    "qualityAssurance": {"description": "Institutional accreditation by NVAO", "url": "https://www.nvao.net/decisions/12345", "framework": "ESG"},
    "awardingBody": BODY,
    "prerequisites": ["Secondary school mathematics"],
    "supervision": "Supervised with identity verification on site",
    "integration": {"mode": "stackable", "towards": "Certificate in Data Science"},
}
PART = {k: DS101[k] for k in ("description", "learningOutcomes", "assessment", "participation", "qualityAssurance", "awardingBody")}
DS102 = {**PART, "slug": "ds-102", "title": "Machine Learning Basics", "ects": 2.5, "eqfLevel": 5}
DS103 = {**PART, "slug": "ds-103", "title": "Data Visualisation", "ects": 2.5, "eqfLevel": 6}

# Fields that carry markup and script: shown as text, never run, never a link.
SCRIPT_TITLE = "<script>window.__pwned = 'title'</script>Hacking <b>101</b>"
IMG_LEARNER = "<img src=x onerror=\"window.__pwned = 'learner'\">Eve"
JS_URL = "javascript:window.__pwned='outcome'"
HOSTILE: JsonObject = {
    **PART,
    "slug": "hostile",
    "title": SCRIPT_TITLE,
    "description": "<iframe src=\"javascript:alert(1)\"></iframe> a description",
    "learningOutcomes": [{"statement": "<a href=\"javascript:alert(1)\">click</a>", "url": JS_URL, "framework": "<i>ESCO</i>"}],
    "qualityAssurance": {"description": "<style>body{display:none}</style>QA", "url": "javascript:alert('qa')"},
    "awardingBody": {"name": "<svg onload=\"window.__pwned='body'\">Evil U", "countryCode": "NL"},
    "ects": 1,
    "eqfLevel": 5,
}


# An issuer name written backwards behind a RIGHT-TO-LEFT OVERRIDE: shown as "University of
# Example", and, obeyed, it turns the page's own words after it around as well.
RLO_NAME = "\u202eelpmaxE fo ytisrevinU"


def signed_by_a_new_key(unsigned: JsonObject, *, suite: str = "eddsa-jcs-2022") -> JsonObject:
    """``unsigned`` issued by a fresh did:key (its ``issuer`` set to that DID, a name kept)."""
    key = Ed25519KeyPair.generate()
    did = did_key_from_public_key(key.public_key)
    issuer = unsigned.get("issuer")
    doc = {**unsigned, "issuer": {**issuer, "id": did} if isinstance(issuer, dict) else did}
    return issue_credential(doc, key=key, verification_method=f"{did}#{key.public_multibase}", suite=SUITES[suite], loader=default_loader(), now=datetime.now(timezone.utc))


def copied(credential: JsonObject, *, issuer_name: str | None = None, achievement_id: str | None = None) -> JsonObject:
    """``credential``'s content signed by a stranger's did:key (no status: the list is not its)."""
    doc = copy.deepcopy(credential)
    doc.pop("proof", None)
    doc.pop("credentialStatus", None)
    if issuer_name is not None:
        doc["issuer"]["name"] = issuer_name
    if achievement_id is not None:
        doc["credentialSubject"]["achievement"]["id"] = achievement_id
    return signed_by_a_new_key(doc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Scene:
    node: RunningNode
    core: Node
    token: str
    http: aiohttp.ClientSession
    dids: dict[str, str] = field(default_factory=dict)
    holder_key: Ed25519KeyPair = field(default_factory=Ed25519KeyPair.generate)
    valid: JsonObject = field(default_factory=dict)
    parts: list[JsonObject] = field(default_factory=list)
    stack: JsonObject = field(default_factory=dict)
    revoked: JsonObject = field(default_factory=dict)
    suspended: JsonObject = field(default_factory=dict)
    tampered: JsonObject = field(default_factory=dict)
    hostile: JsonObject = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.node.url

    @property
    def holder(self) -> str:
        return did_key_from_public_key(self.holder_key.public_key)

    async def post(self, path: str, body: Any) -> Any:
        async with self.http.post(self.url + path, json=body, headers={"Authorization": f"Bearer {self.token}"}) as resp:
            out = await resp.json(content_type=None)
            assert resp.status in (200, 201), (path, resp.status, out)
            return out

    async def award(self, slug: str, learner: JsonObject, **extra: Any) -> JsonObject:
        out = await self.post("/issuers/uni/microcredentials", {"achievementId": slug, "learner": learner, **extra})
        return out["verifiableCredential"]

    async def presentation(self, credentials: list[JsonObject], *, named: bool = True) -> JsonObject:
        """The holder's presentation of ``credentials``, signed over a challenge from this node;
        ``named=False``: signed by the same key, but naming no holder."""
        async with self.http.post(self.url + "/challenges") as resp:
            challenge = (await resp.json())["challenge"]
        return sign_presentation(
            create_presentation(credentials, holder=self.holder if named else None),
            key=self.holder_key,
            verification_method=f"{self.holder}#{self.holder_key.public_multibase}",
            suite=SUITES["eddsa-rdfc-2022"],
            loader=default_loader(),
            now=datetime.now(timezone.utc),
            challenge=challenge,
        )


async def build(data: Path, http: aiohttp.ClientSession, **config: Any) -> Scene:
    port = free_port()
    node = await start(
        data, port, status_purposes=("revocation", "suspension"), allow_insecure_hosts=(f"127.0.0.1:{port}",), **config
    )
    core = node.runner.app[NODE_KEY]
    token = (await core.tokens.create(["admin"])).token
    scene = Scene(node, core, token, http)
    for name in ("ministry", "agency", "uni"):
        scene.dids[name] = (await core.issuers.create(name)).did
    scene.dids["default"] = (await core.issuers.get("default")).did
    await core.trust.add_trusted_body(scene.dids["ministry"], label="Ministry of Education")

    # The chain: the trusted ministry accredits the agency to accredit; the agency accredits
    # the university to issue (EQF 5-6, NL); each holder stores and so publishes its own.
    out = await scene.post(
        "/issuers/ministry/accredit",
        {"organisation": scene.dids["agency"], "organisationName": "Quality Agency", "kind": "accredit", "scope": {"eqfLevels": [5, 6, 7], "jurisdictions": ["NL"]}, "expiryDate": "2040-01-01"},
    )
    await scene.post("/issuers/agency/accreditations", {"verifiableCredential": out["verifiableCredential"]})
    out = await scene.post(
        "/issuers/agency/accredit",
        {"organisation": scene.dids["uni"], "organisationName": "University of Example", "kind": "attest", "scope": {"eqfLevels": [5, 6], "jurisdictions": ["NL"]}, "expiryDate": "2035-06-30", "decision": "https://agency.example/decisions/uni-2025"},
    )
    await scene.post("/issuers/uni/accreditations", {"verifiableCredential": out["verifiableCredential"]})

    for achievement in (DS101, DS102, DS103, HOSTILE):
        await scene.post("/issuers/uni/achievements", achievement)
    learner = {"name": "Ana Andromeda", "email": "ana@example.org", "id": scene.holder}
    scene.valid = await scene.award("ds-101", learner, grade="A")
    scene.parts = [scene.valid, await scene.award("ds-102", learner), await scene.award("ds-103", learner)]
    out = await scene.post(
        "/issuers/uni/stacks",
        {"parts": scene.parts, "achievement": {"name": "Certificate in Data Science", "description": "Three modules, 10 ECTS."}, "totalEcts": 10, "eqfLevel": 6},
    )
    scene.stack = out["verifiableCredential"]
    scene.revoked = await scene.award("ds-101", {"name": "Ben Bellatrix"})
    await scene.post("/credentials/status", {"credentialId": scene.revoked["id"], "status": "revoked"})
    scene.suspended = await scene.award("ds-101", {"name": "Cy Centauri"})
    await scene.post("/credentials/status", {"credentialId": scene.suspended["id"], "status": "suspended"})
    scene.tampered = copy.deepcopy(scene.valid)
    scene.tampered["credentialSubject"]["achievement"]["creditsAvailable"] = 50
    scene.hostile = await scene.award("hostile", {"name": IMG_LEARNER})
    return scene
