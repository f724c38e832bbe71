"""What every cryptosuite is, and the steps the Ed25519 suites share.

(Package overview in ``vc/cryptosuites/__init__.py``.)

A suite turns an unsecured document and proof options into the bytes that are signed:
``transform`` (canonicalize the document), ``configure_proof`` (canonicalize the proof
options), ``hash`` (SHA-256 of both, proof first), then ``sign`` / ``verify`` that hash with
Ed25519. The Data Integrity algorithms around them (adding proofs, proof sets and chains,
purpose, domain, challenge, the verification method) live once, in ``vc.proofs``.

https://www.w3.org/TR/vc-di-eddsa/ ; the suites are looked up by ``proof.cryptosuite`` (or by
``proof.type`` for the older suite that has no cryptosuite property).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Mapping, Protocol

from did.multikey import b58decode, b58encode
from vc.crypto import Ed25519KeyPair, InvalidSignature, verify_ed25519
from vc.errors import MalformedProofError, ProofVerificationError

JsonObject = dict[str, Any]
DocumentLoader = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]

class Cryptosuite(Protocol):
    name: str  # the key in SUITES: proof.cryptosuite, or proof.type for a suite without one
    proof_type: str  # proof.type
    cryptosuite: str | None  # proof.cryptosuite (None for Ed25519Signature2020)
    reads_json_ld: bool  # whether transform() interprets the document as JSON-LD (RDFC) or not (JCS)

    def prepare_document(self, document: JsonObject) -> JsonObject: ...
    def proof_options(self, options: JsonObject, document: JsonObject) -> JsonObject: ...
    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes: ...
    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes: ...
    def hash(self, transformed: bytes, proof_config: bytes) -> bytes: ...
    def sign(self, hash_data: bytes, key: Ed25519KeyPair) -> str: ...
    def verify(self, hash_data: bytes, proof_value: str, public_key: bytes) -> None: ...
    def check_contexts(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> None: ...


class Ed25519Suite:
    """The steps every Ed25519 suite of vc-di-eddsa shares; a suite overrides transform and
    configure_proof (and the options/document hooks when its proofs differ)."""

    name: str = ""
    proof_type: str = "DataIntegrityProof"
    cryptosuite: str | None = None
    reads_json_ld: bool = True

    def _check_options(self, options: Mapping[str, Any], error: type[Exception]) -> None:
        if options.get("type") != self.proof_type or options.get("cryptosuite") != self.cryptosuite:
            expected = f"type {self.proof_type!r}" + (f" and cryptosuite {self.cryptosuite!r}" if self.cryptosuite else "")
            raise error(f"the proof options are not for {self.name} (expected {expected})")

    def prepare_document(self, document: JsonObject) -> JsonObject:
        """The document as it will be signed (a suite may need its context in it)."""
        return document

    def proof_options(self, options: JsonObject, document: JsonObject) -> JsonObject:
        """The proof as stored in the secured document, before ``proofValue`` is added."""
        return dict(options)

    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes:
        raise NotImplementedError

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        raise NotImplementedError

    def hash(self, transformed: bytes, proof_config: bytes) -> bytes:
        """vc-di-eddsa §3.2.4 / §3.3.4 Hashing: SHA-256(proof config) || SHA-256(document)."""
        return hashlib.sha256(proof_config).digest() + hashlib.sha256(transformed).digest()

    def sign(self, hash_data: bytes, key: Ed25519KeyPair) -> str:
        """§3.2.6 Proof Serialization: Ed25519 signature, multibase base58btc."""
        return "z" + b58encode(key.sign(hash_data))

    def verify(self, hash_data: bytes, proof_value: str, public_key: bytes) -> None:
        """§3.2.7 Proof Verification; raises ProofVerificationError."""
        signature = decode_proof_value(proof_value)
        if len(signature) != 64:
            raise ProofVerificationError(f"proofValue decodes to {len(signature)} bytes; an Ed25519 signature is 64")
        try:
            verify_ed25519(public_key, hash_data, signature)
        except InvalidSignature as e:
            raise ProofVerificationError(
                "the signature does not verify: the document, its proof or its context changed after signing, "
                "or it was signed with another key"
            ) from e

    def check_contexts(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> None:
        """VC Data Integrity 1.0 §2.4.1 / §4.6: validate the secured document's contexts, after
        its proof verified. Nothing is left to do for a suite that signs the whole @context and
        canonicalizes the document as JSON-LD in safe mode (RDFC): an unknown context or a
        protected term's redefinition already failed the transformation. eddsa-jcs-2022, whose
        signature may cover only a prefix of the @context, overrides it."""


MAX_PROOF_VALUE_CHARS = 1 + 88  # "z" + base58btc of 64 bytes


def decode_proof_value(proof_value: Any) -> bytes:
    """Multibase base58btc (``z...``) to bytes; a PROOF_VERIFICATION_ERROR (malformed) otherwise."""
    if not isinstance(proof_value, str) or not proof_value.startswith("z") or len(proof_value) < 2:
        raise MalformedProofError("proofValue must be a multibase base58btc string (starting with 'z')")
    if len(proof_value) > MAX_PROOF_VALUE_CHARS:
        # base58 decoding is quadratic: 400,000 characters cost some 20 s of CPU, for a value
        # that can only be refused (an Ed25519 signature is 64 bytes, at most 88 characters).
        raise MalformedProofError(
            f"proofValue is {len(proof_value)} characters; an Ed25519 signature takes at most {MAX_PROOF_VALUE_CHARS}"
        )
    try:
        return b58decode(proof_value[1:])
    except ValueError as e:
        raise MalformedProofError(f"proofValue is not valid base58btc: {e}") from e
