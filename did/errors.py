"""Errors of the DID layer, carrying DID Resolution / did:key error codes.

Codes are the ones DID Resolution v0.3 §7.1.2 and the did:key method §3.1.4 name
(``invalidDid``, ``notFound``, ``invalidPublicKeyLength`` ...), so a caller can put
``code`` straight into ``didResolutionMetadata.error``.
"""

from __future__ import annotations


class DIDError(Exception):
    """A DID could not be parsed, resolved or dereferenced.

    ``code`` is the spec's error code; ``detail`` a sentence a person understands.
    """

    code: str = "internalError"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, detail={self.detail!r})"


class InvalidDID(DIDError):
    code = "invalidDid"


class InvalidDIDURL(DIDError):
    code = "invalidDidUrl"


class MethodNotSupported(DIDError):
    code = "methodNotSupported"


class NotFound(DIDError):
    code = "notFound"


class InvalidPublicKeyLength(DIDError):
    code = "invalidPublicKeyLength"


class UnsupportedPublicKeyType(DIDError):
    code = "unsupportedPublicKeyType"


class InvalidPublicKey(DIDError):
    code = "invalidPublicKey"


class InvalidPublicKeyType(DIDError):
    """did:key §3.1.4: a requested ``publicKeyFormat`` is not allowed (e.g. an experimental one)."""

    code = "invalidPublicKeyType"


class InvalidDIDDocument(DIDError):
    """The resolved document is not a usable DID document (wrong ``id``, not an object...)."""

    code = "invalidDidDocument"


class InvalidVerificationMethod(DIDError):
    """Controlled Identifiers 1.0 §3.3 (Retrieve Verification Method): the document holding a
    verification method does not make it usable, e.g. its ``controller`` names someone else.
    The code is CID's error type INVALID_VERIFICATION_METHOD in this module's camelCase."""

    code = "invalidVerificationMethod"

    def __init__(self, detail: str, *, code: str | None = None, revoked: str | None = None, expires: str | None = None) -> None:
        super().__init__(detail, code=code)
        # A method withdrawn in its DID document (CID 1.0 §2.2): when, as the document says it,
        # for a reader that tells an issuer's withdrawal from a forgery (the verifier page).
        self.withdrawn = {k: v for k, v in (("revoked", revoked), ("expires", expires)) if v is not None}


class RepresentationNotSupported(DIDError):
    code = "representationNotSupported"


class InvalidOptions(DIDError):
    """DID Resolution v1 §4 (DID Resolution Algorithm): the resolution options are not valid,
    e.g. a did:key flag that is neither a boolean nor "true"/"false"."""

    code = "invalidOptions"


class FeatureNotSupported(DIDError):
    """DID Resolution v1 §4: a resolution option (or DID parameter) this resolver does not
    implement; saying so beats returning a document the caller did not ask for."""

    code = "featureNotSupported"


# DID Resolution §7.1.2 defines notFound as the DID document not being found, so only an
# answer saying so (HTTP 404 or 410) is notFound. A body that is not a usable document is
# invalidDidDocument; a resolver that could not complete (no answer in time, no connection,
# a server error, all fetch slots taken) is internalError. DID Resolution has no code for a
# fetch the resolver itself refuses (plain HTTP, a non-public address, a redirect to another
# host): those are internalError too, and ``reason`` says which refusal it was.
_FETCH_CODES = {
    "too-large": "invalidDidDocument",
    "malformed": "invalidDidDocument",
    "timeout": "internalError",
    "network": "internalError",
    "busy": "internalError",
    "http-status": "internalError",
    "insecure": "internalError",
    "forbidden-address": "internalError",
    "redirect": "internalError",
}
NOT_FOUND_STATUSES = frozenset({404, 410})


class FetchError(DIDError):
    """The guarded HTTP client refused or failed a fetch (SSRF guard, timeout, size, status...).

    ``reason`` is a short machine-readable tag: ``insecure``, ``forbidden-address``,
    ``timeout``, ``busy``, ``too-large``, ``redirect``, ``http-status``, ``malformed``,
    ``network``; ``status`` the HTTP status for ``http-status``. Unless given, ``code`` follows
    from them (``_FETCH_CODES``): ``notFound`` only for HTTP 404 and 410.
    """

    def __init__(self, detail: str, *, reason: str, code: str | None = None, status: int | None = None) -> None:
        if code is None:
            if reason == "http-status" and status in NOT_FOUND_STATUSES:
                code = "notFound"
            else:
                code = _FETCH_CODES.get(reason, "internalError")
        super().__init__(detail, code=code)
        self.reason = reason
        self.status = status
