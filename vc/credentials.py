"""Issue and verify Verifiable Credentials secured with Data Integrity proofs.

VC Data Model 2.0 §7 (verification: https://www.w3.org/TR/vc-data-model-2.0/#verification)
and VC Data Integrity 1.0 §4 (https://www.w3.org/TR/vc-data-integrity/#algorithms). Issuing
refuses what would not verify; verifying never raises: every failure is a ``Check`` in the
``VerificationResult``, converted in ``vc.results``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from vc import proofs
from vc.datamodel import (
    CREDENTIALS_V1,
    ResourceDigests,
    ValidityPeriodError,
    check_credential,
    issuer_id,
    validity_period,
)
from vc.errors import MalformedProofError, MalformedValueError, ProofGenerationError, StatusRetrievalError
from vc.limits import DEFAULT_LIMITS, Limits, check_credential_bounds
from vc.results import Check, Checks, VerificationResult, failed

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
CheckStatus = Callable[[JsonObject], Awaitable[list[Check]]]
# A profile's report on a verified credential (the EU micro-credential elements, say): it reads
# the credential and may add to ``result.reports``, never to the checks. The core knows no
# profile; a verifier passes the reporters of the profiles it speaks (``vc.edu.REPORTERS``).
Reporter = Callable[[Any, VerificationResult], None]

ASSERTION_METHOD = "assertionMethod"


def controller_of(verification_method: str) -> str:
    """The DID (or URL) a verification method id belongs to: everything before the fragment."""
    return verification_method.split("#", 1)[0]


def resource_digests(loader: Any) -> ResourceDigests | None:
    """The loader's ``digests(url, algorithm)`` when it has one (``vc.loader.ContextLoader`` does)."""
    digests = getattr(loader, "digests", None)
    return digests if callable(digests) else None


def issue_credential(
    credential: JsonObject,
    *,
    key: Any,
    verification_method: str,
    suite: Any,
    loader: Any,
    now: datetime,
    created: datetime | None = None,
    expires: datetime | None = None,
    previous_proof: str | list[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> JsonObject:
    """Return a copy of ``credential`` with a Data Integrity proof (purpose assertionMethod).

    Adds nothing else: the caller decides ``id``, ``validFrom`` and the rest. The input is
    checked against the data model first and never mutated. ``created`` defaults to ``now``.
    """
    check_credential_bounds(credential, limits=limits)
    report = check_credential(credential, resources=resource_digests(loader))
    if report.version != "2.0":
        raise MalformedValueError(
            f"this node issues VC Data Model 2.0 credentials only; the @context starts with {CREDENTIALS_V1!r} "
            "(1.1 credentials are accepted for verification)"
        )
    issuer = issuer_id(credential)
    if issuer is None:  # check_credential guarantees a URL; kept for type narrowing
        raise MalformedValueError("the credential has no issuer URL")
    # A proof by a key the issuer does not control verifies but fails the binding check
    # everywhere (here, and Digital Bazaar's "issuer must match the verification method
    # controller"); refuse to produce it. That includes URL issuers whose key is a DID's.
    if controller_of(verification_method) != issuer:
        raise ProofGenerationError(
            f"the verification method {verification_method} does not belong to the issuer {issuer}; "
            "verifiers would reject the credential"
        )
    return proofs.add_proof(
        credential,  # add_proof signs a copy of its own: the input is never mutated
        suite=suite,
        key=key,
        verification_method=verification_method,
        purpose=ASSERTION_METHOD,
        created=created or now,
        loader=loader,
        expires=expires,
        previous_proof=previous_proof,
    )


async def proof_checks(
    doc: JsonObject,
    result: VerificationResult,
    *,
    resolver: Any,
    loader: Any,
    now: datetime,
    purpose: str,
    controller: str | None,
    challenge: str | None = None,
    domain: str | None = None,
    offload: proofs.Offload[Any] | None = None,
) -> None:
    """Run the proofs engine into ``result``; its own failures become result entries too."""
    if not isinstance(doc, dict):
        return  # the dataModel entry already says it is not a JSON object
    if doc.get("proof") in (None, [], {}):
        result.add(failed("proof", MalformedProofError(f"the {result.kind} has no proof")))
        return
    try:
        checks = await proofs.verify_proofs(
            doc,
            resolver=resolver,
            loader=loader,
            now=now,
            expected_purpose=purpose,
            expected_controller=controller,
            challenge=challenge,
            domain=domain,
            offload=offload,
        )
    except Exception as e:  # the engine should not raise; if it does, it is still one entry
        result.add(failed("proof", e))
        return
    if not checks:
        result.add(failed("proof", MalformedProofError(f"no proof of the {result.kind} could be verified")))
        return
    for check in checks:
        result.add(check)


async def status_checks(credential: JsonObject, result: VerificationResult, check_status: CheckStatus | None) -> None:
    """Bitstring Status List §3.2 hook: one ``status`` entry per credentialStatus, or an unknown."""
    if not isinstance(credential, dict) or "credentialStatus" not in credential:
        return
    if check_status is None:
        # Unknown, with a problem entry, so an unverified result always says why.
        result.add(
            failed(
                "status",
                StatusRetrievalError(
                    "the credential has a credentialStatus but no status checker was supplied, so whether "
                    "it is revoked or suspended is not known"
                ),
            )
        )
        return
    try:
        checks = await check_status(credential)
    except Exception as e:
        result.add(failed("status", e))
        return
    if not checks:
        result.add(failed("status", StatusRetrievalError("the status checker reported nothing for the credentialStatus")))
        return
    for check in checks:
        result.add(check)


async def verify_credential(
    vc: Any,
    *,
    resolver: Any,
    loader: Any,
    now: datetime,
    check_status: CheckStatus | None = None,
    limits: Limits = DEFAULT_LIMITS,
    challenge: str | None = None,
    domain: str | None = None,
    reporters: Sequence[Reporter] = (),
    offload: proofs.Offload[Any] | None = None,
) -> VerificationResult:
    """Verify a credential: bounds, data model, validity period, proofs with binding to the
    issuer, and status. Never raises for bad input; ``result.verified`` says the verdict.

    ``challenge`` / ``domain``: the values the caller expects in the proofs (VC Data Integrity
    1.0 §4.3 verify proof: a non-null expected value must equal the proof's). ``reporters``
    then add their information to ``result.reports`` (``add_reports``). ``offload``
    (``vc.proofs.Offload``) runs the CPU-heavy steps elsewhere: the structural checks (their
    cost grows with the document) and each proof's canonicalization and signature check."""
    result = VerificationResult("credential", vc if isinstance(vc, dict) else None)

    def structure() -> bool:
        checks = Checks(result)
        with checks.run("bounds"):
            check_credential_bounds(vc, limits=limits)
        if not result.checks[-1].ok:
            # A refused document is not kept: echoing or even repr()-ing something nested far
            # past the bound would hit the recursion limit wherever it is serialized.
            result.document = None
            return False  # nothing more is safe to do with it
        with checks.run("dataModel") as ctx:
            report = check_credential(vc, resources=resource_digests(loader))
            ctx.set("passed", f"VC Data Model {report.version}", version=report.version)
            if report.checked_resources:
                ctx.data["relatedResourcesChecked"] = list(report.checked_resources)
            if report.unchecked_resources:
                ctx.data["relatedResourcesUnchecked"] = list(report.unchecked_resources)
        if result.checks[-1].ok:
            with checks.run("validity") as ctx:
                try:
                    message, skew = validity_period(vc, now=now)
                    # A period met only within the clock-skew allowance says so as data too (the
                    # verifier page must not call such a credential "within its validity period").
                    ctx.set("passed", message, **({"clockSkewAllowed": skew} if skew else {}))
                except ValidityPeriodError as e:
                    ctx.data["field"] = e.field  # which bound, for VC-API's results.validFrom / validUntil
                    raise
        return True

    if not (structure() if offload is None else await offload(structure)):
        return result
    await proof_checks(
        vc,
        result,
        resolver=resolver,
        loader=loader,
        now=now,
        purpose=ASSERTION_METHOD,
        controller=issuer_id(vc),
        challenge=challenge,
        domain=domain,
        offload=offload,
    )
    await status_checks(vc, result, check_status)
    add_reports(vc, result, reporters)
    return result


def add_reports(credential: Any, result: VerificationResult, reporters: Sequence[Reporter]) -> None:
    """Run each profile's reporter on a verified credential. Reports are information, not
    checks: a bug in one must neither change the verdict nor escape verification, so it is
    only logged."""
    for reporter in reporters:
        try:
            reporter(credential, result)
        except Exception:
            log.exception("the report %s failed; the verification result stands without it", getattr(reporter, "__qualname__", reporter))
