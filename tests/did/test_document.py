"""One conformance check for every DID document the resolver hands out (DID Core 1.0 §5):
duplicate service ids and core properties of the wrong shape are invalidDidDocument (the QA
sweep's finding 2); the spec's own example documents and every did:key form pass."""

from __future__ import annotations

import copy
import json

import pytest
from aiohttp import web

from did.document import check_did_document
from did.errors import InvalidDIDDocument
from did.http import GuardedHTTP, create_guarded_session
from did.key import DIDKeyResolver
from did.resolver import Resolver, StaticResolver
from did.web import DIDWebResolver
from tests.conftest import load_json

DID = "did:web:issuer.example"
KEY_MB = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
GOOD = {
    "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    "id": DID,
    "controller": DID,
    "alsoKnownAs": ["https://issuer.example/"],
    "verificationMethod": [{"id": "#key-1", "type": "Multikey", "controller": DID, "publicKeyMultibase": KEY_MB}],
    "assertionMethod": ["#key-1", {"id": DID + "#key-2", "type": "Multikey", "controller": DID, "publicKeyMultibase": KEY_MB}],
    "authentication": [DID + "#key-1"],
    "service": [
        {"id": "#files", "type": "LinkedDomains", "serviceEndpoint": "https://files.example/"},
        {"id": DID + "#hub", "type": ["A", "B"], "serviceEndpoint": [{"origins": ["https://a.example"]}, "https://b.example"]},
        {"id": "#map", "type": "X", "serviceEndpoint": {"uri": "https://c.example"}},
    ],
}


def _with(**changes):
    doc = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def test_a_conforming_document_passes_as_it_is():
    assert check_did_document(copy.deepcopy(GOOD), DID) == GOOD
    assert check_did_document({"id": DID}, DID) == {"id": DID}  # every core property but id is optional


BAD = {
    "duplicate service id": dict(service=[
        {"id": "#s", "type": "X", "serviceEndpoint": "https://a.example/"},
        {"id": DID + "#s", "type": "X", "serviceEndpoint": "https://evil.example/"},  # the same id, absolute
    ]),
    "controller not strings": dict(controller=[1, 2]),
    "controller not a DID": dict(controller="https://issuer.example/"),
    "controller an object": dict(controller={"id": DID}),
    "alsoKnownAs not a set": dict(alsoKnownAs=5),
    "alsoKnownAs holding a number": dict(alsoKnownAs=["https://a.example", 5]),
    "relationship not a set": dict(authentication="not-a-set"),
    "relationship holding a number": dict(assertionMethod=[7]),
    "relationship holding a map that is no method": dict(assertionMethod=[{"id": DID + "#k"}]),
    "verificationMethod not a set": dict(verificationMethod="oops"),
    "verificationMethod a single map": dict(verificationMethod=GOOD["verificationMethod"][0]),
    "method without controller": dict(verificationMethod=[{"id": "#k", "type": "Multikey", "publicKeyMultibase": KEY_MB}]),
    "method without type": dict(verificationMethod=[{"id": "#k", "controller": DID, "publicKeyMultibase": KEY_MB}]),
    "method with a numeric id": dict(verificationMethod=[{"id": 1, "type": "Multikey", "controller": DID}]),
    "service not a set": dict(service={"id": "#s", "type": "X", "serviceEndpoint": "x"}),
    "service without type": dict(service=[{"id": "#s", "serviceEndpoint": "https://a.example/"}]),
    "service without id": dict(service=[{"type": "X", "serviceEndpoint": "https://a.example/"}]),
    "service with a numeric endpoint": dict(service=[{"id": "#s", "type": "X", "serviceEndpoint": 42}]),
    "service with an empty endpoint set": dict(service=[{"id": "#s", "type": "X", "serviceEndpoint": []}]),
    "service without endpoint": dict(service=[{"id": "#s", "type": "X"}]),
    "service with a numeric type": dict(service=[{"id": "#s", "type": 3, "serviceEndpoint": "x"}]),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_a_non_conforming_document_is_an_invalid_did_document(case):
    doc = _with(**BAD[case])
    with pytest.raises(InvalidDIDDocument) as info:
        check_did_document(doc, DID)
    assert "DID Core 1.0 §5" in info.value.detail and DID in info.value.detail
    # and the resolver, whatever the method, hands it out as a failure, never as a document
    result = await StaticResolver([doc]).resolve(DID)
    assert result.error == "invalidDidDocument" and result.did_document is None, result.to_json()
    with pytest.raises(InvalidDIDDocument):
        await StaticResolver([doc]).dereference(DID + "#files")


async def test_the_qa_sweeps_duplicate_service_is_no_longer_dereferenced_to_the_first():
    doc = _with(service=[
        {"id": DID + "#files", "type": "LinkedDomains", "serviceEndpoint": "https://a.example/"},
        {"id": DID + "#files", "type": "LinkedDomains", "serviceEndpoint": "https://evil.example/"},
    ])
    with pytest.raises(InvalidDIDDocument, match="two services have the id 'did:web:issuer.example#files'"):
        await StaticResolver([doc]).dereference(DID + "#files")


def _spec_documents(vectors):
    for path in sorted((vectors / "did-web" / "spec-examples").glob("*.json")) + sorted(
        (vectors / "did-key" / "spec-examples").glob("*.json")
    ):
        doc = load_json(path)
        if isinstance(doc, dict) and isinstance(doc.get("id"), str) and doc["id"].startswith("did:"):
            yield path.name, doc
    reference = load_json(vectors / "did-key" / "reference-impl-output" / "digitalbazaar-did-method-key-5.3.0.json")
    for did, forms in reference["dids"].items():
        for form, doc in forms.items():
            if isinstance(doc, dict) and doc.get("id") == did:
                yield f"{did} {form}", doc


def test_the_spec_vectors_documents_conform(vectors):
    names = []
    for name, doc in _spec_documents(vectors):
        check_did_document(doc, doc["id"])
        names.append(name)
    assert any("did-web" in n for n in names) and any("ed25519-2020" in n for n in names) and len(names) >= 5, names


@pytest.mark.parametrize("options", [
    {},
    {"publicKeyFormat": "Ed25519VerificationKey2020"},
    {"publicKeyFormat": "JsonWebKey2020", "enableEncryptionKeyDerivation": True},
    {"publicKeyFormat": "Ed25519VerificationKey2018", "enableExperimentalPublicKeyTypes": True},
    {"enableEncryptionKeyDerivation": True},
])
async def test_every_did_key_form_conforms(options):
    result = await Resolver({"key": DIDKeyResolver()}).resolve("did:key:" + KEY_MB, options)
    assert result.error is None, result.to_json()


async def test_the_did_web_resolver_checks_what_it_fetches(aiohttp_server):
    served = {"doc": None}

    async def handler(request):
        return web.Response(text=json.dumps(served["doc"]), content_type="application/did+json")

    app = web.Application()
    app.router.add_get("/.well-known/did.json", handler)
    server = await aiohttp_server(app)
    did = f"did:web:127.0.0.1%3A{server.port}"
    served["doc"] = {"id": did, "service": [
        {"id": "#s", "type": "X", "serviceEndpoint": "https://a.example/"},
        {"id": "#s", "type": "X", "serviceEndpoint": "https://b.example/"},
    ]}
    host = f"127.0.0.1:{server.port}"
    async with create_guarded_session(allowed_insecure_hosts=[host]) as session:
        web_resolver = DIDWebResolver(GuardedHTTP(session, allowed_insecure_hosts=[host]))
        direct = await web_resolver.resolve(did)  # the method resolver alone refuses it too
        assert direct.error == "invalidDidDocument" and "two services" in direct.resolution_metadata["errorMessage"]
        assert (await Resolver({"web": web_resolver}).resolve(did)).error == "invalidDidDocument"
