"""W3C CCG VC-API endpoints: issue, verify (credentials and presentations), challenges, status.

Each endpoint is declared once (``node.routes.endpoint``): its scope authorizes the request,
its body model validates it (every refusal is a 400 naming the field), and the same
declaration is its /openapi.json operation. Handlers hand the work to the node's capability
for it (``node.issuance``, ``node.verification``, ``node.status_changes``), which keeps
canonicalisation and signing off the event loop. Verification answers 200 with ``verified: true`` or 400 with
``verified: false`` and the per-check results; a body that is not a verification request at
all is a problem+json 400, so clients can tell "not verified" from "not understood". A member
or option an endpoint does not understand is refused before anything happens (VCALM §"Options":
"Implementations MUST throw an error if an endpoint receives data, options, or option values
that it does not understand"); unknown options are VCALM's UNKNOWN_OPTION_PROVIDED. The 400 for
"not verified" is a deliberate difference from VCALM's 200 (docs/conformance.md).

Challenges (``node.verification.Verification.verify_presentation`` has the rules): ``options.challenge`` is the
challenge the caller expects, as VC-API has it. One this node handed out (POST /challenges)
must be live and unused and is consumed by the verification that presents it; one it did not
hand out is the caller's own (refused when ``accept_caller_challenges`` is off or
``options.checks`` names ``"challenge"``). A node challenge the proof carries is checked and
consumed even when ``options`` names none, so leaving the option out cannot replay it. With
``require_challenge`` (the default), a presentation needs an expected challenge.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from aiohttp import web
from pydantic import ConfigDict, Discriminator, Field, RootModel, Tag, field_validator, model_validator
from typing_extensions import NotRequired, TypedDict

from node import auth
from node.errors import InvalidRequestError, UnknownCredentialError
from node.issuance import entry_specs
from node.issuers import DEFAULT_ISSUER
from node.jsonout import json_response
from node.problems import Invalid, ProblemDetails, bad_request, not_found, read_json
from node.routes import node_of, open_to_browsers
from node.routes.endpoint import GRANT, Body, Endpoints, PathParam, Refusal, Reply, Scope
from node.trust import check_achievement_issuers
from node.routes.models import NO_ISSUER, CheckResult, DateTime, IssuedCredential, JsonLd, ResultError, VerificationResult
from vc.errors import VCDM

JsonObject = dict[str, Any]

api = Endpoints()

StatusType = Literal["BitstringStatusListEntry", "BitstringStatusList"]
StatusValue = Literal["active", "revoked", "suspended"]
MESSAGE = "message"
# VC-API's boolean form names the purpose; true sets the bit.
_PURPOSE_STATUS = {("revocation", True): "revoked", ("suspension", True): "suspended", ("suspension", False): "active"}
NonEmpty = Annotated[str, Field(min_length=1)]

ISSUER = PathParam("name", "The issuer's name on this node (`default` is created on first start)")


# --- issue ---------------------------------------------------------------------------------


class IssueCredentialOptions(Body):
    """VC-API IssueCredentialOptions. An unknown option is refused, so a misspelt one is not
    silently ignored."""

    model_config = ConfigDict(extra="forbid")
    noun = "option"

    cryptosuite: str | None = Field(None, description="eddsa-rdfc-2022 (the default) or eddsa-jcs-2022")
    statusPurposes: list[str] | None = Field(
        None, description="The status entries to add (revocation, suspension); the issuer's configured purposes when absent"
    )
    statusEntries: list[dict[str, Any]] | None = Field(
        None,
        description=(
            "Status entries to add beside the `statusPurposes` ones (Bitstring Status List 1.0 §2.1), each a template "
            "`{statusPurpose, statusSize, statusMessage, statusReference}`: the node allocates its list and index. "
            "`message` entries may have several bits (one `statusMessage` per value) and come last in `credentialStatus`; "
            "revocation and suspension entries are one bit. The node's `status_entries_file` when absent"
        ),
    )
    credentialId: str | None = Field(None, description="VC-API: the id to give a credential that has none")
    mandatoryPointers: Annotated[list[Any], Field(max_length=0)] | None = Field(
        None, description="For selective-disclosure cryptosuites, which this node does not offer: only an empty list is accepted"
    )

    @field_validator("statusEntries")
    @classmethod
    def _entry_templates(cls, value: Any) -> Any:
        if value is not None:
            try:
                entry_specs(value, "{field}")
            except InvalidRequestError as e:
                raise Invalid(e.detail) from None
        return value

    @field_validator("mandatoryPointers", mode="before")
    @classmethod
    def _no_selective_disclosure(cls, value: Any) -> Any:
        if isinstance(value, list) and value:
            raise Invalid(
                "{field} is for selective-disclosure cryptosuites; eddsa-rdfc-2022 and "
                "eddsa-jcs-2022 always disclose the whole credential, so leave it out"
            )
        return value


class IssueCredentialRequest(Body):
    """VC-API IssueCredentialRequest. A member beside `credential` and `options` is refused
    (VCALM §"Options": data the endpoint does not understand is an error)."""

    model_config = ConfigDict(extra="forbid")

    credential: Annotated[JsonLd, Field(description="The unsigned credential (VC Data Model 2.0, or 1.1)")]
    options: IssueCredentialOptions | None = None

    @model_validator(mode="after")
    def _issuer_named(self) -> "IssueCredentialRequest":
        # VC DM 2.0 §4.7: issuer is required; VC-API's issuer suite expects a 400 without it
        # (the node's own issuing endpoints, micro-credentials and stacks, fill it in).
        if "issuer" not in self.credential:
            raise Invalid("{field} is required: name the issuer this request signs as (one of its DIDs)", field="credential.issuer")
        return self

    @model_validator(mode="after")
    def _one_id(self) -> "IssueCredentialRequest":
        wanted = self.options.credentialId if self.options else None
        if wanted is not None and "id" in self.credential and self.credential["id"] != wanted:
            raise Invalid(
                f"options.credentialId {wanted!r} differs from credential.id {self.credential['id']!r}; "
                "send one of them (VC-API: credentialId is for credentials without an id)",
                field="options.credentialId",
            )
        return self

    def to_issue(self) -> tuple[JsonObject, JsonObject]:
        """The credential with VC-API's credentialId applied, and the options the service takes."""
        options = self.options or IssueCredentialOptions()
        credential = self.credential
        if options.credentialId is not None:
            # VC-API: credentialId names the credential when credential.id is absent. The node
            # always gives an issued credential an id, so the caller's choice becomes that id.
            credential = {**credential, "id": options.credentialId}
        return credential, options.model_dump(include={"cryptosuite", "statusPurposes", "statusEntries"}, exclude_none=True)


_ISSUE = dict(
    tags=["Credentials"],
    description=(
        "Signs the credential with the issuer's key (VC-API issueCredential). `issuer` is required and "
        "must be one of the issuer's DIDs; the node adds an `id` and `validFrom` when absent and one "
        "`credentialStatus` entry per requested status purpose and entry template, in a status list "
        "signed by the DID the credential names. A VC 1.1 credential is issued as 1.1, without Bitstring "
        "status entries (Bitstring Status List 1.0 §2.1: they belong in VC 2.0 credentials). A credential "
        "that already has proofs gets the issuer's proof beside them (a proof set) and is otherwise signed "
        "as sent."
    ),
    body=IssueCredentialRequest,
    replies={201: Reply(IssuedCredential, "The signed credential")},
    problems={404: NO_ISSUER, 409: "A credential with that id was already issued"},
)


@api.post(
    "/issuers/{name}/credentials/issue",
    "issueCredentialAsIssuer",
    summary="Issue a credential as a named issuer",
    params=[ISSUER],
    scope=Scope("issue", issuer="{name}"),
    **_ISSUE,
)
@api.post(
    "/credentials/issue",
    "issueCredential",
    summary="Issue a credential as the default issuer",
    scope=Scope("issue", issuer=DEFAULT_ISSUER),
    **_ISSUE,
)
async def issue(request: web.Request, body: IssueCredentialRequest) -> web.Response:
    """VC-API issueCredential: ``{credential, options}`` → 201 ``{verifiableCredential}``."""
    name = request.match_info.get("name", DEFAULT_ISSUER)
    credential, options = body.to_issue()
    signed = await node_of(request).issuance.issue(name, credential, options)
    return json_response({"verifiableCredential": signed}, status=201)


# --- verify --------------------------------------------------------------------------------


# The check names `options.checks` may hold: the node's own (the `check` of each result entry)
# and `credentialStatus`, which the Bitstring Status List suite sends beside `proof`. Every
# check always runs; naming one the node does not know is refused, as VCALM §"Options"
# requires for option values it does not understand.
KNOWN_CHECKS = (
    "bounds", "dataModel", "validity", "proof", "binding", "status", "credentialStatus",
    "challenge", "domain", "proofPurpose", "holder", "achievement", "stack",
)


class _CommonVerifyOptions(Body):
    """The options every verification form takes. An option not listed is refused with
    VCALM's UNKNOWN_OPTION_PROVIDED problem (VCALM §"Options")."""

    model_config = ConfigDict(extra="forbid")
    noun = "option"

    checks: list[str] | None = Field(
        None,
        description=(
            "Accepted for VC-API clients (the W3C suites send `proof` and `credentialStatus`); every check always runs, "
            "and a name the node does not know is refused. Presentations: naming `challenge` requires a challenge this "
            "node handed out"
        ),
        json_schema_extra={"items": {"enum": list(KNOWN_CHECKS)}},
    )
    returnProblemDetails: bool | None = Field(None, description="VCALM: `false` leaves `problemDetails` out of the answer (`errors` stays); present by default")

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: Any) -> Any:
        unknown = [c for c in value or () if c not in KNOWN_CHECKS]
        if unknown:
            raise Invalid(
                f"{{field}} names {', '.join(map(repr, unknown))}, which this node does not check; "
                f"it knows {', '.join(KNOWN_CHECKS)}"
            )
        return value


class VerifyOptions(_CommonVerifyOptions):
    """The options of a verification with a proof: what the proof must carry."""

    challenge: str | None = Field(None, description="The challenge the proof must carry")
    domain: str | None = Field(None, description="The domain the proof must carry")
    expectedProofPurpose: str | None = Field(None, description="Credentials: anything but `assertionMethod` fails; presentations: anything but `authentication` fails (a failed `proofPurpose` check)")


class VerifyCredentialOptions(VerifyOptions):
    """VCALM VerifyCredentialOptions, and the older VC-API options the W3C suites send."""

    returnCredential: bool | None = Field(None, description="VCALM: `true` returns the credential as verified, as `credential`")
    returnResults: bool | None = Field(
        None, description="VCALM: `true` adds `results` (validFrom, validUntil, credentialStatus, proof, each with `verified`), derived from `checks`"
    )


class VerifyPresentationOptions(VerifyOptions):
    """VCALM VerifyPresentationOptions."""

    returnPresentation: bool | None = Field(None, description="Return the verified presentation as `verifiablePresentation`")


class ProoflessPresentationOptions(_CommonVerifyOptions):
    """Options of the proofless form: there is no proof to compare a challenge, domain or purpose with."""

    returnPresentation: bool | None = Field(None, description="Return the presentation as `verifiablePresentation`")


def _options(options: Body | None) -> JsonObject:
    return options.model_dump(exclude_none=True) if options is not None else {}


class VerifyCredentialRequest(Body):
    """VC-API VerifyCredentialRequest. Any other member is refused (VCALM §"Options")."""

    model_config = ConfigDict(extra="forbid")

    verifiableCredential: JsonLd
    options: VerifyCredentialOptions | None = None


class SignedPresentationRequest(Body):
    """VCALM VerifyPresentationRequest: a presentation with the holder's proof."""

    model_config = ConfigDict(extra="forbid")

    verifiablePresentation: JsonLd
    options: VerifyPresentationOptions | None = None


class ProoflessPresentationRequest(Body):
    """VCALM ProoflessVerifyPresentationRequest: a presentation without a proof, whose
    credentials are verified; there is no holder proof, so no challenge or domain either."""

    model_config = ConfigDict(extra="forbid")

    presentation: JsonLd
    options: ProoflessPresentationOptions | None = None

    @model_validator(mode="after")
    def _no_proof(self) -> "ProoflessPresentationRequest":
        if "proof" in self.presentation:
            raise Invalid(
                "{field} has a proof: send it as verifiablePresentation, where the proof, its challenge and domain are verified",
                field="presentation",
            )
        return self


def _presentation_form(body: Any) -> str:
    return "proofless" if isinstance(body, dict) and "presentation" in body else "signed"


class VerifyPresentationRequest(
    RootModel[
        Annotated[
            Union[Annotated[SignedPresentationRequest, Tag("signed")], Annotated[ProoflessPresentationRequest, Tag("proofless")]],
            Discriminator(_presentation_form),
        ]
    ]
):
    """VCALM's two JSON forms: `{verifiablePresentation, options}`, or `{presentation}` without a proof."""


class VerifyCredentialResult(VerificationResult):
    """VerificationResult, with VCALM's `credential` and `results` when asked for."""

    credential: NotRequired[Annotated[dict[str, Any], Field(description="With options.returnCredential: the credential as verified")]]
    results: NotRequired[Annotated[dict[str, Any], Field(description="With options.returnResults: VCALM VerifyCredentialResult.results")]]


def _outcome_of(checks: list[Any], shared_ok: bool = True) -> bool:
    return bool(checks) and shared_ok and all(c.ok for c in checks)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else ([value] if isinstance(value, dict) else [])


def _results(result: Any, vc: JsonObject) -> JsonObject:
    """VCALM VerifyCredentialResult.results, read off the checks: the validity period's ends,
    each status entry and each proof, with ``verified`` and the ``input`` judged. The node
    does not validate credentialSchema, so it reports none."""
    out: JsonObject = {}
    validity = result.check("validity")
    # A failed validity check names the bound it found broken (vc.datamodel.ValidityPeriodError).
    broken = None if validity is None or validity.ok else validity.data.get("field")
    for key, fields in (("validFrom", ("validFrom", "issuanceDate")), ("validUntil", ("validUntil", "expirationDate"))):
        name = next((f for f in fields if f in vc), None)
        if name is None:
            continue
        out[key] = {"verified": validity is not None and (validity.ok or (broken is not None and broken != name)), "input": vc[name]}
    entries = _as_list(vc.get("credentialStatus"))
    status = [c for c in result.checks if c.name == "status"]
    out["credentialStatus"] = []
    for i, entry in enumerate(entries):
        mine = [
            c
            for c in status
            if isinstance(entry, dict)
            and c.data.get("statusListCredential") == entry.get("statusListCredential")
            and c.data.get("statusListIndex") == entry.get("statusListIndex")
            and c.data.get("statusPurpose") == entry.get("statusPurpose")
        ]
        if not mine and len(status) == len(entries):
            mine = [status[i]]  # an entry the check could not read names no list: same order
        item: JsonObject = {"verified": _outcome_of(mine), "input": entry}
        value = next((c.data["status"] for c in mine if isinstance(c.data.get("status"), str)), None)
        if value is not None:
            item["value"] = int(value, 16)
        out["credentialStatus"].append(item)
    proofs = _as_list(vc.get("proof"))
    proof_checks = [c for c in result.checks if c.name in ("proof", "binding")]
    # A challenge, domain or purpose expected of the proofs holds for all of them or none.
    shared_ok = all(c.ok for c in result.checks if c.name in ("challenge", "domain", "proofPurpose"))
    out["proof"] = [
        {
            "verified": _outcome_of(
                [c for c in proof_checks if c.data.get("proofIndex", 0) == i] if len(proofs) > 1 else proof_checks, shared_ok
            ),
            "input": proof,
        }
        for i, proof in enumerate(proofs)
    ]
    return out


def _result_response(result: Any, options: JsonObject, **extra: Any) -> web.Response:
    out = result.to_json()
    # VC-API's VerificationResult calls the problem list problemDetails; VCALM's
    # returnProblemDetails false leaves it out (errors, the node's name, stays).
    if options.get("returnProblemDetails") is not False:
        out["problemDetails"] = out["errors"]
    out.update(extra)
    return json_response(out, status=200 if result.verified else 400)


_VERIFIED = {
    200: Reply(VerificationResult, "Verified: every check passed"),
    400: Reply(VerificationResult, "Not verified: `verified: false`, with the failed checks and their spec-typed `errors`"),
}


class VerificationRefusal(ProblemDetails):
    """A verification request refused before any check ran (not JSON, too large, too deep, not a
    verification request): the problem, and, as in every not-verified answer, `verified: false`
    and the reason in `errors` (and `problemDetails`), so a client reads one field."""

    verified: Literal[False]
    checks: Annotated[list[CheckResult], Field(description="Empty: no check ran")]
    errors: Annotated[list[ResultError], Field(description="One entry: the problem, with its VC Data Model 2.0 §7.2 type and code")]
    warnings: list[ResultError]
    problemDetails: list[ResultError]


def _not_verified(problem: dict[str, Any]) -> dict[str, Any]:
    """The members a refused verification request adds to its problem (``Refusal.members``)."""
    code = problem.get("code")
    if not isinstance(code, str):
        # The node's own refusals: a member that is wrong is a malformed value, anything
        # else (not JSON, too large, a form) a document that could not be parsed.
        code = "MALFORMED_VALUE_ERROR" if problem.get("status") == 400 and "field" in problem else "PARSING_ERROR"
    kind = problem["type"] if "code" in problem else VCDM + code
    error = {"type": kind, "code": code, "title": problem["title"], "detail": problem["detail"]}
    return {"verified": False, "checks": [], "errors": [error], "warnings": [], "problemDetails": [error]}


_REFUSED = Refusal(VerificationRefusal, _not_verified)


@api.post(
    "/credentials/verify",
    "verifyCredential",
    summary="Verify a credential",
    tags=["Credentials"],
    description=(
        "Checks the data model, validity period, every Data Integrity proof (eddsa-rdfc-2022, "
        "eddsa-jcs-2022; the issuer's did:key or did:web is resolved) and every "
        "BitstringStatusListEntry (the list is fetched and its own proof verified). Public."
    ),
    body=VerifyCredentialRequest,
    replies={
        200: Reply(VerifyCredentialResult, "Verified: every check passed"),
        400: Reply(VerifyCredentialResult, "Not verified: `verified: false`, with the failed checks and their spec-typed `errors`"),
    },
    refusal=_REFUSED,
)
async def verify_credential(request: web.Request, body: VerifyCredentialRequest) -> web.Response:
    """VC-API verifyCredential: 200 when verified, 400 with the failed checks otherwise."""
    vc, options = body.verifiableCredential, _options(body.options)
    node = node_of(request)
    result = await node.verification.verify_credential(vc, options)
    await check_achievement_issuers(result, issuers=node.issuers, achievements=node.achievements)
    await node.trust.report(result)  # accreditation of the issuer (issue 7)
    node.observer.verified(result)
    extra: JsonObject = {}
    if options.get("returnCredential") is True:
        extra["credential"] = vc  # VCALM: "in the form in which it was verified"
    if options.get("returnResults") is True:
        extra["results"] = _results(result, vc)
    return _result_response(result, options, **extra)


@api.post(
    "/presentations/verify",
    "verifyPresentation",
    summary="Verify a presentation and the credentials in it",
    tags=["Presentations"],
    description=(
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
    body=VerifyPresentationRequest,
    replies=_VERIFIED,
    refusal=_REFUSED,
)
async def verify_presentation(request: web.Request, body: VerifyPresentationRequest) -> web.Response:
    """VC-API verifyPresentation: the presentation's proof, its challenge and domain, and every
    credential; in the proofless form (VCALM ``{presentation}``), the credentials alone."""
    form = body.root
    node = node_of(request)
    if isinstance(form, ProoflessPresentationRequest):
        vp, options = form.presentation, _options(form.options)
        result = await node.verification.verify_proofless_presentation(vp)
    else:
        vp, options = form.verifiablePresentation, _options(form.options)
        result = await node.verification.verify_presentation(vp, options)
    await check_achievement_issuers(result, issuers=node.issuers, achievements=node.achievements)
    await node.trust.report(result)  # accreditation and stacks (issue 7)
    node.observer.verified(result)
    # VC-API returnPresentation: the presentation is returned when asked for, and only then.
    extra = {"verifiablePresentation": vp} if options.get("returnPresentation") is True else {}
    return _result_response(result, options, **extra)


class CreatedChallenge(TypedDict):
    """VC-API CreateChallengeResponse."""

    challenge: str
    expires: DateTime


@api.post(
    "/challenges",
    "createChallenge",
    summary="Create a single-use, expiring challenge",
    tags=["Presentations"],
    description=(
        "Takes no body, or `{}`: any member is refused, as VCALM refuses data an endpoint does not understand. "
        "Put the returned value into the presentation's proof and into `options.challenge`."
    ),
    replies={200: Reply(CreatedChallenge, "A new challenge")},
    problems={
        400: "The body is not empty and not `{}`: not JSON, or an object with members this endpoint does not take",
        413: "The request body is larger than the node accepts",
        415: "The body is declared as a form or multipart; send application/json or nothing",
    },
)
async def create_challenge(request: web.Request) -> web.Response:
    """VC-API challenge: a single-use challenge, valid until ``expires``. The body is empty or
    ``{}`` (VCALM: "MUST throw an error if an endpoint receives data ... it does not understand"),
    checked before a challenge is made."""
    if request.body_exists:
        body = await read_json(request)
        if body:
            raise bad_request(
                f"POST /challenges takes no body, or {{}}; it does not understand {', '.join(map(repr, sorted(body)))}",
                field=sorted(body)[0],
            )
    challenge = await node_of(request).challenges.create()
    expires = challenge.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return web.json_response({"challenge": challenge.challenge, "expires": expires})


# --- status --------------------------------------------------------------------------------


class StatusEntryRef(Body):
    """The credential's status entry whose bit to change (Bitstring Status List 1.0 §2.1).
    VCALM's UpdateCredentialStatusRequest allows no other member: anything else is refused
    before the status changes (revocation cannot be undone)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="When given, the entry must be the credential's own entry of this id and purpose")
    type: StatusType
    statusPurpose: Literal["revocation", "suspension", "message"]
    statusListCredential: str | None = Field(None, description="When given, the entry must be the credential's own in this list")
    statusListIndex: str | None = Field(None, description="When given, the entry must be the credential's own at this index")


class VcApiStatusUpdate(Body):
    """VC-API updateCredentialStatus: `status` true sets the purpose's bit (revoked, suspended),
    false clears a suspension; absent means true (the Bitstring Status List suite sends it so).
    A `message` entry takes its value: a boolean for a one-bit entry, else a number or `0x` hex
    string below 2^statusSize (one of its `statusMessage` values)."""

    model_config = ConfigDict(extra="forbid")

    credentialId: NonEmpty
    credentialStatus: StatusEntryRef
    status: bool | int | str | None = Field(None, description="true/false; for a message entry, its value (2, or \"0x2\")")

    @model_validator(mode="after")
    def _reversible(self) -> "VcApiStatusUpdate":
        if self.credentialStatus.statusPurpose == MESSAGE:
            index = self.credentialStatus.statusListIndex
            if index is not None and not (index.isascii() and index.isdecimal() and len(index) < 12):
                raise Invalid("{field} must be a decimal string", field="credentialStatus.statusListIndex")
            return self
        if not isinstance(self.status, (bool, type(None))):
            raise Invalid("{field} is true or false for a revocation or suspension entry", field="status")
        if (self.credentialStatus.statusPurpose, self.set_bit) not in _PURPOSE_STATUS:
            raise Invalid(
                "revocation cannot be undone (Bitstring Status List 1.0 §2.1: revocation is not reversible); "
                "status false is only meaningful for suspension",
                field="status",
            )
        return self

    @property
    def set_bit(self) -> bool:
        return True if self.status is None else bool(self.status)

    @property
    def value(self) -> bool | int | str:
        """A message entry's value; absent means true, as for the other purposes."""
        return True if self.status is None else self.status

    def wanted(self) -> str:
        return _PURPOSE_STATUS[(self.credentialStatus.statusPurpose, self.set_bit)]


class StatusChange(Body):
    model_config = ConfigDict(extra="forbid")

    type: StatusType
    status: StatusValue


class ListStatusUpdate(Body):
    """Earlier VC-API drafts: the wanted status inside each entry, one status for all of them."""

    model_config = ConfigDict(extra="forbid")

    credentialId: NonEmpty
    credentialStatus: Annotated[list[StatusChange], Field(min_length=1)]
    status: None = Field(None, description="Not in this form: the status goes inside the entries")

    @model_validator(mode="before")
    @classmethod
    def _status_in_one_place(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") is not None:
            raise Invalid("send status either inside credentialStatus entries or at the top level, not both", field="status")
        return data

    @model_validator(mode="after")
    def _one_status(self) -> "ListStatusUpdate":
        asked = {c.status for c in self.credentialStatus}
        if len(asked) != 1:
            raise Invalid(f"credentialStatus asks for conflicting statuses {sorted(asked)}", field="credentialStatus")
        return self

    def wanted(self) -> str:
        return self.credentialStatus[0].status


class ShortStatusUpdate(Body):
    """The short form: the wanted status by name."""

    model_config = ConfigDict(extra="forbid")

    credentialId: NonEmpty
    status: StatusValue
    credentialStatus: None = Field(None, description="Not in this form")

    def wanted(self) -> str:
        return self.status


def _status_form(body: Any) -> str:
    cs = body.get("credentialStatus") if isinstance(body, dict) else None
    return "short" if cs is None else ("list" if isinstance(cs, list) else "vc-api")


class UpdateCredentialStatusRequest(
    RootModel[
        Annotated[
            Union[
                Annotated[VcApiStatusUpdate, Tag("vc-api")],
                Annotated[ListStatusUpdate, Tag("list")],
                Annotated[ShortStatusUpdate, Tag("short")],
            ],
            Discriminator(_status_form),
        ]
    ]
):
    """Three forms, told apart by `credentialStatus`: an object (VC-API), an array (earlier
    drafts) or absent (the short form)."""


class CredentialStatusRecord(TypedDict):
    """The credential's status after the change, and its status entries."""

    credentialId: str
    id: str
    issuer: Annotated[str, Field(description="The issuer's name on this node")]
    subjectId: str | None
    issued: DateTime
    status: StatusValue
    statusEntries: list["StatusEntryRecord"]


class StatusEntryRecord(TypedDict):
    statusPurpose: str
    statusListCredential: str
    statusListIndex: str


def _check_named_entry(record: Any, cs: StatusEntryRef) -> Any:
    """When VC-API's form names the list entry (its id, list or index), it must be one of the
    credential's own of that purpose: the entry, or a 400 before anything changes."""
    url, index, entry_id = cs.statusListCredential, cs.statusListIndex, cs.id
    for entry in record.status_entries:
        if entry.purpose != cs.statusPurpose:
            continue
        if (
            (url is None or url == entry.list_url)
            and (index is None or index == str(entry.index))
            and (entry_id is None or entry_id == entry.id)
        ):
            return entry
    raise bad_request(
        f"credential {record.id!r} has no {cs.statusPurpose} entry"
        + (f" with id {entry_id!r}" if entry_id else "")
        + (f" in {url!r}" if url else "")
        + (f" at index {index}" if index else ""),
        field="credentialStatus.id" if entry_id and url is None and index is None else "credentialStatus",
    )


@api.post(
    "/credentials/status",
    "updateCredentialStatus",
    summary="Revoke, suspend or reinstate an issued credential",
    tags=["Credentials"],
    description=(
        "VC-API updateCredentialStatus. The change is durable before the response is sent, and "
        "the issuer's status list credential is re-signed. Revocation is final. A `message` entry "
        "takes any of its values (`status`: a number or `0x` hex string; true/false for one bit). A "
        "token bound to another issuer cannot tell this node's credentials from ones that do not exist (404)."
    ),
    scope=Scope("status"),
    body=UpdateCredentialStatusRequest,
    replies={200: Reply(CredentialStatusRecord, "The credential's status after the change")},
    problems={
        404: "No credential with that id was issued by this node (or by the token's issuer)",
        409: "The change is not possible (a revoked credential cannot be reinstated, or the credential has no entry for that purpose)",
    },
)
async def update_status(request: web.Request, body: UpdateCredentialStatusRequest) -> web.Response:
    """VC-API updateCredentialStatus: revoke, suspend or reinstate; durable before the response."""
    grant = request[GRANT]
    form = body.root
    named = form.credentialStatus if isinstance(form, VcApiStatusUpdate) else None
    node = node_of(request)
    # A token bound to one issuer sees only that issuer's credentials: another issuer's id is
    # "not found" to it, so the answer does not reveal which ids exist elsewhere on the node.
    scope_issuer = None if (auth.ADMIN in grant.scopes or grant.issuer is None) else grant.issuer
    entry = None
    if named is not None and (named.statusPurpose != MESSAGE or named.id is not None):
        record = await node.credentials.get(form.credentialId)
        if scope_issuer is not None and record.issuer != scope_issuer:
            raise UnknownCredentialError(
                f"no credential with id {form.credentialId!r} was issued by issuer {scope_issuer!r}", credentialId=form.credentialId
            )
        entry = _check_named_entry(record, named)
    if isinstance(form, VcApiStatusUpdate) and form.credentialStatus.statusPurpose == MESSAGE:
        ref = form.credentialStatus
        # An entry named by id alone is that entry: its list and index.
        record = await node.status.set_message(
            form.credentialId,
            form.value,
            list_url=entry.list_url if entry is not None else ref.statusListCredential,
            index=entry.index if entry is not None else (int(ref.statusListIndex) if ref.statusListIndex is not None else None),
            issuer_name=scope_issuer,
        )
        return web.json_response({"credentialId": record.id, **record.to_json()})
    credential_id, status = form.credentialId, form.wanted()
    record = await node.status.set_status(credential_id, status, issuer_name=scope_issuer)
    return web.json_response({"credentialId": record.id, **record.to_json()})


@api.post(
    "/status/{issuer}/{purpose}/{seq}/publish",
    "publishStatusList",
    summary="Publish a status list (it always is: every status change re-signs its list first)",
    tags=["Status"],
    description=(
        "For clients that publish after a status change, as the Bitstring Status List test suite does: "
        "re-signs anything a crash left pending and answers 204."
    ),
    params=[
        PathParam("issuer", "The issuer's name"),
        PathParam("purpose", "The list's status purpose"),
        PathParam("seq", "The list's number, from 1", {"type": "integer"}),
    ],
    scope=Scope("status", issuer="{issuer}"),
    replies={204: Reply(None, "The published list is current")},
    problems={404: "No such list"},
)
async def publish_status_list(request: web.Request) -> web.Response:
    """``POST {statusListCredential}/publish`` → 204, as the Bitstring Status List suite calls it.

    Every status change re-signs its list before the change is answered, so there is never
    anything left to publish; this re-signs whatever a crash may have left pending and says
    the list is current. Scope ``status`` for the list's issuer.
    """
    issuer, purpose, seq_text = request.match_info["issuer"], request.match_info["purpose"], request.match_info["seq"]
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


def setup(app: web.Application) -> None:
    api.register(app)
    open_to_browsers(app, *PUBLIC_POSTS, method="POST")
