"""OpenID for Verifiable Credential Issuance 1.0 over HTTP (docs/wallets.md).

For people running the node: ``POST /issuers/{name}/offers`` (token with ``issue``) makes a
credential offer of one micro-credential and answers it as JSON, as an
``openid-credential-offer://`` link and as a QR code; ``GET /issuers/{name}/offers/{id}`` says
what became of it. For wallets: the Credential Issuer Metadata at
``/.well-known/openid-credential-issuer[/issuers/NAME]`` (the well-known string inserted
between host and path, §12.2.2; the older appended place answers too), the authorization
server metadata (RFC 8414) at ``/.well-known/oauth-authorization-server[/issuers/NAME]`` (and
appended, as the issuer metadata is), and
per issuer the token, nonce, credential and notification endpoints under
``/issuers/{name}/oid4vci/``. Those four answer refusals as OAuth does, ``{error,
error_description}`` in ``application/json`` with the specifications' codes, and parse their
own bodies (a form for the token endpoint, JSON for the others) so that a bad one gets the
specification's error too; only an unknown issuer (404) and an oversized body (413) are
problem+json.
"""

from __future__ import annotations

from typing import Annotated, Any, Awaitable, Callable, Literal, Union

from aiohttp import web
from pydantic import ConfigDict, Field
from typing_extensions import NotRequired, TypedDict

from node.issuers import DEFAULT_ISSUER
from node.oid4vci import CredentialIssuer, OAuthError, TxCode
from node.oid4vci.errors import invalid_credential_request
from node.routes import node_of, open_to_browsers
from node.routes.endpoint import Body, Endpoints, PathParam, Reply, Scope
from node.routes.models import NO_ISSUER, DateTime, JsonLd
from vc.errors import ProblemError
from vc.limits import parse_json

api = Endpoints()

ISSUER = PathParam("name", "The issuer's name on this node")
OFFER = PathParam("id", "The offer's id")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# RFC 6749 §5.1: a response with tokens carries Cache-Control: no-store "as well as the Pragma
# response header field with a value of no-cache" (HTTP/1.0 caches).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TAGS = ["Wallets (OpenID4VCI)"]


def _issuer(request: web.Request) -> CredentialIssuer:
    return node_of(request).oid4vci


class OAuthErrorBody(TypedDict):
    """An OAuth error response (RFC 6749 §5.2, RFC 6750 §3, OpenID4VCI 1.0 §6.3, §8.3.1)."""

    error: Annotated[str, Field(description="The specification's error code, e.g. invalid_grant, invalid_proof, invalid_nonce")]
    error_description: Annotated[str, Field(description="What is wrong, for the wallet's developer")]


async def _oauth(call: Awaitable[dict[str, Any]], *, status: int = 200) -> web.Response:
    try:
        body = await call
    except OAuthError as e:
        return web.json_response(e.to_json(), status=e.status, headers=e.headers())
    return web.json_response(body, status=status, headers=NO_STORE)


async def _json_body(request: web.Request, refuse: Callable[[str], OAuthError]) -> Any:
    """The request's JSON body, or the endpoint's own refusal (never problem+json)."""
    if request.content_type != JSON:
        raise refuse(f"send the request as {JSON}")
    raw = await request.read()
    try:
        return parse_json(raw)
    except ProblemError as e:
        raise refuse(e.detail) from None


# --- metadata -----------------------------------------------------------------------------


class CredentialIssuerMetadata(TypedDict):
    """OpenID4VCI 1.0 §12.2.4: one credential configuration (format ldp_vc) per achievement."""

    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str
    notification_endpoint: str
    display: list[dict[str, Any]]
    credential_configurations_supported: dict[str, dict[str, Any]]


AuthorizationServerMetadata = TypedDict(
    "AuthorizationServerMetadata",
    {
        "issuer": str,
        "token_endpoint": str,
        "grant_types_supported": list[str],
        "token_endpoint_auth_methods_supported": list[str],
        "pre-authorized_grant_anonymous_access_supported": bool,
    },
)
AuthorizationServerMetadata.__doc__ = "RFC 8414 metadata: the issuer is its own authorization server (pre-authorized code grant)."


def _named(request: web.Request) -> str:
    """The issuer a path-inserted well-known URL names: the default issuer's identifier is the
    base URL itself, so ``/issuers/default`` names no Credential Issuer."""
    name = request.match_info["name"]
    if name == DEFAULT_ISSUER:
        raise web.HTTPNotFound(text=f"the {DEFAULT_ISSUER!r} issuer's identifier is the node's base URL")
    return name


_ISSUER_META = "The issuer's Credential Issuer Metadata (application/json, unsigned)"
_AS_META = "The issuer's authorization server metadata"


@api.get(
    "/.well-known/openid-credential-issuer",
    "getCredentialIssuerMetadata",
    summary="The default issuer's Credential Issuer Metadata (its identifier is the node's base URL)",
    tags=TAGS,
    replies={200: Reply(CredentialIssuerMetadata, _ISSUER_META)},
)
async def default_issuer_metadata(request: web.Request) -> web.Response:
    return web.json_response(await _issuer(request).issuer_metadata(DEFAULT_ISSUER))


@api.get(
    "/.well-known/openid-credential-issuer/issuers/{name}",
    "getIssuerCredentialIssuerMetadata",
    summary="An issuer's Credential Issuer Metadata (identifier BASE/issuers/NAME; well-known string inserted, §12.2.2)",
    tags=TAGS,
    params=[ISSUER],
    replies={200: Reply(CredentialIssuerMetadata, _ISSUER_META)},
    problems={404: NO_ISSUER + " (or 'default', whose identifier is the base URL)"},
)
@api.get(
    "/issuers/{name}/.well-known/openid-credential-issuer",
    "getIssuerCredentialIssuerMetadataAppended",
    summary="The same metadata where drafts before 1.0 looked for it (well-known string appended)",
    tags=TAGS,
    params=[ISSUER],
    replies={200: Reply(CredentialIssuerMetadata, _ISSUER_META)},
    problems={404: NO_ISSUER + " (or 'default', whose identifier is the base URL)"},
)
async def issuer_metadata(request: web.Request) -> web.Response:
    return web.json_response(await _issuer(request).issuer_metadata(_named(request)))


@api.get(
    "/.well-known/oauth-authorization-server",
    "getAuthorizationServerMetadata",
    summary="The default issuer's OAuth authorization server metadata (RFC 8414)",
    tags=TAGS,
    replies={200: Reply(AuthorizationServerMetadata, _AS_META)},
)
async def default_as_metadata(request: web.Request) -> web.Response:
    return web.json_response(await _issuer(request).authorization_server_metadata(DEFAULT_ISSUER))


@api.get(
    "/.well-known/oauth-authorization-server/issuers/{name}",
    "getIssuerAuthorizationServerMetadata",
    summary="An issuer's OAuth authorization server metadata (RFC 8414 §3.1: well-known string inserted)",
    tags=TAGS,
    params=[ISSUER],
    replies={200: Reply(AuthorizationServerMetadata, _AS_META)},
    problems={404: NO_ISSUER + " (or 'default', whose identifier is the base URL)"},
)
@api.get(
    "/issuers/{name}/.well-known/oauth-authorization-server",
    "getIssuerAuthorizationServerMetadataAppended",
    summary="The same metadata with the well-known string appended, where the drafts' wallets look for the issuer metadata too",
    tags=TAGS,
    params=[ISSUER],
    replies={200: Reply(AuthorizationServerMetadata, _AS_META)},
    problems={404: NO_ISSUER + " (or 'default', whose identifier is the base URL)"},
)
async def issuer_as_metadata(request: web.Request) -> web.Response:
    return web.json_response(await _issuer(request).authorization_server_metadata(_named(request)))


# --- offers -------------------------------------------------------------------------------


class TxCodeRequest(Body):
    """A transaction code the wallet must send with the offer's code: the node makes it and
    answers it once, for the issuer to deliver to the learner by another channel (e-mail, SMS)."""

    model_config = ConfigDict(extra="forbid")

    length: Annotated[int, Field(ge=4, le=12)] | None = None
    inputMode: Literal["numeric", "text"] | None = None
    description: Annotated[str, Field(max_length=300, description="Shown by the wallet beside the input")] | None = None


_AWARD = (
    "The award, as POST /issuers/{name}/microcredentials takes one: {achievementId, learner {name, email?}, validFrom?, "
    "grade?, evidence?, idempotencyKey?}, without learner.id (the wallet's DID becomes it). Checked in full now."
)


class OfferRequest(Body):
    """One micro-credential to offer to a wallet; its members other than `txCode` and `expiresIn` are the award."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"description": _AWARD})

    txCode: Union[TxCodeRequest, bool, None] = Field(
        None, description="true (six digits) or how to make it: the wallet must then send the code with the offer's"
    )
    expiresIn: Annotated[int, Field(ge=60, le=30 * 86400, description="Seconds the offer can be used (default: the node's oid4vci_offer_ttl_seconds)")] | None = None

    def award(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def tx_code(self) -> TxCode | None:
        if self.txCode is None or self.txCode is False:
            return None
        if self.txCode is True:
            return TxCode()
        given = self.txCode
        return TxCode(length=given.length or 6, input_mode=given.inputMode or "numeric", description=given.description)


class QRCode(TypedDict):
    png: Annotated[str, Field(description="A data: URL of the PNG image")]
    svg: Annotated[str, Field(description="The SVG image")]


class Offer(TypedDict):
    """The offer as made. The link, the QR code and `txCode` carry secrets the node does not keep:
    this answer is the only time they are shown."""

    id: str
    credentialIssuer: str
    credentialConfigurationId: str
    credentialOffer: Annotated[dict[str, Any], Field(description="The Credential Offer object (§4.1.1)")]
    link: Annotated[str, Field(description="openid-credential-offer://?credential_offer=... (by value)")]
    qrCode: QRCode
    expires: DateTime
    txCode: NotRequired[Annotated[str, Field(description="The transaction code, to deliver out of band")]]


class OfferStatus(TypedDict):
    id: str
    issuer: str
    credentialConfigurationId: str
    state: Literal["offered", "redeemed", "issuing", "issued", "expired", "locked"]
    created: DateTime
    expires: DateTime
    holder: NotRequired[Annotated[str, Field(description="The wallet's DID the credential is bound to")]]
    credentialId: NotRequired[str]
    notification: NotRequired[Annotated[str, Field(description="The wallet's last notification event")]]


@api.post(
    "/issuers/{name}/offers",
    "createCredentialOffer",
    summary="Offer a micro-credential to a learner's wallet (OpenID4VCI pre-authorized code flow)",
    description="Answers the Credential Offer as JSON, as an openid-credential-offer:// link and as a QR code (PNG and "
    "SVG). The award is checked in full now (Annex I, 422; an idempotency key that has issued, or that an offer still "
    "collectable holds, 409); the credential is issued when "
    "the wallet collects it, bound to the wallet's DID. The offer is single use and expires.",
    tags=TAGS,
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    body=OfferRequest,
    replies={201: Reply(Offer, "The offer", headers={"Location": "Where its state can be read"})},
    problems={404: NO_ISSUER, 409: "The award's idempotency key has issued a credential already, or a live offer holds it; or "
              "the Credential Issuer Identifier (the node's base URL) is not https (§12.2.1)", 422: "The award cannot make a complete micro-credential: `problems` names each by its Annex I element"},
)
async def create_offer(request: web.Request, body: OfferRequest) -> web.Response:
    name = request.match_info["name"]
    offer = await _issuer(request).create_offer(
        name, body.award(), tx_code=body.tx_code(), expires_in=body.expiresIn,
        allow_insecure_hosts=node_of(request).config.allow_insecure_hosts,
    )
    out = offer.to_json()
    location = f"{node_of(request).config.effective_base_url}/issuers/{name}/offers/{offer.id}"
    return web.json_response(out, status=201, headers={"Location": location, **NO_STORE})


@api.get(
    "/issuers/{name}/offers/{id}",
    "getCredentialOffer",
    summary="What became of a credential offer (offered, redeemed, issued, expired, ...)",
    tags=TAGS,
    params=[ISSUER, OFFER],
    scope=Scope("issue", issuer="{name}"),
    replies={200: Reply(OfferStatus, "The offer's state; once issued, the credential's id (to revoke it) and the wallet's DID")},
    problems={404: "No issuer of that name, or it made no offer with that id"},
)
async def get_offer(request: web.Request) -> web.Response:
    state = await _issuer(request).offer(request.match_info["name"], request.match_info["id"])
    return web.json_response(state.to_json())


# --- token, nonce, credential, notification ---------------------------------------------------

TokenRequest = TypedDict(
    "TokenRequest",
    {
        "grant_type": Literal["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_code": str,
        "tx_code": NotRequired[str],
        "authorization_details": NotRequired[
            Annotated[str, Field(description='A JSON array: [{"type": "openid_credential", "credential_configuration_id": '
                                             'the offer\'s}] (RFC 9396, §6.1.1)')]
        ],
    },
)
TokenRequest.__doc__ = "RFC 6749 §4.1.3 with OpenID4VCI §6.1's parameters; others are ignored."


class GrantedAuthorizationDetail(TypedDict):
    """§6.2: what the token allows, and the identifier to send at the credential endpoint."""

    type: Literal["openid_credential"]
    credential_configuration_id: str
    credential_identifiers: Annotated[list[str], Field(description="Send one as credential_identifier (§8.2)")]
    locations: NotRequired[list[str]]


class TokenResponse(TypedDict):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    authorization_details: NotRequired[
        Annotated[list[GrantedAuthorizationDetail], Field(description="When the request had authorization_details")]
    ]


_TOKEN_ERRORS = (
    "OAuth error: invalid_request (a parameter missing or repeated, a tx_code missing or not expected), invalid_grant "
    "(unknown, used or expired code, wrong tx_code), unsupported_grant_type, invalid_authorization_details (not a "
    "list of openid_credential entries naming the offer's credential configuration)"
)


@api.post(
    "/issuers/{name}/oid4vci/token",
    "oid4vciToken",
    summary="Token endpoint: exchange a pre-authorized code (and tx_code) for an access token, once",
    tags=TAGS,
    params=[ISSUER],
    form={FORM: TokenRequest},
    replies={200: Reply(TokenResponse, "An access token for the offer's credential", headers=NO_STORE), 400: Reply(OAuthErrorBody, _TOKEN_ERRORS)},
    problems={404: NO_ISSUER, 413: "The request body is larger than the node accepts"},
)
async def token(request: web.Request) -> web.Response:
    async def exchange() -> dict[str, Any]:
        if request.content_type != FORM:
            raise OAuthError("invalid_request", f"send the token request as {FORM}")
        try:
            form = await request.post()
        except (ValueError, UnicodeDecodeError):  # not UTF-8, not a form
            raise OAuthError("invalid_request", f"the body is not a readable {FORM} form") from None
        params: dict[str, list[str]] = {}
        for key, value in form.items():
            params.setdefault(key, []).append(value if isinstance(value, str) else "")
        return await _issuer(request).exchange(request.match_info["name"], params)

    return await _oauth(exchange())


class NonceResponse(TypedDict):
    c_nonce: str


@api.post(
    "/issuers/{name}/oid4vci/nonce",
    "oid4vciNonce",
    summary="Nonce endpoint: a fresh c_nonce for the wallet's key proof (single use)",
    tags=TAGS,
    params=[ISSUER],
    replies={200: Reply(NonceResponse, "A c_nonce", headers=NO_STORE)},
    problems={404: NO_ISSUER},
)
async def nonce(request: web.Request) -> web.Response:
    value = await _issuer(request).new_nonce(request.match_info["name"])
    return web.json_response({"c_nonce": value}, headers=NO_STORE)


class CredentialRequest(TypedDict):
    """OpenID4VCI 1.0 §8.2 (the drafts' single `proof` is read as one proof too): the credential is
    named by the credential_identifier the token response gave when it returned authorization_details,
    otherwise by credential_configuration_id. A credential_identifier with a token whose response named
    none is invalid_credential_request; credential_configuration_id naming the token's own
    configuration is taken with either token."""

    credential_configuration_id: NotRequired[str]
    credential_identifier: NotRequired[str]
    proofs: Annotated[dict[str, list[str]], Field(description='{"jwt": [one openid4vci-proof+jwt]}')]


class IssuedCredential(TypedDict):
    credential: JsonLd


class CredentialResponse(TypedDict):
    credentials: list[IssuedCredential]
    notification_id: str


_CREDENTIAL_ERRORS = (
    "OAuth error: invalid_credential_request (also credential_identifier with a token whose response named no "
    "credential_identifiers), unknown_credential_configuration, "
    "unknown_credential_identifier, "
    "invalid_proof (missing, malformed, another audience, stale iat, wrong key, algorithm not offered), invalid_nonce, "
    "invalid_encryption_parameters, credential_request_denied (issued already, or the issuer refuses to issue it: its "
    "idempotency key used meanwhile for another credential, its key retired)"
)
_TOKEN_REFUSED = "invalid_token: no access token, or an unknown or expired one (WWW-Authenticate says so too)"


@api.post(
    "/issuers/{name}/oid4vci/credential",
    "oid4vciCredential",
    summary="Credential endpoint: the micro-credential, bound to the wallet's DID (format ldp_vc)",
    description="Needs the access token from the token endpoint (Authorization: Bearer). Issued through the node's "
    "normal path: Annex I checks, a status list entry, the offer's idempotency key. Nothing is issued or allocated "
    "when the request is refused.",
    tags=TAGS,
    params=[ISSUER],
    form={JSON: CredentialRequest},
    replies={
        200: Reply(CredentialResponse, "The credential", headers=NO_STORE),
        400: Reply(OAuthErrorBody, _CREDENTIAL_ERRORS),
        401: Reply(OAuthErrorBody, _TOKEN_REFUSED, headers={"WWW-Authenticate": "Bearer error=..."}),
        403: Reply(OAuthErrorBody, "insufficient_scope: the token is for another credential configuration"),
    },
    problems={404: NO_ISSUER, 413: "The request body is larger than the node accepts"},
)
async def credential(request: web.Request) -> web.Response:
    async def issue() -> dict[str, Any]:
        issuer = _issuer(request)
        name = request.match_info["name"]
        await issuer.issuers.get(name)
        # The token first: a request without a valid one learns nothing else.
        await issuer.offer_for_token(name, request.headers.get("Authorization"))
        body = await _json_body(request, invalid_credential_request)
        return await issuer.issue_credential(name, request.headers.get("Authorization"), body)

    return await _oauth(issue())


class NotificationRequest(TypedDict):
    notification_id: str
    event: Literal["credential_accepted", "credential_failure", "credential_deleted"]
    event_description: NotRequired[str]


@api.post(
    "/issuers/{name}/oid4vci/notification",
    "oid4vciNotification",
    summary="Notification endpoint: what the wallet did with the credential",
    tags=TAGS,
    params=[ISSUER],
    form={JSON: NotificationRequest},
    replies={
        204: Reply(None, "Recorded (the same notification again is recorded again)"),
        400: Reply(OAuthErrorBody, "OAuth error: invalid_notification_id, invalid_notification_request"),
        401: Reply(OAuthErrorBody, _TOKEN_REFUSED, headers={"WWW-Authenticate": "Bearer error=..."}),
    },
    problems={404: NO_ISSUER, 413: "The request body is larger than the node accepts"},
)
async def notification(request: web.Request) -> web.Response:
    issuer = _issuer(request)
    name = request.match_info["name"]
    try:
        await issuer.issuers.get(name)
        await issuer.offer_for_token(name, request.headers.get("Authorization"))
        body = await _json_body(request, lambda d: OAuthError("invalid_notification_request", d))
        await issuer.notify(name, request.headers.get("Authorization"), body)
    except OAuthError as e:
        return web.json_response(e.to_json(), status=e.status, headers=e.headers())
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    api.register(app)
    for path in (
        "/.well-known/openid-credential-issuer",
        "/.well-known/openid-credential-issuer/issuers/{name}",
        "/issuers/{name}/.well-known/openid-credential-issuer",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/issuers/{name}",
        "/issuers/{name}/.well-known/oauth-authorization-server",
    ):
        open_to_browsers(app, path)
    # A wallet running in a browser (a web wallet, a wallet app's web view) talks to these from
    # its own origin. They take no cookie and no ambient credential: the pre-authorized code, the
    # nonce and the access token are each sent by the wallet itself, so any origin may.
    open_to_browsers(
        app,
        "/issuers/{name}/oid4vci/token",
        "/issuers/{name}/oid4vci/nonce",
        "/issuers/{name}/oid4vci/credential",
        "/issuers/{name}/oid4vci/notification",
        method="POST",
        allow_headers="Content-Type, Authorization, DPoP",
    )
