"""eddsa-rdfc-2022: RDFC-1.0 canonicalization, SHA-256, Ed25519 (vc-di-eddsa §3.2).

https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022
"""

from __future__ import annotations

from typing import Any

from vc import jsonld
from vc.cryptosuites.base import DocumentLoader, Ed25519Suite, JsonObject
from vc.errors import InvalidProofConfigurationError, ProofTransformationError


class EddsaRdfc2022(Ed25519Suite):
    name = "eddsa-rdfc-2022"
    cryptosuite = "eddsa-rdfc-2022"

    def transform(self, document: JsonObject, options: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.2.3 Transformation: RDFC-1.0 of the unsecured document (safe mode)."""
        self._check_options(options, ProofTransformationError)
        return jsonld.canonize(document, loader=loader).encode("utf-8")

    def configure_proof(self, options: JsonObject, document: JsonObject, *, loader: DocumentLoader) -> bytes:
        """§3.2.5 Proof Configuration: the proof options, with the document's @context, in RDFC-1.0.

        The stored proof carries no @context; it is read in the document's.
        """
        self._check_options(options, InvalidProofConfigurationError)
        config: dict[str, Any] = {k: v for k, v in options.items() if k not in ("proofValue", "@context")}
        config["@context"] = document.get("@context")
        # the same canonical form as jsonld.canonize, remembered per loader (proof options recur)
        return jsonld.canonize_proof_configuration(config, loader=loader).encode("utf-8")


EDDSA_RDFC_2022 = EddsaRdfc2022()
