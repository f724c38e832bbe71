"""Problem types of the VC specifications, and the one place exceptions become problems.

VC Data Model 2.0 §7.2 (Problem Details), VC Data Integrity 1.0 §4.7 (Processing Errors),
Bitstring Status List 1.0 §3.5 (Processing Errors). Internals raise a ``ProblemError``
subclass; ``problem_from_exception`` turns any expected failure (these, and the DID layer's
``DIDError``) into a ``Problem`` entry. Verification never raises out of the library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from did.errors import DIDError

VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
BSL = "https://www.w3.org/ns/credentials/status-list#"
DID = "https://www.w3.org/ns/did#"


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem detail, as the VC specifications shape them."""

    code: str  # the spec's short code, e.g. PROOF_VERIFICATION_ERROR
    type: str  # the spec's URL for it
    title: str
    detail: str
    http_status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "code": self.code, "title": self.title, "detail": self.detail}
        out.update(self.extra)
        return out


class ProblemError(Exception):
    """Base of every expected failure raised inside vc/ and status/."""

    code: ClassVar[str] = "MALFORMED_VALUE_ERROR"
    base: ClassVar[str] = VCDM
    title: ClassVar[str] = "Malformed value"
    http_status: ClassVar[int] = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type(self) -> str:
        return self.base + self.code

    def problem(self) -> Problem:
        return Problem(self.code, self.type, self.title, self.detail, self.http_status, dict(self.extra))


# VC Data Model 2.0 §7.2 (the Recommendation defines types only; the string ``code`` the node
# adds is an RFC 9457 extension member: the integer codes of the drafts were removed)
class ParsingError(ProblemError):
    code, title = "PARSING_ERROR", "The document could not be parsed"


class CryptographicSecurityError(ProblemError):
    code, title = "CRYPTOGRAPHIC_SECURITY_ERROR", "A cryptographic security check failed"


class MalformedValueError(ProblemError):
    code, title = "MALFORMED_VALUE_ERROR", "A value is malformed"


class RangeError(ProblemError):
    code, title = "RANGE_ERROR", "A value is out of range"


# VC Data Integrity 1.0 §4.7 (Processing Errors) defines five codes; the classes below that
# are finer than the Recommendation keep their own title and convey the code it names.
class ProofGenerationError(ProblemError):
    base, code, title = SEC, "PROOF_GENERATION_ERROR", "The proof could not be generated"


class ProofVerificationError(ProblemError):
    base, code, title = SEC, "PROOF_VERIFICATION_ERROR", "The proof does not verify"


class ProofTransformationError(ProblemError):
    base, code, title = SEC, "PROOF_TRANSFORMATION_ERROR", "The document could not be transformed for the proof"


class MalformedProofError(ProofVerificationError):
    """§4.4 step 4: a proof lacking type, verificationMethod or proofPurpose (and a proofValue
    that does not decode) is a PROOF_VERIFICATION_ERROR."""

    title = "The proof is malformed"


class MismatchedProofPurposeError(ProofVerificationError):
    """§4.4 step 5: a proofPurpose other than the expected one is a PROOF_VERIFICATION_ERROR."""

    title = "The proof purpose is not the expected one"


class InvalidDomainError(ProblemError):
    base, code, title = SEC, "INVALID_DOMAIN_ERROR", "The proof's domain is not the expected one"


class InvalidChallengeError(ProblemError):
    base, code, title = SEC, "INVALID_CHALLENGE_ERROR", "The proof's challenge is not the expected one"


# Controlled Identifiers 1.0 §3.3 (Retrieve Verification Method) and §3.4 (Processing Errors).
class InvalidVerificationMethodError(ProblemError):
    """Steps 8-10: not a conforming method, or one its controller document does not hold as
    its own. Also this library's issuer/holder binding (no proof by the named party's key)."""

    base, code, title = SEC, "INVALID_VERIFICATION_METHOD", "The verification method is not usable"


class InvalidRelationshipError(InvalidVerificationMethodError):
    """Step 11: the method is not listed under the proof's purpose in its controller document."""

    code, title = "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD", "The verification method is not authorized for the proof's purpose"


# vc-di-eddsa §3.2.5 / §3.3.5 (Proof Configuration): a type or cryptosuite other than the
# suite's, or a created that is no dateTime, is a PROOF_GENERATION_ERROR.
class InvalidProofConfigurationError(ProofGenerationError):
    title = "The proof configuration is invalid"


# Bitstring Status List 1.0 §3.5
class StatusRetrievalError(ProblemError):
    base, code, title = BSL, "STATUS_RETRIEVAL_ERROR", "The status list could not be retrieved"


class StatusVerificationError(ProblemError):
    base, code, title = BSL, "STATUS_VERIFICATION_ERROR", "The status list could not be verified"


class StatusListLengthError(ProblemError):
    base, code, title = BSL, "STATUS_LIST_LENGTH_ERROR", "The status list is too short"


# DID errors surface under the DID Resolution spec's codes, upper-snake-cased as the
# other specs' codes are (invalidDid -> INVALID_DID).
_DID_TITLES = {
    "invalidDid": "The DID is invalid",
    "invalidDidUrl": "The DID URL is invalid",
    "notFound": "The DID or DID URL could not be found",
    "methodNotSupported": "The DID method is not supported",
    "invalidPublicKeyLength": "The public key has the wrong length",
    "unsupportedPublicKeyType": "The public key type is not supported",
    "invalidPublicKey": "The public key is invalid",
    "invalidDidDocument": "The DID document is invalid",
    "internalError": "The DID could not be resolved (the resolver could not complete)",
}


def _snake_upper(code: str) -> str:
    out = []
    for ch in code:
        if ch.isupper():
            out.append("_")
        out.append(ch.upper())
    return "".join(out)


def problem_from_exception(exc: BaseException) -> Problem | None:
    """The one place an expected failure becomes a ``Problem``; ``None`` for a bug.

    Callers that must never raise (verification) turn ``None`` into an internal error
    entry *and* log it, so bugs are visible rather than reported as bad input.
    """
    if isinstance(exc, ProblemError):
        return exc.problem()
    if isinstance(exc, DIDError) and exc.code == "invalidVerificationMethod":
        # Controlled Identifiers 1.0 §3.3 names it, under the security vocabulary, as the
        # issuer/holder binding's refusal is.
        return Problem(InvalidVerificationMethodError.code, InvalidVerificationMethodError(exc.detail).type,
                       InvalidVerificationMethodError.title, exc.detail, 400,
                       {"didErrorCode": exc.code, **getattr(exc, "withdrawn", {})})
    if isinstance(exc, DIDError):
        code = _snake_upper(exc.code)
        extra: dict[str, Any] = {"didErrorCode": exc.code}
        reason = getattr(exc, "reason", None)
        if reason:
            extra["reason"] = reason
        return Problem(code, DID + code, _DID_TITLES.get(exc.code, "DID resolution failed"), exc.detail, 400, extra)
    return None
