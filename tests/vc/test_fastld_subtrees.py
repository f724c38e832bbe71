"""vc.fastld remembers the expansion of small nested node objects (issuer profiles,
achievements) per context and exact JSON. The cache must never change an answer: the same
object under another context, property or vocabulary expands differently; a refused object stays
refused; a caller (or pyld's node map) editing an expansion cannot reach the cache; it is bounded.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.context_resolver import ContextResolver

from vc import fastld, jsonld
from vc.errors import ProofTransformationError
from vc.loader import ContextLoader

V2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"

ACHIEVEMENT = {
    "id": "urn:uuid:0c5d9f2e-8b7a-4c3d-9e1f-6a2b3c4d5e6f",
    "type": ["Achievement"],
    "achievementType": "Certificate",
    "name": "Introduction to Verifiable Credentials",
    "criteria": {"narrative": "Passed the final assessment."},
}
ISSUER = {"id": "did:example:issuer", "type": ["Profile"], "name": "Example Institute"}


def ob3(name: str, achievement: Any = ACHIEVEMENT, issuer: Any = ISSUER, contexts: Any = (V2, OB303)) -> dict:
    return {
        "@context": list(contexts),
        "id": f"urn:uuid:{abs(hash(name)):x}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": copy.deepcopy(issuer),
        "validFrom": "2025-01-15T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "name": name, "achievement": copy.deepcopy(achievement)},
    }


def reference(doc: Any, loader: Any) -> str:
    dataset = pyld_jsonld.to_rdf(copy.deepcopy(doc), {"documentLoader": loader,
                                                      "contextResolver": ContextResolver({}, loader)})
    return fastld.RDFC10().main(dataset, {"format": "application/n-quads"})


@pytest.fixture()
def loader() -> ContextLoader:
    return ContextLoader()  # a fresh loader: its own caches, nothing carried over from other tests


def test_remembered_objects_give_the_reference_bytes_again(loader: ContextLoader) -> None:
    for i in range(5):
        doc = ob3(f"Learner {i}")
        assert jsonld.canonize(doc, loader=loader) == reference(doc, loader)
    subtrees = jsonld._fast(loader)[0].subtrees
    assert {key[1] for key in subtrees} >= {"issuer", "achievement", "criteria"}


def test_the_same_json_under_another_property_or_context_is_not_confused(loader: ContextLoader) -> None:
    first = ob3("Ada")
    jsonld.canonize(first, loader=loader)
    # the issuer's JSON (id, name) as the subject's achievement: other type-scoped terms
    swapped = ob3("Ada", achievement={**ISSUER, "type": ["Achievement"]},
                  issuer={"id": ACHIEVEMENT["id"], "type": ["Profile"], "name": ACHIEVEMENT["name"]})
    assert jsonld.canonize(swapped, loader=loader) == reference(swapped, loader)
    # the same objects read with the examples vocabulary only: other IRIs entirely
    plain = {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:s", "achievement": copy.deepcopy(ACHIEVEMENT),
                              "profile": copy.deepcopy(ISSUER)},
    }
    assert jsonld.canonize(plain, loader=loader) == reference(plain, loader)
    assert jsonld.canonize(first, loader=loader) == reference(first, loader)


def test_key_order_and_value_changes_are_different_objects(loader: ContextLoader) -> None:
    jsonld.canonize(ob3("Ada"), loader=loader)
    reordered = dict(reversed(list(ACHIEVEMENT.items())))
    changed = {**ACHIEVEMENT, "name": "Another course"}
    for achievement in (reordered, changed):
        doc = ob3("Ada", achievement=achievement)
        assert jsonld.canonize(doc, loader=loader) == reference(doc, loader)


def test_a_refused_object_stays_refused(loader: ContextLoader) -> None:
    bad = {**ACHIEVEMENT, "notATerm": "dropped without safe mode"}
    for _ in range(2):
        with pytest.raises(ProofTransformationError):
            jsonld.canonize(ob3("Ada", achievement=bad), loader=loader)
    assert jsonld.canonize(ob3("Ada"), loader=loader) == reference(ob3("Ada"), loader)


def test_editing_an_expansion_does_not_reach_the_cache(loader: ContextLoader) -> None:
    doc = ob3("Ada")
    first = jsonld.expand(doc, loader=loader)  # a miss: what was stored must not be this
    expected = copy.deepcopy(first)
    for expanded in (first, jsonld.expand(doc, loader=loader), jsonld.expand(doc, loader=loader)):
        assert expanded == expected
        subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
        for values in subject.values():
            for value in values if isinstance(values, list) else []:
                if isinstance(value, dict):
                    value.clear()
        issuer = expanded[0]["https://www.w3.org/2018/credentials#issuer"][0]
        issuer["@id"] = "did:example:tampered"
    assert jsonld.expand(doc, loader=loader) == expected
    # pyld's node map (the fallback path) relabels expanded objects in place
    fastld.dataset_from_expanded(jsonld.expand(doc, loader=loader))
    assert jsonld.expand(doc, loader=loader) == expected


# An EU micro-credential's achievement: alignments, and an assessment whose allowed values are
# an @list: four containers deep, the same in every credential of a course.
MICRO_ACHIEVEMENT = {
    **ACHIEVEMENT, "achievementType": "MicroCredential",
    "alignment": [{"type": ["Alignment"], "targetName": "EQF level 6", "targetUrl": "http://data.europa.eu/snb/eqf/6"}],
    "resultDescription": [{"id": "urn:uuid:0c5d9f2e-8b7a-4c3d-9e1f-6a2b3c4d5e70", "type": ["ResultDescription"],
                           "name": "written examination", "resultType": "LetterGrade", "allowedValue": ["A", "B", "C", "F"]}],
}


def test_deep_or_large_objects_are_not_remembered_and_the_cache_is_bounded(loader: ContextLoader) -> None:
    cache = jsonld._fast(loader)[0]
    # The achievement is four containers deep: kept. The credentialSubject holding it is five
    # (and holds the learner, new in every credential): not kept.
    for name in ("Ada", "Bo", "Cy"):  # kept from its second expansion on
        deep = ob3(name, achievement=MICRO_ACHIEVEMENT)
        assert jsonld.canonize(deep, loader=loader) == reference(deep, loader)
    kept = {key[1] for key in cache.subtrees}
    assert "achievement" in kept and "credentialSubject" not in kept
    big = {**ACHIEVEMENT, "description": "x" * (fastld._MAX_SUBTREE_TEXT + 1)}
    jsonld.canonize(ob3("Ada", achievement=big), loader=loader)
    assert not any(len(key[-1]) > fastld._MAX_SUBTREE_TEXT for key in cache.subtrees)
    for i in range(cache.subtrees.maxsize + 50):
        for _ in range(3):  # kept at the second, found at the third (so it stays worth looking up)
            jsonld.expand(ob3("Ada", achievement={**ACHIEVEMENT, "name": f"Course {i}"}), loader=loader)
    assert len(cache.subtrees) == cache.subtrees.maxsize


def test_an_object_is_kept_from_its_second_expansion_on(loader: ContextLoader) -> None:
    cache = jsonld._fast(loader)[0]
    jsonld.canonize(ob3("Ada"), loader=loader)
    assert not any(key[1] == "achievement" for key in cache.subtrees)  # seen once: not frozen, not kept
    jsonld.canonize(ob3("Bo"), loader=loader)
    assert any(key[1] == "achievement" for key in cache.subtrees)


def test_objects_that_never_come_back_are_soon_not_serialized(loader: ContextLoader, monkeypatch) -> None:
    """Each learner's credentialSubject is new (and shallow enough to qualify): after a few
    tries it is no longer serialized and looked up, the achievement still is; after
    _RETRY_AFTER objects it is tried again. Every answer stays the reference's."""
    cache = jsonld._fast(loader)[0]
    serialized: list[str] = []
    real_dumps = fastld.json.dumps

    def counting(value: Any, **kw: Any) -> str:
        text = real_dumps(value, **kw)
        serialized.append(text)
        return text

    monkeypatch.setattr(fastld.json, "dumps", counting)

    def subjects_serialized(names: list[str]) -> int:
        serialized.clear()
        for name in names:
            doc = ob3(name)
            assert jsonld.canonize(doc, loader=loader) == reference(doc, loader)
        return sum('"AchievementSubject"' in text for text in serialized)

    assert subjects_serialized([f"Learner {i}" for i in range(fastld._PROBE)]) == fastld._PROBE
    assert subjects_serialized([f"Learner {i}" for i in range(fastld._PROBE, 2 * fastld._PROBE)]) == 0
    assert any(key[1] == "achievement" for key in cache.subtrees)  # still looked up, and kept
    # after _RETRY_AFTER passed by, the next ones are tried again
    later = subjects_serialized([f"Later {i}" for i in range(fastld._RETRY_AFTER)])
    assert 0 < later <= fastld._PROBE
