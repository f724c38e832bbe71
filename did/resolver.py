"""One resolver interface for every DID method, DID URL dereferencing, and the purpose check.

- ``ResolutionResult``: the DID Resolution result (DID Resolution v0.3 §4: ``didDocument``,
  ``didResolutionMetadata`` with ``error`` on failure, ``didDocumentMetadata``).
- ``Resolver({"key": ..., "web": ...})``: dispatch on the method; ``resolve`` never raises.
- ``dereference`` / ``resolve_verification_method``: DID URL dereferencing (DID Core §7.2) to a
  verification method, with relative ids (``#key-1``) and a bare ``did:key`` meaning its key
  (a bare DID of another method names no method).
- ``is_authorized``: is a verification method listed under a verification relationship
  (DID Core §5.3) of its controller's document.
- ``StaticResolver``: a fixed table of documents, for tests and for the node's own DIDs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Protocol

from did.cache import LRU, FrozenJSON, json_copy
from did.curve25519 import check_ed25519_public_key
from did.document import RELATIONSHIPS, check_did_document, media_type
from did.errors import (
    DIDError,
    InvalidDIDDocument,
    InvalidPublicKey,
    InvalidPublicKeyLength,
    InvalidVerificationMethod,
    MethodNotSupported,
    NotFound,
    UnsupportedPublicKeyType,
)
from did.multikey import decode_ed25519_public
from did.options import check_did_parameters, check_resolution_options
from did.syntax import DID, DIDURL, absolute_did_url, parse_did, parse_did_url
from did.timestamps import parse_date_time_stamp

RESOLUTION_CONTEXT = "https://w3id.org/did-resolution/v1"
MULTIBASE_TYPES = ("Multikey", "Ed25519VerificationKey2020")
JWK_TYPES = ("JsonWebKey", "JsonWebKey2020")


@dataclass(frozen=True)
class ResolutionResult:
    """A DID Resolution result. ``exception`` keeps the original error for dereferencing
    (it is not part of the JSON)."""

    did_document: dict[str, Any] | None
    resolution_metadata: dict[str, Any] = field(default_factory=dict)
    document_metadata: dict[str, Any] = field(default_factory=dict)
    exception: DIDError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def success(cls, document: dict[str, Any], *, document_metadata: dict[str, Any] | None = None) -> "ResolutionResult":
        """A resolved document. The resolution metadata is empty: DID Core 1.0 §7.1.2 says
        ``contentType`` "MUST NOT be present if the resolve function was called" (the document
        is the abstract data model, in no representation); ``representation()`` gives the
        serialized form with its media type."""
        return cls(document, {}, dict(document_metadata or {}))

    @classmethod
    def failure(cls, error: DIDError) -> "ResolutionResult":
        metadata: dict[str, Any] = {"error": error.code, "errorMessage": error.detail}
        reason = getattr(error, "reason", None)
        if reason:
            metadata["errorReason"] = reason
        return cls(None, metadata, {}, error)

    @property
    def error(self) -> str | None:
        return self.resolution_metadata.get("error")

    def document_or_raise(self) -> dict[str, Any]:
        if self.error is not None or self.did_document is None:
            if self.exception is not None:
                raise self.exception
            raise DIDError(self.resolution_metadata.get("errorMessage", "resolution failed"), code=self.error)
        return self.did_document

    def to_json(self) -> dict[str, Any]:
        return {
            "@context": RESOLUTION_CONTEXT,
            "didDocument": self.did_document,
            "didResolutionMetadata": self.resolution_metadata,
            "didDocumentMetadata": self.document_metadata,
        }

    def representation(self) -> tuple[bytes, dict[str, Any]]:
        """DID Core 1.0 §7.1 resolveRepresentation: the document serialized as JSON and the
        resolution metadata with its ``contentType`` (``did.document.media_type``: the JSON-LD
        type only when the document's ``@context`` begins with the DID context). A failure gives
        an empty stream and the metadata with its error."""
        if self.did_document is None or self.error is not None:
            return b"", dict(self.resolution_metadata)
        stream = json.dumps(self.did_document, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return stream, {**self.resolution_metadata, "contentType": media_type(self.did_document)}


class DIDResolver(Protocol):
    """A resolver for one DID method (or all). ``resolve`` returns failures, never raises."""

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult: ...


@dataclass(frozen=True)
class VerificationMethod:
    """A dereferenced Ed25519 verification method. ``document`` is its controller's DID document,
    which is where the proof purpose check (``is_authorized``) looks. ``revoked`` and ``expires``
    are the method's own (Controlled Identifiers 1.0 §2.2), as its document writes them (already
    checked to be dateTimeStamps); ``check_usable`` compares them with a verification's time."""

    id: str
    type: str
    controller: str
    public_key: bytes
    document: dict[str, Any] = field(compare=False, repr=False)
    revoked: str | None = None
    expires: str | None = None

    def check_usable(self, now: datetime) -> None:
        """Raise ``InvalidVerificationMethod`` when the method was revoked, or expired, at or
        before ``now`` (the verifier's clock).

        Controlled Identifiers 1.0 §2.2: "systems depending on the value are expected to not
        verify any proofs associated with the verification method at or after the time of
        revocation" (of expiration, for ``expires``). The time compared is the verification's,
        not the proof's ``created``: that is the signer's claim, and a holder of a revoked key
        can write any date there (CID 1.0, Revocation Semantics).
        """
        for name, text in (("revoked", self.revoked), ("expires", self.expires)):
            if text is not None and parse_date_time_stamp(text) <= now:
                what = "was revoked" if name == "revoked" else "expired"
                raise InvalidVerificationMethod(
                    f"verification method {self.id} {what} at {text} ({name} in the DID document of "
                    f"{self.controller}); no proof made with it verifies at or after that time",
                    **{name: text},
                )


_NAMED = ("verificationMethod", *RELATIONSHIPS, "service")


def _embedded_nodes(document: Mapping[str, Any], keys: Iterable[str] = _NAMED) -> Iterable[Mapping[str, Any]]:
    """Every object with an ``id`` that a fragment can name: verification methods (listed or
    embedded in a relationship) and services."""
    for key in keys:
        entries = document.get(key)
        if isinstance(entries, Mapping):
            entries = [entries]
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                    yield entry


def find_node(document: Mapping[str, Any], did_url: str) -> dict[str, Any] | None:
    """The object of ``document`` whose id (absolute or relative) is ``did_url``; ids made absolute."""
    base = document.get("id")
    if not isinstance(base, str):
        return None
    for node in _embedded_nodes(document):
        if absolute_did_url(node["id"], base) == did_url:
            found = json_copy(dict(node))
            found["id"] = did_url
            if isinstance(found.get("controller"), str):
                found["controller"] = absolute_did_url(found["controller"], base)
            return found
    return None


def _b64url_decode(value: str) -> bytes:
    if not isinstance(value, str) or "=" in value:
        raise InvalidPublicKey("publicKeyJwk 'x' must be unpadded base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as e:
        raise InvalidPublicKey(f"publicKeyJwk 'x' is not base64url: {e}") from e


def public_key_of(method: Mapping[str, Any]) -> bytes:
    """The raw Ed25519 public key of a verification method: ``Multikey`` or
    ``Ed25519VerificationKey2020`` (publicKeyMultibase, Controlled Identifiers §2.2.2) or
    ``JsonWebKey``/``JsonWebKey2020`` (OKP Ed25519 publicKeyJwk, RFC 8037)."""
    vm_type = method.get("type")
    has_multibase, has_jwk = "publicKeyMultibase" in method, "publicKeyJwk" in method
    if has_multibase and has_jwk:
        raise InvalidPublicKey("a verification method must not carry both publicKeyMultibase and publicKeyJwk")
    if vm_type in MULTIBASE_TYPES:
        if not isinstance(method.get("publicKeyMultibase"), str):
            raise InvalidPublicKey(f"a {vm_type} verification method needs publicKeyMultibase")
        key = decode_ed25519_public(method["publicKeyMultibase"])
    elif vm_type in JWK_TYPES:
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping):
            raise InvalidPublicKey(f"a {vm_type} verification method needs a publicKeyJwk object")
        if "d" in jwk:
            raise InvalidPublicKey("publicKeyJwk holds private key material ('d')")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise UnsupportedPublicKeyType(
                f"publicKeyJwk is kty={jwk.get('kty')!r} crv={jwk.get('crv')!r}; only OKP Ed25519 is supported"
            )
        key = _b64url_decode(jwk.get("x"))
        if len(key) != 32:
            raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, publicKeyJwk 'x' holds {len(key)}")
    else:
        raise UnsupportedPublicKeyType(
            f"verification method type {vm_type!r} is not supported"
            f" (one of {', '.join(MULTIBASE_TYPES + JWK_TYPES)})"
        )
    return check_ed25519_public_key(key)


def _lifetime(method: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A verification method's ``revoked`` and ``expires``. Controlled Identifiers 1.0 §2.2: each,
    if present, MUST be an XML Schema dateTimeStamp; a method breaking that is not a conforming
    verification method, which §3.3 (Retrieve Verification Method) refuses."""
    out: list[str | None] = []
    for name in ("revoked", "expires"):
        value = method.get(name)
        if name in method:
            try:
                parse_date_time_stamp(value)
            except ValueError as e:
                raise InvalidVerificationMethod(
                    f"verification method {method.get('id')!r} has {name} {value!r}, which is not an XML Schema "
                    f"dateTimeStamp ({e}); Controlled Identifiers 1.0 §2.2 requires one"
                ) from None
        out.append(value)
    return out[0], out[1]


def is_authorized(document: Mapping[str, Any], vm_id: str, purpose: str) -> bool:
    """Whether ``vm_id`` is listed (referenced or embedded, relative or absolute) under the
    verification relationship ``purpose`` of ``document`` (DID Core §5.3)."""
    if purpose not in RELATIONSHIPS:
        raise ValueError(f"unknown verification relationship {purpose!r} (one of {', '.join(RELATIONSHIPS)})")
    base = document.get("id")
    if not isinstance(base, str):
        return False
    entries = document.get(purpose)
    if entries is None:
        return False
    if not isinstance(entries, list):
        entries = [entries]
    target = absolute_did_url(vm_id, base)
    for entry in entries:
        ref = entry.get("id") if isinstance(entry, Mapping) else entry
        if isinstance(ref, str) and absolute_did_url(ref, base) == target:
            return True
    return False


class Resolver:
    """Resolve any DID through the method resolver registered for its method.

    Verification methods of DIDs whose method resolver is ``deterministic`` (did:key: the
    document is a function of the DID alone) are remembered by DID URL, the last
    ``method_cache_size`` of them: resolving one is ~0.1 ms, a tenth of a whole credential
    verification, and a verifier sees the same issuer keys again and again. Failures are not
    remembered; each caller gets its own document.
    """

    def __init__(self, methods: Mapping[str, DIDResolver], *, method_cache_size: int = 1024) -> None:
        self.methods = dict(methods)
        self.method_cache_size = max(0, method_cache_size)
        # DID URL -> (id, type, controller, public key, frozen controller document, revoked,
        # expires); the LRU is thread-safe (the node verifies on worker threads too)
        self._method_cache: LRU[str, tuple[str, str, str, bytes, FrozenJSON, str | None, str | None]] = LRU(
            self.method_cache_size
        )

    def _deterministic(self, parsed: DID | DIDURL) -> bool:
        """Whether resolving ``parsed`` gives the same answer every time (so it may be remembered)."""
        return bool(getattr(self.methods.get(parsed.method), "deterministic", False))

    def _remembered(self, did_url: str) -> VerificationMethod | None:
        hit = self._method_cache.get(did_url)
        if hit is None:
            return None
        vm_id, vm_type, controller, public_key, document, revoked, expires = hit
        return VerificationMethod(vm_id, vm_type, controller, public_key, document.thaw(), revoked, expires)

    def _remember(self, did_url: str, vm: VerificationMethod) -> None:
        if not self.method_cache_size:
            return
        try:
            entry = (vm.id, vm.type, vm.controller, vm.public_key, FrozenJSON(vm.document), vm.revoked, vm.expires)
        except ValueError:  # a document FrozenJSON cannot hold: simply not remembered
            return
        self._method_cache[did_url] = entry

    async def _resolve_method(
        self, parsed: DID, did: str, options: Mapping[str, Any] | None
    ) -> ResolutionResult:
        method_resolver = self.methods.get(parsed.method)
        if method_resolver is None:
            raise MethodNotSupported(
                f"DID method {parsed.method!r} is not supported (supported: {', '.join(sorted(self.methods)) or 'none'})"
            )
        if options:
            # DID Resolution v1 §4 step 3, whatever the method resolver does with them
            check_resolution_options(options, getattr(method_resolver, "resolution_options", ()), parsed.method)
            return await method_resolver.resolve(did, options)
        return await method_resolver.resolve(did)

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        """DID Resolution (DID Core §7.1). Failures come back as results, never as exceptions."""
        try:
            parsed = parse_did(did)
            result = await self._resolve_method(parsed, did, options)
            if result.error is not None:
                return result
            # Every method's documents, fetched or built, pass the one conformance check, once: a
            # method resolver that checks what it fetches before caching it says so.
            if not getattr(self.methods.get(parsed.method), "checks_documents", False):
                check_did_document(result.did_document, did)
            return result
        except DIDError as e:
            return ResolutionResult.failure(e)
        except Exception as e:  # a bug in a method resolver must not escape a verification
            return ResolutionResult.failure(DIDError(f"internal error resolving {did!r}: {e!r}", code="internalError"))

    async def dereference(self, did_url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """DID URL dereferencing (DID Core §7.2): the DID document, or the node its fragment names.

        Raises ``DIDError`` (``invalidDidUrl``, ``featureNotSupported`` for DID parameters such as
        ``?service=`` or ``?versionId=``, which this resolver does not implement, ``notFound`` for
        other paths and queries and for a fragment naming nothing, or the resolution's error).
        """
        parsed = parse_did_url(did_url)
        check_did_parameters(parsed.query, did_url)
        document = (await self.resolve(parsed.did, options)).document_or_raise()
        if parsed.path or parsed.query is not None:
            # DID Resolution v1 §5: a path or query no one here can dereference is notFound
            raise NotFound(f"dereferencing DID URL paths and queries is not supported: {did_url!r}")
        if parsed.fragment is None:
            return document
        node = find_node(document, str(parsed))
        if node is None:
            raise NotFound(f"the DID document of {parsed.did} has nothing with id {did_url!r}")
        return node

    async def resolve_verification_method(
        self, did_url: str, options: Mapping[str, Any] | None = None
    ) -> VerificationMethod:
        """Dereference ``did_url`` to an Ed25519 verification method and the DID document holding it,
        which must be its controller's (Controlled Identifiers 1.0 §3.3, Retrieve Verification Method).

        A bare did:key names the key the DID encodes, as proofs that name ``did:key:z6Mk...``
        without a fragment expect; a bare DID of any other method is ``invalidVerificationMethod``.
        """
        if options is None and self.method_cache_size:
            remembered = self._remembered(did_url)
            if remembered is not None:
                return remembered
        parsed = parse_did_url(did_url)
        check_did_parameters(parsed.query, did_url)
        if parsed.path or parsed.query is not None:
            raise NotFound(f"a verification method is named by a DID URL with a fragment, not {did_url!r}")
        document = (await self.resolve(parsed.did, options)).document_or_raise()
        if parsed.fragment is not None:
            node = find_node(document, str(parsed))
            refresh = getattr(self.methods.get(parsed.method), "refresh", None)
            if node is None and refresh is not None and await refresh(parsed.did):
                # The document may be a cached copy from before its controller added this key
                # (a key rotation): look once more in a freshly fetched one.
                document = (await self.resolve(parsed.did, options)).document_or_raise()
                node = find_node(document, str(parsed))
        else:
            node = self._single_method(document, parsed)
        if node is None:
            raise NotFound(f"the DID document of {parsed.did} has no verification method {did_url!r}")
        vm_type, controller = node.get("type"), node.get("controller")
        if not isinstance(vm_type, str) or not isinstance(controller, str):
            raise InvalidDIDDocument(f"verification method {node['id']!r} lacks a type or controller")
        # Controlled Identifiers 1.0 §3.3 step 10: a method whose controller is not the DID whose
        # document holds it MUST be refused. Following the controller to its own document instead
        # would let any document lend itself a stranger's authority: that document is then the
        # one the purpose check reads, and its controller need never have listed this key.
        if controller != parsed.did:
            raise InvalidVerificationMethod(
                f"verification method {node['id']!r} has controller {controller!r}, but it is in the DID "
                f"document of {parsed.did}; the controller must be the DID whose document holds it"
            )
        revoked, expires = _lifetime(node)
        vm = VerificationMethod(node["id"], vm_type, controller, public_key_of(node), document, revoked, expires)
        if options is None and self._deterministic(parsed):
            self._remember(did_url, vm)
        return vm

    @staticmethod
    def _single_method(document: Mapping[str, Any], parsed: Any) -> dict[str, Any] | None:
        """The method a bare DID names. Only for did:key, whose DID is its key (the Bitstring
        Status List examples sign with a bare did:key; vectors README caveat 6). Any other bare
        DID names a document, not a method: Controlled Identifiers 1.0 §3.3 refuses a method
        whose id is not the URL asked for, and the JS reference refuses it too."""
        if parsed.method == "key":
            return find_node(document, f"{parsed.did}#{parsed.msid.split(':')[-1]}")
        raise InvalidVerificationMethod(
            f"{parsed.did} is a DID, not a verification method: name one of its methods with a #fragment "
            "(Controlled Identifiers 1.0 §3.3: the method's id must be the URL the proof names)"
        )


class StaticResolver(Resolver):
    """Resolve DIDs from a fixed table of documents (keyed by DID, or a list of documents);
    DIDs not in the table go to ``methods`` (e.g. ``{"key": DIDKeyResolver()}``) if given.
    Callers get copies, so a test that edits a result cannot change the table."""

    def __init__(
        self,
        documents: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
        methods: Mapping[str, DIDResolver] | None = None,
    ) -> None:
        super().__init__(methods or {})
        if isinstance(documents, Mapping):
            table = {did: json_copy(dict(doc)) for did, doc in documents.items()}
        else:
            table = {doc["id"]: json_copy(dict(doc)) for doc in documents}
        self.documents = table

    def _deterministic(self, parsed: DID | DIDURL) -> bool:
        # the table is public and may be edited after construction: only the method resolvers count
        return parsed.did not in self.documents and super()._deterministic(parsed)

    async def _resolve_method(
        self, parsed: DID, did: str, options: Mapping[str, Any] | None
    ) -> ResolutionResult:
        if did in self.documents:
            check_resolution_options(options, (), parsed.method)  # a table has no options to honour
            return ResolutionResult.success(json_copy(self.documents[did]))
        if parsed.method in self.methods:
            return await super()._resolve_method(parsed, did, options)
        raise NotFound(f"{did} is not in the static table")
