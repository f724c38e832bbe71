"""The fence around vc/fastld.py's use of pyld internals (issue 10, point 5).

For the installed pyld, every private method and attribute fastld (and vc.jsonld's plain path)
overrides, calls or reads must still be there as written against; a pyld where one moved fails
here, naming it. And when one moves at run time, the node falls back to plain pyld (the same
bytes, slower) with one logged warning, or, if safe mode's own hooks moved, refuses JSON-LD.
Incompatible pyld releases are simulated by patching the installed one.
"""

from __future__ import annotations

import ast
import inspect
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from did.key import DIDKeyResolver, did_key_from_public_key
from did.resolver import Resolver
from support import load_json
from vc import fastld, jsonld
from vc.credentials import issue_credential, verify_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.errors import ProofTransformationError
from vc.loader import ContextLoader

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = Ed25519KeyPair.from_seed(bytes(range(32)))
ISSUER = did_key_from_public_key(KEY.public_key)
VM = f"{ISSUER}#{ISSUER.removeprefix('did:key:')}"
LISTED = {internal.where for internal in fastld.PYLD_INTERNALS}


@pytest.fixture
def fresh_fence() -> Iterator[None]:
    """The fence judged again for the (patched) pyld of this test, and again afterwards."""
    fastld._reset_fence()
    yield
    fastld._reset_fence()


def credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:4f3a1c52-8f0e-4d6b-9a51-3f7e2c1d0b9a",
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": {"id": ISSUER, "name": "Example University"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:student", "degree": {"type": "ExampleBachelorDegree", "name": "BSc"}},
    }


def sign(loader: ContextLoader) -> dict[str, Any]:
    return issue_credential(credential(), key=KEY, verification_method=VM, suite=SUITES["eddsa-rdfc-2022"],
                            loader=loader, now=NOW)


async def verify(signed: dict[str, Any], loader: ContextLoader) -> Any:
    return await verify_credential(signed, resolver=Resolver({"key": DIDKeyResolver()}), loader=loader, now=NOW)


# --- the installed pyld --------------------------------------------------------------------------


def test_the_installed_pyld_has_every_internal_fastld_relies_on(fresh_fence: None) -> None:
    changed = fastld.check_pyld()
    assert not changed, "pyld changed internals vcnode relies on:\n" + "\n".join(
        f"- {text} (used for: {internal.why}; needed by the {internal.paths} path)" for internal, text in changed
    )
    verdict = fastld.fence()
    assert verdict.fast and verdict.safe and not verdict.problems, verdict.problems


_PYLD_CLASSES = {
    "pyld.jsonld:JsonLdProcessor": (pyld_jsonld.JsonLdProcessor, pyld_jsonld.JsonLdProcessor()),
    "pyld.context_resolver:ContextResolver": (ContextResolver, ContextResolver({}, None)),
    "pyld.canon:URDNA2015": (URDNA2015, URDNA2015()),
}


def _pyld_bases(cls: type) -> set[str]:
    """The pyld classes ``cls`` extends, also when it is a mixin: through every class of ours
    that has it in its MRO."""
    hosts = [c for module in (fastld, jsonld) for _, c in inspect.getmembers(module, inspect.isclass)
             if cls in c.__mro__]
    return {f"{base.__module__}:{base.__qualname__}" for host in hosts for base in host.__mro__
            if base.__module__.startswith("pyld")}


def _pyld_attribute(name: str) -> str | None:
    """The pyld class (or pyld.jsonld) defining ``name``, a method or an instance attribute."""
    for where, (cls, sample) in _PYLD_CLASSES.items():
        if name in vars(cls) or name in vars(sample):
            return f"{where}.{name}"
    if name.startswith("_") and hasattr(pyld_jsonld, name):
        return f"pyld.jsonld:{name}"
    return None


def test_every_pyld_internal_the_code_touches_is_in_the_fence() -> None:
    """Read vc/fastld.py and vc/jsonld.py: each method they define over a pyld class's own, each
    private pyld name they use, each pyld instance attribute they read on ``self``, must be in
    PYLD_INTERNALS, so the fence cannot silently fall behind the code."""
    missing = set()
    for module in (fastld, jsonld):
        rel = module.__name__.replace(".", "/") + ".py"
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        used: dict[str, int] = {}  # pyld internal -> a line using it
        for node in ast.walk(tree):  # private pyld names, anywhere (processor._object_to_rdf, _pyld._is_keyword)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                where = _pyld_attribute(node.attr)
                if where is not None:
                    used.setdefault(where, node.lineno)
        for cls_node in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            bases = _pyld_bases(getattr(module, cls_node.name))
            if not bases:
                continue
            classes = [_PYLD_CLASSES[b][0] for b in bases if b in _PYLD_CLASSES]
            for f in cls_node.body:  # methods over pyld's own
                if isinstance(f, ast.FunctionDef):
                    for cls in classes:
                        owner = next((k for k in cls.__mro__ if f.name in vars(k) and k is not object), None)
                        if owner is not None:
                            used.setdefault(f"{owner.__module__}:{owner.__qualname__}.{f.name}", f.lineno)
            for node in ast.walk(cls_node):  # pyld's instance attributes, read or written on self
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    where = _pyld_attribute(node.attr)
                    if where is not None:
                        used.setdefault(where, node.lineno)
        missing.update(f"{rel}:{line}: {where}" for where, line in used.items() if where not in LISTED)
    assert not missing, "pyld internals used but not fenced (add them to fastld.PYLD_INTERNALS):\n" + "\n".join(
        sorted(missing))


# --- simulated pyld releases: what the check reports -----------------------------------------------


def test_a_changed_signature_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def _expand_iri(self: Any, active_ctx: Any, value: Any, base: Any = None) -> Any:  # 'vocab' gone
        raise AssertionError("not called")

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_expand_iri", _expand_iri)
    changed = fastld.check_pyld()
    assert [internal.where for internal, _ in changed] == ["pyld.jsonld:JsonLdProcessor._expand_iri"]
    text = changed[0][1]
    assert "is now (self, active_ctx, value, base=None)" in text
    assert "fastld overrides it as (self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None)" in text


def test_a_missing_method_or_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(ContextResolver, "_fetch_context")
    original = ContextResolver.__init__

    def __init__(self: Any, shared_cache: Any, document_loader: Any, max_context_urls: int = 10) -> None:
        original(self, shared_cache, document_loader, max_context_urls)
        del self.per_op_cache  # as if pyld had renamed it

    monkeypatch.setattr(ContextResolver, "__init__", __init__)
    texts = {internal.where: text for internal, text in fastld.check_pyld()}
    assert set(texts) == {"pyld.context_resolver:ContextResolver._fetch_context",
                          "pyld.context_resolver:ContextResolver.per_op_cache"}
    assert "no longer exists (fastld overrides it)" in texts["pyld.context_resolver:ContextResolver._fetch_context"]
    assert "per_op_cache no longer exists (fastld reads it)" in texts["pyld.context_resolver:ContextResolver.per_op_cache"]


def test_a_new_optional_parameter_is_fine_for_a_call_but_not_for_an_override(monkeypatch: pytest.MonkeyPatch) -> None:
    clone, graph_to_rdf = pyld_jsonld.JsonLdProcessor._clone_active_context, pyld_jsonld.JsonLdProcessor._graph_to_rdf

    def _clone_active_context(self: Any, active_ctx: Any, deep: bool = False) -> Any:
        return clone(self, active_ctx)

    def _graph_to_rdf(self: Any, graph: Any, issuer: Any, options: Any, strict: bool = False) -> Any:
        return graph_to_rdf(self, graph, issuer, options)

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_clone_active_context", _clone_active_context)
    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_graph_to_rdf", _graph_to_rdf)
    assert [internal.where for internal, _ in fastld.check_pyld()] == ["pyld.jsonld:JsonLdProcessor._graph_to_rdf"]


# --- simulated pyld releases: what the node does ----------------------------------------------------


async def test_the_node_falls_back_to_plain_pyld_when_the_fast_path_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, fresh_fence: None, caplog: pytest.LogCaptureFixture, vectors: Path
) -> None:
    signed_fast = sign(ContextLoader())  # on the fast path
    assert fastld.fence().fast
    expected = (vectors / "vc-di-eddsa" / "eddsa-rdfc-2022" / "canonDocDataInt.txt").read_text(encoding="utf-8")

    clone = pyld_jsonld.JsonLdProcessor._clone_active_context

    def _clone_active_context(self: Any, context: Any) -> Any:  # a pyld that renamed the parameter
        return clone(self, context)

    def not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the fast path must not run")

    monkeypatch.setattr(pyld_jsonld.JsonLdProcessor, "_clone_active_context", _clone_active_context)
    monkeypatch.setattr(fastld.FastContextMixin, "expand", not_run)
    monkeypatch.setattr(fastld, "canonize_expanded", not_run)
    fastld._reset_fence()
    loader = ContextLoader()
    with caplog.at_level(logging.WARNING, logger="vc.fastld"):
        assert jsonld.canonize(load_json(vectors / "vc-di-eddsa" / "unsigned.json"), loader=loader) == expected
        assert sign(loader) == signed_fast  # the same bytes signed, so the same proofValue
        result = await verify(signed_fast, loader)
        assert result.verified, result.to_json()
        jsonld.canonize_proof_configuration(signed_fast["proof"] | {"@context": signed_fast["@context"]}, loader=loader)
    warnings = [r for r in caplog.records if r.name == "vc.fastld"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "_clone_active_context" in warnings[0].getMessage() and "plain pyld" in warnings[0].getMessage()
    assert not fastld.fence().fast and fastld.fence().safe
    assert loader not in jsonld._fast_caches  # nothing went through fastld


async def test_a_fast_path_whose_output_differs_is_not_used(
    monkeypatch: pytest.MonkeyPatch, fresh_fence: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Signatures alike but behaviour changed: the probe canonicalizes a few documents both ways."""
    real = fastld._canonize_terms

    def _canonize_terms(quads: list, max_blank_nodes: Any, max_quads: Any) -> str | None:
        out = real(quads, max_blank_nodes, max_quads)
        return None if out is None else out.replace("_:c14n0", "_:c14n9")

    monkeypatch.setattr(fastld, "_canonize_terms", _canonize_terms)
    reference = jsonld.canonize(credential(), loader=ContextLoader(), fast=False)
    with caplog.at_level(logging.WARNING, logger="vc.fastld"):
        assert jsonld.canonize(credential(), loader=ContextLoader()) == reference
    assert not fastld.fence().fast
    assert "differ from plain pyld's" in caplog.text


async def test_json_ld_is_refused_when_the_plain_paths_own_hooks_changed(
    monkeypatch: pytest.MonkeyPatch, fresh_fence: None, caplog: pytest.LogCaptureFixture
) -> None:
    signed = sign(ContextLoader())

    def hash_n_degree_quads(self: Any, id_: Any, issuer: Any, budget: Any) -> Any:  # a new required parameter
        raise AssertionError("not called")

    monkeypatch.setattr(URDNA2015, "hash_n_degree_quads", hash_n_degree_quads)
    fastld._reset_fence()
    with caplog.at_level(logging.ERROR, logger="vc.fastld"):
        with pytest.raises(ProofTransformationError, match="hash_n_degree_quads") as refused:
            jsonld.canonize(credential(), loader=ContextLoader())
        result = await verify(signed, ContextLoader())  # never raises: a failed check with the spec's code
    assert "JSON-LD processing is disabled" in str(refused.value.detail)
    assert not result.verified
    codes = {(e["code"], "JSON-LD processing is disabled" in e["detail"]) for e in result.to_json()["errors"]}
    assert ("PROOF_TRANSFORMATION_ERROR", True) in codes, result.to_json()
    assert len([r for r in caplog.records if r.name == "vc.fastld"]) == 1
    assert not fastld.fence().safe
