"""vc.jsonld: RDFC-1.0 canonical forms, safe mode, and bounded work on hostile graphs."""

from __future__ import annotations

import json

import pytest

from support import load_json
from vc import jsonld
from vc.errors import ProofTransformationError
from vc.loader import ContextLoader, UnknownContextError, default_loader

V2 = "https://www.w3.org/ns/credentials/v2"
EX = "https://www.w3.org/ns/credentials/examples/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _vc(**extra):
    doc = {
        "@context": [V2],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
    }
    doc.update(extra)
    return doc


@pytest.mark.parametrize(
    "unsigned, canon",
    [
        ("unsigned.json", "eddsa-rdfc-2022/canonDocDataInt.txt"),
        ("employmentAuth.json", "eddsa-rdfc-2022/employ/canonDocDataInt.txt"),
    ],
)
def test_canonize_reproduces_vector(vectors, unsigned, canon):
    base = vectors / "vc-di-eddsa"
    assert jsonld.canonize(load_json(base / unsigned), loader=default_loader()) == (base / canon).read_text()


@pytest.mark.parametrize("name", ["basicOpenBadgeCredential.json", "fullOpenBadge.json", "endorsement.json"])
def test_open_badges_examples_canonicalize(vectors, name):
    doc = load_json(vectors / "microcredentials" / "1edtech-ob3-spec-examples" / name)
    doc.pop("proof", None)
    nquads = jsonld.canonize(doc, loader=default_loader())
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#" in nquads


def test_canonize_does_not_mutate_input(vectors):
    doc = load_json(vectors / "vc-di-eddsa" / "unsigned.json")
    before = json.dumps(doc, sort_keys=True)
    jsonld.canonize(doc, loader=default_loader())
    assert json.dumps(doc, sort_keys=True) == before


def test_canonize_is_stable_across_calls():
    doc = _vc(name="x")
    first = jsonld.canonize(doc, loader=default_loader())
    assert all(jsonld.canonize(doc, loader=default_loader()) == first for _ in range(3))


# --- safe mode ---------------------------------------------------------------------------------


def _refused(doc, loader=None) -> ProofTransformationError:
    with pytest.raises(ProofTransformationError) as e:
        jsonld.canonize(doc, loader=loader or default_loader())
    assert e.value.problem().code == "PROOF_TRANSFORMATION_ERROR"
    with pytest.raises(ProofTransformationError):
        jsonld.expand(doc, loader=loader or default_loader())
    return e.value


def test_undefined_property_is_refused():
    err = _refused(_vc(grade="A+"))
    assert "grade" in err.detail


def test_undefined_nested_property_is_refused():
    err = _refused(_vc(credentialSubject={"id": "did:example:s", "degree": "BSc"}))
    assert "degree" in err.detail


def test_undefined_type_is_refused():
    err = _refused(_vc(type=["VerifiableCredential", "UniversityDegree"]))
    assert "UniversityDegree" in err.detail


def test_relative_id_is_refused():
    err = _refused(_vc(id="credentials/1"))
    assert "credentials/1" in err.detail


def test_relative_iri_in_id_typed_value_is_refused():
    _refused(_vc(credentialSubject={"id": "subjects/7"}))


def test_protected_term_redefinition_is_refused():
    doc = _vc()
    doc["@context"] = [V2, {"VerifiableCredential": "https://evil.example/Other"}]
    err = _refused(doc)
    assert "protected" in err.detail


def test_redefining_a_protected_top_level_term_is_refused():
    doc = _vc()
    doc["@context"] = [V2, {"name": "https://evil.example/name"}]
    doc["name"] = "x"
    _refused(doc)


def test_unknown_context_is_refused_naming_the_url():
    doc = _vc()
    doc["@context"] = [V2, "https://evil.example/ctx"]
    with pytest.raises(UnknownContextError) as e:
        jsonld.canonize(doc, loader=default_loader())
    assert "https://evil.example/ctx" in e.value.detail


def test_vocab_context_defines_everything():
    # The examples context maps undefined terms through @vocab, so nothing is dropped.
    doc = _vc(grade="A+")
    doc["@context"] = [V2, EX]
    assert "https://www.w3.org/ns/credentials/examples#grade" in jsonld.canonize(doc, loader=default_loader())


def test_document_that_expands_to_nothing_is_refused():
    _refused({"@context": [V2]})


def test_non_object_is_refused():
    with pytest.raises(ProofTransformationError):
        jsonld.canonize(["not", "an", "object"], loader=default_loader())  # type: ignore[arg-type]


def test_malformed_language_tag_is_refused():
    err = _refused(_vc(name={"@value": "x", "@language": "en US"}))
    assert "language tag" in err.detail


def test_well_formed_language_tag_is_kept():
    assert '"x"@en-gb' in jsonld.canonize(_vc(name={"@value": "x", "@language": "en-GB"}), loader=default_loader())


@pytest.mark.parametrize("value", [{"@value": None}, {"@language": "en"}], ids=["null @value", "only @language"])
def test_value_object_expansion_would_drop_is_refused(value):
    err = _refused(_vc(name=value))
    assert "dropped" in err.detail


@pytest.mark.parametrize("fast", [True, False])
def test_safe_mode_holds_on_both_paths(fast):
    with pytest.raises(ProofTransformationError):
        jsonld.canonize(_vc(name={"@language": "en"}), loader=default_loader(), fast=fast)
    with pytest.raises(ProofTransformationError):
        jsonld.canonize(_vc(grade="A"), loader=default_loader(), fast=fast)


def test_null_property_is_no_value_not_an_error():
    assert jsonld.canonize(_vc(name=None), loader=default_loader()) == jsonld.canonize(_vc(), loader=default_loader())


# VC DM 2.0 §11.1 language value objects with a base direction, as Digital Bazaar's
# eddsa-rdfc-2022 canonize writes them (toRDF with rdfDirection "i18n-datatype"): the datatype
# carries the lower-cased language and the direction. tests/vc/test_proofs_interop.py holds the
# proofValues equal to the JavaScript reference's.
DIRECTION_CASES = [
    ({"@value": "x", "@language": "en", "@direction": "ltr"}, '"x"^^<https://www.w3.org/ns/i18n#en_ltr>'),
    ({"@value": "x", "@language": "AR-eg", "@direction": "rtl"}, '"x"^^<https://www.w3.org/ns/i18n#ar-eg_rtl>'),
    ({"@value": "x", "@direction": "rtl"}, '"x"^^<https://www.w3.org/ns/i18n#_rtl>'),
]


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("value, literal", DIRECTION_CASES, ids=["en ltr", "upper-case language", "no language"])
def test_a_base_direction_is_signed_as_an_i18n_datatype(value, literal, fast):
    out = jsonld.canonize(_vc(name=value, issuer={"id": "did:example:issuer", "description": value}), loader=default_loader(), fast=fast)
    assert f"<https://schema.org/name> {literal} ." in out
    assert f"<https://schema.org/description> {literal} ." in out


def test_direction_and_language_change_the_canonical_form_but_language_case_does_not():
    def canon(**value):
        return jsonld.canonize(_vc(name={"@value": "x", **value}), loader=default_loader())

    base = canon(**{"@language": "en", "@direction": "ltr"})
    assert canon(**{"@language": "en", "@direction": "rtl"}) != base
    assert canon(**{"@language": "fr", "@direction": "ltr"}) != base
    assert canon(**{"@language": "en"}) != base  # dropping the direction is a change too
    # BCP 47 tags are case-insensitive and JSON-LD lower-cases them: not a change.
    assert canon(**{"@language": "EN", "@direction": "ltr"}) == base


def test_a_direction_other_than_ltr_or_rtl_is_refused():
    _refused(_vc(name={"@value": "x", "@direction": "up"}))


def test_loaders_do_not_share_processed_contexts():
    a = ContextLoader(documents={"https://uni.example/c": {"@context": {"grade": "https://a.example/grade"}}})
    b = ContextLoader(documents={"https://uni.example/c": {"@context": {"grade": "https://b.example/grade"}}})
    doc = _vc(grade="A")
    doc["@context"] = [V2, "https://uni.example/c"]
    assert "https://a.example/grade" in jsonld.canonize(doc, loader=a)
    assert "https://b.example/grade" in jsonld.canonize(doc, loader=b)


# --- bounded work --------------------------------------------------------------------------------


def _clique(n: int) -> dict:
    """n blank nodes, each linked to every other: all alike, so RDFC-1.0 must try permutations."""
    nodes = [{"@id": f"_:n{i}", "https://ex.example/p": [{"@id": f"_:n{j}"} for j in range(n) if j != i]} for i in range(n)]
    return {"@context": [V2], "@graph": nodes}


def _rings(rings: int, size: int) -> dict:
    """Many identical rings of blank nodes (the classic hard case for Hash N-Degree Quads)."""
    nodes = []
    for r in range(rings):
        for i in range(size):
            nodes.append({"@id": f"_:r{r}n{i}", "https://ex.example/next": {"@id": f"_:r{r}n{(i + 1) % size}"}})
    return {"@context": [V2], "@graph": nodes}


def test_blank_node_clique_is_refused():
    with pytest.raises(jsonld.CanonicalizationLimitError) as e:
        jsonld.canonize(_clique(12), loader=default_loader())
    assert e.value.problem().code == "PROOF_TRANSFORMATION_ERROR"


def test_many_identical_rings_are_refused():
    with pytest.raises(jsonld.CanonicalizationLimitError):
        jsonld.canonize(_rings(40, 40), loader=default_loader())


def test_identical_blank_node_objects_still_canonicalize():
    # Identical objects without ids (two equal alignments, say) are ordinary and need the
    # N-degree step; they stay well inside the budget.
    doc = _vc(credentialSubject={"id": "did:example:s", "alumniOf": [{"name": "A"}, {"name": "A"}, {"name": "B"}]})
    doc["@context"] = [V2, EX]
    nquads = jsonld.canonize(doc, loader=default_loader())
    assert nquads.count("_:c14n") >= 6


def test_the_permutation_budget_bounds_what_the_deep_iteration_budget_lets_through(monkeypatch):
    """With the deep-iteration budget out of the way (a work factor no one would set), a clique
    of alike blank nodes is still refused, by the permutations walked (a review found every
    limit test here stopped by the deep-iteration budget first)."""
    monkeypatch.setattr(jsonld, "MAX_WORK_FACTOR", 50)
    with pytest.raises(jsonld.CanonicalizationLimitError, match="permutation limit exceeded"):
        jsonld.canonize(_clique(8), loader=default_loader())


def test_work_budget_matches_rdf_canonize_default():
    # rdf-canonize with maxWorkFactor 1 refuses a 3-clique of alike blank nodes too.
    with pytest.raises(jsonld.CanonicalizationLimitError):
        jsonld.canonize(_clique(3), loader=default_loader())


def test_many_values_in_one_property_are_refused_before_rdf_conversion():
    # pyld compares every value of a property with every other: 1,500 values would take seconds.
    doc = _vc(credentialSubject={"id": "did:example:s", "https://ex.example/v": list(range(1500))})
    with pytest.raises(jsonld.CanonicalizationLimitError) as e:
        jsonld.canonize(doc, loader=default_loader())
    assert "1500 values" in e.value.detail


def test_a_few_hundred_values_are_fine():
    doc = _vc(credentialSubject={"id": "did:example:s", "https://ex.example/v": list(range(300))})
    assert jsonld.canonize(doc, loader=default_loader()).count("https://ex.example/v") == 300


def test_too_many_values_in_all_are_refused():
    subject = {"id": "did:example:s"}
    subject.update({f"https://ex.example/p{i}": list(range(10)) for i in range(jsonld.MAX_QUADS // 10 + 1)})
    doc = _vc(credentialSubject=subject)
    with pytest.raises(jsonld.CanonicalizationLimitError) as e:
        jsonld.canonize(doc, loader=default_loader())
    assert f"more than {jsonld.MAX_QUADS} values" in e.value.detail


@pytest.mark.parametrize("fast", [True, False])
def test_deep_nesting_is_refused_not_a_crash(fast):
    inner: dict = {"name": "x"}
    for _ in range(3000):
        inner = {"child": inner}
    doc = _vc(credentialSubject=inner)
    doc["@context"] = [V2, EX]
    with pytest.raises(ProofTransformationError, match="nested too deeply"):
        jsonld.canonize(doc, loader=default_loader(), fast=fast)
