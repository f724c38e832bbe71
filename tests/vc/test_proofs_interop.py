"""vc.proofs against Digital Bazaar's JS stack (../shared/interop): what it signs we reproduce
byte for byte and verify; what we sign it verifies. Skips without node/npm (fails under CI)."""

from __future__ import annotations

import json

import pytest

from did.key import DIDKeyResolver
from did.resolver import Resolver
from support import run_js
from vc.crypto import Ed25519KeyPair
from vc.errors import ProofTransformationError
from vc.loader import default_loader
from vc.proofs import add_proof, proofs_of, verify_proofs

pytestmark = pytest.mark.interop

# The harness's fixed keys (its README, "Fixed keys"): test keys, not secrets.
ISSUER_SEED = "26bf2c9af943a2f2e61c56ec89ba1249936a82cd48ddb10dd70f1874b7fbdb00"
HOLDER_SEED = "81c3dd85d8b0e7cc49a6b290eb652f136d93695cf269a02ad81e8d898430c513"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"]


def _resolver() -> Resolver:
    return Resolver({"key": DIDKeyResolver()})


def _resign(signed: dict, proof: dict, seed: str, *, base: dict | None = None) -> dict:
    unsigned = base if base is not None else {k: v for k, v in signed.items() if k != "proof"}
    return add_proof(
        unsigned,
        suite=proof.get("cryptosuite", proof["type"]),
        key=Ed25519KeyPair.from_seed(bytes.fromhex(seed)),
        verification_method=proof["verificationMethod"],
        purpose=proof["proofPurpose"],
        created=proof.get("created"),
        challenge=proof.get("challenge"),
        domain=proof.get("domain"),
        loader=default_loader(),
    )


@pytest.mark.parametrize("vcdm", ["2.0", "1.1"])
@pytest.mark.parametrize("suite", SUITES)
async def test_we_reproduce_and_verify_what_the_reference_signs(suite, vcdm, now):
    code, signed = await run_js("issue.mjs", "--suite", suite, "--vcdm", vcdm)
    assert code == 0, signed
    assert _resign(signed, signed["proof"], ISSUER_SEED) == signed
    checks = await verify_proofs(
        signed, resolver=_resolver(), loader=default_loader(), now=now,
        expected_purpose="assertionMethod", expected_controller=signed["issuer"]["id"],
    )
    assert all(c.ok for c in checks), [c.to_json() for c in checks]


@pytest.mark.parametrize("suite", SUITES)
async def test_presentation_proof_from_the_reference_verifies_with_challenge_and_domain(suite, now):
    code, vp = await run_js("issue.mjs", "--suite", suite, "--vp", "--challenge", "c-42", "--domain", "https://verifier.example")
    assert code == 0, vp
    proof = proofs_of(vp)[0]
    assert _resign(vp, proof, HOLDER_SEED) == vp
    kw = dict(resolver=_resolver(), loader=default_loader(), now=now, expected_purpose="authentication",
              expected_controller=vp["holder"] if isinstance(vp["holder"], str) else vp["holder"]["id"])
    ok = await verify_proofs(vp, challenge="c-42", domain="https://verifier.example", **kw)
    assert all(c.ok for c in ok), [c.to_json() for c in ok]
    wrong = await verify_proofs(vp, challenge="c-43", domain="https://verifier.example", **kw)
    assert wrong[0].problem.code == "INVALID_CHALLENGE_ERROR"


@pytest.mark.parametrize("suite", SUITES)
async def test_the_reference_verifies_what_we_sign(vectors, suite, tmp_path):
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    doc = json.loads((vectors / "microcredentials" / "1edtech-ob3-spec-examples" / "basicOpenBadgeCredential.json").read_text())
    doc.pop("proof", None)
    from did.key import did_key_from_public_key

    doc["issuer"]["id"] = did_key_from_public_key(key.public_key)
    signed = add_proof(doc, suite=suite, key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(signed))
    code, out = await run_js("verify.mjs", str(path), "--now", "2025-06-01T00:00:00Z")
    assert code == 0 and out["verified"] is True, out
    signed["credentialSubject"]["achievement"]["name"] = "Tampered"
    path.write_text(json.dumps(signed))
    code, out = await run_js("verify.mjs", str(path), "--now", "2025-06-01T00:00:00Z")
    assert code == 1 and out["verified"] is False


# --- VC DM 2.0 §11.1: language value objects with a base direction (issue 11, cause 4) ---------

ISSUER_DID = "did:key:z6MksFHfJHbwxv8mz2eWqVCq1mLkkGzfBrDpKsM29Gg9JMug"  # the harness's issuer key


def _directed() -> dict:
    """The DM 2.0 suite's four cases (tests/4.06-names-and-descriptions.js) in one credential,
    with an upper-case language tag and a direction without a language besides."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "name": {"@value": "Example Credential", "@language": "EN-gb", "@direction": "ltr"},
        "description": {"@value": "مثال", "@direction": "rtl"},
        "issuer": {
            "id": ISSUER_DID,
            "name": {"@value": "ExampleIssuer", "@language": "en", "@direction": "ltr"},
            "description": {"@value": "An Example Issuer", "@language": "ar", "@direction": "rtl"},
        },
        "credentialSubject": {"id": "did:example:subject"},
    }


@pytest.mark.parametrize("suite", SUITES)
async def test_directed_language_values_sign_and_verify_as_the_reference_does(suite, tmp_path, now):
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(_directed(), ensure_ascii=False))
    code, signed = await run_js("issue.mjs", "--suite", suite, "--credential", str(unsigned), "--created", "2025-01-15T00:00:00Z")
    assert code == 0, signed
    # Byte for byte the reference's proof: the same canonical form, so the same signature.
    assert _resign(signed, signed["proof"], ISSUER_SEED) == signed
    checks = await verify_proofs(
        signed, resolver=_resolver(), loader=default_loader(), now=now,
        expected_purpose="assertionMethod", expected_controller=ISSUER_DID,
    )
    assert all(c.ok for c in checks), [c.to_json() for c in checks]
    # The direction is signed: flipping it breaks the proof in both implementations.
    flipped = json.loads(json.dumps(signed))
    flipped["issuer"]["name"]["@direction"] = "rtl"
    checks = await verify_proofs(
        flipped, resolver=_resolver(), loader=default_loader(), now=now,
        expected_purpose="assertionMethod", expected_controller=ISSUER_DID,
    )
    assert checks[0].problem is not None and checks[0].problem.code == "PROOF_VERIFICATION_ERROR"
    path = tmp_path / "flipped.json"
    path.write_text(json.dumps(flipped, ensure_ascii=False))
    code, out = await run_js("verify.mjs", str(path))
    assert code == 1 and out["verified"] is False, out


# --- whole numbers past 2^53 (issue 11: eddsa-jcs-2022; 2026-12-06: eddsa-rdfc-2022) -----------
# JSON.stringify writes whole doubles from 2^53 up to 1e21 as plain digits (2^60 as
# 1152921504606847000); Python reads them as int. JCS canonicalizes the double (RFC 8785
# §3.2.2.3); JSON-LD writes a whole number below 1e21 as an xsd:integer, digit for digit, and
# JavaScript writes the double it read (1152921504606846976). Both sides must agree on the
# number: digits a double has are read as that double here, digits no double has are refused,
# where JavaScript silently reads the nearest double.

_BIG = {"a": 9007199254740992, "b": 100000000000000000000, "c": 1152921504606846976, "e": 1e21}


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022"])
async def test_credentials_with_big_whole_numbers_interoperate(suite, tmp_path, now):
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555555",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER_DID,
        "credentialSubject": {"id": "did:example:alice", **_BIG},
    }
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(unsigned))
    code, signed = await run_js("issue.mjs", "--suite", suite, "--credential", str(path))
    assert code == 0, signed
    # What JavaScript wrote, read back by Python's json: whole numbers past 2^53 are ints.
    assert signed["credentialSubject"]["c"] == 1152921504606847000 and isinstance(signed["credentialSubject"]["c"], int)
    kw = dict(resolver=_resolver(), loader=default_loader(), now=now, expected_purpose="assertionMethod", expected_controller=ISSUER_DID)
    checks = await verify_proofs(signed, **kw)
    assert all(c.ok for c in checks), [c.to_json() for c in checks]  # rdfc: failed before 2026-12-06
    assert _resign(signed, signed["proof"], ISSUER_SEED) == signed  # the same canonical bytes
    # 9007199254740993 is no double: JavaScript reads ...992 and accepts the altered number;
    # here the document is refused rather than verified for a number it does not show.
    altered = json.loads(json.dumps(signed))
    altered["credentialSubject"]["a"] = 9007199254740993
    checks = await verify_proofs(altered, **kw)
    assert checks[0].problem is not None and checks[0].problem.code == "PROOF_TRANSFORMATION_ERROR", [c.to_json() for c in checks]
    assert "9007199254740993" in checks[0].problem.detail
    path.write_text(json.dumps(altered))
    code, out = await run_js("verify.mjs", str(path))
    assert code == 0 and out["verified"] is True, out  # the reference's reading, recorded
    key = Ed25519KeyPair.from_seed(bytes.fromhex(ISSUER_SEED))
    with pytest.raises(ProofTransformationError, match="more precise than a double"):  # nor signed here
        add_proof({**unsigned, "credentialSubject": {"id": "did:example:alice", "a": 9007199254740993}}, suite=suite, key=key,
                  created="2025-01-15T00:00:00Z", loader=default_loader())
    # What we sign with such numbers the reference verifies: JavaScript's digits as Python
    # reads them, and the exact integers (rdfc: the first did not verify there before 2026-12-06).
    for subject in (signed["credentialSubject"], unsigned["credentialSubject"]):
        ours = add_proof({**unsigned, "credentialSubject": subject}, suite=suite, key=key, created="2025-01-15T00:00:00Z",
                         loader=default_loader())
        path.write_text(json.dumps(ours))
        code, out = await run_js("verify.mjs", str(path))
        assert code == 0 and out["verified"] is True, (subject, out)


# --- fractions jsonld.js reads as whole numbers (2026-12-06) ---------------------------------------
# JSON-LD 1.1 §8.6 makes a number with a fractional part an xsd:double; jsonld.js takes a number
# whose JavaScript spelling has no "." (1e-7) for a whole one and writes "0"^^xsd:integer. Such a
# number is refused before signing with an RDF suite; neighbours spelt with a "." are signed.


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_fractions_the_reference_misreads_are_not_signed_with_rdf_and_their_neighbours_interoperate(suite, tmp_path, now):
    key = Ed25519KeyPair.from_seed(bytes.fromhex(ISSUER_SEED))

    def unsigned(value: float) -> dict:
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "id": "urn:uuid:11111111-2222-3333-4444-555555555556", "type": ["VerifiableCredential"], "issuer": ISSUER_DID,
            "credentialSubject": {"id": "did:example:alice", "value": value},
        }

    for misread in (1e-7, -5e-9, 5e-324):
        if suite == "eddsa-rdfc-2022":
            with pytest.raises(ProofTransformationError, match="would be read as 0"):
                add_proof(unsigned(misread), suite=suite, key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
        else:  # JCS signs the JSON text, which both sides write alike
            add_proof(unsigned(misread), suite=suite, key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
    if suite == "eddsa-rdfc-2022":
        # Typed xsd:double by the context, jsonld.js reads it as a double too: signed, and verified there.
        typed = unsigned(1e-7)
        typed["@context"] = [*typed["@context"], {"exact": {"@id": "https://example.org/exact", "@type": "http://www.w3.org/2001/XMLSchema#double"}}]
        typed["credentialSubject"] = {"id": "did:example:alice", "exact": 1e-7}
        ours = add_proof(typed, suite=suite, key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
        (tmp_path / "typed.json").write_text(json.dumps(ours))
        code, out = await run_js("verify.mjs", str(tmp_path / "typed.json"))
        assert code == 0 and out["verified"] is True, out
    for value in (1.5e-7, 1e-6, 0.000002, 2.5):
        ours = add_proof(unsigned(value), suite=suite, key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
        path = tmp_path / "fraction.json"
        path.write_text(json.dumps(ours))
        code, out = await run_js("verify.mjs", str(path))
        assert code == 0 and out["verified"] is True, (value, out)


# --- eddsa-jcs-2022: contexts appended after signing (VC Data Integrity 1.0 §2.4.1) ------------
# vc-di-eddsa §3.3.2 step 4 checks the signature over the proof's @context, a prefix of the
# document's; what follows it is not signed. Both sides verify a pinned context appended to
# the reference's credential; an unknown one is refused here after the proof verified (the
# reference validates no contexts for jcs, and accepts it).


async def test_a_context_appended_to_a_reference_jcs_credential_is_validated_after_its_proof(tmp_path, now):
    code, signed = await run_js("issue.mjs", "--suite", "eddsa-jcs-2022")
    assert code == 0, signed
    kw = dict(resolver=_resolver(), loader=default_loader(), now=now, expected_purpose="assertionMethod",
              expected_controller=signed["issuer"]["id"])
    path = tmp_path / "appended.json"
    pinned = {**signed, "@context": [*signed["@context"], "https://w3id.org/security/data-integrity/v2"]}
    checks = await verify_proofs(pinned, **kw)
    assert all(c.ok for c in checks), [c.to_json() for c in checks]
    path.write_text(json.dumps(pinned))
    code, out = await run_js("verify.mjs", str(path))
    assert code == 0 and out["verified"] is True, out
    unknown = {**signed, "@context": [*signed["@context"], "https://evil.example/ctx/v1"]}
    checks = await verify_proofs(unknown, **kw)
    assert checks[0].problem is not None and checks[0].problem.code == "PROOF_TRANSFORMATION_ERROR", [c.to_json() for c in checks]
    assert "https://evil.example/ctx/v1" in checks[0].problem.detail
    path.write_text(json.dumps(unknown))
    code, out = await run_js("verify.mjs", str(path))
    assert code == 0 and out["verified"] is True, out  # the reference's reading, recorded


# --- clock skew on the validity period (VC DM 2.0 §4.9; Digital Bazaar's maxClockSkew, 300 s) ----


@pytest.mark.parametrize("field, offset, verified", [
    ("validFrom", -60, True),     # a verifier a minute behind the issuer's clock
    ("validFrom", -301, False),
    ("validUntil", 60, True),     # a minute past the end
    ("validUntil", 301, False),
])
async def test_the_validity_period_allows_the_references_clock_skew(field, offset, verified, tmp_path):
    from datetime import datetime, timedelta, timezone

    from vc.credentials import verify_credential

    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:11111111-2222-3333-4444-555555555557", "type": ["VerifiableCredential"], "issuer": ISSUER_DID,
        "validFrom": "2025-01-15T00:00:00Z", "validUntil": "2025-07-15T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Ada"},
    }
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(unsigned))
    code, signed = await run_js("issue.mjs", "--credential", str(path), "--created", "2025-01-14T00:00:00Z")
    assert code == 0, signed
    now = datetime.fromisoformat(unsigned[field].replace("Z", "+00:00")) + timedelta(seconds=offset)
    result = await verify_credential(signed, resolver=_resolver(), loader=default_loader(), now=now)
    assert result.verified is verified, result.to_json()
    if not verified:
        assert [c.name for c in result.checks if not c.ok] == ["validity"]
    path.write_text(json.dumps(signed))
    code, out = await run_js("verify.mjs", str(path), "--now", now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert (code == 0) is verified and out["verified"] is verified, out


# --- VC Data Integrity 1.0 §2.4.2: context injection for a VC 1.1 credential ------------------


async def test_an_rdfc_proof_on_a_vc_1_1_credential_is_the_references_byte_for_byte(tmp_path):
    """The reference appends data-integrity/v2 when the @context maps no Data Integrity term
    (``ensureSuiteContext``); so does add_proof for eddsa-rdfc-2022, and the two agree."""
    unsigned = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"], "issuer": ISSUER_DID, "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "name": "Ada"},
    }
    path = tmp_path / "unsigned.json"
    path.write_text(json.dumps(unsigned))
    code, theirs = await run_js("issue.mjs", "--suite", "eddsa-rdfc-2022", "--credential", str(path), "--created", "2025-01-15T00:00:00Z")
    assert code == 0, theirs
    key = Ed25519KeyPair.from_seed(bytes.fromhex(ISSUER_SEED))
    ours = add_proof(unsigned, suite="eddsa-rdfc-2022", key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
    assert ours["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
    assert ours == theirs
