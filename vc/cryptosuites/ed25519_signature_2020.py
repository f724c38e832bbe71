"""Ed25519Signature2020: the suite before Data Integrity's cryptosuites (vc-di-eddsa Appendix,
W3C CCG "Ed25519 Signature 2020"). Open Badges wallets and issuers still produce it.

RDFC-1.0 as eddsa-rdfc-2022, but the proof type is ``Ed25519Signature2020`` with no
``cryptosuite``, and the document's @context must include the suite context that defines it.
https://w3c-ccg.github.io/di-eddsa-2020/
"""

from __future__ import annotations

from typing import Any

from vc import jsonld
from vc.cryptosuites.base import DocumentLoader, Ed25519Suite, JsonObject
from vc.errors import InvalidProofConfigurationError, ProofTransformationError

SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


def _contexts(document: JsonObject) -> list[Any]:
    ctx = document.get("@context")
    return list(ctx) if isinstance(ctx, list) else [ctx] if ctx is not None else []


class Ed25519Signature2020(Ed25519Suite):
    name = "Ed25519Signature2020"
    proof_type = "Ed25519Signature2020"
    cryptosuite = None

    def prepare_document(self, document: JsonObject) -> JsonObject:
        """Add the suite context when signing, as jsonld-signatures does."""
        contexts = _contexts(document)
        if SUITE_CONTEXT in contexts:
            return document
        return {**document, "@context": [*contexts, SUITE_CONTEXT]}

    def _check_context(self, document: JsonObject) -> None:
        if SUITE_CONTEXT not in _contexts(document):
            raise ProofTransformationError(f"an Ed25519Signature2020 proof needs {SUITE_CONTEXT} in the document's @context")

    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes:
        self._check_options(options, ProofTransformationError)
        self._check_context(document)
        return jsonld.canonize(document, loader=loader).encode("utf-8")

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        self._check_options(options, InvalidProofConfigurationError)
        self._check_context(document)
        config: dict[str, Any] = {k: v for k, v in options.items() if k not in ("proofValue", "@context")}
        config["@context"] = document.get("@context")
        # the same canonical form as jsonld.canonize, remembered per loader (proof options recur)
        return jsonld.canonize_proof_configuration(config, loader=loader).encode("utf-8")


ED25519_SIGNATURE_2020 = Ed25519Signature2020()
