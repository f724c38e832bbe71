"""Data Integrity proofs: adding them, and verifying proof sets and chains (VC Data Integrity 1.0 §4).

The algorithms every cryptosuite shares live here once: proof options (``created``, ``expires``,
``domain``, ``challenge``, ``nonce``, ``proofPurpose``, ``previousProof``), proof sets (§4.3,
every proof must verify) and proof chains (a proof naming ``previousProof`` was made over the
document carrying those earlier proofs), the checks a verifier makes against what it expected
(purpose, domain, challenge, time), and the binding of the verification method to its controller.

``add_proof`` returns a new document and never touches its input. ``verify_proofs`` never raises:
each proof gives a ``proof`` and a ``binding`` check (``vc.results.Check``), failures carrying the
specification's error codes.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Mapping, Sequence, TypeVar

from did.cache import json_copy
from did.key import did_key_from_public_key
from did.resolver import is_authorized
from did.timestamps import is_date_time_stamp
from vc import jsonld
from vc.crypto import Ed25519KeyPair
from vc.datamodel import MAX_CLOCK_SKEW, is_url, parse_datetime_stamp
from vc.cryptosuites import SUITES, Cryptosuite, decode_proof_value, suite_for
from vc.cryptosuites.base import DocumentLoader, JsonObject
from vc.errors import (
    InvalidChallengeError,
    InvalidDomainError,
    InvalidRelationshipError,
    InvalidVerificationMethodError,
    MalformedProofError,
    MalformedValueError,
    MismatchedProofPurposeError,
    ParsingError,
    ProofGenerationError,
    ProofVerificationError,
)
from vc.limits import DEFAULT_LIMITS
from vc.results import Check, failed

__all__ = ["add_proof", "verify_proofs", "proofs_of", "default_verification_method", "format_datetime", "MAX_CLOCK_SKEW", "Offload"]

T = TypeVar("T")
# ``await offload(step)`` runs a synchronous, CPU-heavy step (canonicalization and signature
# checks) somewhere else, a worker thread in the node, and returns its result; the step touches
# nothing but its arguments. Without one the step runs inline, on the caller's thread.
Offload = Callable[[Callable[[], T]], Awaitable[T]]

# MAX_CLOCK_SKEW (vc.datamodel's): how far a signer's clock may be ahead of ours before a proof
# "created in the future" is refused; 300 s, Digital Bazaar's maxClockSkew, the same allowance
# the validity period gets.


def format_datetime(value: datetime | str) -> str:
    """An XML Schema dateTimeStamp in UTC, to the second (as the test vectors write them)."""
    if isinstance(value, str):
        # vc-di-eddsa §3.2.5 step 3: an invalid created is a PROOF_GENERATION_ERROR when signing.
        if not is_date_time_stamp(value):
            raise ProofGenerationError(f"a proof time must be an XML Schema dateTimeStamp (with a time zone), got {value!r}")
        return value
    if value.tzinfo is None:
        raise ProofGenerationError("a proof time needs a time zone (give an aware datetime)")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_datetime(value: Any, field: str) -> datetime:
    """proof.created / proof.expires (VC Data Integrity 1.0 §2.1: an XML Schema dateTimeStamp),
    read as the data model reads validFrom: years past 9999 or before 1 (which signing
    accepts) compare as the end or start of time, and 24:00:00 is the next midnight."""
    if not is_date_time_stamp(value):
        raise MalformedProofError(f"proof.{field} must be an XML Schema dateTimeStamp (with a time zone), got {value!r}")
    try:
        return parse_datetime_stamp(value, f"proof.{field}")
    except MalformedValueError as e:
        raise MalformedProofError(e.detail) from e


def proofs_of(document: Mapping[str, Any]) -> list[Any]:
    """The document's proofs as a list (a single proof object is a set of one)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def default_verification_method(key: Ed25519KeyPair) -> str:
    """The did:key verification method of a key: ``did:key:z6Mk...#z6Mk...``."""
    did = did_key_from_public_key(key.public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _matching_proofs(all_proofs: Sequence[Any], previous: Any, error: type[Exception]) -> list[Any]:
    """§4.3: the proofs named by ``previousProof`` (each must exist), in the order named."""
    found = []
    for ref in _as_list(previous):
        match = [p for p in all_proofs if isinstance(p, dict) and p.get("id") == ref]
        if not match:
            raise error(f"previousProof names {ref!r}, which is not a proof of this document")
        found.append(match[0])
    return found


def _unsecured(document: Mapping[str, Any], chained: list[Any]) -> JsonObject:
    """The document without proofs, carrying the chained-to proofs when there are any."""
    out = {k: v for k, v in document.items() if k != "proof"}
    if chained:
        out["proof"] = chained
    return out


# --- adding a proof ----------------------------------------------------------------------------


def _check_options(
    *,
    proof_id: Any,
    verification_method: str,
    purpose: Any,
    domain: Any,
    challenge: Any,
    nonce: Any,
    previous_proof: Any,
) -> None:
    """VC Data Integrity 1.0 §2.1: what a proof's options must be, checked before signing so the
    node never secures a document with a proof no verifier (itself included) would accept
    (VC DM 2.0 §1.3); a PROOF_GENERATION_ERROR (§4.2) naming the option otherwise."""
    if proof_id is not None and not is_url(proof_id):
        raise ProofGenerationError(f"the proof id must be a URL (VC DI 1.0 §2.1), got {proof_id!r}")
    if not is_url(verification_method):
        raise ProofGenerationError(
            f"the verificationMethod must be a URL, such as did:web:example.com#key-1 (VC DI 1.0 §2.1), got {verification_method!r}"
        )
    if not isinstance(purpose, str) or not purpose:
        raise ProofGenerationError(f"the proofPurpose must be a non-empty string, got {purpose!r}")
    # A set with no domain in it names no audience: it is refused here as the verifier refuses it
    # ("a string or a list of strings", non-empty), so both sides read domain alike.
    if domain is not None and not (
        isinstance(domain, str) or (isinstance(domain, list) and domain and all(isinstance(d, str) for d in domain))
    ):
        raise ProofGenerationError(f"the proof domain must be a string or a non-empty list of strings (VC DI 1.0 §2.1), got {domain!r}")
    for name, value in (("challenge", challenge), ("nonce", nonce)):
        if value is not None and not isinstance(value, str):
            raise ProofGenerationError(f"the proof {name} must be a string (VC DI 1.0 §2.1), got {value!r}")
    if previous_proof is not None and not (
        isinstance(previous_proof, str)
        or (isinstance(previous_proof, list) and all(isinstance(p, str) for p in previous_proof))
    ):
        raise ProofGenerationError(f"previousProof must be a proof id or a list of them, got {previous_proof!r}")


def add_proof(
    document: Mapping[str, Any],
    *,
    suite: Cryptosuite | str,
    key: Ed25519KeyPair,
    verification_method: str | None = None,
    purpose: str = "assertionMethod",
    created: datetime | str | None,
    loader: DocumentLoader,
    domain: str | list[str] | None = None,
    challenge: str | None = None,
    nonce: str | None = None,
    expires: datetime | str | None = None,
    previous_proof: str | list[str] | None = None,
    proof_id: str | None = None,
) -> JsonObject:
    """VC Data Integrity 1.0 §4.2 Add Proof, and §4.3 Add Proof Set/Chain.

    Returns a new document; a document that already has proofs gets a proof set (with
    ``previous_proof``, a chain: the new proof covers the proofs it names). ``created=None``
    leaves ``created`` out (it is optional); the default verification method is the key's did:key.
    Raises a ``ProblemError`` (PROOF_GENERATION_ERROR, PROOF_TRANSFORMATION_ERROR, ...).
    """
    if not isinstance(document, Mapping):
        raise ProofGenerationError("only a JSON object can be secured")
    chosen = SUITES.get(suite) if isinstance(suite, str) else suite
    if chosen is None:
        raise ProofGenerationError(f"unknown cryptosuite {suite!r} (supported: {', '.join(sorted(SUITES))})")
    method = verification_method or default_verification_method(key)
    _check_options(
        proof_id=proof_id, verification_method=method, purpose=purpose, domain=domain,
        challenge=challenge, nonce=nonce, previous_proof=previous_proof,
    )
    # A private copy, so the caller's document is never changed: a marshal round trip, a
    # quarter of copy.deepcopy's cost on a credential (~10 µs against ~40, of ~430 to sign).
    doc = chosen.prepare_document(json_copy(dict(document)))
    existing = proofs_of(doc)
    if not chosen.reads_json_ld:
        # JCS signs the JSON text, so nothing in it is silently dropped from what is signed;
        # but a verifier reading it as JSON-LD would drop undefined terms, and a context this
        # node cannot load would make the credential unreadable here. Refuse both before
        # signing, as the RDFC suites do (safe mode, issue 3).
        jsonld.expand({k: v for k, v in doc.items() if k != "proof"}, loader=loader)

    options: JsonObject = {"type": chosen.proof_type}
    if proof_id is not None:
        if any(isinstance(p, dict) and p.get("id") == proof_id for p in existing):
            raise ProofGenerationError(f"the document already has a proof with id {proof_id!r}")
        options["id"] = proof_id
    if chosen.cryptosuite is not None:
        options["cryptosuite"] = chosen.cryptosuite
    if created is not None:
        options["created"] = format_datetime(created)
    if expires is not None:
        options["expires"] = format_datetime(expires)
    options["verificationMethod"] = method
    options["proofPurpose"] = purpose
    for name, value in (("domain", domain), ("challenge", challenge), ("nonce", nonce)):
        if value is not None:
            options[name] = copy.deepcopy(value)
    chained: list[Any] = []
    if previous_proof is not None:
        chained = _matching_proofs(existing, previous_proof, ProofGenerationError)
        options["previousProof"] = copy.deepcopy(previous_proof)

    unsecured = _unsecured(doc, chained)
    proof = chosen.proof_options(options, unsecured)
    with jsonld.signing():
        hash_data = chosen.hash(
            chosen.transform(unsecured, proof, loader=loader),
            chosen.configure_proof(proof, unsecured, loader=loader),
        )
    proof["proofValue"] = chosen.sign(hash_data, key)

    doc["proof"] = [*existing, proof] if existing else proof
    return doc


# --- verifying proofs ----------------------------------------------------------------------------


async def verify_proofs(
    document: Mapping[str, Any],
    *,
    resolver: Any,
    loader: DocumentLoader,
    now: datetime,
    expected_purpose: str,
    expected_controller: str | None = None,
    challenge: str | None = None,
    domain: str | list[str] | None = None,
    suites: Mapping[str, Cryptosuite] = SUITES,
    max_clock_skew: timedelta = MAX_CLOCK_SKEW,
    offload: Offload[Any] | None = None,
) -> list[Check]:
    """Verify every proof of ``document`` (VC Data Integrity 1.0 §4.4 Verify Proof, §4.5 proof
    sets and chains); never raises.

    One ``proof`` check per proof: well-formed, expected purpose, domain and challenge, within
    its time, its verification method resolved through ``resolver``, neither revoked nor expired at
    ``now`` (Controlled Identifiers 1.0 §2.2), and authorized for
    ``expected_purpose`` by *its own* controller, and the signature valid over the document and
    any earlier proofs it chains to. Every proof of a set or chain must pass (§4.5), whoever
    made it. Its ``data`` names the cryptosuite, verification method and controller.

    Then one ``binding`` check (VC Data Model 2.0 §4.7 issuer, §4.13 holder): at least one
    proof was made with a key of ``expected_controller``. Proofs by other parties (a notary's
    first proof in a chain, a co-signer's in a set) are allowed and listed in its ``data``
    (``otherProofs``: who signed which proof). Without ``expected_controller`` the check is
    ``skipped`` and lists every signer. A document without proofs gives one failed ``proof`` check.

    The verification methods are resolved here (I/O); each proof's canonicalization and
    signature check then run as one step through ``offload`` when given.
    """
    if not isinstance(document, Mapping):
        # §4.4 step 1: "If either securedDocument is not a map or securedDocument.proof is not a
        # map, an error MUST be raised and SHOULD convey an error type of PARSING_ERROR."
        return [failed("proof", ParsingError("only a JSON object can carry a proof"))]
    all_proofs = proofs_of(document)
    if not all_proofs:
        return [failed("proof", MalformedProofError("the document has no proof"))]
    if len(all_proofs) > DEFAULT_LIMITS.max_proofs:
        # Each proof costs two canonicalizations; a document cannot buy unbounded work with them.
        too_many = f"the document carries {len(all_proofs)} proofs, more than the limit of {DEFAULT_LIMITS.max_proofs}"
        return [failed("proof", MalformedProofError(too_many))]
    resolved: dict[str, Any] = {}
    checks: list[Check] = []
    signers: list[tuple[dict[str, Any], Any]] = []
    for index, proof in enumerate(all_proofs):
        data = _describe(proof, index, len(all_proofs))
        vm = await _resolve(proof, resolver, resolved)
        if not isinstance(vm, Exception):
            data["controller"] = vm.controller

        def step(proof: Any = proof, vm: Any = vm, data: dict[str, Any] = data) -> Check:
            return _run(
                "proof",
                data,
                lambda: _verify_one(
                    proof, document, all_proofs, vm, suites, loader, now, expected_purpose, challenge, domain, max_clock_skew
                ),
            )

        checks.append(step() if offload is None else await offload(step))
        signers.append((data, vm))
    checks.append(_binding(signers, expected_controller))
    return checks


def _describe(proof: Any, index: int, count: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if isinstance(proof, dict):
        suite = proof.get("cryptosuite", proof.get("type"))
        if isinstance(suite, str):
            data["cryptosuite"] = suite
        if isinstance(proof.get("verificationMethod"), str):
            data["verificationMethod"] = proof["verificationMethod"]
        if isinstance(proof.get("id"), str):
            data["proofId"] = proof["id"]
    if count > 1:
        data["proofIndex"] = index
    return data


def _run(name: str, data: dict[str, Any], step: Any) -> Check:
    try:
        message = step()
    except Exception as e:  # every failure becomes a result entry; failed() logs the unexpected
        check = failed(name, e)
        check.data.update(data)
        return check
    return Check(name, "passed", message, None, dict(data))


async def _resolve(proof: Any, resolver: Any, cache: dict[str, Any]) -> Any:
    """The proof's verification method, or the exception resolving it raised (kept for both checks)."""
    url = proof.get("verificationMethod") if isinstance(proof, dict) else None
    if not isinstance(url, str):
        return MalformedProofError("the proof has no verificationMethod (a URL)")
    if url not in cache:
        try:
            cache[url] = await resolver.resolve_verification_method(url)
        except Exception as e:  # a DIDError, or a resolver bug: either must not escape verification
            cache[url] = e
    return cache[url]


def _require_string(proof: Mapping[str, Any], field: str) -> str:
    value = proof.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedProofError(f"the proof has no {field} (a non-empty string)")
    return value


def _verify_one(
    proof: Any,
    document: Mapping[str, Any],
    all_proofs: list[Any],
    vm: Any,
    suites: Mapping[str, Cryptosuite],
    loader: DocumentLoader,
    now: datetime,
    expected_purpose: str,
    challenge: str | None,
    domain: str | list[str] | None,
    skew: timedelta,
) -> str:
    """§4.4 Verify Proof for one proof of the set; raises a ProblemError when it does not verify."""
    if not isinstance(proof, dict):
        # §4.4 step 1: a proof that is not a map is a PARSING_ERROR (VC DM 2.0 §7.2's type).
        raise ParsingError(f"a proof must be a JSON object, got {type(proof).__name__}")
    # §4.4 step 4: the properties every proof has.
    _require_string(proof, "type")
    _require_string(proof, "verificationMethod")
    purpose = _require_string(proof, "proofPurpose")
    # The suite first: a proofValue's form is the cryptosuite's (VC DI 1.0 §2.1), and a proof
    # of a suite this verifier lacks (ecdsa-sd-2023, a jws of 2018) should say so, not that its
    # value is no Ed25519 signature.
    suite = suite_for(proof, suites)
    if "proofValue" not in proof:
        raise MalformedProofError("the proof has no proofValue")
    decode_proof_value(proof["proofValue"])
    for field in ("challenge", "nonce"):
        if field in proof and not isinstance(proof[field], str):
            raise MalformedProofError(f"proof.{field} must be a string")
    if "domain" in proof and not (
        isinstance(proof["domain"], str)
        or (isinstance(proof["domain"], list) and proof["domain"] and all(isinstance(d, str) for d in proof["domain"]))
    ):
        raise MalformedProofError("proof.domain must be a string or a list of strings")
    previous = proof.get("previousProof")
    if previous is not None and not (
        isinstance(previous, str) or (isinstance(previous, list) and all(isinstance(p, str) for p in previous))
    ):
        raise MalformedProofError("proof.previousProof must be a proof id or a list of them")
    created = _parse_datetime(proof["created"], "created") if "created" in proof else None
    expires = _parse_datetime(proof["expires"], "expires") if "expires" in proof else None

    # §4.4 steps 5-7: what the verifier expected.
    if purpose != expected_purpose:
        raise MismatchedProofPurposeError(f"the proof's purpose is {purpose!r}; {expected_purpose!r} was expected")
    if domain is not None and not domain_matches(domain, proof.get("domain")):
        raise InvalidDomainError(f"the proof's domain is {proof.get('domain')!r}; {domain!r} was expected")
    if challenge is not None and proof.get("challenge") != challenge:
        raise InvalidChallengeError(f"the proof's challenge is {proof.get('challenge')!r}; {challenge!r} was expected")
    if created is not None and created > now + skew:
        raise ProofVerificationError(f"the proof was created in the future ({proof['created']})")
    if expires is not None and expires < now:
        raise ProofVerificationError(f"the proof expired at {proof['expires']}")

    # §4.5: a chained proof was made over the document carrying the proofs it names.
    chained = _matching_proofs(all_proofs, previous, ProofVerificationError) if previous is not None else []
    unsecured = _unsecured(document, chained)
    options = {k: v for k, v in proof.items() if k != "proofValue"}

    if isinstance(vm, Exception):
        raise vm
    hash_data = suite.hash(
        suite.transform(unsecured, options, loader=loader),
        suite.configure_proof(options, unsecured, loader=loader),
    )
    suite.verify(hash_data, proof["proofValue"], vm.public_key)
    # Controlled Identifiers 1.0 §2.2: a method revoked (or expired) at or before the time of
    # verification verifies nothing, however good the signature. Checked after the signature, so
    # that "the issuer withdrew this key" is said only of what that key did sign: a forgery
    # naming a withdrawn key is a signature that does not verify.
    vm.check_usable(now)
    _check_authorized(vm, expected_purpose)
    # VC Data Integrity 1.0 §2.4.1: context validation runs after Verify Proof, on the whole
    # secured document (eddsa-jcs-2022 signs only a prefix of its @context).
    suite.check_contexts(unsecured, options, loader=loader)
    return f"{suite.name} signature by {vm.id} verifies; {vm.controller} authorizes it for {expected_purpose}"


def domain_matches(expected: str | list[str], domain: Any) -> bool:
    """VC Data Integrity 1.0 §4.4 step 6: the expected domain must "contain the same strings as
    proof.domain (treating a single string as a set containing just that string)". The same
    set, not membership: a proof for ["verifier.example", "other.example"] was made for both
    together, and is not this verifier's alone."""
    def strings(value: Any) -> set[str] | None:
        values = _as_list(value)
        return set(values) if values and all(isinstance(v, str) for v in values) else None

    # The presentation check reaches here before the proof's shape is checked: an object in the
    # list is no domain, not a TypeError.
    found = strings(domain)
    return found is not None and found == strings(expected)


def _check_authorized(vm: Any, expected_purpose: str) -> None:
    """Controlled Identifiers §3.3 (retrieve verification method): the method is listed under
    the proof's purpose in its controller's DID document."""
    try:
        authorized = is_authorized(vm.document, vm.id, expected_purpose)
    except ValueError as e:
        raise InvalidVerificationMethodError(str(e)) from e
    if not authorized:
        raise InvalidRelationshipError(
            f"{vm.id} is not listed under {expected_purpose} in the DID document of {vm.controller}"
        )


def _binding(signers: list[tuple[dict[str, Any], Any]], expected: str | None) -> Check:
    """The party the document names (issuer, holder) made at least one of its proofs.

    A proof whose verification method did not resolve cannot be attributed to anyone; its
    ``proof`` check already says why.
    """
    ours: list[int] = []
    others: list[dict[str, Any]] = []
    unattributed: list[int] = []
    for index, (data, vm) in enumerate(signers):
        if isinstance(vm, Exception):
            unattributed.append(index)
        elif expected is not None and vm.controller == expected:
            ours.append(index)
        else:
            others.append({"proofIndex": index, **{k: v for k, v in data.items() if k != "proofIndex"}})
    who = "; ".join(f"proof {o['proofIndex']} by {o['controller']}" for o in others)
    if expected is None:
        message = "no issuer or holder was expected, so no signer is bound" + (f" ({who})" if who else "")
        return Check("binding", "skipped", message, None, {"signers": others} if others else {})
    data: dict[str, Any] = {"controller": expected}
    if others:
        data["otherProofs"] = others
    if ours:
        data["boundProofs"] = ours
        shown = ", ".join(str(i) for i in ours)
        message = f"proof {shown} was made with a key of {expected}" + (f"; also signed: {who}" if who else "")
        return Check("binding", "passed", message, None, data)
    reasons = [who] if who else []
    if unattributed:
        reasons.append("the verification method of proof " + ", ".join(map(str, unattributed)) + " could not be resolved")
    check = failed(
        "binding",
        InvalidVerificationMethodError(
            f"no proof was made with a key of {expected} ({'; '.join(reasons)}): "
            "a valid signature by someone else does not make the document theirs"
        ),
    )
    check.data.update(data)
    return check
