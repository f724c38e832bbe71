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
    [error] = outer.errors
    assert error.code == "PROOF_VERIFICATION_ERROR"
    assert error.type == "https://w3id.org/security#PROOF_VERIFICATION_ERROR"
    assert error.detail == "credential 0: signature does not match"
