"""Accreditation and stacking over HTTP (docs/accreditation-and-stacking.md).

Public: ``GET /.well-known/accreditations.json`` (the default issuer, beside
``/.well-known/did.json``) and ``GET /issuers/{name}/accreditations.json`` (beside
``/issuers/{name}/did.json``): the accreditation credentials the issuer holds, as an unsigned
VerifiablePresentation, so a verifier finds them from the issuer's did:web alone.

With an ``issue`` (or ``admin``) token for the issuer: ``POST /issuers/{name}/accreditations``
stores one it received (it must be about the issuer and verify), ``DELETE
/issuers/{name}/accreditations/{id}`` stops publishing one; ``POST /issuers/{name}/accredit``
issues an accreditation credential, as an accreditation body, through the node's normal
issuance path (revocation status entry included); ``POST /issuers/{name}/stacks`` issues a
stacked credential from parts it verifies first (422 naming every part that fails).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, field_validator, model_validator
from typing_extensions import NotRequired, TypedDict

from node import trust
from node.issuers import DEFAULT_ISSUER
from node.problems import HTTPProblem, Invalid
from node.routes import node_of, open_to_browsers
from node.routes.endpoint import Body, Endpoints, PathParam, Reply, Scope
from node.routes.models import NO_ISSUER, IssuedCredential, IssueOptions, JsonLd, Number
from vc.edu.accreditation import build_accreditation_credential, scope_from_json
from vc.edu.stacking import build_stacked_credential

PUBLISHED_MAX_AGE = 60  # seconds a verifier may reuse a published accreditations document

api = Endpoints()

ISSUER = PathParam("name", "The issuer's name on this node")


def _date(value: str) -> datetime | None:
    """A date (2030-01-01, midnight UTC) or a date-time with a time zone; None otherwise."""
    text = value + "T00:00:00Z" if len(value) == 10 else value
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- publishing ----------------------------------------------------------------------------------

AccreditationsDocument = TypedDict(
    "AccreditationsDocument",
    {
        "@context": list[str],
        "type": list[str],
        "holder": Annotated[str, Field(description="The issuer's DID")],
        "verifiableCredential": Annotated[list[dict[str, Any]], Field(description="The accreditation credentials it holds")],
    },
)
AccreditationsDocument.__doc__ = "An unsigned VerifiablePresentation of the accreditation credentials the issuer holds."

_PUBLISHED = dict(
    summary="The accreditation credentials the issuer holds (an unsigned VerifiablePresentation), beside its DID document",
    tags=["Accreditation"],
    replies={200: Reply(AccreditationsDocument, "The issuer's accreditations", headers={"Cache-Control": "max-age=60"})},
    problems={404: NO_ISSUER},
)


async def _published(request: web.Request, name: str) -> web.Response:
    document = await node_of(request).trust.published_document(name)
    # Verifiers fetch this beside every credential they assess, so they may keep it a minute;
    # a stored or removed accreditation shows within that. Withdrawal itself does not wait:
    # it travels through the accreditation's status list, checked on every verification.
    return web.json_response(document, headers={"Cache-Control": f"max-age={PUBLISHED_MAX_AGE}"})


@api.get("/.well-known/accreditations.json", "defaultIssuerAccreditations", **_PUBLISHED)
async def well_known(request: web.Request) -> web.Response:
    return await _published(request, DEFAULT_ISSUER)


@api.get("/issuers/{name}/accreditations.json", "issuerAccreditations", params=[ISSUER], **_PUBLISHED)
async def issuer_accreditations(request: web.Request) -> web.Response:
    return await _published(request, request.match_info["name"])


class StoreAccreditationRequest(Body):
    """An accreditation credential about this issuer, signed by the body that accredits it."""

    verifiableCredential: JsonLd


class StoredAccreditation(TypedDict):
    """The accreditation as the node read it."""

    credentialId: str | None
    accreditingAgent: str
    organisation: str
    kind: str
    scope: dict[str, Any]
    decision: NotRequired[str]
    dateIssued: NotRequired[str]
    reviewDate: NotRequired[str]
    expiryDate: NotRequired[str]
    validFrom: NotRequired[str]
    validUntil: NotRequired[str]


class Stored(TypedDict):
    stored: StoredAccreditation


@api.post(
    "/issuers/{name}/accreditations",
    "storeAccreditation",
    summary="Store an accreditation credential the issuer received, to publish it: {verifiableCredential}",
    tags=["Accreditation"],
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=StoreAccreditationRequest,
    replies={201: Reply(Stored, "Stored; published from now on")},
    problems={404: NO_ISSUER, 422: "Not an accreditation of this issuer, malformed, or it does not verify"},
)
async def store_accreditation(request: web.Request, body: StoreAccreditationRequest) -> web.Response:
    """``{verifiableCredential}``: keep an accreditation this issuer received, to publish it."""
    name, credential = request.match_info["name"], body.verifiableCredential
    acc = await node_of(request).trust.store_accreditation(name, credential)
    return web.json_response({"stored": acc.to_json()}, status=201)


@api.delete(
    "/issuers/{name}/accreditations/{id}",
    "removeAccreditation",
    summary="Stop publishing an accreditation credential the issuer holds",
    tags=["Accreditation"],
    params=[ISSUER, PathParam("id", "The accreditation credential's id, URL-encoded")],
    scope=Scope("issue", issuer="{name}"),
    replies={204: Reply(None, "Removed; no longer published")},
    problems={404: "No issuer of that name, or it holds no accreditation with that id"},
)
async def remove_accreditation(request: web.Request) -> web.Response:
    """Stop publishing an accreditation this issuer holds (``id`` URL-encoded): 204, or 404
    when the issuer holds no accreditation with that id."""
    name = request.match_info["name"]
    await node_of(request).trust.remove_accreditation(name, request.match_info["id"])
    return web.Response(status=204)


class AccreditRequest(Body):
    """As an accreditation body: whom to accredit, for what, until when."""

    organisation: str = Field(description="The accredited organisation's DID")
    organisationName: str | None = None
    kind: str | None = Field(None, description="attest (the default) or accredit")
    scope: dict[str, Any] | None = Field(None, description="{eqfLevels, fields, jurisdictions, qualifications}, each optional; unlimited when absent")
    expiryDate: str | None = Field(None, description="A date (2030-01-01) or a date-time with a time zone")
    reviewDate: str | None = Field(None, description="A date (2030-01-01) or a date-time with a time zone")
    decision: str | None = Field(None, description="The accreditation decision's IRI")
    options: IssueOptions | None = None

    @field_validator("expiryDate", "reviewDate")
    @classmethod
    def _a_date(cls, value: str) -> str:
        if _date(value) is None:
            raise Invalid("{field} must be a date (2030-01-01) or a date-time with a time zone")
        return value

    @model_validator(mode="after")
    def _rdfc_only(self) -> "AccreditRequest":
        if self.options is not None and self.options.cryptosuite not in (None, "eddsa-rdfc-2022"):
            # Digital Bazaar's eddsa-jcs-2022 verifier (1.0.0) compares @context entries by
            # identity, so a credential with an inline context never verifies there.
            raise Invalid(
                "accreditation credentials carry an inline context and are signed with eddsa-rdfc-2022: "
                "eddsa-jcs-2022 proofs over inline contexts fail in mainstream verifiers",
                field="options.cryptosuite",
            )
        return self


@api.post(
    "/issuers/{name}/accredit",
    "accredit",
    summary="As an accreditation body, issue an accreditation credential (ELM Accreditation) with a revocation status entry",
    tags=["Accreditation"],
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=AccreditRequest,
    replies={201: Reply(IssuedCredential, "The signed accreditation credential")},
    problems={404: NO_ISSUER},
)
async def accredit(request: web.Request, body: AccreditRequest) -> web.Response:
    """As an accreditation body: ``{organisation, organisationName?, kind?: attest|accredit,
    scope?: {eqfLevels, fields, jurisdictions, qualifications}, expiryDate?, reviewDate?,
    decision?, options?}`` → 201 ``{verifiableCredential}`` with a revocation status entry."""
    name = request.match_info["name"]
    node = node_of(request)
    issuer = await node.issuers.get(name)
    options = body.options.for_service() if body.options is not None else {}
    purposes = options.get("statusPurposes", issuer.status_purposes)
    if "revocation" not in purposes:
        # An accreditation that cannot be withdrawn would outlive the decision behind it.
        purposes = [*purposes, "revocation"]
    credential = build_accreditation_credential(
        accrediting_agent=issuer.did,
        organisation=body.organisation,
        organisation_name=body.organisationName,
        kind=body.kind or "attest",
        scope=scope_from_json(body.scope),
        date_issued=node.clock(),
        expiry_date=_date(body.expiryDate) if body.expiryDate else None,
        review_date=_date(body.reviewDate) if body.reviewDate else None,
        decision=body.decision,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )
    signed = await node.issuance.issue(name, credential, {**options, "statusPurposes": purposes})
    return web.json_response({"verifiableCredential": signed}, status=201)


# --- stacks --------------------------------------------------------------------------------------


class StackRequest(Body):
    """The parts and the stacked achievement. See docs/accreditation-and-stacking.md."""

    parts: Annotated[list[JsonLd], Field(min_length=1, description="The signed micro-credentials to stack; each is verified first")]
    achievement: dict[str, Any] = Field(description="{name, description, id?, achievementType?, criteria?}")
    totalEcts: Number | None = Field(None, description="When given, the parts' ECTS must add up to it")
    eqfLevel: int | None = None
    issuerName: str | None = Field(None, description="The awarding body's name in the stacked credential")
    options: IssueOptions | None = None


class CheckedPart(TypedDict):
    index: int
    id: str | None
    verified: bool
    accreditation: NotRequired[Annotated[str, Field(description="The part's issuer's accreditation, when assessed")]]


class IssuedStack(TypedDict):
    verifiableCredential: Annotated[dict[str, Any], Field(description="The signed stacked credential")]
    parts: list[CheckedPart]


@api.post(
    "/issuers/{name}/stacks",
    "issueStack",
    summary="Issue a stacked credential from micro-credentials verified at issue time",
    tags=["Stacking"],
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=StackRequest,
    replies={201: Reply(IssuedStack, "The stacked credential and each part's check")},
    problems={
        404: NO_ISSUER,
        422: "A part does not verify (`parts` lists each with its reasons) or the parts do not stack (`problems`)",
    },
)
async def issue_stack(request: web.Request, body: StackRequest) -> web.Response:
    """``{parts: [signed micro-credentials], achievement: {name, description, id?,
    achievementType?, criteria?}, totalEcts?, eqfLevel?, issuerName?, options?}`` → 201
    ``{verifiableCredential, parts}``; 422 when a part does not verify, its issuer is not
    accredited (when this node trusts accreditation bodies), or the parts do not stack."""
    name = request.match_info["name"]
    node = node_of(request)
    issuer = await node.issuers.get(name)
    options = body.options.for_service() if body.options is not None else {}
    parts = body.parts
    achievement = dict(body.achievement)
    achievement.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
    issuer_name = body.issuerName or name

    refused: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    for i, part in enumerate(parts):
        result = await node.verification.verify_credential(part)
        await node.trust.report(result)
        reasons = [f"{c.name} {c.outcome}: {c.message}" for c in result.checks if not c.ok]
        acc = result.reports.get("accreditation")
        if acc is not None and acc["status"] not in (trust.ACCREDITED, trust.NOT_ASSESSED):
            reasons.append(f"issuer {acc['status']}: {acc['reason']}")
        entry = {"index": i, "id": part.get("id"), "verified": not reasons}
        if acc is not None:
            entry["accreditation"] = acc["status"]
        checked.append(entry)
        if reasons:
            refused.append({**entry, "reasons": reasons})
    if refused:
        raise HTTPProblem(
            422,
            "stack-part-refused",
            "A part of the stack does not verify",
            "; ".join(f"part {r['index']} ({r['id']}): {', '.join(r['reasons'])}" for r in refused),
            parts=refused,
        )
    # The awarding body's profile (name, address: Annex I (c), (d)) as this issuer gave it in
    # its own parts, so the stack states the same country that accreditation scopes check.
    profile: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": issuer_name}
    own = next((p["issuer"] for p in parts if isinstance(p.get("issuer"), dict) and p["issuer"].get("id") == issuer.did), None)
    if own is not None:
        profile = {**own, **({"name": issuer_name} if body.issuerName else {})}
    # A StackError (missing id, duplicate, other learner, wrong total) is a 422 problem as it is.
    credential = build_stacked_credential(
        parts,
        issuer=profile,
        achievement=achievement,
        valid_from=node.clock(),
        total_ects=body.totalEcts,
        eqf_level=body.eqfLevel,
    )
    signed = await node.issuance.issue(name, credential, options)
    return web.json_response({"verifiableCredential": signed, "parts": checked}, status=201)


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, "/.well-known/accreditations.json", "/issuers/{name}/accreditations.json")
