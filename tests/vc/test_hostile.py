"""Hostile input is refused by size and shape before any JSON-LD work, quickly and with a clear error.

Timing here is a generous bound on refusal (a hung or quadratic check would blow it by orders of
magnitude), not a speed target; speed targets live in bench/.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from vc import limits as limits_mod
from vc.errors import MalformedValueError, ParsingError
from vc.limits import DEFAULT_LIMITS, Limits, check_credential_bounds, check_presentation_bounds, check_shape, parse_json


def nested(depth: int) -> Any:
    doc: Any = {"leaf": True}
    for _ in range(depth):
        doc = {"a": doc}
    return doc


def test_parse_refuses_oversized_bytes_before_parsing() -> None:
    data = b'{"x": "' + b"a" * (DEFAULT_LIMITS.max_bytes + 1) + b'"}'
    start = time.perf_counter()
    with pytest.raises(ParsingError, match="bytes, more than the limit"):
        parse_json(data)
    assert time.perf_counter() - start < 1.0


def test_parse_refuses_nesting_deeper_than_the_interpreter_can_parse() -> None:
    data = "[" * 200_000 + "]" * 200_000
    with pytest.raises(ParsingError, match="nests deeper"):
        parse_json(data, limits=Limits(max_bytes=10_000_000))


@pytest.mark.parametrize("text, member", [
    ('{"credentialSubject": {"name": "Ada", "name": "Eve"}}', "name"),
    ('{"a": 1, "b": [{"c": {}}], "a": 1}', "a"),
    ('[{"x": 1}, {"y": 2, "y": 2}]', "y"),
])
def test_parse_refuses_a_member_named_twice(text: str, member: str) -> None:
    """I-JSON (RFC 7493 §2.3), which JCS and the node's I-JSON checks rest on: one parser shows
    "Ada", another "Eve", for the value a signature covers. PARSING_ERROR naming the member."""
    with pytest.raises(ParsingError, match=f"the member '{member}' appears twice") as e:
        parse_json(text)
    assert e.value.problem().extra == {"member": member}
    assert parse_json('{"name": "Ada", "n": {"name": "Eve"}}') == {"name": "Ada", "n": {"name": "Eve"}}


def test_parse_refuses_invalid_json_and_giant_integers() -> None:
    with pytest.raises(ParsingError, match="not valid JSON"):
        parse_json(b'{"a": ')
    with pytest.raises(ParsingError, match="not valid JSON"):
        parse_json(b'{"a": ' + b"9" * 10_000 + b"}")
    with pytest.raises(ParsingError, match="not valid JSON"):
        parse_json(b"\xff\xfe{}")


def test_shape_refuses_depth_beyond_the_limit() -> None:
    check_shape(nested(DEFAULT_LIMITS.max_depth - 2))
    with pytest.raises(MalformedValueError, match="nests deeper than the limit of 48"):
        check_shape(nested(DEFAULT_LIMITS.max_depth + 1))


def test_shape_walk_is_iterative_so_python_objects_nested_past_the_stack_are_refused_not_crashing() -> None:
    with pytest.raises(MalformedValueError, match="nests deeper"):
        check_shape(nested(100_000))


def test_shape_refuses_too_many_values_quickly() -> None:
    doc = {"credentialSubject": {"items": list(range(5_000_000))}}
    start = time.perf_counter()
    with pytest.raises(MalformedValueError, match="more than 50000 JSON values"):
        check_shape(doc)
    # Stops at the bound: refusing costs the bound, not the document.
    assert time.perf_counter() - start < 1.0


def test_shape_counts_string_bytes_of_dicts_handed_in_directly() -> None:
    with pytest.raises(ParsingError, match="larger than the limit"):
        check_shape({"image": "A" * (DEFAULT_LIMITS.max_bytes + 10)})


def test_shape_refuses_values_json_cannot_hold() -> None:
    with pytest.raises(MalformedValueError, match="not a JSON value"):
        check_shape({"a": {1, 2}})
    with pytest.raises(MalformedValueError, match="non-string key"):
        check_shape({1: "a"})


def test_shape_refuses_what_is_not_i_json_and_keeps_what_is() -> None:
    # I-JSON (RFC 7493 §2.1-2.2): no surrogate code points, numbers that are doubles. Either
    # reached the signer before: a UnicodeEncodeError (HTTP 500), infinity signed as "INF".
    for doc, says in (
        ({"a": "x\ud800"}, "U\\+D800"),
        ({"a": ["ok", {"\udc01": 1}]}, "a property name holding U\\+DC01"),
        ({"a": float("inf")}, "no finite double"),
        ({"a": float("nan")}, "no finite double"),
    ):
        with pytest.raises(MalformedValueError, match=says):
            check_shape(doc)
    check_shape(json.loads('{"a": "\\ud83d\\ude00 Łódź", "b": 1e308, "c": 1e-400}'))  # a pair is one character; underflow is 0.0


async def test_a_lone_surrogate_is_a_transformation_error_to_sign_and_malformed_to_verify(now: Any) -> None:
    from did.key import DIDKeyResolver, did_key_from_public_key
    from did.resolver import Resolver
    from vc.credentials import verify_credential
    from vc.crypto import Ed25519KeyPair
    from vc.errors import ProofTransformationError
    from vc.loader import default_loader
    from vc.proofs import add_proof

    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": did,
           "credentialSubject": {"id": "did:example:a", "name": "\ud800"}}
    doc["@context"].append({"name": "https://schema.org/name"})
    with pytest.raises(ProofTransformationError, match="U\\+D800"):  # a dict handed in directly: not a UnicodeEncodeError
        add_proof(doc, suite="eddsa-rdfc-2022", key=key, created="2025-01-15T00:00:00Z", loader=default_loader())
    signed = add_proof({**doc, "credentialSubject": {"id": "did:example:a", "name": "ok"}}, suite="eddsa-rdfc-2022", key=key,
                       created="2025-01-15T00:00:00Z", loader=default_loader())
    signed["credentialSubject"]["name"] = "\ud800"
    result = await verify_credential(signed, resolver=Resolver({"key": DIDKeyResolver()}), loader=default_loader(), now=now)
    assert not result.verified
    assert [c.problem.code for c in result.checks if c.problem is not None] == ["MALFORMED_VALUE_ERROR"]


def test_too_many_proofs_are_refused() -> None:
    vc = {"type": ["VerifiableCredential"], "proof": [{"type": "DataIntegrityProof"}] * 17}
    with pytest.raises(MalformedValueError, match="17 proofs, more than the limit of 16"):
        check_credential_bounds(vc)
    vc["proof"] = vc["proof"][:16]
    check_credential_bounds(vc)


def test_too_many_credentials_in_a_presentation_are_refused() -> None:
    vp = {"type": ["VerifiablePresentation"], "verifiableCredential": [{"a": 1}] * 65}
    with pytest.raises(MalformedValueError, match="65 credentials, more than the limit of 64"):
        check_presentation_bounds(vp)


def test_too_many_proofs_on_an_embedded_credential_are_refused() -> None:
    vp = {"verifiableCredential": [{"proof": [{}] * 20}]}
    with pytest.raises(MalformedValueError, match="credential 0 carries 20 proofs"):
        check_presentation_bounds(vp)


def test_a_real_sized_credential_is_within_bounds(vectors: Any) -> None:
    path = vectors / "microcredentials" / "1edtech-ob3-spec-examples" / "fullOpenBadge.json"
    doc = parse_json(path.read_bytes())
    check_credential_bounds(doc)


def test_limits_module_exports() -> None:
    assert limits_mod.DEFAULT_LIMITS == Limits()
    assert json.loads(json.dumps({"a": 1})) == parse_json('{"a": 1}')


async def test_blank_node_heavy_graph_is_refused_within_bounded_time_with_a_transformation_error() -> None:
    """A ring of look-alike blank nodes passes the size bounds but would make RDFC-1.0's
    n-degree hashing explode; the canonicalizer's work limit turns it into a proof entry."""
    from datetime import datetime, timezone

    from did.key import DIDKeyResolver
    from did.resolver import Resolver
    from vc.credentials import verify_credential
    from vc.loader import default_loader

    n = 40
    ring = [{"@id": f"_:b{i}", "knows": {"@id": f"_:b{(i + 1) % n}"}} for i in range(n)]
    # Two identical rings: no blank node can be told apart from its twin.
    ring += [{"@id": f"_:c{i}", "knows": {"@id": f"_:c{(i + 1) % n}"}} for i in range(n)]
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "credentialSubject": {"id": "did:example:subject", "friends": ring},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-01T00:00:00Z",
            "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "proofPurpose": "assertionMethod",
            "proofValue": "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme",
        },
    }
    start = time.perf_counter()
    result = await verify_credential(
        vc, resolver=Resolver({"key": DIDKeyResolver()}), loader=default_loader(), now=datetime(2025, 6, 1, tzinfo=timezone.utc)
    )
    elapsed = time.perf_counter() - start
    assert not result.verified
    proof = result.check("proof")
    assert proof is not None and proof.problem is not None
    assert proof.problem.code == "PROOF_TRANSFORMATION_ERROR", result.to_json()
    assert "too much work" in proof.problem.detail or "blank nodes" in proof.problem.detail
    assert elapsed < 20, elapsed


async def test_a_refused_document_is_not_kept_in_the_result() -> None:
    from datetime import datetime, timezone

    from vc.credentials import verify_credential
    from vc.presentations import verify_presentation

    deep = nested(5_000)
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    result = await verify_credential(deep, resolver=None, loader=None, now=now)
    assert result.document is None
    json.dumps(result.to_json(include_document=True))  # serializable, no RecursionError
    repr(result)
    vp_result = await verify_presentation(deep, resolver=None, loader=None, now=now, challenge=None, domain=None)
    assert vp_result.document is None and not vp_result.verified
