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


class RepresentationNotSupported(DIDError):
    code = "representationNotSupported"


class FetchError(DIDError):
    """The guarded HTTP client refused or failed a fetch (SSRF guard, timeout, size, status...).

    ``reason`` is a short machine-readable tag: ``insecure``, ``forbidden-address``,
    ``timeout``, ``too-large``, ``redirect``, ``http-status``, ``malformed``, ``network``.
    """

    code = "notFound"

    def __init__(self, detail: str, *, reason: str, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.reason = reason
