"""eddsa-jcs-2022: JSON Canonicalization Scheme (RFC 8785), SHA-256, Ed25519 (vc-di-eddsa §3.3).

https://www.w3.org/TR/vc-di-eddsa/#eddsa-jcs-2022
"""

from __future__ import annotations

from typing import Any

import rfc8785

from vc import jcs, jsonld
from vc.cryptosuites.base import DocumentLoader, Ed25519Suite, JsonObject
from vc.errors import InvalidProofConfigurationError, ProofTransformationError, ProofVerificationError


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

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.3.5 Proof Configuration: JCS of the proof options (with their @context)."""
        self._check_options(options, InvalidProofConfigurationError)
        return _jcs({k: v for k, v in options.items() if k != "proofValue"}, "proof options")


EDDSA_JCS_2022 = EddsaJcs2022()
