"""vc.results: the verification result shape callers read."""

from __future__ import annotations

from vc.errors import ProofVerificationError
from vc.results import Check, Checks, VerificationResult


def test_a_check_that_says_no_without_raising_still_yields_an_error() -> None:
    result = VerificationResult("credential")
    result.add(Check("dataModel", "passed"))
    result.add(Check("status", "failed", "the credential has been revoked by its issuer", data={"statusPurpose": "revocation"}))
    assert result.verified is False
    [error] = result.to_json()["errors"]
    assert error["code"] == "STATUS_CHECK_FAILED"
    assert error["detail"] == "the credential has been revoked by its issuer"
    assert error["statusPurpose"] == "revocation"


def test_passed_and_skipped_checks_are_not_errors_and_unknown_is_not_verified() -> None:
    result = VerificationResult("credential")
    result.add(Check("proof", "passed"))
    result.add(Check("status", "skipped", "no credentialStatus"))
    assert result.verified is True and result.errors == []
    result.add(Check("status", "unknown", "the list could not be fetched"))
    assert result.verified is False and result.errors[0].code == "STATUS_CHECK_FAILED"


def test_an_empty_result_is_not_verified() -> None:
    assert VerificationResult("credential").verified is False


def test_raised_problems_keep_their_spec_code_and_inner_credentials_are_prefixed() -> None:
    inner = VerificationResult("credential")
    with Checks(inner).run("proof"):
        raise ProofVerificationError("signature does not match")
    outer = VerificationResult("presentation")
    outer.add(Check("proof", "passed"))
    outer.credentials.append(inner)
    assert outer.verified is False
    [error, securing] = outer.errors
    assert error.code == "PROOF_VERIFICATION_ERROR"
    assert error.type == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert error.detail == "credential 0: signature does not match"
    assert securing.code == "CRYPTOGRAPHIC_SECURITY_ERROR" and securing.detail.startswith("credential 0: ")


CSE = "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"


def test_a_failed_proof_adds_one_cryptographic_security_error_after_its_own_problem() -> None:
    """VC DM 2.0 §7.1: "If result.status is set to false, add a CRYPTOGRAPHIC_SECURITY_ERROR to
    result.errors"; the Data Integrity problem saying which step failed stays first."""
    result = VerificationResult("credential")
    result.add(Check("dataModel", "passed"))
    for i in range(2):  # a proof set with two bad proofs: still one summary entry
        with Checks(result).run("proof"):
            raise ProofVerificationError(f"signature {i} does not match")
    result.add(Check("binding", "passed"))
    codes = [(e["code"], e["type"]) for e in result.to_json()["errors"]]
    assert codes == [
        ("PROOF_VERIFICATION_ERROR", "https://w3id.org/security#PROOF_VERIFICATION_ERROR"),
        ("PROOF_VERIFICATION_ERROR", "https://w3id.org/security#PROOF_VERIFICATION_ERROR"),
        ("CRYPTOGRAPHIC_SECURITY_ERROR", CSE),
    ]
    assert "2 of its proofs do not verify" in result.errors[-1].detail
    # Tallies count failed checks: one entry each, no summary.
    assert [p.code for p in result.check_problems] == ["PROOF_VERIFICATION_ERROR", "PROOF_VERIFICATION_ERROR"]


def test_no_cryptographic_security_error_without_a_failed_proof() -> None:
    result = VerificationResult("credential")
    result.add(Check("proof", "passed"))
    result.add(Check("status", "failed", "revoked"))
    assert [e.code for e in result.errors] == ["STATUS_CHECK_FAILED"]
    # A proof that could not be checked (its DID document unreachable) detected no tampering.
    unknown = VerificationResult("credential")
    unknown.add(Check("proof", "unknown", "the DID document could not be fetched"))
    assert [e.code for e in unknown.errors] == ["PROOF_CHECK_FAILED"]


def test_an_internal_error_is_typed_in_the_nodes_own_namespace() -> None:
    """VC DM 2.0 §7.2 defines no internal error: the catch-all is not put in its namespace."""
    result = VerificationResult("credential")
    with Checks(result).run("dataModel"):
        raise KeyError("a bug")
    [error] = result.errors
    assert (error.code, error.type) == ("INTERNAL_ERROR", "urn:vcnode:problem:INTERNAL_ERROR")
