"""The node's own refusals: ``NodeError`` (a ``vc.errors.ProblemError``) and its kinds.

Each carries its HTTP status and a ``urn:vcnode:problem:<code>`` type, so ``node.problems``
turns any of them into problem+json without knowing where it was raised, and the CLI into a
message and an exit code (2 for a 400, 1 otherwise).

    NodeError                       invalid-request            400
    ├── InvalidRequestError         invalid-request            400
    ├── IssuerMismatchError         issuer-mismatch            400
    ├── UnknownIssuerError          unknown-issuer             404
    ├── UnknownCredentialError      unknown-credential         404
    │   └── CredentialGoneError     credential-gone            410
    ├── UnknownTokenError           unknown-token              404
    ├── UnknownAchievementError     unknown-achievement        404
    ├── UnknownTrustedBodyError     unknown-trusted-body       404
    ├── UnknownKeyError             unknown-key                404
    ├── IssuerExistsError           issuer-exists              409
    ├── DuplicateCredentialError    duplicate-credential       409
    ├── StatusChangeError           status-change-refused      409
    ├── AchievementExistsError      achievement-exists         409
    ├── IdempotencyConflictError    idempotency-conflict       409
    ├── KeyLifecycleError           key-lifecycle              409
    ├── RetiredKeyError             retired-key                409
    └── AccreditationRefusedError   accreditation-refused      422
"""

from __future__ import annotations

from vc.errors import ProblemError


class NodeError(ProblemError):
    """A refusal by the node itself (not a specification-defined problem)."""

    base = "urn:vcnode:problem:"
    code, title, http_status = "invalid-request", "The request is not valid", 400


class InvalidRequestError(NodeError):
    pass


class IssuerMismatchError(NodeError):
    code, title, http_status = "issuer-mismatch", "The credential names another issuer", 400


class UnknownIssuerError(NodeError):
    code, title, http_status = "unknown-issuer", "Unknown issuer", 404


class UnknownCredentialError(NodeError):
    code, title, http_status = "unknown-credential", "Unknown credential", 404


class CredentialGoneError(UnknownCredentialError):
    """The credential was issued here, but its body is not kept (erased, or never kept):
    VCALM getCredential's 410 "Gone! There is no data here", not a 404, since the id is known.
    A subclass of ``UnknownCredentialError``, so code that asks for a body handles both."""

    code, title, http_status = "credential-gone", "The credential's body is no longer kept", 410


class UnknownTokenError(NodeError):
    code, title, http_status = "unknown-token", "Unknown token", 404


class UnknownAchievementError(NodeError):
    code, title, http_status = "unknown-achievement", "Unknown achievement", 404


class UnknownTrustedBodyError(NodeError):
    code, title, http_status = "unknown-trusted-body", "Not a trusted body", 404


class UnknownKeyError(NodeError):
    code, title, http_status = "unknown-key", "Unknown key", 404


class IssuerExistsError(NodeError):
    code, title, http_status = "issuer-exists", "Issuer already exists", 409


class DuplicateCredentialError(NodeError):
    code, title, http_status = "duplicate-credential", "Credential id already issued", 409


class StatusChangeError(NodeError):
    code, title, http_status = "status-change-refused", "The status change is not possible", 409


class AchievementExistsError(NodeError):
    code, title, http_status = "achievement-exists", "Achievement already exists", 409


class IdempotencyConflictError(NodeError):
    code, title, http_status = "idempotency-conflict", "Idempotency key already used for another request", 409


class KeyLifecycleError(NodeError):
    code, title, http_status = "key-lifecycle", "The key change is not possible", 409


class RetiredKeyError(NodeError):
    code, title, http_status = "retired-key", "The issuer's key was retired", 409


class AccreditationRefusedError(NodeError):
    code, title, http_status = "accreditation-refused", "The accreditation credential is not acceptable", 422
