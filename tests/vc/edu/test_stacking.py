"""Stacked credentials: parts named by id + digestMultibase, checked for presence, digest,
duplicates, learner and ECTS; sums per EQF level; the built credential signs and verifies."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest

from support import run_js_sync

from did.key import DIDKeyResolver, did_key_from_public_key
from did.multikey import b58decode
from did.resolver import Resolver
from vc import jcs
from vc.credentials import issue_credential, verify_credential
from vc.cryptosuites import SUITES
from vc.crypto import Ed25519KeyPair
from vc.datamodel import check_credential
from vc.edu import IssuerProfile, Learner, build_microcredential, parse_achievement
from vc.edu.stacking import (
    DUPLICATED,
    ECTS_MISMATCH,
    LEARNER,
    MALFORMED,
    MISSING,
    NOT_MICRO,
    TAMPERED,
    StackError,
    build_stacked_credential,
    check_stack,
    digest_or_none,
    is_stacked,
    part_digest,
)
from vc.loader import default_loader

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = Ed25519KeyPair.from_seed(bytes(range(32)))
DID = did_key_from_public_key(KEY.public_key)
VM = f"{DID}#{KEY.public_multibase}"
LOADER = default_loader()
ISSUER = IssuerProfile(DID, "University of Example", country_code="NL")


def course(slug: str, ects: float, eqf: int) -> dict[str, Any]:
    return {
        "id": f"https://uni.example/achievements/{slug}",
        "title": f"Course {slug}",
        "description": "A module.",
        "learningOutcomes": ["Do the thing"],
        "ects": ects,
        "eqfLevel": eqf,
        "assessment": {"type": "written examination"},
        "participation": "online",
        "qualityAssurance": {"description": "Institutional accreditation", "url": "https://qa.example/decisions/1"},
    }


def sign(vc: dict[str, Any]) -> dict[str, Any]:
    return issue_credential(vc, key=KEY, verification_method=VM, suite=SUITES["eddsa-jcs-2022"], loader=LOADER, now=NOW)


def part(slug: str, ects: float, eqf: int, learner: str = "Ana Andromeda", n: int = 0) -> dict[str, Any]:
    vc = build_microcredential(
        parse_achievement(course(slug, ects, eqf)),
        ISSUER,
        Learner(learner, id=f"did:example:{learner.split()[0].lower()}"),
        valid_from=NOW,
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{abs(hash((slug, learner, n))) % 10**12:012d}",
    )
    return sign(vc)


STACK_ACH = {"id": "https://uni.example/achievements/cert-ds", "name": "Certificate in Data Science", "description": "Three modules."}


@pytest.fixture(scope="module")
def parts() -> list[dict[str, Any]]:
    return [part("a", 5, 6), part("b", 2.5, 5), part("c", 2.5, 6)]


def stack(parts: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return build_stacked_credential(parts, issuer={"id": DID, "type": ["Profile"], "name": "Uni"}, achievement=STACK_ACH, valid_from=NOW, credential_id="urn:uuid:5eb1e4c0-0000-4000-8000-000000000001", **kw)


def test_digest_is_multibase_sha256_multihash_of_jcs_bytes(parts: list[dict[str, Any]]) -> None:
    p = parts[0]
    raw = b58decode(part_digest(p)[1:])
    assert part_digest(p).startswith("z") and raw[:2] == b"\x12\x20"
    assert raw[2:] == hashlib.sha256(jcs.canonicalize(p)).digest()
    # key order does not matter (JCS), the proof does
    assert part_digest(dict(reversed(list(p.items())))) == part_digest(p)
    assert part_digest({k: v for k, v in p.items() if k != "proof"}) != part_digest(p)


def test_stack_of_three_adds_up_and_reports_per_eqf_level(parts: list[dict[str, Any]]) -> None:
    s = stack(parts)
    assert is_stacked(s) and not is_stacked(parts[0])
    assert s["credentialSubject"]["achievement"]["creditsAvailable"] == 10
    assert s["credentialSubject"]["id"] == "did:example:ana"
    assert [r["id"] for r in s["relatedResource"]] == [p["id"] for p in parts]
    report = check_stack(s, [s, *parts])
    assert report.ok, report.to_json()
    out = report.to_json()
    assert out["sumEcts"] == 10 and out["statedTotalEcts"] == 10
    assert out["ectsByEqfLevel"] == {"5": 2.5, "6": 7.5}
    assert all(p["counted"] and p["digestMatches"] for p in out["parts"])
    check_credential(s)  # VC DM 2.0 relatedResource shape holds


def test_built_stack_signs_and_verifies_with_rdfc(parts: list[dict[str, Any]]) -> None:
    s = issue_credential(stack(parts), key=KEY, verification_method=VM, suite=SUITES["eddsa-rdfc-2022"], loader=LOADER, now=NOW)

    async def go() -> Any:
        return await verify_credential(s, resolver=Resolver({"key": DIDKeyResolver()}), loader=LOADER, now=NOW)

    import asyncio

    result = asyncio.run(go())
    assert result.verified, result.to_json()


@pytest.mark.parametrize(
    "damage, code",
    [
        ("missing", MISSING),
        ("tampered", TAMPERED),
        ("duplicate-reference", DUPLICATED),
        ("duplicate-achievement", DUPLICATED),
        ("wrong-total", ECTS_MISMATCH),
    ],
)
def test_refusals_name_the_reason_and_the_part(parts: list[dict[str, Any]], damage: str, code: str) -> None:
    s = stack(parts)
    presented = [s, *parts]
    if damage == "missing":
        presented = [s, parts[0], parts[2]]
    elif damage == "tampered":
        bad = copy.deepcopy(parts[1])
        bad["credentialSubject"]["achievement"]["creditsAvailable"] = 25
        presented = [s, parts[0], bad, parts[2]]
    elif damage == "duplicate-reference":
        s = copy.deepcopy(s)
        s["relatedResource"].append(dict(s["relatedResource"][0]))
    elif damage == "duplicate-achievement":
        again = part("a", 5, 6, n=1)  # a second credential for the same course
        s = copy.deepcopy(s)
        s["relatedResource"].append({"id": again["id"], "digestMultibase": part_digest(again)})
        presented = [s, *parts, again]
    elif damage == "wrong-total":
        s = copy.deepcopy(s)
        s["credentialSubject"]["achievement"]["creditsAvailable"] = 12
    report = check_stack(s, presented)
    assert not report.ok
    assert [p.code for p in report.problems] == [code], report.to_json()
    if damage in ("missing", "tampered"):
        assert report.problems[0].part == parts[1]["id"]
        assert report.to_json()["sumEcts"] == 10 - 2.5  # the bad part is not counted
    if damage == "wrong-total":
        assert "add up to 10 ECTS" in report.problems[0].message and "states 12" in report.problems[0].message


def test_builder_refuses_duplicates_other_learners_and_wrong_totals(parts: list[dict[str, Any]]) -> None:
    with pytest.raises(StackError) as e:
        stack([parts[0], parts[0]])
    assert "more than once" in e.value.detail or "counted twice" in e.value.detail
    with pytest.raises(StackError) as e:
        stack([parts[0], part("b", 2.5, 5, learner="Bob Builder")])
    assert any(p["code"] == LEARNER for p in e.value.extra["problems"])
    with pytest.raises(StackError) as e:
        stack(parts, total_ects=12)
    assert "add up to 10" in e.value.detail
    with pytest.raises(StackError):
        build_stacked_credential(parts, issuer=DID, achievement={"id": "x"}, valid_from=NOW)
    assert stack(parts, total_ects=10.0)["credentialSubject"]["achievement"]["creditsAvailable"] == 10


def test_a_stack_is_not_a_part_so_no_micro_credential_counts_twice(parts: list[dict[str, Any]]) -> None:
    """A QA sweep found S2 = [S1, A] with S1 = [A, B] issued with 12.5 ECTS where the learner
    earned 7.5: A counted twice, once inside S1. A stack is not a micro-credential, so it is no
    part, in either order."""
    inner = sign(stack(parts[:2]))
    for order in ([inner, parts[0]], [parts[0], inner]):
        with pytest.raises(StackError) as e:
            stack(order)
        assert [p["code"] for p in e.value.extra["problems"]] == [NOT_MICRO]
        assert "it is itself a stack" in e.value.detail


def test_credits_of_a_part_that_is_no_micro_credential_are_not_ects(parts: list[dict[str, Any]]) -> None:
    """OB 3.0 fixes no unit for creditsAvailable; only the profile's MicroCredential makes it ECTS.
    A Degree's 36 credits were added to a micro-credential's 5 as 41 ECTS."""
    degree = copy.deepcopy(parts[1])
    degree.pop("proof")
    degree["id"] = "urn:uuid:00000000-0000-4000-8000-0000000000de"
    degree["credentialSubject"]["achievement"].update(achievementType="Degree", creditsAvailable=36)
    degree = sign(degree)
    with pytest.raises(StackError) as e:
        stack([parts[0], degree])
    (problem,) = e.value.extra["problems"]
    assert problem["code"] == NOT_MICRO and problem["part"] == degree["id"]


def test_parts_without_a_learner_to_compare_do_not_stack(parts: list[dict[str, Any]]) -> None:
    """Parts naming their learner only by salted e-mail hashes (which do not compare) stacked
    into a credential naming no learner at all; and the outcome hung on the parts' order."""

    def hashed_only(slug: str, salt: str) -> dict[str, Any]:
        vc = build_microcredential(parse_achievement(course(slug, 2.5, 5)), ISSUER,
                                   Learner("stand-in", email="ana@example.org"), valid_from=NOW, salt=salt,
                                   credential_id=f"urn:uuid:00000000-0000-4000-8000-{abs(hash(slug)) % 10**12:012d}")
        subject = vc["credentialSubject"]
        subject["identifier"] = [i for i in subject["identifier"] if i["identityType"] != "name"]
        return sign(vc)

    p, q = hashed_only("p", "s1"), hashed_only("q", "s2")
    for order in ([p, q], [p, parts[0]], [parts[0], p]):
        with pytest.raises(StackError) as e:
            stack(order)
        codes = {x["code"] for x in e.value.extra["problems"]}
        assert codes & {MALFORMED, LEARNER}, e.value.extra["problems"]
    report = check_stack({**stack(parts), "credentialSubject": {"achievement": stack(parts)["credentialSubject"]["achievement"]}}, parts)
    assert any(x.code == MALFORMED and "names no learner" in x.message for x in report.problems)


def test_stack_of_nothing_or_garbage_never_raises() -> None:
    for doc in (None, {}, {"relatedResource": "x"}, {"relatedResource": [{"id": 5}], "credentialSubject": []}):
        r = check_stack(doc, [None, 5, {"id": 3}])
        assert not r.ok


@pytest.mark.parametrize("poison", [{"big": 2**53 + 1}, {"\ud800": 1}, {"name": "\udfff"}])
def test_a_part_jcs_cannot_represent_has_no_digest_and_counts_as_tampered(parts: list[dict[str, Any]], poison: dict[str, Any]) -> None:
    """Found by the API fuzzing work (issue 14): a presented part holding an integer past 2**53
    that no double holds, or a lone surrogate, made check_stack raise rfc8785's error, a 500 on
    POST /presentations/verify."""
    s = stack(parts)
    bad = copy.deepcopy(parts[1])
    bad["credentialSubject"]["achievement"].update(poison)
    assert digest_or_none(bad) is None and digest_or_none(parts[1]) == part_digest(parts[1])
    report = check_stack(s, [s, parts[0], bad, parts[2]])
    (problem,) = report.problems
    assert problem.code == TAMPERED and problem.part == parts[1]["id"] and "has no digest" in problem.message
    with pytest.raises(StackError, match="RFC 8785"):  # and it cannot be stacked
        stack([parts[0], bad])


@pytest.mark.interop
@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_reference_stack_verifies_our_stacked_credential(parts: list[dict[str, Any]], tmp_path: Any, suite: str) -> None:
    """relatedResource with digestMultibase is plain VC 2.0: Digital Bazaar's verifier accepts it."""
    import json

    seed = bytes.fromhex("26bf2c9af943a2f2e61c56ec89ba1249936a82cd48ddb10dd70f1874b7fbdb00")  # the harness issuer
    key = Ed25519KeyPair.from_seed(seed)
    did = did_key_from_public_key(key.public_key)
    unsigned = build_stacked_credential(parts, issuer={"id": did, "type": ["Profile"], "name": "Uni"}, achievement=STACK_ACH, valid_from=NOW, eqf_level=6)
    signed = issue_credential(unsigned, key=key, verification_method=f"{did}#{key.public_multibase}", suite=SUITES[suite], loader=LOADER, now=NOW)
    (tmp_path / "stack.json").write_text(json.dumps(signed))
    code, out = run_js_sync("verify.mjs", str(tmp_path / "stack.json"), "--now", "2026-01-01T00:00:00Z")
    assert code == 0 and out["verified"] is True, out
