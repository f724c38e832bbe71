"""eddsa-rdfc-2022: RDFC-1.0 canonicalization, SHA-256, Ed25519 (vc-di-eddsa §3.2).

https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022
"""

from __future__ import annotations

from typing import Any

from vc import jsonld
from vc.cryptosuites.base import DocumentLoader, Ed25519Suite, JsonObject
from vc.errors import InvalidProofConfigurationError, ProofGenerationError, ProofTransformationError

DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
# Defines every Data Integrity term itself (VC Data Model 2.0 §B.1 includes them).
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"


def _utf8(nquads: str, what: str) -> bytes:
    """The canonical N-Quads as the UTF-8 bytes that are hashed (RDFC-1.0 §4.3)."""
    try:
        return nquads.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: a dict handed in directly (JSON text is checked by vc.limits)
        raise ProofTransformationError(
            f"the {what} holds U+{ord(nquads[e.start]):04X}, half of a surrogate pair with no partner: not Unicode text, "
            "so it has no UTF-8 form to sign or verify"
        ) from e


class EddsaRdfc2022(Ed25519Suite):
    name = "eddsa-rdfc-2022"
    cryptosuite = "eddsa-rdfc-2022"

    def prepare_document(self, document: JsonObject) -> JsonObject:
        """VC Data Integrity 1.0 §2.4.2 Context Injection: when neither the data-integrity
        context nor credentials/v2 (which includes it) is in the @context, append
        data-integrity/v2 before signing, as Digital Bazaar's suites do (``ensureSuiteContext``
        with ``addSuiteContext``). The proof configuration is read in the document's @context
        (§3.2.5 step 4): without it, DataIntegrityProof, cryptosuite and verificationMethod
        are undefined (a VC 1.1 credential) or land in an ``@vocab`` of someone else's (the
        examples'), and the reference verifier, which injects the context, computes another
        hash."""
        context = document.get("@context")
        items = context if isinstance(context, list) else [] if context is None else [context]
        if DATA_INTEGRITY_V2 in items or CREDENTIALS_V2 in items:
            return document
        if document.get("proof") not in (None, [], {}):
            # An earlier proof covers the @context as it is (its own, or the one its chain or set
            # was made over): adding a context would break it.
            raise ProofGenerationError(
                f"the document's @context lacks {DATA_INTEGRITY_V2!r}, which an eddsa-rdfc-2022 proof needs "
                "for its terms, and the document already has proofs that adding it would break; add it "
                "before the first proof"
            )
        return {**document, "@context": [*items, DATA_INTEGRITY_V2]}

    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.2.3 Transformation: RDFC-1.0 of the unsecured document (safe mode)."""
        self._check_options(options, ProofTransformationError)
        return _utf8(jsonld.canonize(document, loader=loader), "document")

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.2.5 Proof Configuration: the proof options, with the document's @context, in RDFC-1.0.

        The stored proof carries no @context; it is read in the document's.
        """
        self._check_options(options, InvalidProofConfigurationError)
        config: dict[str, Any] = {k: v for k, v in options.items() if k not in ("proofValue", "@context")}
        config["@context"] = document.get("@context")
        # the same canonical form as jsonld.canonize, remembered per loader (proof options recur)
        return _utf8(jsonld.canonize_proof_configuration(config, loader=loader), "proof options")


EDDSA_RDFC_2022 = EddsaRdfc2022()
