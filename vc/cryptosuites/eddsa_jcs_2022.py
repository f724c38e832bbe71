"""eddsa-jcs-2022: JSON Canonicalization Scheme (RFC 8785), SHA-256, Ed25519 (vc-di-eddsa §3.3).

https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022
"""

from __future__ import annotations

from typing import Any

import rfc8785

from vc import jcs, jsonld
from vc.cryptosuites.base import DocumentLoader, Ed25519Suite, JsonObject
from vc.errors import InvalidProofConfigurationError, ProblemError, ProofTransformationError, ProofVerificationError


def _jcs(value: Any, what: str) -> bytes:
    try:
        # vc.jcs: the same bytes as rfc8785.dumps (differential tests), ~5x faster for
        # credential-shaped JSON; it raises rfc8785's own errors for what JCS cannot represent
        return jcs.canonicalize(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise ProofTransformationError(f"the {what} cannot be canonicalized with JCS (RFC 8785): {e}") from e


class EddsaJcs2022(Ed25519Suite):
    name = "eddsa-jcs-2022"
    cryptosuite = "eddsa-jcs-2022"
    reads_json_ld = False

    def proof_options(self, options: JsonObject, document: JsonObject) -> JsonObject:
        """§3.3.1 Create Proof: the proof carries the document's @context."""
        proof = dict(options)
        if "@context" in document:
            proof["@context"] = document["@context"]
        return proof

    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.3.3 Transformation: JCS of the unsecured document.

        §3.3.2 step 4 (verification): a proof carrying @context was made over a document whose
        @context began with it, and is checked over the document with exactly that @context.
        Its contexts are validated as VC Data Integrity 1.0 §2.4.1 asks of every suite
        (``vc.jsonld.validate_contexts``): JCS alone would sign an unknown context happily.
        """
        self._check_options(options, ProofTransformationError)
        proof_context = options.get("@context")
        if proof_context is not None:
            doc_context = document.get("@context")
            wanted = proof_context if isinstance(proof_context, list) else [proof_context]
            have = doc_context if isinstance(doc_context, list) else [doc_context]
            if have[: len(wanted)] != wanted:
                raise ProofVerificationError("the document's @context does not start with the proof's @context")
            document = {**document, "@context": proof_context}
        jsonld.validate_contexts(document, loader=loader)
        return _jcs(document, "document")

    def check_contexts(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> None:
        """VC Data Integrity 1.0 §2.4.1 (§4.6), run after the proof verified: the contexts of the
        *whole* secured document, not only those the signature covers.

        §3.3.2 step 4 lets a document's @context continue past the proof's: those items are
        not signed, yet a JSON-LD reader applies them to the signed data. ``transform`` checked
        the signed prefix; here the appended items are. Each must be a context this node has
        pinned (an inline one is unsigned term definitions, which no one vouches for: it could
        remap every term no pinned context protects), and the @context as a whole must still
        process (no protected term redefined, nothing conflicting: credentials v1 after v2).
        """
        proof_context = options.get("@context")
        if proof_context is None:
            return  # the signature covers the document's @context as it is, validated in transform
        signed = len(proof_context) if isinstance(proof_context, list) else 1
        doc_context = document.get("@context")
        items = doc_context if isinstance(doc_context, list) else [doc_context]
        appended = items[signed:]
        if not appended:
            return
        # First the @context as a whole, whose refusals name the fault (an unknown URL, a
        # protected term redefined), then what is left: an inline context that redefines nothing.
        # Without "proof": a chained proof's document carries the earlier proofs it names. Each
        # refusal says the context came after the signed ones (appendedAfterSigning): a reader
        # can tell "added after signing" from "signed with a vocabulary this node does not know".
        try:
            jsonld.validate_contexts({k: v for k, v in document.items() if k != "proof"}, loader=loader)
        except ProblemError as e:
            e.extra["appendedAfterSigning"] = True
            raise
        for i, item in enumerate(appended, start=signed):
            if not isinstance(item, str):
                raise ProofTransformationError(
                    f"@context[{i}] is an inline context appended after signing (the proof's @context ends "
                    f"before it): unsigned term definitions would change what the signed data means to a "
                    f"JSON-LD reader; only contexts this node has pinned may follow the signed ones",
                    appendedAfterSigning=True,
                )

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.3.5 Proof Configuration: JCS of the proof options (with their @context)."""
        self._check_options(options, InvalidProofConfigurationError)
        return _jcs({k: v for k, v in options.items() if k != "proofValue"}, "proof options")


EDDSA_JCS_2022 = EddsaJcs2022()
