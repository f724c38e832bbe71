"""Real proofs: the Recommendation's signed examples, and lists this library signs, end to end.

Uses vc.credentials (eddsa-rdfc-2022 / eddsa-jcs-2022), the did:key resolver and the pinned
context loader; the list is served by the fake HTTP object (the real-HTTP path is in
test_status_http.py).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from status.bitstring import Bitstring
from status.check import StatusChecker
from status.credential import issue_status_list_credential, status_list_entry
from tests.conftest import load_json
from vc.credentials import issue_credential, verify_credential
from vc.crypto import Ed25519KeyPair
from vc.errors import ProofGenerationError
from vc.cryptosuites import SUITES
from vc.loader import default_loader
from status_fakes import REC_MESSAGE_ENTRY, world  # noqa: F401  (the `world` fixture)

SPEC_DID = "did:key:z6MkeVw6bAm59CopQquZcVLUpapvEEELqfpdWfHkSont8HR6"
LIST_URL = "https://uni.example/status/revocation/1"


@pytest.fixture(scope="module")
def loader():
    return default_loader()


@pytest.fixture
def resolver():
    return Resolver({"key": DIDKeyResolver()})


@pytest.fixture
def issuer():
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    return key, did, f"{did}#{did.split(':')[-1]}"


def _spec(vectors, name):
    return load_json(vectors / "bitstring-status-list" / "spec-rec-examples" / name)


def _by_name(result):
    return {c.name: c for c in result.checks}


async def test_recommendation_signed_examples_have_valid_proofs(vectors, loader, resolver, now):
    # Both examples name the bare did:key as verification method; it must resolve to its key.
    for name in (
        "appendix-status-list-credential.eddsa-rdfc-2022.signed.json",
        "appendix-revocable-credential.eddsa-rdfc-2022.signed.json",
    ):
        doc = _spec(vectors, name)
        assert doc["proof"]["verificationMethod"] == SPEC_DID
        result = await verify_credential(doc, resolver=resolver, loader=loader, now=now, check_status=None)
        checks = _by_name(result)
        assert checks["proof"].outcome == "passed", (name, result.to_json())
        # The examples' issuer is did:example:12345, which does not control the did:key that
        # signed them: the signature is valid, the issuer binding is (rightly) not.
        assert checks["binding"].outcome == "failed"
        assert checks["binding"].problem.code == "INVALID_VERIFICATION_METHOD"
        assert [c.name for c in result.checks if not c.ok and c.name != "status"] == ["binding"]
        # A flipped character in the signed content breaks the signature.
        tampered = copy.deepcopy(doc)
        tampered["validFrom"] = tampered["validFrom"].replace("2021", "2022")
        bad = await verify_credential(tampered, resolver=resolver, loader=loader, now=now, check_status=None)
        assert not bad.verified


async def test_recommendation_credential_status_is_read_from_the_signed_list(world, vectors, loader, resolver, now):
    listed = _spec(vectors, "appendix-status-list-credential.eddsa-rdfc-2022.signed.json")
    credential = _spec(vectors, "appendix-revocable-credential.eddsa-rdfc-2022.signed.json")
    world.http.serve(credential["credentialStatus"]["statusListCredential"], listed)
    world.clock.now = now
    checker = StatusChecker(world.http, resolver, loader, world.clock)
    (check,) = await checker(credential)
    # The list decodes and bit 94567 is 0, but the examples' issuer (did:example:12345) is
    # not the controller of the signing did:key, so the list's proof is not bound to its
    # issuer: the status cannot be established. Reported as unknown, never as "valid".
    assert Bitstring.decode(listed["credentialSubject"]["encodedList"]).get(94_567) == 0
    assert check.outcome == "unknown", check
    assert check.problem.code == "STATUS_VERIFICATION_ERROR"
    assert "binding" in check.message and "did:example:12345" in check.message


async def test_issue_revoke_and_verify_with_real_signatures(world, loader, resolver, issuer):
    key, did, vm = issuer
    bits = Bitstring(131_072)

    def publish(max_age=None):
        signed = issue_status_list_credential(
            list_url=LIST_URL, issuer=did, purpose="revocation", bitstring=bits,
            key=key, verification_method=vm, now=world.clock(), loader=loader, ttl=timedelta(minutes=5),
        )
        world.http.serve(LIST_URL, signed, max_age=max_age)
        return signed

    signed = publish(max_age=60)
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"]["verificationMethod"] == vm
    assert signed["credentialSubject"]["ttl"] == 300_000
    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:8f1c2f2e-6a43-4b1e-9a43-6f3b2a1c0d9e",
            "type": ["VerifiableCredential"],
            "issuer": did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:student"},
            "credentialStatus": status_list_entry(list_url=LIST_URL, index=4242, purpose="revocation"),
        },
        key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=world.clock(),
    )
    checker = StatusChecker(world.http, resolver, loader, world.clock)

    result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    assert result.verified, result.to_json()
    assert _by_name(result)["status"].outcome == "passed"

    bits.set(4242, 1)
    publish(max_age=60)
    world.clock.advance(seconds=61)
    result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    assert not result.verified
    status = _by_name(result)["status"]
    assert status.outcome == "failed" and "revoked by its issuer" in status.message


async def test_real_list_tampered_after_signing_is_unknown(world, loader, resolver, issuer):
    key, did, vm = issuer
    bits = Bitstring(131_072)
    bits.set(7, 1)
    signed = issue_status_list_credential(
        list_url=LIST_URL, issuer=did, purpose="revocation", bitstring=bits,
        key=key, verification_method=vm, now=world.clock(), loader=loader,
    )
    signed["credentialSubject"]["encodedList"] = Bitstring(131_072).encode()  # "un-revoke" index 7
    world.http.serve(LIST_URL, signed)
    checker = StatusChecker(world.http, resolver, loader, world.clock)
    cred = world.credential(world.entry(7, url=LIST_URL), issuer=did)
    (check,) = await checker(cred)
    assert (check.outcome, check.problem.code) == ("unknown", "STATUS_VERIFICATION_ERROR")


async def test_list_signed_with_eddsa_jcs_2022_verifies(world, loader, resolver, issuer):
    key, did, vm = issuer
    bits = Bitstring(131_072)
    bits.set(99, 1)
    signed = issue_status_list_credential(
        list_url=LIST_URL, issuer=did, purpose="suspension", bitstring=bits,
        key=key, verification_method=vm, now=world.clock(), loader=loader, suite="eddsa-jcs-2022",
    )
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    world.http.serve(LIST_URL, signed)
    checker = StatusChecker(world.http, resolver, loader, world.clock)
    checks = await checker(world.credential(world.entry(99, "suspension", url=LIST_URL), world.entry(98, "suspension", url=LIST_URL), issuer=did))
    assert [c.outcome for c in checks] == ["failed", "passed"]


async def test_a_list_signed_by_another_party_verifies_and_names_it(world, loader, resolver, issuer):
    # Bitstring Status List 1.0 §2.2: the issuer of the credential "MAY be different from the
    # issuer value of a BitstringStatusListCredential". The list's proof is still bound to the
    # list's own issuer; the result names that issuer.
    key, did, vm = issuer
    registry = Ed25519KeyPair.from_seed(bytes(range(1, 33)))
    registry_did = did_key_from_public_key(registry.public_key)
    registry_vm = f"{registry_did}#{registry_did.split(':')[-1]}"
    bits = Bitstring(131_072)
    bits.set(11, 1)
    signed = issue_status_list_credential(
        list_url=LIST_URL, issuer=registry_did, purpose="revocation", bitstring=bits,
        key=registry, verification_method=registry_vm, now=world.clock(), loader=loader,
    )
    world.http.serve(LIST_URL, signed)
    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:6c3c1f0e-2b1d-4d8e-8f3a-0d1e2c3b4a59",
            "type": ["VerifiableCredential"],
            "issuer": did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:student"},
            "credentialStatus": [
                status_list_entry(list_url=LIST_URL, index=10, purpose="revocation"),
                status_list_entry(list_url=LIST_URL, index=11, purpose="revocation"),
            ],
        },
        key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=world.clock(),
    )
    checker = StatusChecker(world.http, resolver, loader, world.clock, any_publisher=True)
    result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    unset, revoked = [c for c in result.checks if c.name == "status"]
    assert (unset.outcome, revoked.outcome) == ("passed", "failed"), result.to_json()
    assert unset.data["statusListIssuer"] == revoked.data["statusListIssuer"] == registry_did
    assert f"published by {registry_did}, not by the credential's issuer {did}" in unset.message

    # A list naming the credential's issuer but signed by the registry's key is the registry's
    # word passed off as the issuer's: its proof is not bound to its issuer, and it says nothing.
    from vc.proofs import add_proof

    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    unsigned["issuer"] = did
    world.http.serve(LIST_URL, add_proof(unsigned, suite="eddsa-rdfc-2022", key=registry, verification_method=registry_vm,
                                         created=world.clock(), loader=loader))
    checks = await StatusChecker(world.http, resolver, loader, world.clock, any_publisher=True)(credential)
    assert [(c.outcome, c.problem.code) for c in checks] == [("unknown", "STATUS_VERIFICATION_ERROR")] * 2
    assert "binding" in checks[0].message


async def test_a_list_re_signed_seconds_ahead_of_the_verifiers_clock_is_read(world, loader, resolver, issuer):
    # QA F4: the publisher re-signs on every status change, stamping validFrom and proof.created
    # with its clock; a verifier 2 s behind got "not valid yet" for every credential on the list.
    key, did, vm = issuer
    signed = issue_status_list_credential(
        list_url=LIST_URL, issuer=did, purpose="revocation", bitstring=Bitstring(131_072),
        key=key, verification_method=vm, now=world.clock() + timedelta(seconds=2), loader=loader,
    )
    world.http.serve(LIST_URL, signed)
    (check,) = await StatusChecker(world.http, resolver, loader, world.clock)(world.credential(world.entry(1, url=LIST_URL), issuer=did))
    assert check.outcome == "passed", check


def test_signing_refuses_a_key_the_issuer_does_not_control(loader, issuer):
    key, _, vm = issuer
    with pytest.raises(ProofGenerationError, match="does not belong"):
        issue_status_list_credential(
            list_url=LIST_URL, issuer="did:example:other", purpose="revocation", bitstring=Bitstring(131_072),
            key=key, verification_method=vm, now=datetime(2025, 1, 1, tzinfo=timezone.utc),
            loader=loader,
        )


# --- multi-bit message entries, signed for real (issue 11, cause 8) ------------------------------

MESSAGE_URL = "https://uni.example/status/message/1"
MESSAGE_OPTIONS = {**REC_MESSAGE_ENTRY, "statusReference": ["https://uni.example/status-dictionary/", "https://uni.example/appeals"]}


def message_credential(did, key, vm, loader, now, suite="eddsa-rdfc-2022", index=4242):
    from status.credential import StatusEntryOptions

    entry = status_list_entry(
        list_url=MESSAGE_URL, index=index, purpose="message", **StatusEntryOptions.from_json(MESSAGE_OPTIONS).kwargs()
    )
    return issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:0d6b8a3e-3c0b-4d55-9f51-0f0b5c1f2d01",
            "type": ["VerifiableCredential"],
            "issuer": did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:student"},
            "credentialStatus": entry,
        },
        key=key, verification_method=vm, suite=SUITES[suite], loader=loader, now=now,
    )


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_a_two_bit_message_entry_is_issued_signed_and_read(world, loader, resolver, issuer, suite):
    key, did, vm = issuer
    bits = Bitstring(131_072, status_size=2)

    def publish():
        signed = issue_status_list_credential(
            list_url=MESSAGE_URL, issuer=did, purpose="message", bitstring=bits,
            key=key, verification_method=vm, now=world.clock(), loader=loader, suite=suite,
        )
        assert signed["id"] == MESSAGE_URL
        world.http.serve(MESSAGE_URL, signed, max_age=0)

    publish()
    credential = message_credential(did, key, vm, loader, world.clock(), suite)
    assert credential["credentialStatus"]["statusListCredential"] == MESSAGE_URL
    checker = StatusChecker(world.http, resolver, loader, world.clock)
    result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    assert result.verified, result.to_json()
    assert _by_name(result)["status"].data["statusMessage"] == "pending_review"

    bits.set(4242, 2)
    publish()
    result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    status = _by_name(result)["status"]
    assert result.verified and (status.data["status"], status.data["valid"], status.data["statusMessage"]) == ("0x2", False, "rejected")

    # The messages are signed: an issuer cannot be made to have promised other ones.
    swapped = copy.deepcopy(credential)
    swapped["credentialStatus"]["statusMessage"][2]["message"] = "accepted"
    result = await verify_credential(swapped, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
    assert _by_name(result)["proof"].problem.code == "PROOF_VERIFICATION_ERROR"
