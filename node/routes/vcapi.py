"""W3C CCG VC-API endpoints: issue, verify (credentials and presentations), challenges, status.

Handlers check the request's shape (every refusal is a 400 naming the field), authorize it
(``node.auth``) and hand the work to the node's capability for it (``node.issuance``,
``node.verification``, ``node.status_changes``), which keeps canonicalisation and signing off
the event loop. Verification answers 200 with ``verified: true`` or 400 with
``verified: false`` and the per-check results; a body that is not a verification request at
all is a problem+json 400, so clients can tell "not verified" from "not understood".

Challenges (``node.verification.Verification.verify_presentation`` has the rules): ``options.challenge`` is the
challenge the caller expects, as VC-API has it. One this node handed out (POST /challenges)
must be live and unused and is consumed by the verification that presents it; one it did not
hand out is the caller's own (refused when ``accept_caller_challenges`` is off or
``options.checks`` names ``"challenge"``). A node challenge the proof carries is checked and
consumed even when ``options`` names none, so leaving the option out cannot replay it. With
``require_challenge`` (the default), a presentation needs an expected challenge.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import auth
from node.errors import UnknownCredentialError
from node.problems import bad_request, field, not_found, options_field, read_json
from node.routes import node_of

JsonObject = dict[str, Any]

DEFAULT_ISSUER = "default"
ISSUE_OPTIONS = ("cryptosuite", "statusPurposes", "credentialId", "mandatoryPointers")
STATUS_TYPES = ("BitstringStatusListEntry", "BitstringStatusList")
STATUS_VALUES = ("active", "revoked", "suspended")
# VC-API's boolean form names the purpose; true sets the bit.
_PURPOSE_STATUS = {("revocation", True): "revoked", ("suspension", True): "suspended", ("suspension", False): "active"}


# --- issue ---------------------------------------------------------------------------------


def _issue_options(body: JsonObject, credential: JsonObject) -> tuple[JsonObject, JsonObject]:
    """The options issuance understands, and the credential with VC-API's credentialId applied."""
    options = options_field(body, ISSUE_OPTIONS)
    out: JsonObject = {}
    suite = field(options, "cryptosuite", str, required=False, where="options")
    if suite is not None:
        out["cryptosuite"] = suite
    purposes = field(options, "statusPurposes", list, required=False, where="options")
    if purposes is not None:
        out["statusPurposes"] = purposes
    pointers = field(options, "mandatoryPointers", list, required=False, where="options")
    if pointers:
        raise bad_request(
            "options.mandatoryPointers is for selective-disclosure cryptosuites; eddsa-rdfc-2022 and "
            "eddsa-jcs-2022 always disclose the whole credential, so leave it out",
            field="options.mandatoryPointers",
        )
    credential_id = field(options, "credentialId", str, required=False, where="options")
    if credential_id is not None:
        # VC-API: credentialId names the credential when credential.id is absent. The node
        # always gives an issued credential an id, so the caller's choice becomes that id.
        if "id" in credential and credential["id"] != credential_id:
            raise bad_request(
                f"options.credentialId {credential_id!r} differs from credential.id {credential['id']!r}; "
                "send one of them (VC-API: credentialId is for credentials without an id)",
                field="options.credentialId",
            )
        credential = {**credential, "id": credential_id}
    return credential, out


async def issue(request: web.Request) -> web.Response:
    """VC-API issueCredential: ``{credential, options}`` → 201 ``{verifiableCredential}``."""
    name = request.match_info.get("name", DEFAULT_ISSUER)
    grant = await auth.authenticate(request)
    auth.require(grant, scope="issue", issuer=name)
    body = await read_json(request)
    credential = field(body, "credential", dict)
    credential, options = _issue_options(body, credential)
    signed = await node_of(request).issuance.issue(name, credential, options)
    return web.json_response({"verifiableCredential": signed}, status=201)


# --- verify --------------------------------------------------------------------------------


def _verify_options(body: JsonObject) -> JsonObject:
    options = field(body, "options", dict, required=False) or {}
    field(options, "challenge", str, required=False, where="options")
    field(options, "domain", str, required=False, where="options")
    field(options, "returnPresentation", bool, required=False, where="options")
    checks = field(options, "checks", list, required=False, where="options")
    if checks is not None and not all(isinstance(c, str) for c in checks):
        raise bad_request("options.checks must be an array of strings", field="options.checks")
    field(options, "expectedProofPurpose", str, required=False, where="options")
    return options


def _result_response(result: Any, **extra: Any) -> web.Response:
    out = result.to_json()
    # VC-API's VerificationResult calls the problem list problemDetails.
    out["problemDetails"] = out["errors"]
    out.update(extra)
    return web.json_response(out, status=200 if result.verified else 400)


async def verify_credential(request: web.Request) -> web.Response:
    """VC-API verifyCredential: 200 when verified, 400 with the failed checks otherwise."""
    body = await read_json(request)
    vc = field(body, "verifiableCredential", dict)
    options = _verify_options(body)
    node = node_of(request)
    result = await node.verification.verify_credential(vc, options)
    await node.trust.report(result)  # accreditation of the issuer (issue 7)
    return _result_response(result)


async def verify_presentation(request: web.Request) -> web.Response:
    """VC-API verifyPresentation: the presentation's proof, its challenge and domain, and every credential."""
    body = await read_json(request)
    vp = field(body, "verifiablePresentation", dict)
    options = dict(_verify_options(body))
    node = node_of(request)
    result = await node.verification.verify_presentation(vp, options)
    await node.trust.report(result)  # accreditation and stacks (issue 7)
    # VC-API returnPresentation: the presentation is returned when asked for, and only then.
    extra = {"verifiablePresentation": vp} if options.get("returnPresentation") is True else {}
    return _result_response(result, **extra)


async def create_challenge(request: web.Request) -> web.Response:
    """VC-API challenge: a single-use challenge, valid until ``expires``. The body (VC-API: empty) is not read."""
    challenge = await node_of(request).challenges.create()
    expires = challenge.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return web.json_response({"challenge": challenge.challenge, "expires": expires})


# --- status --------------------------------------------------------------------------------


def _status_from_entry(entry: Any, where: str) -> str:
    if not isinstance(entry, dict):
        raise bad_request(f"{where} must be an object", field=where)
    kind = field(entry, "type", str, where=where)
    if kind not in STATUS_TYPES:
        raise bad_request(
            f"{where}.type {kind!r} is not a status type this node publishes; use BitstringStatusListEntry",
            field=f"{where}.type",
        )
    status = field(entry, "status", str, where=where)
    if status not in STATUS_VALUES:
        raise bad_request(f"{where}.status {status!r} is not one of {', '.join(STATUS_VALUES)}", field=f"{where}.status")
    return status


def _requested_status(body: JsonObject) -> tuple[str, JsonObject | None]:
    """The wanted status (active/revoked/suspended) and, in VC-API's form, the entry it names.

    Three forms are accepted: VC-API updateCredentialStatus ``{credentialStatus: {type,
    statusPurpose}, status: bool}``; the list form ``{credentialStatus: [{type, status}]}`` of
    earlier VC-API drafts; and the short form ``{status: "revoked"}``.
    """
    cs = body.get("credentialStatus")
    status = body.get("status")
    if cs is None:
        if not isinstance(status, str) or status not in STATUS_VALUES:
            raise bad_request(
                f"status must be one of {', '.join(STATUS_VALUES)} (or use VC-API's credentialStatus form)", field="status"
            )
        return status, None
    if isinstance(cs, list):
        if not cs:
            raise bad_request("credentialStatus is an empty array; name the wanted status", field="credentialStatus")
        wanted = {_status_from_entry(e, f"credentialStatus[{i}]") for i, e in enumerate(cs)}
        if len(wanted) != 1:
            raise bad_request(f"credentialStatus asks for conflicting statuses {sorted(wanted)}", field="credentialStatus")
        if status is not None:
            raise bad_request("send status either inside credentialStatus entries or at the top level, not both", field="status")
        return wanted.pop(), None
    if not isinstance(cs, dict):
        raise bad_request("credentialStatus must be an object (or an array of objects)", field="credentialStatus")
    kind = field(cs, "type", str, where="credentialStatus")
    if kind not in STATUS_TYPES:
        raise bad_request(
            f"credentialStatus.type {kind!r} is not a status type this node publishes; use BitstringStatusListEntry",
            field="credentialStatus.type",
        )
    purpose = field(cs, "statusPurpose", str, where="credentialStatus")
    if purpose not in ("revocation", "suspension"):
        raise bad_request(
            f"credentialStatus.statusPurpose {purpose!r} is not one of revocation, suspension",
            field="credentialStatus.statusPurpose",
        )
    # The Bitstring Status List suite (tests/helpers.js createRequestBody) sends the entry
    # alone, meaning "set this purpose's bit": a missing status is true.
    flag = field(body, "status", bool, required=False)
    flag = True if flag is None else flag
    if (purpose, flag) not in _PURPOSE_STATUS:
        raise bad_request(
            "revocation cannot be undone (Bitstring Status List 1.0 §2.1: revocation is not reversible); "
            "status false is only meaningful for suspension",
            field="status",
        )
    return _PURPOSE_STATUS[(purpose, flag)], cs


def _check_named_entry(record: Any, cs: JsonObject) -> None:
    """When VC-API's form names the list entry, it must be one of the credential's own."""
    url = field(cs, "statusListCredential", str, required=False, where="credentialStatus")
    index = field(cs, "statusListIndex", str, required=False, where="credentialStatus")
    for entry in record.status_entries:
        if entry.purpose != cs["statusPurpose"]:
            continue
        if (url is None or url == entry.list_url) and (index is None or index == str(entry.index)):
            return
    raise bad_request(
        f"credential {record.id!r} has no {cs['statusPurpose']} entry"
        + (f" in {url!r}" if url else "")
        + (f" at index {index}" if index else ""),
        field="credentialStatus",
    )


async def update_status(request: web.Request) -> web.Response:
    """VC-API updateCredentialStatus: revoke, suspend or reinstate; durable before the response."""
    grant = await auth.authenticate(request)
    auth.require_scope(grant, "status")
    body = await read_json(request)
    credential_id = field(body, "credentialId", str)
    if not credential_id:
        raise bad_request("credentialId is empty", field="credentialId")
    status, named = _requested_status(body)
    node = node_of(request)
    # A token bound to one issuer sees only that issuer's credentials: another issuer's id is
    # "not found" to it, so the answer does not reveal which ids exist elsewhere on the node.
    scope_issuer = None if (auth.ADMIN in grant.scopes or grant.issuer is None) else grant.issuer
    if named is not None:
        record = await node.credentials.get(credential_id)
        if scope_issuer is not None and record.issuer != scope_issuer:
            raise UnknownCredentialError(
                f"no credential with id {credential_id!r} was issued by issuer {scope_issuer!r}", credentialId=credential_id
            )
        _check_named_entry(record, named)
    record = await node.status.set_status(credential_id, status, issuer_name=scope_issuer)
    return web.json_response({"credentialId": record.id, **record.to_json()})


async def publish_status_list(request: web.Request) -> web.Response:
    """``POST {statusListCredential}/publish`` → 204, as the Bitstring Status List suite calls it.

    Every status change re-signs its list before the change is answered, so there is never
    anything left to publish; this re-signs whatever a crash may have left pending and says
    the list is current. Scope ``status`` for the list's issuer.
    """
    issuer, purpose, seq_text = request.match_info["issuer"], request.match_info["purpose"], request.match_info["seq"]
    grant = await auth.authenticate(request)
    auth.require(grant, scope="status", issuer=issuer)
    status_lists = node_of(request).status_lists
    if not (seq_text.isascii() and seq_text.isdecimal()) or len(seq_text) > 9 or (
        await status_lists.get(issuer, purpose, int(seq_text)) is None
    ):
        raise not_found(f"there is no {purpose!r} status list number {seq_text} for issuer {issuer!r}")
    await status_lists.republish_pending()
    return web.Response(status=204)


# Verification is public and verifier web apps call it from their own origins; the answer
# (including a problem response) must be readable there. Issuing and status changes stay
# same-origin: they are operator tools, and a browser page has no business holding their tokens.
PUBLIC_POSTS = ("/credentials/verify", "/presentations/verify", "/challenges")
_CORS = {"Access-Control-Allow-Origin": "*"}
_PREFLIGHT = {
    **_CORS,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


async def _preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=_PREFLIGHT)


async def _cors_on_public_posts(request: web.Request, response: web.StreamResponse) -> None:
    if request.path in PUBLIC_POSTS:
        response.headers.update(_CORS)


def setup(app: web.Application) -> None:
    app.router.add_post("/credentials/issue", issue)
    app.router.add_post("/issuers/{name}/credentials/issue", issue)
    app.router.add_post("/credentials/verify", verify_credential)
    app.router.add_post("/presentations/verify", verify_presentation)
    app.router.add_post("/challenges", create_challenge)
    app.router.add_post("/credentials/status", update_status)
    app.router.add_post("/status/{issuer}/{purpose}/{seq}/publish", publish_status_list)
    for path in PUBLIC_POSTS:
        app.router.add_route("OPTIONS", path, _preflight)
    app.on_response_prepare.append(_cors_on_public_posts)
