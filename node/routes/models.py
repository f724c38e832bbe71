"""Bodies more than one route module declares: issuing options, an issued credential, the
verification result, and the names for free-form JSON-LD documents.

Requests are ``Body`` models (validated); responses are ``TypedDict`` shapes of what the
handlers send (documented, and checked against real responses in tests/node/test_openapi.py).
Credentials, presentations and DID documents stay plain dicts: JSON-LD is checked by the
library that reads it, not typed here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, WithJsonSchema
from typing_extensions import NotRequired, TypedDict

from node.routes.endpoint import Body

JsonLd = Annotated[dict[str, Any], Field(description="A JSON-LD document, as the VC Data Model defines it")]
# A timestamp the handler formats itself ("2030-01-01T00:00:00Z").
DateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
# The 404 of every endpoint under /issuers/{name}/.
NO_ISSUER = "No issuer of that name on this node"
# Integers stay integers (5 ECTS is not 5.0: the two canonicalize differently).
Number = int | float


class IssueOptions(Body):
    """Issuing options of the node's own issuing endpoints (micro-credentials, accreditation,
    stacks). An unknown option is refused, so a misspelt one is not silently ignored."""

    model_config = ConfigDict(extra="forbid")
    noun = "option"

    cryptosuite: str | None = Field(None, description="eddsa-rdfc-2022 (the default) or eddsa-jcs-2022")
    statusPurposes: list[str] | None = Field(
        None, description="The status entries to add (revocation, suspension); the issuer's configured purposes when absent"
    )

    def for_service(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class IssuedCredential(TypedDict):
    """VC-API VerifiableCredentialResponse."""

    verifiableCredential: Annotated[dict[str, Any], Field(description="The signed credential")]


class ResultError(TypedDict):
    """A failure inside a verification result: VC Data Model 2.0 §7.2 problem details, with the
    specification's type URL and code (`status`, `statusPurpose` ... of the failed check may follow)."""

    type: str
    code: Annotated[str, Field(description="e.g. PROOF_VERIFICATION_ERROR, STATUS_CHECK_FAILED")]
    title: str
    detail: str


class CheckResult(TypedDict):
    """One check and its outcome. The check's own facts (cryptosuite, verificationMethod,
    statusPurpose, status ...) follow as further members."""

    check: Annotated[str, Field(description="dataModel, validity, proof, binding, status, challenge, domain, stack, achievement (a credential naming an achievement of this node that its issuer did not award) ...")]
    outcome: Literal["passed", "failed", "unknown", "skipped"]
    message: NotRequired[str]
    error: NotRequired[ResultError]


class VerificationResult(TypedDict):
    """VC-API VerificationResult: `verified` only when every check passed."""

    verified: bool
    kind: Literal["credential", "presentation", "statusList"]
    checks: list[CheckResult]
    errors: Annotated[list[ResultError], Field(description="One problem per failed check (and per failed embedded credential's check)")]
    warnings: list[ResultError]
    problemDetails: NotRequired[Annotated[list[ResultError], Field(description="VC-API's name for `errors` (top level)")]]
    credentialResults: NotRequired[Annotated[list["VerificationResult"], Field(description="Presentations: each embedded credential's result, in order")]]
    verifiablePresentation: NotRequired[Annotated[dict[str, Any], Field(description="With options.returnPresentation: the verified presentation")]]
    microcredential: NotRequired[Annotated[dict[str, Any], Field(description="The EU micro-credential (Annex I) report of an Open Badge")]]
    accreditation: NotRequired[Annotated[dict[str, Any], Field(description="Whether the issuer is accredited, as far as this node can tell")]]
    stacks: NotRequired[Annotated[list[dict[str, Any]], Field(description="Presentations: each stacked credential's check against its parts")]]
