"""Create, sign and verify Verifiable Presentations of embedded Data Integrity credentials.

VC Data Model 2.0 §4.13 (https://www.w3.org/TR/vc-data-model-2.0/#verifiable-presentations)
and VC Data Integrity 1.0 §4.5 (verify proof: challenge and domain,
https://www.w3.org/TR/vc-data-integrity/#verify-proof). Only embedded JSON-LD credentials are
processed; enveloped forms (VC-JOSE-COSE, SD-JWT) and JWT strings are refused by name.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Sequence

from vc import proofs
from vc.credentials import CheckStatus, Reporter, proof_checks, controller_of, verify_credential
from vc.datamodel import CREDENTIALS_V2, check_presentation, embedded_credentials, holder_id, issuer_id
from vc.errors import (
    InvalidChallengeError,
    InvalidDomainError,
    MalformedValueError,
    ProofGenerationError,
)
from vc.limits import DEFAULT_LIMITS, Limits, check_presentation_bounds
from vc.results import Check, Checks, VerificationResult, failed

JsonObject = dict[str, Any]

AUTHENTICATION = "authentication"


def create_presentation(
    credentials: JsonObject | list[JsonObject],
    *,
    holder: str | None = None,
    id: str | None = None,
    contexts: list[Any] | None = None,
) -> JsonObject:
    """A new unsigned presentation holding copies of ``credentials`` (each already secured)."""
    items = credentials if isinstance(credentials, list) else [credentials]
    for i, c in enumerate(items):
        if not isinstance(c, dict):
            raise MalformedValueError(f"credential {i} must be a credential object, got {type(c).__name__}")
        if "proof" not in c:
            raise MalformedValueError(f"credential {i} has no proof; a presentation carries verifiable credentials")
    vp: JsonObject = {"@context": [CREDENTIALS_V2, *(contexts or [])], "type": ["VerifiablePresentation"]}
    if id is not None:
        vp["id"] = id
    if holder is not None:
        vp["holder"] = holder
    if items:
        vp["verifiableCredential"] = copy.deepcopy(items)
    check_presentation(vp)
    return vp


def sign_presentation(
    presentation: JsonObject,
    *,
    key: Any,
    verification_method: str,
    suite: Any,
    loader: Any,
    now: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    nonce: str | None = None,
    created: datetime | None = None,
    expires: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> JsonObject:
    """Return a copy of ``presentation`` with a Data Integrity proof of purpose authentication."""
    check_presentation_bounds(presentation, limits=limits)
    check_presentation(presentation)
    holder = holder_id(presentation)
    if holder is not None and controller_of(verification_method) != holder:
        raise ProofGenerationError(
            f"the verification method {verification_method} does not belong to the holder {holder}; "
            "verifiers would reject the presentation"
        )
    return proofs.add_proof(
        presentation,  # add_proof signs a copy of its own: the input is never mutated
        suite=suite,
        key=key,
        verification_method=verification_method,
        purpose=AUTHENTICATION,
        created=created or now,
        loader=loader,
        challenge=challenge,
        domain=domain,
        nonce=nonce,
        expires=expires,
    )


def _proofs_of(vp: JsonObject) -> list[JsonObject]:
    raw = vp.get("proof")
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [p for p in items if isinstance(p, dict)]


def _check_challenge(vp: JsonObject, expected: str) -> str:
    """VC Data Integrity 1.0 §4.5 step: every proof must carry the challenge the verifier expects."""
    found = _proofs_of(vp)
    if not found:
        raise InvalidChallengeError(
            f"the verifier expects challenge {expected!r} but the presentation has no proof to carry it"
        )
    for i, proof in enumerate(found):
        got = proof.get("challenge")
        if got is None:
            raise InvalidChallengeError(f"proof {i} has no challenge; the verifier expects {expected!r}")
        if got != expected:
            raise InvalidChallengeError(f"proof {i} has challenge {got!r}; the verifier expects {expected!r}")
    return f"the proof carries the expected challenge {expected!r}"


def _check_domain(vp: JsonObject, expected: str) -> str:
    """VC Data Integrity 1.0 §4.4 step 6, for every proof: its domain is the expected one (``domain_matches``)."""
    found = _proofs_of(vp)
    if not found:
        raise InvalidDomainError(f"the verifier expects domain {expected!r} but the presentation has no proof to carry it")
    for i, proof in enumerate(found):
        got = proof.get("domain")
        if got is None:
            raise InvalidDomainError(f"proof {i} has no domain; the verifier expects {expected!r}")
        if not proofs.domain_matches(expected, got):
            raise InvalidDomainError(f"proof {i} has domain {got!r}; the verifier expects {expected!r}")
    return f"the proof carries the expected domain {expected!r}"


async def verify_presentation(
    vp: Any,
    *,
    resolver: Any,
    loader: Any,
    now: datetime,
    challenge: str | None,
    domain: str | None,
    check_status: CheckStatus | None = None,
    allow_unsigned: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    reporters: Sequence[Reporter] = (),
    offload: proofs.Offload[Any] | None = None,
) -> VerificationResult:
    """Verify a presentation and every credential it embeds (results in ``result.credentials``,
    each with the ``reporters``' reports, as ``verify_credential`` gives them).

    ``challenge`` and ``domain`` are what the verifier expects (None: not checked). A
    presentation without a proof fails unless ``allow_unsigned`` and no challenge or domain is
    expected. Never raises for bad input. ``offload`` as for ``verify_credential``.
    """
    result = VerificationResult("presentation", vp if isinstance(vp, dict) else None)
    checks = Checks(result)

    def structure() -> bool | None:
        with checks.run("bounds"):
            check_presentation_bounds(vp, limits=limits)
        if not result.checks[-1].ok:
            # A refused document is not kept: echoing or even repr()-ing something nested far
            # past the bound would hit the recursion limit wherever it is serialized.
            result.document = None
            return None
        with checks.run("dataModel") as ctx:
            report = check_presentation(vp)
            ctx.set("passed", f"VC Data Model {report.version}", version=report.version)
        return result.checks[-1].ok

    model_ok = structure() if offload is None else await offload(structure)
    if model_ok is None or not isinstance(vp, dict):
        return result
    if challenge is not None:
        with checks.run("challenge") as ctx:
            ctx.set("passed", _check_challenge(vp, challenge))
    if domain is not None:
        with checks.run("domain") as ctx:
            ctx.set("passed", _check_domain(vp, domain))
    if "proof" not in vp and allow_unsigned and challenge is None and domain is None:
        result.add(Check("proof", "skipped", "unsigned presentation accepted on request (allow_unsigned)"))
    else:
        # Challenge and domain are compared above, once, as their own entries; a missing
        # proof becomes a MALFORMED_PROOF_ERROR entry there.
        await proof_checks(
            vp,
            result,
            resolver=resolver,
            loader=loader,
            now=now,
            purpose=AUTHENTICATION,
            controller=holder_id(vp),
            offload=offload,
        )
    if model_ok:
        for credential in embedded_credentials(vp):
            result.credentials.append(
                await verify_credential(
                    credential,
                    resolver=resolver,
                    loader=loader,
                    now=now,
                    check_status=check_status,
                    limits=limits,
                    reporters=reporters,
                    offload=offload,
                )
            )
        # Recorded only when it fails: most presentations have nothing self-asserted to judge.
        try:
            _check_holder_claims(vp)
        except MalformedValueError as e:
            result.add(failed("holder", e))
    return result


def _check_holder_claims(vp: JsonObject) -> None:
    """VC DM 2.0 §5.13 (presentations including holder claims): a presentation that embeds a
    self-asserted credential *secured only by the same mechanism as the presentation* MUST
    have a holder.

    Read here as: a credential with no proof of its own, whose issuer signed the presentation,
    so that the presentation's proof is all that secures it. A credential carrying its own
    proof is secured like any other; a presenter may show credentials it issued itself without
    naming a holder (the VC DM 2.0 suite's presentations do). Such a proofless credential still
    fails its own verification (the node verifies embedded credentials by their own proofs);
    this says why the presentation is malformed as well."""
    if holder_id(vp) is not None:
        return
    proofs = vp.get("proof")
    signers = {
        controller_of(p["verificationMethod"])
        for p in (proofs if isinstance(proofs, list) else [proofs])
        if isinstance(p, dict) and isinstance(p.get("verificationMethod"), str)
    }
    for i, credential in enumerate(embedded_credentials(vp)):
        if isinstance(credential, dict) and credential.get("proof") in (None, [], {}) and issuer_id(credential) in signers:
            raise MalformedValueError(
                f"verifiableCredential[{i}] is self-asserted (its issuer {issuer_id(credential)} signed the "
                "presentation) and secured only by the presentation's proof, so the presentation must name that "
                "issuer as its holder (VC DM 2.0 §5.13)"
            )
