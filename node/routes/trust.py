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
from typing import Any

from aiohttp import web

from node import auth, trust
from node.problems import HTTPProblem, bad_request, field, options_field, read_json
from node.routes import CORS_HEADERS, preflight
from node.routes import service as _service
from node.service import DEFAULT_ISSUER
from vc.edu.accreditation import build_accreditation_credential, scope_from_json
from vc.edu.stacking import build_stacked_credential

ISSUE_OPTIONS = ("cryptosuite", "statusPurposes")
PUBLISHED_MAX_AGE = 60  # seconds a verifier may reuse a published accreditations document


def _datetime(body: dict[str, Any], name: str) -> datetime | None:
    value = field(body, name, str, required=False)
    if value is None:
        return None
    text = value + "T00:00:00Z" if len(value) == 10 else value
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise bad_request(f"{name} must be a date (2030-01-01) or a date-time with a time zone", field=name)
    return parsed


# --- publishing ----------------------------------------------------------------------------------


async def _published(request: web.Request, name: str) -> web.Response:
    document = await trust.published_document(_service(request), name)
    # Verifiers fetch this beside every credential they assess, so they may keep it a minute;
    # a stored or removed accreditation shows within that. Withdrawal itself does not wait:
    # it travels through the accreditation's status list, checked on every verification.
    return web.json_response(document, headers={**CORS_HEADERS, "Cache-Control": f"max-age={PUBLISHED_MAX_AGE}"})


async def well_known(request: web.Request) -> web.Response:
    return await _published(request, DEFAULT_ISSUER)


async def issuer_accreditations(request: web.Request) -> web.Response:
    return await _published(request, request.match_info["name"])


async def store_accreditation(request: web.Request) -> web.Response:
    """``{verifiableCredential}``: keep an accreditation this issuer received, to publish it."""
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    body = await read_json(request)
    credential = field(body, "verifiableCredential", dict)
    acc = await trust.store_accreditation(_service(request), name, credential)
    return web.json_response({"stored": acc.to_json()}, status=201)


async def remove_accreditation(request: web.Request) -> web.Response:
    """Stop publishing an accreditation this issuer holds (``id`` URL-encoded): 204, or 404
    when the issuer holds no accreditation with that id."""
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    await trust.remove_accreditation(_service(request), name, request.match_info["id"])
    return web.Response(status=204)


async def accredit(request: web.Request) -> web.Response:
    """As an accreditation body: ``{organisation, organisationName?, kind?: attest|accredit,
    scope?: {eqfLevels, fields, jurisdictions, qualifications}, expiryDate?, reviewDate?,
    decision?, options?}`` → 201 ``{verifiableCredential}`` with a revocation status entry."""
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    body = await read_json(request)
    service = _service(request)
    issuer = await service.get_issuer(name)
    options = options_field(body, ISSUE_OPTIONS)
    if options.get("cryptosuite", "eddsa-rdfc-2022") != "eddsa-rdfc-2022":
        # Digital Bazaar's eddsa-jcs-2022 verifier (1.0.0) compares @context entries by
        # identity, so a credential with an inline context never verifies there.
        raise bad_request(
            "accreditation credentials carry an inline context and are signed with eddsa-rdfc-2022: "
            "eddsa-jcs-2022 proofs over inline contexts fail in mainstream verifiers",
            field="options.cryptosuite",
        )
    purposes = options.get("statusPurposes", issuer.status_purposes)
    if not isinstance(purposes, list) or "revocation" not in purposes:
        # An accreditation that cannot be withdrawn would outlive the decision behind it.
        purposes = [*(purposes if isinstance(purposes, list) else []), "revocation"]
    kind = field(body, "kind", str, required=False) or "attest"
    credential = build_accreditation_credential(
        accrediting_agent=issuer.did,
        organisation=field(body, "organisation", str),
        organisation_name=field(body, "organisationName", str, required=False),
        kind=kind,
        scope=scope_from_json(field(body, "scope", dict, required=False)),
        date_issued=service.clock(),
        expiry_date=_datetime(body, "expiryDate"),
        review_date=_datetime(body, "reviewDate"),
        decision=field(body, "decision", str, required=False),
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )
    signed = await service.issue(name, credential, {**options, "statusPurposes": purposes})
    return web.json_response({"verifiableCredential": signed}, status=201)


# --- stacks --------------------------------------------------------------------------------------


async def issue_stack(request: web.Request) -> web.Response:
    """``{parts: [signed micro-credentials], achievement: {name, description, id?,
    achievementType?, criteria?}, totalEcts?, eqfLevel?, issuerName?, options?}`` → 201
    ``{verifiableCredential, parts}``; 422 when a part does not verify, its issuer is not
    accredited (when this node trusts accreditation bodies), or the parts do not stack."""
    name = request.match_info["name"]
    await auth.authorize(request, scope="issue", issuer=name)
    body = await read_json(request)
    service = _service(request)
    issuer = await service.get_issuer(name)
    options = options_field(body, ISSUE_OPTIONS)
    parts = field(body, "parts", list)
    if not parts or not all(isinstance(p, dict) for p in parts):
        raise bad_request("parts must be a non-empty array of credentials", field="parts")
    achievement = dict(field(body, "achievement", dict))
    achievement.setdefault("id", f"urn:uuid:{uuid.uuid4()}")
    total = field(body, "totalEcts", (int, float), required=False)
    eqf = field(body, "eqfLevel", int, required=False)
    issuer_name = field(body, "issuerName", str, required=False) or name

    refused: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    for i, part in enumerate(parts):
        result = await service.verify_credential(part)
        await trust.report_trust(service, result)
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
        profile = {**own, **({"name": issuer_name} if field(body, "issuerName", str, required=False) else {})}
    # A StackError (missing id, duplicate, other learner, wrong total) is a 422 problem as it is.
    credential = build_stacked_credential(
        parts,
        issuer=profile,
        achievement=achievement,
        valid_from=service.clock(),
        total_ects=total,
        eqf_level=eqf,
    )
    signed = await service.issue(name, credential, options)
    return web.json_response({"verifiableCredential": signed, "parts": checked}, status=201)


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/accreditations.json", well_known, allow_head=True)
    app.router.add_route("OPTIONS", "/.well-known/accreditations.json", preflight)
    app.router.add_get("/issuers/{name}/accreditations.json", issuer_accreditations, allow_head=True)
    app.router.add_route("OPTIONS", "/issuers/{name}/accreditations.json", preflight)
    app.router.add_post("/issuers/{name}/accreditations", store_accreditation)
    app.router.add_delete("/issuers/{name}/accreditations/{id}", remove_accreditation)
    app.router.add_post("/issuers/{name}/accredit", accredit)
    app.router.add_post("/issuers/{name}/stacks", issue_stack)


def openapi_paths() -> dict[str, Any]:
    """These routes' OpenAPI description (merged into /openapi.json by node.routes.openapi)."""
    problem = {"$ref": "#/components/schemas/Problem"}

    def resp(description: str, problem_json: bool = False) -> dict[str, Any]:
        kind = "application/problem+json" if problem_json else "application/json"
        return {"description": description, "content": {kind: {"schema": problem if problem_json else {"type": "object"}}}}

    issuer = {"name": "name", "in": "path", "required": True, "description": "The issuer's name on this node", "schema": {"type": "string"}}
    body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    common = {
        "400": resp("Malformed JSON or a field of the wrong type", True),
        "401": resp("No or unknown bearer token", True),
        "403": resp("The token may not issue for this issuer", True),
        "404": resp("No such issuer", True),
    }
    published = {
        "summary": "The accreditation credentials the issuer holds (an unsigned VerifiablePresentation), beside its DID document",
        "tags": ["Accreditation"],
        "responses": {"200": resp("{@context, type: [VerifiablePresentation], holder, verifiableCredential: [...]}"), "404": common["404"]},
    }
    return {
        "/.well-known/accreditations.json": {"get": {**published, "operationId": "defaultIssuerAccreditations"}},
        "/issuers/{name}/accreditations.json": {"get": {**published, "operationId": "issuerAccreditations", "parameters": [issuer]}},
        "/issuers/{name}/accreditations": {
            "post": {
                "summary": "Store an accreditation credential the issuer received, to publish it: {verifiableCredential}",
                "operationId": "storeAccreditation",
                "tags": ["Accreditation"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [issuer],
                "requestBody": body,
                "responses": {
                    "201": resp("{stored: the accreditation as read}"),
                    "422": resp("Not an accreditation of this issuer, malformed, or it does not verify", True),
                    **common,
                },
            }
        },
        "/issuers/{name}/accreditations/{id}": {
            "delete": {
                "summary": "Stop publishing an accreditation credential the issuer holds",
                "operationId": "removeAccreditation",
                "tags": ["Accreditation"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [
                    issuer,
                    {"name": "id", "in": "path", "required": True, "description": "The accreditation credential's id, URL-encoded", "schema": {"type": "string"}},
                ],
                "responses": {"204": {"description": "Removed; no longer published"}, **{k: v for k, v in common.items() if k != "400"}, "404": resp("No such issuer, or it holds no accreditation with that id", True)},
            }
        },
        "/issuers/{name}/accredit": {
            "post": {
                "summary": "As an accreditation body, issue an accreditation credential (ELM Accreditation) with a revocation status entry",
                "operationId": "accredit",
                "tags": ["Accreditation"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [issuer],
                "description": "Fields: organisation (DID), organisationName?, kind? (attest | accredit), scope? {eqfLevels, fields, "
                "jurisdictions, qualifications}, expiryDate?, reviewDate?, decision? (IRI), options? {cryptosuite, statusPurposes}.",
                "requestBody": body,
                "responses": {"201": resp("{verifiableCredential}"), **common},
            }
        },
        "/issuers/{name}/stacks": {
            "post": {
                "summary": "Issue a stacked credential from micro-credentials verified at issue time",
                "operationId": "issueStack",
                "tags": ["Stacking"],
                "security": [{"bearer": ["issue"]}],
                "parameters": [issuer],
                "description": "Fields: parts (signed credentials), achievement {name, description, id?, achievementType?, criteria?}, "
                "totalEcts?, eqfLevel?, issuerName?, options?. See docs/accreditation-and-stacking.md.",
                "requestBody": body,
                "responses": {
                    "201": resp("{verifiableCredential, parts: [{index, id, verified, accreditation}]}"),
                    "422": resp("A part does not verify (parts lists each with its reasons) or the parts do not stack (problems)", True),
                    **common,
                },
            }
        },
    }
