"""Differential tests: the fast canonicalization path (vc.fastld) against plain pyld.

The reference is pyld's own ``normalize`` (URDNA2015 = RDFC-1.0) with the shipped loader and
nothing of ours in the way. The fast path must give the same bytes on every vc-di-eddsa input
and proof configuration, the Open Badges 3.0 examples, and a seeded random corpus of
credentials and presentations; where the reference refuses a document, so must the fast path.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from support import load_json
from vc import fastld
from vc.loader import ContextLoader, default_loader

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def reference(doc: Any, loader=None) -> str:
    """Plain pyld, as in a fresh process: pyld's expansion and RDF conversion and pyld's
    URDNA2015, with only its N-Quads serialization made canonical (fastld.RDFC10; that class is
    held to pyld's own output below wherever pyld's escaping is already canonical).

    The resolver gets an empty cache: pyld's module-wide default would carry processed
    contexts from one loader over to another (test_two_loaders_never_share_cached_contexts).
    """
    loader = loader or default_loader()
    dataset = pyld_jsonld.to_rdf(copy.deepcopy(doc), {"documentLoader": loader,
                                                      "contextResolver": ContextResolver({}, loader)})
    return fastld.RDFC10().main(dataset, {"format": "application/n-quads"})


def pyld_normalize(doc: Any, loader=None) -> str:
    """pyld's own normalize, escaping and all."""
    loader = loader or default_loader()
    return pyld_jsonld.normalize(
        copy.deepcopy(doc),
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader,
         "contextResolver": ContextResolver({}, loader)},
    )


@pytest.fixture(scope="module")
def cache() -> fastld.ContextCache:
    # One cache for the whole module, so later documents run against warm, shared caches:
    # that is where a stale or cross-talking cache entry would show.
    return fastld.ContextCache(default_loader())


def assert_same(doc: Any, cache: fastld.ContextCache, loader=None) -> str:
    before = copy.deepcopy(doc)
    try:
        want = reference(doc, loader)
    except Exception as e:  # the reference refuses: so must the fast path
        with pytest.raises(Exception):
            fastld.canonize(doc, cache)
        return f"refused: {type(e).__name__}"
    got = fastld.canonize(doc, cache)
    assert got == want
    assert doc == before, "the fast path changed its input"
    return got


# --- vectors ---------------------------------------------------------------------------------


def _vector_inputs(vectors: Path) -> list[tuple[str, Any]]:
    base = vectors / "vc-di-eddsa"
    out: list[tuple[str, Any]] = []
    for path in sorted(base.rglob("*.json")):
        if path.name in ("keyPair.json", "multiKeyPairs.json"):
            continue
        doc = load_json(path)
        rel = str(path.relative_to(base))
        if not isinstance(doc, dict) or "@context" not in doc:
            continue
        out.append((rel, doc))
        proofs = doc.get("proof")
        if proofs is not None:
            unsigned = {k: v for k, v in doc.items() if k != "proof"}
            out.append((rel + " without proof", unsigned))
            for i, proof in enumerate(proofs if isinstance(proofs, list) else [proofs]):
                config = {k: v for k, v in proof.items() if k != "proofValue"}
                config.setdefault("@context", doc["@context"])
                out.append((f"{rel} proof {i} config", config))
    return out


def test_every_vc_di_eddsa_input_and_proof_config(vectors, cache):
    inputs = _vector_inputs(vectors)
    assert len(inputs) >= 30
    for name, doc in inputs:
        try:
            assert_same(doc, cache)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


@pytest.mark.parametrize(
    "doc, expected",
    [
        ("unsigned.json", "eddsa-rdfc-2022/canonDocDataInt.txt"),
        ("eddsa-rdfc-2022/proofConfigDataInt.json", "eddsa-rdfc-2022/proofCanonDataInt.txt"),
        ("employmentAuth.json", "eddsa-rdfc-2022/employ/canonDocDataInt.txt"),
        ("eddsa-rdfc-2022/employ/proofConfigDataInt.json", "eddsa-rdfc-2022/employ/proofCanonDataInt.txt"),
        ("Ed25519Signature2020/proofConfigEdSig.json", "Ed25519Signature2020/proofCanonEdSig.txt"),
    ],
)
def test_reproduces_published_canonical_forms(vectors, cache, doc, expected):
    base = vectors / "vc-di-eddsa"
    got = fastld.canonize(load_json(base / doc), cache)
    assert got == (base / expected).read_text(encoding="utf-8")


def test_ed25519signature2020_document_form(vectors, cache):
    # The vector's canonical document was computed with the suite context appended.
    base = vectors / "vc-di-eddsa"
    doc = load_json(base / "unsigned.json")
    doc["@context"] = [*doc["@context"], ED2020]
    assert fastld.canonize(doc, cache) == (base / "Ed25519Signature2020/canonDocEdSig.txt").read_text()


def test_open_badges_examples(vectors, cache):
    folder = vectors / "microcredentials"
    paths = sorted((folder / "1edtech-ob3-spec-examples").glob("*.json"))
    paths.append(folder / "third-party" / "mynextid-open-badge-mc-example.json")
    assert len(paths) >= 8
    canonical = 0
    for path in paths:
        doc = load_json(path)
        docs = [doc]
        if isinstance(doc, dict) and "proof" in doc:
            docs.append({k: v for k, v in doc.items() if k != "proof"})
        for d in docs:
            try:
                result = assert_same(d, cache)
            except AssertionError as e:
                raise AssertionError(f"{path.name}: {e}") from None
            canonical += not result.startswith("refused")
    assert canonical >= 8  # most examples canonicalize; refusals must match too


# --- a seeded random corpus ------------------------------------------------------------------

_TEXT = ["Ada", "Grace Hopper", 'quote " inside', "back\\slash", "new\nline", "tab\there",
         "cr\rhere", "bell\x07", "form\x0cfeed", "nul\x00byte", "Ünïcødé ✓", "😀 emoji", "", " ",
         "x" * 300, "_:b0", "http://example.org/not-an-iri-value"]
_NUMBERS = [0, 1, -1, 42, 2**53, 2**64 + 1, -(2**70), 0.5, -0.25, 1.0, 3.14159, 1e21, 1e-7,
            6.02214076e23, 100.0, -0.0, True, False]


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.n = 0

    def uid(self, prefix: str = "urn:uuid:") -> str:
        self.n += 1
        return f"{prefix}{self.r.randrange(16**8):08x}-{self.n}"

    def literal(self) -> Any:
        r = self.r
        kind = r.randrange(8)
        if kind == 0:
            return r.choice(_NUMBERS)
        if kind == 1:
            return {"@value": r.choice(_TEXT), "@language": r.choice(["en", "fr-CA", "de", "EN-gb"])}
        if kind == 2:
            return {"@value": r.choice(["2025-01-15T00:00:00Z", "12", "true", "abc", "1.5", "1e3", "NaN", ""]),
                    "@type": r.choice(["http://www.w3.org/2001/XMLSchema#dateTime",
                                       "http://www.w3.org/2001/XMLSchema#integer",
                                       "http://www.w3.org/2001/XMLSchema#double",
                                       "http://www.w3.org/2001/XMLSchema#string",
                                       "https://example.org/datatype#x"])}
        if kind == 3:
            return [self.literal() for _ in range(r.randrange(0, 4))]
        return r.choice(_TEXT)

    def node(self, depth: int) -> dict:
        r = self.r
        node: dict[str, Any] = {}
        if r.random() < 0.5:  # otherwise a blank node
            node["id"] = r.choice([self.uid(), self.uid("did:example:"), self.uid("https://example.org/n/")])
        elif r.random() < 0.1:
            node["id"] = "_:shared"  # a labelled blank node, possibly referenced elsewhere
        if r.random() < 0.7:
            node["type"] = r.choice(["Thing", ["Thing", "Other"], "Profile", ["Achievement"]])
        for _ in range(r.randrange(1, 5)):
            key = r.choice(["name", "description", "score", "note", "level", "prop" + str(r.randrange(5))])
            node[key] = self.literal()
        if depth > 0:
            for _ in range(r.randrange(0, 3)):
                key = r.choice(["child", "related", "part", "sibling"])
                if r.random() < 0.3:
                    node[key] = [self.node(depth - 1) for _ in range(r.randrange(1, 4))]
                else:
                    node[key] = self.node(depth - 1)
        if r.random() < 0.15:  # a list: literals, nested lists (literal() may give an array), nodes
            items = [self.literal() if r.random() < 0.7 or depth == 0 else self.node(depth - 1)
                     for _ in range(r.randrange(0, 4))]
            node["seq"] = {"@list": items}
        if r.random() < 0.05:
            node["self"] = {"id": node["id"]} if "id" in node else {"id": "_:loop"}
        return node

    def achievement(self) -> dict:
        r = self.r
        a: dict[str, Any] = {"type": ["Achievement"], "name": r.choice(_TEXT),
                             "criteria": {"narrative": r.choice(_TEXT)}}
        if r.random() < 0.7:
            a["id"] = self.uid()
        if r.random() < 0.5:
            a["description"] = r.choice(_TEXT)
        if r.random() < 0.5:
            a["achievementType"] = r.choice(["Certificate", "Badge", "MicroCredential", "Course"])
        if r.random() < 0.3:
            a["creditsAvailable"] = r.choice([1, 2.5, 10.0, 0.25])
        if r.random() < 0.3:
            a["alignment"] = [{"type": ["Alignment"], "targetName": r.choice(_TEXT),
                               "targetUrl": self.uid("https://example.org/skill/")}
                              for _ in range(r.randrange(1, 3))]
        if r.random() < 0.3:
            a["tag"] = [r.choice(_TEXT) for _ in range(r.randrange(1, 4))]
        if r.random() < 0.3:
            a["image"] = {"id": self.uid("https://example.org/img/"), "type": "Image", "caption": r.choice(_TEXT)}
        if r.random() < 0.2:
            a["resultDescription"] = [{"id": self.uid(), "type": ["ResultDescription"], "name": "Score",
                                       "resultType": "ScaledScore"}]
            if r.random() < 0.7:  # an @list in OB 3.0's context, as issued micro-credentials carry
                a["resultDescription"][0]["allowedValue"] = [r.choice(["A", "B", "C", "pass", "", "Ü"])
                                                             for _ in range(r.randrange(0, 5))]
        return a

    def ob3_credential(self) -> dict:
        r = self.r
        subjects = []
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            s: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": self.achievement()}
            if r.random() < 0.7:
                s["id"] = self.uid("did:example:")
            if r.random() < 0.4:
                s["name"] = r.choice(_TEXT)
            if r.random() < 0.3:
                s["result"] = [{"type": ["Result"], "value": str(r.randrange(100)),
                                "resultDescription": self.uid()}]
            if r.random() < 0.2:
                s["activityEndDate"] = "2025-03-01T10:00:00Z"
            subjects.append(s)
        cred: dict[str, Any] = {
            "@context": [V2, OB303] + ([EXAMPLES] if r.random() < 0.3 else []),
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": r.choice([self.uid("did:example:"),
                                {"id": self.uid("did:example:"), "type": ["Profile"], "name": r.choice(_TEXT)}]),
            "validFrom": "2025-01-15T00:00:00Z",
            "credentialSubject": subjects[0] if len(subjects) == 1 and r.random() < 0.7 else subjects,
        }
        if r.random() < 0.7:
            cred["id"] = self.uid()
        if r.random() < 0.6:
            cred["name"] = r.choice(_TEXT)
        if r.random() < 0.3:
            cred["validUntil"] = "2030-01-01T00:00:00Z"
        if r.random() < 0.3:
            cred["credentialStatus"] = {"id": self.uid("https://example.org/status#"),
                                        "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                        "statusListIndex": str(r.randrange(1000)),
                                        "statusListCredential": "https://example.org/status/1"}
        if r.random() < 0.2:
            cred["evidence"] = [{"type": ["Evidence"], "narrative": r.choice(_TEXT)}
                                for _ in range(r.randrange(1, 3))]
        if r.random() < 0.3:
            cred["proof"] = self.proof()
        return cred

    def proof(self) -> dict:
        r = self.r
        p = {"type": "DataIntegrityProof", "cryptosuite": r.choice(["eddsa-rdfc-2022", "eddsa-jcs-2022"]),
             "created": "2025-01-15T00:00:00Z", "verificationMethod": self.uid("did:example:") + "#key-1",
             "proofPurpose": r.choice(["assertionMethod", "authentication"]),
             "proofValue": "z" + "".join(r.choice("123456789ABCDEFGH") for _ in range(20))}
        if r.random() < 0.3:
            p["challenge"], p["domain"] = "c-" + str(r.randrange(99)), "example.org"
        return p

    def vocab_credential(self) -> dict:
        # @vocab context: any property name is defined, so free-form nodes reach the RDF.
        r = self.r
        return {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential", "ExampleCredential"],
                "issuer": self.uid("did:example:"), "validFrom": "2025-01-15T00:00:00Z",
                "credentialSubject": r.choice([self.node(3), [self.node(2) for _ in range(r.randrange(1, 4))]])}

    def v1_credential(self) -> dict:
        r = self.r
        return {"@context": [V1, OB303], "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {"id": self.uid("did:example:"), "type": "Profile", "name": r.choice(_TEXT)},
                "issuanceDate": "2025-01-15T00:00:00Z",
                "credentialSubject": {"type": "AchievementSubject", "achievement": self.achievement()}}

    def presentation(self) -> dict:
        r = self.r
        vp: dict[str, Any] = {"@context": [V2, OB303], "type": ["VerifiablePresentation"],
                              "verifiableCredential": [self.ob3_credential() for _ in range(r.randrange(1, 3))]}
        if r.random() < 0.5:
            vp["holder"] = self.uid("did:example:")
        if r.random() < 0.5:
            vp["proof"] = self.proof()
        return vp

    def proof_config(self) -> dict:
        p = self.proof()
        del p["proofValue"]
        p["@context"] = self.r.choice([[V2], [V2, OB303], [V1, OB303, DI_V2]])
        return p

    def document(self) -> dict:
        kind = self.r.randrange(10)
        if kind < 4:
            return self.ob3_credential()
        if kind < 6:
            return self.vocab_credential()
        if kind < 7:
            return self.v1_credential()
        if kind < 8:
            return self.presentation()
        if kind < 9:
            return self.proof_config()
        # two identical blank nodes: first-degree hashes collide, so the fallback must decide
        twin = {"narrative": self.r.choice(_TEXT)}
        cred = self.ob3_credential()
        subject = cred["credentialSubject"]
        subject = subject[0] if isinstance(subject, list) else subject
        subject["achievement"]["criteria"] = copy.deepcopy(twin)
        cred["evidence"] = [{"type": ["Evidence"], **copy.deepcopy(twin)}, {"type": ["Evidence"], **twin}]
        return cred


@pytest.mark.parametrize("seed", range(6))
def test_random_corpus_matches_reference(cache, seed):
    gen = _Gen(seed)
    fallbacks = 0
    for i in range(50):
        doc = gen.document()
        try:
            assert_same(doc, cache)
        except AssertionError as e:
            raise AssertionError(f"seed {seed} document {i}: {e}\n{json.dumps(doc)[:3000]}") from None
        fallbacks += _needs_fallback(doc, cache)
    assert fallbacks >= 1  # the corpus exercises the hand-over to the full algorithm too


def _needs_fallback(doc: Any, cache: fastld.ContextCache) -> int:
    calls = []

    def spy(dataset):
        calls.append(1)
        return fastld._reference_canonize(dataset)

    try:
        fastld.canonize(doc, cache, fallback=spy)
    except Exception:
        return 0
    return len(calls)


# --- the canonicalizer on its own --------------------------------------------------------------


def _bnode(v):
    return {"type": "blank node", "value": v}


def _iri(v):
    return {"type": "IRI", "value": v}


def test_fast_rdfc_uses_the_fallback_only_when_first_degree_hashes_collide():
    p = _iri("http://example.org/p")
    lit = {"type": "literal", "value": "x", "datatype": "http://www.w3.org/2001/XMLSchema#string"}
    distinct = {"@default": [
        {"subject": _bnode("_:b0"), "predicate": p, "object": lit},
        {"subject": _bnode("_:b1"), "predicate": p, "object": _bnode("_:b0")},
    ]}
    alike = {"@default": [
        {"subject": _bnode("_:b0"), "predicate": p, "object": lit},
        {"subject": _bnode("_:b1"), "predicate": p, "object": lit},
    ]}
    calls = []

    def spy(ds):
        calls.append(ds)
        return fastld._reference_canonize(ds)

    for ds, expect_calls in ((distinct, 0), (alike, 1)):
        snapshot = copy.deepcopy(ds)
        out = fastld.canonize_dataset(ds, fallback=spy)
        assert len(calls) == expect_calls
        assert ds == snapshot
        assert out == fastld._reference_canonize(copy.deepcopy(ds))
    # b0's first-degree hash (over `_:a p "x"` and `_:z p _:a`) sorts first here
    assert fastld.canonize_dataset(distinct) == (
        '_:c14n0 <http://example.org/p> "x" .\n_:c14n1 <http://example.org/p> _:c14n0 .\n'
    )


def test_max_blank_nodes_hands_over_to_the_fallback():
    p = _iri("http://example.org/p")
    ds = {"@default": [{"subject": _bnode(f"_:b{i}"), "predicate": p, "object": _iri(f"http://e/{i}")}
                       for i in range(5)]}

    def refuse(_):
        raise RuntimeError("too many")

    assert fastld.canonize_dataset(ds, fallback=refuse, max_blank_nodes=5)
    with pytest.raises(RuntimeError):
        fastld.canonize_dataset(ds, fallback=refuse, max_blank_nodes=4)


# --- the caches ------------------------------------------------------------------------------


def test_inline_context_changed_between_calls_is_not_served_stale(cache):
    inline = {"score": "https://example.org/a#score"}
    doc = {"@context": [V2, inline], "id": "urn:x:1", "score": "5"}
    first = fastld.canonize(doc, cache)
    inline["score"] = "https://example.org/b#score"
    second = fastld.canonize(doc, cache)
    assert "a#score" in first and "b#score" in second
    assert second == reference(doc)


def test_two_loaders_never_share_cached_contexts():
    url = "https://example.org/ctx/v1"
    one = ContextLoader(documents={url: {"@context": {"term": "https://one.example/term"}}})
    two = ContextLoader(documents={url: {"@context": {"term": "https://two.example/term"}}})
    doc = {"@context": url, "@id": "urn:x", "term": "v"}
    a = fastld.canonize(doc, fastld.ContextCache(one))
    b = fastld.canonize(doc, fastld.ContextCache(two))
    assert "one.example" in a and "two.example" in b
    assert a == reference(doc, one) and b == reference(doc, two)


def test_type_scoped_child_contexts_hit_the_cache(cache):
    # The point of the mixin: the second canonicalization reprocesses no context.
    doc = _Gen(99).ob3_credential()
    fastld.canonize(doc, cache)
    calls = []
    original = fastld.FastProcessor._create_term_definition

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    fastld.FastProcessor._create_term_definition = counting
    try:
        fastld.canonize(doc, cache)
    finally:
        fastld.FastProcessor._create_term_definition = original
    assert calls == []


def test_unknown_context_is_refused(cache):
    with pytest.raises(Exception, match="not one this node has pinned|loading remote context"):
        fastld.canonize({"@context": "https://unknown.example/ctx", "name": "x"}, cache)


# --- JCS (RFC 8785) ----------------------------------------------------------------------------

_JCS_STRINGS = ["", "a", "é", "€", "\u2028", "\ue000", "\uffff", "😀", "\U0001f600x", "\x00", "\x1f", "\x7f",
                '"', "\\", "\b\f\n\r\t", "mixed \x01 ü 😀 \ud7ff", "Zürich", "日本語"]


def _jcs_value(r: random.Random, depth: int) -> Any:
    kind = r.randrange(9 if depth > 0 else 6)
    if kind == 0:
        return r.choice(_JCS_STRINGS) + r.choice(_JCS_STRINGS)
    if kind == 1:
        return r.choice([0, 1, -1, 2**53 - 1, -(2**53 - 1), 2**53, -(2**53), 10**20, 7, True, False, None])
    if kind == 2:
        return r.choice([0.5, 1.0, -0.0, 1e21, 1e-7, 3.14159, 100.0, 5e-324, 1.7976931348623157e308])
    if kind < 6:
        return r.choice(["Ada", "x" * r.randrange(50), "did:example:123"])
    if kind < 8:
        return {r.choice(_JCS_STRINGS + ["id", "type", "name", "a", "b", "\U0001f600", "\ue000k"])
                + r.choice(["", "1", "é"]): _jcs_value(r, depth - 1) for _ in range(r.randrange(0, 6))}
    return [_jcs_value(r, depth - 1) for _ in range(r.randrange(0, 5))]


def _as_javascript_reads(value: Any) -> Any:
    """What a JavaScript JSON reader makes of ``value``'s integers past ±(2^53 − 1) that are
    exact doubles (2^53, 10^20): those doubles. Others are left for the reference to refuse."""
    if type(value) is int and abs(value) > 2**53 - 1 and float(value) == value:
        return float(value)
    if isinstance(value, dict):
        return {k: _as_javascript_reads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_javascript_reads(v) for v in value]
    return value


def test_jcs_fast_path_matches_rfc8785_on_a_random_corpus():
    import rfc8785

    from vc import jcs

    r = random.Random(8785)
    fast_taken = 0
    for i in range(3000):
        value = _jcs_value(r, 4)
        try:
            want = rfc8785.dumps(_as_javascript_reads(value))
        except Exception:
            with pytest.raises(Exception):
                jcs.canonicalize(value)
            continue
        assert jcs.canonicalize(value) == want, f"value {i}: {value!r}"
        fast_taken += jcs._plain(value)
    assert fast_taken > 500  # the corpus exercises the fast path, not only the reference


def test_jcs_non_bmp_keys_sort_by_utf16_code_units():
    from vc import jcs

    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 (code point order says after)
    value = {"\ue000": 1, "\U0001f600": 2}
    assert jcs.canonicalize(value) == '{"😀":2,"\ue000":1}'.encode()
    assert jcs.canonicalize({"b": [1, "x"], "a": None}) == b'{"a":null,"b":[1,"x"]}'


def test_jcs_refuses_what_jcs_cannot_represent():
    import rfc8785

    from vc import jcs

    # 2^53 + 1 and 9007199254740993 need more precision than a double has (I-JSON, RFC 8785
    # §3.1): JavaScript would read 9007199254740992 and sign or verify that instead.
    for bad in (2**53 + 1, -(2**53 + 1), 12345678901234567891, 10**400, float("nan"), "\ud800", {1: "x"}):
        with pytest.raises(rfc8785.CanonicalizationError):
            jcs.canonicalize(bad)


@pytest.mark.parametrize(
    "value,javascript",
    [
        # JSON.stringify of whole doubles from 2^53 to below 1e21 is plain digits, which Python
        # reads as int; JCS canonicalizes the double (RFC 8785 §3.2.2.3), as JavaScript does.
        (2**53, b"9007199254740992"),
        (-(2**53), b"-9007199254740992"),
        (10**20, b"100000000000000000000"),
        (2**60, b"1152921504606847000"),  # the exact value of the double 2^60
        (1152921504606847000, b"1152921504606847000"),  # how JavaScript writes 2^60
        (10**21, b"1e+21"),
        ({"n": [2**64, 1]}, b'{"n":[18446744073709552000,1]}'),
    ],
)
def test_jcs_canonicalizes_big_whole_numbers_as_the_doubles_they_are(value: Any, javascript: bytes) -> None:
    from vc import jcs

    assert jcs.canonicalize(value) == javascript


def test_jcs_of_the_vector_credential(vectors):
    from vc import jcs

    base = vectors / "vc-di-eddsa"
    doc = load_json(base / "unsigned.json")
    assert jcs.canonicalize(doc) == (base / "eddsa-jcs-2022/canonDocJCS.txt").read_bytes().rstrip(b"\n")


def test_concurrent_use_of_one_cache_gives_the_reference_output():
    # The node canonicalizes off the event loop, in threads sharing one cache per loader.
    from concurrent.futures import ThreadPoolExecutor

    gen = _Gen(2024)
    docs = [gen.ob3_credential() for _ in range(24)]
    want = [reference(d) for d in docs]
    shared = fastld.ContextCache(default_loader())
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(3):
            assert list(pool.map(lambda d: fastld.canonize(d, shared), docs)) == want


def test_input_is_left_untouched_on_every_path(cache):
    # The fast path skips pyld's defensive deep copy: @json literals (shared raw JSON), lists,
    # blank-node types and twins (pyld's node map and URDNA2015 rewrite what they are given)
    # must not reach the input.
    ctx = {"data": {"@id": "https://example.org/data", "@type": "@json"},
           "items": {"@id": "https://example.org/items", "@container": "@list"},
           "v": {"@id": "https://example.org/v"}}
    doc = {"@context": [V2, ctx], "id": "urn:x:json", "data": {"b": [1, {"c": None}], "a": True},
           "items": [{"v": {"@value": "x", "@type": "https://example.org/dt"}}, {"id": "urn:x:i"}, "s"],
           "v": [{"type": "_:t", "v": "1"}, {"v": "twin"}, {"v": "twin"}]}
    before = copy.deepcopy(doc)
    assert assert_same(doc, cache) and not assert_same(doc, cache).startswith("refused")
    fastld.canonize(doc, cache)
    assert doc == before


@pytest.mark.parametrize("subject", [
    {"id": "did:example:1", "score": [1, 1.0, True, "1", {"@value": "1", "@type": "http://www.w3.org/2001/XMLSchema#integer"}]},
    {"id": "did:example:1", "criteria": {}, "child": [{}, {}]},
    {"id": "did:example:1", "child": {"id": "did:example:2", "name": "a"}, "sibling": {"id": "did:example:2", "name": ["a", "b"]}},
    {"id": "_:x", "child": {"id": "_:x"}, "sibling": {"id": "_:y", "child": {"id": "_:x", "name": "loop"}}},
    {"id": "did:example:1", "name": [{"@value": "a", "@language": "EN"}, {"@value": "a", "@language": "en"}, "a", "a"]},
    [{"id": "did:example:1", "name": "a"}, {"id": "did:example:1", "name": "a", "note": 2.5}],
    {"id": "did:example:1", "big": [10**21, 10**22, -10**21, 1e21, 12345678901234567890, 0.1, -0.0, 1e-7]},
    {"id": "did:example:1", "d": {"@value": "5", "@type": "http://www.w3.org/2001/XMLSchema#double"},
     "e": {"@value": "x", "@type": "http://www.w3.org/2001/XMLSchema#double"}},
])
def test_edge_shapes_match_reference(cache, subject):
    doc = {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": "did:example:i",
           "credentialSubject": subject}
    assert not assert_same(doc, cache).startswith("refused")


_LISTS = {"@vocab": "https://example.org/", "l": {"@container": "@list"}}
_LIST_SHAPES = {
    "empty": {"l": []},
    "two empty lists on two nodes": {"l": [], "m": {"l": []}},
    "duplicates kept, in order": {"@id": "https://example.org/s", "l": ["a", "a", 1, True, "b"]},
    "nested": {"l": [{"@list": ["x", "y"]}, {"@list": []}, "z"]},
    "nodes in a list, one also elsewhere": {
        "l": [{"@id": "https://example.org/n", "name": "n"}, {"name": "anon"}, {"name": "other"}],
        "other": {"@id": "https://example.org/n", "name": "n2"}},
    "the same list on two blank nodes": {"p": [{"l": ["a"]}, {"l": ["a"]}]},
    "typed and language values": {"p": {"@list": [{"@value": "x", "@language": "en"},
                                                   {"@value": "2020-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date"}]}},
    "lists of lists of nodes": {"l": [{"l": [{"l": []}]}]},
}


def _hand_overs(monkeypatch) -> list:
    """One entry per document the fast path hands to pyld's node map (``dataset_from_expanded``)."""
    calls: list = []
    real = fastld.dataset_from_expanded
    monkeypatch.setattr(fastld, "dataset_from_expanded", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


@pytest.mark.parametrize("name", sorted(_LIST_SHAPES))
def test_lists_take_the_direct_path_and_match_the_reference(cache, monkeypatch, name):
    """JSON-LD 1.1 API §8.4 (List to RDF Conversion) in ``_quads_from_expanded``: the same
    canonical N-Quads as pyld's toRdf, without handing the document to pyld's node map."""
    handed_over = _hand_overs(monkeypatch)
    got = assert_same({"@context": _LISTS, **_LIST_SHAPES[name]}, cache)
    assert not got.startswith("refused")
    # Two of the shapes have blank nodes alike from one step away: N-degree hashing decides,
    # on the full algorithm; the others never leave the direct path.
    assert handed_over == ([1] if name in _ALIKE_LIST_NODES else [])
    assert got.count("rdf-syntax-ns#first>") == got.count("rdf-syntax-ns#rest>")  # one of each per list node


_ALIKE_LIST_NODES = {"the same list on two blank nodes", "lists of lists of nodes"}


def test_an_issued_micro_credential_takes_the_direct_path(cache, monkeypatch):
    # OB 3.0's allowedValue is an @list: a micro-credential with an assessment's allowed
    # values went to pyld's node map (a third of its signing time) before lists were converted.
    handed_over = _hand_overs(monkeypatch)
    got = assert_same(_micro_credential_with_allowed_values(), cache)
    assert handed_over == [] and got.count("rdf-syntax-ns#first") == 4


def _micro_credential_with_allowed_values() -> dict:
    return {
        "@context": [V2, OB303], "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "id": "urn:uuid:4e2dfc98-e93f-4fcb-8f39-5172a9f83c45", "name": "Data Science Fundamentals",
        "issuer": {"id": "did:web:university.example", "type": ["Profile"], "name": "University of Example"},
        "validFrom": "2026-12-06T00:54:02Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://university.example/issuers/default/achievements/ds-101", "type": ["Achievement"],
            "name": "Data Science Fundamentals", "criteria": {"narrative": "Assessed by written examination."},
            "resultDescription": [{"id": "https://university.example/issuers/default/achievements/ds-101#assessment",
                                   "type": ["ResultDescription"], "name": "written examination",
                                   "resultType": "LetterGrade", "allowedValue": ["A", "B", "C", "F"]}]},
            "result": [{"type": ["Result"], "resultDescription":
                        "https://university.example/issuers/default/achievements/ds-101#assessment", "value": "A"}]},
    }


# --- vc.jsonld: the fast path behind canonize(), safe mode intact -----------------------------

from vc import jsonld as vc_jsonld  # noqa: E402
from vc.errors import ProofTransformationError  # noqa: E402


def _outcome(doc: Any, fast: bool) -> tuple:
    try:
        return ("ok", vc_jsonld.canonize(copy.deepcopy(doc), loader=default_loader(), fast=fast))
    except ProofTransformationError as e:
        return ("refused", type(e).__name__, str(e))


def test_vc_jsonld_fast_and_plain_agree_on_vectors_and_corpus(vectors):
    docs = [doc for _, doc in _vector_inputs(vectors)]
    for seed in (11, 12):
        gen = _Gen(seed)
        docs += [gen.document() for _ in range(40)]
    for i, doc in enumerate(docs):
        fast, plain = _outcome(doc, True), _outcome(doc, False)
        assert fast == plain, f"document {i}: {json.dumps(doc)[:2000]}"
        if fast[0] == "ok":
            assert fast[1] == reference(doc)


_OB3 = [V2, OB303]
_SAFE_MODE_VIOLATIONS = {
    "undefined term": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:example:i",
                       "credentialSubject": {"id": "did:example:s", "undefinedTerm": "x"}},
    "undefined term inside a type-scoped context": {
        "@context": _OB3, "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": "did:example:i",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "urn:uuid:1", "type": ["Achievement"], "name": "n", "criteria": {"narrative": "c"},
            "notAnObTerm": "x"}}},
    "undefined type": {"@context": [V2], "type": ["VerifiableCredential", "NoSuchType"],
                       "issuer": "did:example:i", "credentialSubject": {"id": "did:example:s"}},
    "relative id": {"@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:example:i",
                    "credentialSubject": {"id": "relative/path"}},
    "protected term redefined": {"@context": [V2, {"VerifiableCredential": "https://evil.example/VC"}],
                                 "type": ["VerifiableCredential"], "issuer": "did:example:i",
                                 "credentialSubject": {"id": "did:example:s"}},
    "unknown context": {"@context": [V2, "https://unknown.example/ctx"], "type": ["VerifiableCredential"],
                        "issuer": "did:example:i", "credentialSubject": {"id": "did:example:s"}},
}


@pytest.mark.parametrize("name", sorted(_SAFE_MODE_VIOLATIONS))
def test_safe_mode_refuses_on_the_fast_path_even_with_warm_caches(name):
    bad = _SAFE_MODE_VIOLATIONS[name]
    # warm every cache on the same contexts first: a cached context must not skip a check
    vc_jsonld.canonize(_Gen(5).ob3_credential(), loader=default_loader())
    vc_jsonld.canonize({"@context": [V2], "type": ["VerifiableCredential"], "issuer": "did:example:i",
                        "credentialSubject": {"id": "did:example:s"}}, loader=default_loader())
    for _ in range(2):
        with pytest.raises(ProofTransformationError):
            vc_jsonld.canonize(copy.deepcopy(bad), loader=default_loader())
        with pytest.raises(ProofTransformationError):
            vc_jsonld.canonize(copy.deepcopy(bad), loader=default_loader(), fast=False)
    assert _outcome(bad, True) == _outcome(bad, False)


def test_vc_jsonld_fast_path_keeps_the_canonicalization_limits(monkeypatch):
    # Alike blank nodes: the fast path hands over to the bounded RDFC-1.0, and too many quads
    # are refused on both paths alike.
    many = {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": "did:example:i",
            "credentialSubject": {"id": "did:example:s",
                                  "knows": [{"knows": [{"name": "x"} for _ in range(3)]} for _ in range(6)]}}
    assert _outcome(many, True) == _outcome(many, False)
    monkeypatch.setattr(vc_jsonld, "MAX_QUADS", 40)
    big = {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": "did:example:i",
           "credentialSubject": {"id": "did:example:s", "n": list(range(45))}}
    fast, plain = _outcome(big, True), _outcome(big, False)
    assert fast[0] == "refused" and fast[:2] == plain[:2]


# --- against the JavaScript reference ------------------------------------------------------------


def _interop_sample(did: str) -> dict:
    """The interop harness's sample credential (../shared/interop/lib/sample.mjs)."""
    return {
        "@context": [V2, OB303],
        "id": "urn:uuid:7f3b6a52-3c1e-4d8a-9a4e-2b0f5c6d7e81",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Verifiable Credentials (micro-credential)",
        "issuer": {"id": did, "type": ["Profile"], "name": "Example Institute of Technology"},
        "validFrom": "2025-01-15T00:00:00Z",
        "credentialSubject": {
            "id": "did:key:z6MksTLJmJNuvRW62SFJjSTGHkk77xCFR6FAF7FKk9PE2CG2",
            "type": ["AchievementSubject"], "name": "Ada Lovelace",
            "achievement": {
                "id": "urn:uuid:0c5d9f2e-8b7a-4c3d-9e1f-6a2b3c4d5e6f", "type": ["Achievement"],
                "achievementType": "Certificate", "name": "Introduction to Verifiable Credentials",
                "description": "A 10-hour micro-credential covering the W3C Verifiable Credentials Data Model 2.0, "
                "Data Integrity proofs and credential status.",
                "criteria": {"narrative": "The learner completed all four modules and passed the final assessment "
                             "with a score of at least 80%."}}},
    }


def _sign_interop(suite: str, change=None) -> str:
    import hashlib

    from did.key import did_key_from_public_key
    from vc import proofs
    from vc.crypto import Ed25519KeyPair

    key = Ed25519KeyPair.from_seed(hashlib.sha256(b"vc-interop-harness/issuer/v1").digest())
    did = did_key_from_public_key(key.public_key)
    doc = _interop_sample(did)
    if change:
        change(doc)
    signed = proofs.add_proof(doc, suite=suite, key=key, verification_method=f"{did}#{did.split(':')[-1]}",
                              created="2025-01-15T00:00:00Z", loader=default_loader())
    return signed["proof"]["proofValue"]


# `node issue.mjs [--suite ...] [--credential FILE]` in ../shared/interop (jsonld 9.0.0,
# rdf-canonize 5.0.0) signs these credentials with the same key and time to these values.
@pytest.mark.parametrize("suite, js_proof_value", [
    ("eddsa-rdfc-2022", "z44PGFSHmkjvR6x8bdZvKk5pxSZ82r81oQMxeYL1WwvcWaNeEuFSdNAT8u23eDr7fXJdhXhzVsmiSt8DzqmbFJXY4"),
    ("eddsa-jcs-2022", "z2BMweEw5vhBbiw8WVtFt2yN1hFyLNHBPJTvYwZCS1ieKanuU1LQPQxDyT6pkxkPXU6GshxcUTny6qnBJzmHAAf6Q"),
])
def test_signing_the_interop_sample_on_the_fast_path_gives_the_js_proof_value(suite, js_proof_value):
    assert _sign_interop(suite) == js_proof_value


def _set_name_with_controls(doc: dict) -> None:
    doc["name"] = "ctl \b back \f form \x01 one \x7f del \t tab"


def _set_odd_iri(doc: dict) -> None:
    doc["credentialSubject"]["achievement"]["id"] = "urn:x:a{b}|c^d"


@pytest.mark.parametrize("change, js_proof_value", [
    # pyld writes these characters raw; RDFC-1.0's canonical N-Quads (and rdf-canonize) escape them
    (_set_name_with_controls,
     "z56abqG78JXdWsvzbkySqt6bJeGevf4QczN2s4ewhvnwFBk4AjC8eoNz7dKQ3L7WVYP7j1SxP9nCtgypY6t6CefJ2"),
    (_set_odd_iri, "z2oBicvrLwAoB1acfoyHBLPL6RvLDaJf8uz1BVFfr9hjTm2k5NUGRm1CVgWWQauG2whcaFT5X4EkaPzxvYyytC3Fi"),
])
def test_canonical_n_quads_escaping_agrees_with_the_js_reference(change, js_proof_value):
    assert _sign_interop("eddsa-rdfc-2022", change) == js_proof_value


def test_escaping_follows_canonical_n_quads_for_every_ascii_character():
    echar = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
    for c in range(0x80):
        ch = chr(c)
        if c in echar:
            want = echar[c]
        elif c < 0x20 or c == 0x7F:
            want = "\\u%04X" % c
        else:
            want = ch
        assert fastld.escape_literal(ch) == want, hex(c)
        iri_special = c <= 0x20 or ch in '<>"{}|^`\\'
        assert fastld._iri(ch) == "<" + ("\\u%04X" % c if iri_special else ch) + ">", hex(c)
    assert fastld.escape_literal("é😀\u2028") == "é😀\u2028"  # only ASCII controls, quote and backslash


def test_rdfc10_is_pyld_urdna2015_wherever_pyld_escaping_is_already_canonical(vectors):
    docs = [doc for _, doc in _vector_inputs(vectors)]
    folder = vectors / "microcredentials" / "1edtech-ob3-spec-examples"
    docs += [load_json(p) for p in sorted(folder.glob("*.json"))]
    for doc in docs:
        assert reference(doc) == pyld_normalize(doc)


# --- remembered proof configurations ----------------------------------------------------------


def test_proof_configuration_cache_gives_canonize_output_and_follows_every_change(vectors):
    loader = ContextLoader()  # its own caches, so the first call below really computes
    base = vectors / "vc-di-eddsa"
    for path in ("eddsa-rdfc-2022/proofConfigDataInt.json", "eddsa-rdfc-2022/employ/proofConfigDataInt.json"):
        config = load_json(base / path)
        want = (base / path.replace("proofConfigDataInt.json", "proofCanonDataInt.txt")).read_text()
        assert vc_jsonld.canonize_proof_configuration(config, loader=loader) == want
        assert vc_jsonld.canonize_proof_configuration(config, loader=loader) == want  # from the cache
        changed = {**config, "created": "2030-01-01T00:00:00Z"}
        assert vc_jsonld.canonize_proof_configuration(changed, loader=loader) == vc_jsonld.canonize(
            changed, loader=loader, fast=False) != want
        reordered = dict(reversed(list(config.items())))
        assert vc_jsonld.canonize_proof_configuration(reordered, loader=loader) == want


def test_a_refused_proof_configuration_is_refused_every_time():
    loader = ContextLoader()
    bad = {"@context": [V2], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
           "proofPurpose": "assertionMethod", "verificationMethod": "did:example:1#k", "notAProofTerm": "x"}
    for _ in range(2):
        with pytest.raises(ProofTransformationError):
            vc_jsonld.canonize_proof_configuration(bad, loader=loader)


# --- proof configurations from a timestamp template (vc.jsonld._timestamp_template) ----------

_PROOF_CONTEXTS = [
    ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/data-integrity/v2"],
]
_ODD_TIMESTAMPS = [
    "2025-01-15T00:00:00Z",
    "2025-01-15T00:00:00.123456+02:00",
    "not a date",
    'quote " and backslash \\ inside',
    "tab\tnewline\ncontrol\x01\x7f",
    "unicode é 東京 \U0001F600",
    "",
    "1000-01-01T00:00:00Z",  # the placeholder itself
]


@pytest.mark.parametrize("seed", range(4))
def test_proof_configuration_from_template_equals_full_canonicalization(seed):
    """New proofs differ in `created`/`expires`; the template shortcut must give exactly what
    the full algorithm gives, whatever the timestamp's text."""
    from vc.jsonld import _timestamp_template, canonize, canonize_proof_configuration

    r = random.Random(seed)
    shortcuts = 0
    loader = ContextLoader()  # a fresh cache, so templates are built here
    for i in range(40):
        config: dict[str, Any] = {
            "@context": r.choice(_PROOF_CONTEXTS),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": r.choice(_ODD_TIMESTAMPS) if r.random() < 0.5 else f"2025-{r.randint(1, 12):02d}-01T00:00:{i:02d}Z",
            "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "proofPurpose": r.choice(["assertionMethod", "authentication"]),
        }
        if r.random() < 0.4:
            config["expires"] = r.choice(_ODD_TIMESTAMPS)
        if r.random() < 0.3:
            config["challenge"] = r.choice(["abc", 'we"ird\\'])
        if r.random() < 0.3:
            config["domain"] = r.choice(["https://verifier.example", ["a.example", "b.example"]])
        expected = canonize(config, loader=loader, fast=False)
        assert canonize_proof_configuration(config, loader=loader) == expected, config
        shortcuts += _timestamp_template(config, loader=loader) is not None
    assert shortcuts >= 30  # the shortcut is really what was compared, not the fallback


def test_proof_configuration_template_is_skipped_for_nested_values():
    """A nested object brings more blank nodes whose labels depend on values: no shortcut."""
    from vc.jsonld import _timestamp_template

    config = {
        "@context": _PROOF_CONTEXTS[0],
        "type": "DataIntegrityProof",
        "created": "2025-01-15T00:00:00Z",
        "verificationMethod": {"id": "did:example:1#k"},
        "proofPurpose": "assertionMethod",
    }
    assert _timestamp_template(config, loader=ContextLoader()) is None
