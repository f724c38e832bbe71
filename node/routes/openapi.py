"""``GET /openapi.json``: an OpenAPI 3.1 description of every endpoint the node serves.

Request and response shapes follow W3C CCG VC-API (issuer.yml, verifier.yml) where it has the
endpoint. tests/node/test_vcapi.py checks that every route registered on the app is described
here and that nothing described is missing from the app, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

JsonObject = dict[str, Any]


def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: JsonObject, description: str) -> JsonObject:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> JsonObject:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


_BODY_ERRORS = {
    "400": _problem("Malformed JSON, a field of the wrong type or an invalid document; `detail` says what to fix"),
    "413": _problem("The request body is larger than the node accepts"),
    "415": _problem("The body is declared as a form or multipart; send application/json"),
}
_AUTH_ERRORS = {
    "401": _problem("No Authorization: Bearer token, or one the node does not know (revoked, mistyped)"),
    "403": _problem("The token lacks the scope, or is bound to another issuer"),
}
_ISSUER_PARAM = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "The issuer's name on this node (`default` is created on first start)",
    "schema": {"type": "string"},
}


def _issue_op(summary: str, with_param: bool) -> JsonObject:
    op: JsonObject = {
        "summary": summary,
        "operationId": "issueCredential" if not with_param else "issueCredentialAsIssuer",
        "tags": ["Credentials"],
        "security": [{"bearer": ["issue"]}],
        "description": (
            "Signs the credential with the issuer's key (VC-API issueCredential). The node fills `issuer` "
            "when absent and refuses a credential naming another issuer, adds an `id` and `validFrom` when "
            "absent and one `credentialStatus` entry per requested status purpose. A VC 1.1 credential is "
            "issued as 1.1. Needs a token with the `issue` scope for this issuer (or `admin`)."
        ),
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("IssueCredentialRequest")}}},
        "responses": {
            "201": _json(_ref("IssueCredentialResponse"), "The signed credential"),
            **_BODY_ERRORS,
            **_AUTH_ERRORS,
            "404": _problem("No issuer of that name on this node"),
        },
    }
    if with_param:
        op["parameters"] = [_ISSUER_PARAM]
    return op


def _paths() -> JsonObject:
    verify_responses = {
        "200": _json(_ref("VerificationResult"), "Verified: every check passed"),
        "400": {
            "description": (
                "Not verified (`verified: false`, with the failed checks and their spec-typed `errors`), "
                "or a request body that is not a verification request (application/problem+json)"
            ),
            "content": {
                "application/json": {"schema": _ref("VerificationResult")},
                "application/problem+json": {"schema": _ref("Problem")},
            },
        },
        "413": _BODY_ERRORS["413"],
        "415": _BODY_ERRORS["415"],
    }
    return {
        "/credentials/issue": {"post": _issue_op("Issue a credential as the default issuer", False)},
        "/issuers/{name}/credentials/issue": {"post": _issue_op("Issue a credential as a named issuer", True)},
        "/credentials/verify": {
            "post": {
                "summary": "Verify a credential",
                "operationId": "verifyCredential",
                "tags": ["Credentials"],
                "description": (
                    "Checks the data model, validity period, every Data Integrity proof (eddsa-rdfc-2022, "
                    "eddsa-jcs-2022; the issuer's did:key or did:web is resolved) and every "
                    "BitstringStatusListEntry (the list is fetched and its own proof verified). Public."
                ),
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VerifyCredentialRequest")}}},
                "responses": verify_responses,
            }
        },
        "/presentations/verify": {
            "post": {
                "summary": "Verify a presentation and the credentials in it",
                "operationId": "verifyPresentation",
                "tags": ["Presentations"],
                "description": (
                    "Checks the presentation's authentication proof (challenge and domain) and every "
                    "credential inside it. The expected challenge goes in `options.challenge` (VC-API). A "
                    "challenge this node handed out (POST /challenges) is single use: consumed by the first "
                    "verification whose holder proof verifies, refused once expired or used; when "
                    "`options.challenge` is absent, such a challenge carried by the proof is checked and "
                    "consumed the same way, so leaving the option out cannot replay a presentation. A challenge "
                    "the node did not hand out is the caller's own expected value (the caller vouches for its "
                    "freshness), unless the node's `accept_caller_challenges` setting is off or "
                    "`options.checks` names `challenge`. A presentation with no expected challenge is refused "
                    "while the node's `require_challenge` setting is on (the default). Public."
                ),
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VerifyPresentationRequest")}}},
                "responses": verify_responses,
            }
        },
        "/challenges": {
            "post": {
                "summary": "Create a single-use, expiring challenge",
                "operationId": "createChallenge",
                "tags": ["Presentations"],
                "description": "The body may be empty. Put the returned value into the presentation's proof and into `options.challenge`.",
                "responses": {"200": _json(_ref("CreateChallengeResponse"), "A new challenge")},
            }
        },
        "/credentials/status": {
            "post": {
                "summary": "Revoke, suspend or reinstate an issued credential",
                "operationId": "updateCredentialStatus",
                "tags": ["Credentials"],
                "security": [{"bearer": ["status"]}],
                "description": (
                    "VC-API updateCredentialStatus. The change is durable before the response is sent, and "
                    "the issuer's status list credential is re-signed. Needs a token with the `status` scope "
                    "for the credential's issuer (or `admin`). Revocation is final."
                ),
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("UpdateCredentialStatusRequest")}}},
                "responses": {
                    "200": _json(_ref("UpdateCredentialStatusResponse"), "The credential's status after the change"),
                    **_BODY_ERRORS,
                    **_AUTH_ERRORS,
                    "404": _problem("No credential with that id was issued by this node"),
                    "409": _problem("The change is not possible (a revoked credential cannot be reinstated, or the credential has no entry for that purpose)"),
                },
            }
        },
        "/.well-known/did.json": {
            "get": {
                "summary": "The default issuer's did:web document",
                "operationId": "getDefaultDIDDocument",
                "tags": ["DIDs"],
                "description": "Multikey verification methods, assertionMethod and authentication. CORS open.",
                "responses": {"200": _json(_ref("DIDDocument"), "The DID document"), "404": _problem("No did:web configured")},
            }
        },
        "/issuers/{name}/did.json": {
            "get": {
                "summary": "A named issuer's did:web document",
                "operationId": "getIssuerDIDDocument",
                "tags": ["DIDs"],
                "parameters": [_ISSUER_PARAM],
                "responses": {"200": _json(_ref("DIDDocument"), "The DID document"), "404": _problem("No issuer of that name")},
            }
        },
        "/status/{issuer}/{purpose}/{seq}": {
            "get": {
                "summary": "A status list credential (Bitstring Status List 1.0)",
                "operationId": "getStatusList",
                "tags": ["Status"],
                "parameters": [
                    {"name": "issuer", "in": "path", "required": True, "description": "The issuer's name", "schema": {"type": "string"}},
                    {
                        "name": "purpose",
                        "in": "path",
                        "required": True,
                        "description": "The list's status purpose",
                        "schema": {"type": "string", "enum": ["revocation", "suspension"]},
                    },
                    {"name": "seq", "in": "path", "required": True, "description": "The list's number, from 1", "schema": {"type": "integer"}},
                ],
                "description": (
                    "A signed BitstringStatusListCredential (application/vc+ld+json), the URL a credential's "
                    "`statusListCredential` names. Public, CORS open, ETag / If-None-Match, cacheable for its ttl."
                ),
                "responses": {
                    "200": {"description": "The status list credential", "content": {"application/vc+ld+json": {"schema": {"type": "object"}}}},
                    "304": {"description": "Not modified since the ETag the client holds"},
                    "404": _problem("No such list"),
                },
            }
        },
        "/status/{issuer}/{purpose}/{seq}/publish": {
            "post": {
                "summary": "Publish a status list (it always is: every status change re-signs its list first)",
                "operationId": "publishStatusList",
                "tags": ["Status"],
                "security": [{"bearer": ["status"]}],
                "parameters": [
                    {"name": "issuer", "in": "path", "required": True, "description": "The issuer's name", "schema": {"type": "string"}},
                    {"name": "purpose", "in": "path", "required": True, "description": "The list's status purpose", "schema": {"type": "string"}},
                    {"name": "seq", "in": "path", "required": True, "description": "The list's number, from 1", "schema": {"type": "integer"}},
                ],
                "description": (
                    "For clients that publish after a status change, as the Bitstring Status List test suite does: "
                    "re-signs anything a crash left pending and answers 204. Needs scope `status` for the issuer."
                ),
                "responses": {
                    "204": {"description": "The published list is current"},
                    "401": _problem("No or unknown bearer token"),
                    "403": _problem("The token may not change this issuer's statuses"),
                    "404": _problem("No such list"),
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness and readiness",
                "operationId": "health",
                "tags": ["Node"],
                "responses": {"200": _json({"type": "object"}, "The node is serving"), "503": _problem("The store is not available")},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "operationId": "openapi",
                "tags": ["Node"],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
            }
        },
        **_microcredential_paths(),
        **_trust_paths(),
        **_pages_paths(),
    }


def _microcredential_paths() -> JsonObject:
    from node.routes.microcredentials import openapi_paths

    return openapi_paths()


def _pages_paths() -> JsonObject:
    from node.pages import openapi_paths

    return openapi_paths()


def _trust_paths() -> JsonObject:
    from node.routes.trust import openapi_paths

    return openapi_paths()


_OBJ = {"type": "object"}

SCHEMAS: JsonObject = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details. VC spec failures keep the spec's type URL and `code`.",
        "required": ["type", "title", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "What is wrong and what to change"},
            "code": {"type": "string", "description": "The VC specifications' error code, e.g. PROOF_VERIFICATION_ERROR"},
        },
    },
    "IssueCredentialRequest": {
        "type": "object",
        "required": ["credential"],
        "properties": {
            "credential": {"type": "object", "description": "The unsigned credential (VC Data Model 2.0, or 1.1)"},
            "options": _ref("IssueCredentialOptions"),
        },
    },
    "IssueCredentialOptions": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "cryptosuite": {"type": "string", "enum": ["eddsa-rdfc-2022", "eddsa-jcs-2022"], "default": "eddsa-rdfc-2022"},
            "statusPurposes": {
                "type": "array",
                "items": {"type": "string", "enum": ["revocation", "suspension"]},
                "description": "One BitstringStatusListEntry per purpose; default [\"revocation\"]. An empty array issues without status.",
            },
            "credentialId": {
                "type": "string",
                "description": "VC-API: the id to refer to the credential by (POST /credentials/status) when credential.id is absent",
            },
            "mandatoryPointers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "VC-API, for selective-disclosure suites. Refused: the node's suites do not disclose selectively.",
            },
        },
    },
    "IssueCredentialResponse": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {"verifiableCredential": _OBJ},
    },
    "VerifyCredentialRequest": {
        "type": "object",
        "required": ["verifiableCredential"],
        "properties": {"verifiableCredential": _OBJ, "options": _ref("VerifyOptions")},
    },
    "VerifyPresentationRequest": {
        "type": "object",
        "required": ["verifiablePresentation"],
        "properties": {"verifiablePresentation": _OBJ, "options": _ref("VerifyOptions")},
    },
    "VerifyOptions": {
        "type": "object",
        "properties": {
            "challenge": {"type": "string", "description": "The challenge the presentation's proof must carry"},
            "domain": {"type": "string", "description": "The domain the presentation's proof must carry"},
            "returnPresentation": {"type": "boolean", "default": False, "description": "Presentations: return the verified presentation as `verifiablePresentation`"},
            "checks": {"type": "array", "items": {"type": "string"}, "description": "Accepted for VC-API clients; every check always runs. Presentations: naming `challenge` requires a challenge this node handed out"},
            "expectedProofPurpose": {"type": "string", "description": "Credentials: anything but `assertionMethod` fails with MISMATCHED_PROOF_PURPOSE_ERROR"},
        },
    },
    "VerificationResult": {
        "type": "object",
        "required": ["verified", "checks", "errors"],
        "properties": {
            "verified": {"type": "boolean"},
            "checks": {
                "type": "array",
                "description": "One entry per check (dataModel, validity, proof, status, challenge ...)",
                "items": {
                    "type": "object",
                    "properties": {
                        "check": {"type": "string"},
                        "outcome": {"type": "string", "enum": ["passed", "failed", "unknown", "skipped"]},
                        "message": {"type": "string"},
                        "error": _ref("Problem"),
                    },
                },
            },
            "errors": {"type": "array", "items": _ref("Problem")},
            "warnings": {"type": "array", "items": _ref("Problem")},
            "problemDetails": {"type": "array", "items": _ref("Problem"), "description": "VC-API's name for `errors`"},
            "credentialResults": {"type": "array", "items": {"type": "object"}},
        },
    },
    "CreateChallengeResponse": {
        "type": "object",
        "required": ["challenge"],
        "properties": {"challenge": {"type": "string"}, "expires": {"type": "string", "format": "date-time"}},
    },
    "UpdateCredentialStatusRequest": {
        "type": "object",
        "required": ["credentialId"],
        "description": (
            "Either VC-API's form `{credentialId, credentialStatus: {type, statusPurpose}, status: boolean}` "
            "(status true sets the bit: revoked or suspended), the list form `{credentialId, credentialStatus: "
            "[{type, status: \"revoked\"|\"suspended\"|\"active\"}]}`, or the short form `{credentialId, status: "
            "\"revoked\"|\"suspended\"|\"active\"}`."
        ),
        "properties": {
            "credentialId": {"type": "string"},
            "credentialStatus": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
            "status": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["revoked", "suspended", "active"]}]},
        },
    },
    "UpdateCredentialStatusResponse": {
        "type": "object",
        "properties": {
            "credentialId": {"type": "string"},
            "status": {"type": "string", "enum": ["revoked", "suspended", "active"]},
        },
    },
    "DIDDocument": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
}


def document() -> JsonObject:
    """The OpenAPI document (a fresh dict each call; callers may not mutate a shared one)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vcnode: verifiable-credential trust node",
            "version": "0.1.0",
            "description": (
                "W3C VC-API endpoints for issuing and verifying W3C Verifiable Credentials with Data "
                "Integrity EdDSA proofs, Bitstring Status Lists and did:web documents. Errors are "
                "application/problem+json. Issuing and status changes need `Authorization: Bearer TOKEN`."
            ),
        },
        "paths": _paths(),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token from `vcnode token create`"}
            },
        },
    }


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


def setup(app: web.Application) -> None:
    app.router.add_get("/openapi.json", get_openapi)
