"""Data Integrity cryptosuites: each a small object with its specification's steps.

A suite turns an unsecured document and proof options into the bytes that are signed:
``transform`` (canonicalize the document), ``configure_proof`` (canonicalize the proof
options), ``hash`` (SHA-256 of both, proof first), then ``sign`` / ``verify`` that hash with
Ed25519. The Data Integrity algorithms around them (adding proofs, proof sets and chains,
purpose, domain, challenge, the verification method) live once, in ``vc.proofs``.

https://www.w3.org/TR/vc-di-eddsa/ ; suites are looked up by ``proof.cryptosuite`` (or by
``proof.type`` for the older suite that has no cryptosuite property).
"""

from __future__ import annotations

from typing import Any, Mapping

from vc.cryptosuites.base import Cryptosuite, Ed25519Suite, decode_proof_value
from vc.cryptosuites.ed25519_signature_2020 import ED25519_SIGNATURE_2020
from vc.cryptosuites.eddsa_jcs_2022 import EDDSA_JCS_2022
from vc.cryptosuites.eddsa_rdfc_2022 import EDDSA_RDFC_2022
from vc.errors import ProofVerificationError

__all__ = [
    "Cryptosuite",
    "Ed25519Suite",
    "SUITES",
    "suite_for",
    "decode_proof_value",
    "EDDSA_RDFC_2022",
    "EDDSA_JCS_2022",
    "ED25519_SIGNATURE_2020",
]

SUITES: Mapping[str, Cryptosuite] = {s.name: s for s in (EDDSA_RDFC_2022, EDDSA_JCS_2022, ED25519_SIGNATURE_2020)}


def suite_for(proof: Mapping[str, Any], suites: Mapping[str, Cryptosuite] = SUITES) -> Cryptosuite:
    """The suite that made ``proof`` (by cryptosuite, or by type for the 2020 suite)."""
    key = proof.get("cryptosuite") if proof.get("type") == "DataIntegrityProof" else proof.get("type")
    suite = suites.get(key) if isinstance(key, str) else None
    if suite is None or suite.proof_type != proof.get("type") or suite.cryptosuite != proof.get("cryptosuite"):
        raise ProofVerificationError(
            f"unsupported proof: type {proof.get('type')!r}, cryptosuite {proof.get('cryptosuite')!r} "
            f"(supported: {', '.join(sorted(suites))})"
        )
    return suite
