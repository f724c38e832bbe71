"""Resolution options and DID parameters the resolver does not implement are refused, not
ignored (DID Resolution v1 §4 steps 3-4, §5; the QA sweep's findings 6 and 7): a caller asking
for another version, representation or context must not silently get the current default."""

from __future__ import annotations

import asyncio
import json

import pytest

from did.errors import DIDError
from did.key import DIDKeyResolver
from did.resolver import Resolver, StaticResolver
from did.web import DIDWebResolver
from node.cli import main

DID = "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b"
MB = DID.split(":")[-1]


def _key_resolver() -> Resolver:
    return Resolver({"key": DIDKeyResolver()})


@pytest.mark.parametrize("options, error, named", [
    ({"versionTime": "2000-01-01T00:00:00Z"}, "featureNotSupported", "versionTime"),
    ({"versionId": "7"}, "featureNotSupported", "versionId"),
    ({"expandRelativeUrls": True}, "featureNotSupported", "expandRelativeUrls"),
    ({"noSuchOption": 1}, "featureNotSupported", "noSuchOption"),
    ({"accept": "application/did+cbor"}, "representationNotSupported", "application/did+cbor"),
    ({"accept": "application/did+json;q=0, text/html"}, "representationNotSupported", "text/html"),
    ({"accept": 5}, "invalidOptions", "accept"),
    ({"accept": ""}, "invalidOptions", "accept"),
])
async def test_an_option_the_did_key_resolver_does_not_implement_is_refused(options, error, named):
    for resolver in (_key_resolver(), DIDKeyResolver()):
        result = await resolver.resolve(DID, options)
        assert result.error == error, (options, result.resolution_metadata)
        assert result.did_document is None
        assert named in result.resolution_metadata["errorMessage"]


@pytest.mark.parametrize("accept", [
    "application/did+ld+json", "application/did+json", "application/did", "*/*", "application/*",
    "text/html, application/did+json;q=0.5", "Application/DID+LD+JSON",
])
async def test_an_accept_naming_a_representation_it_produces_is_accepted(accept):
    result = await _key_resolver().resolve(DID, {"accept": accept})
    assert result.error is None, result.resolution_metadata


@pytest.mark.parametrize("options, context", [
    ({"defaultContext": ["https://www.w3.org/ns/did/v1.1"]}, ["https://www.w3.org/ns/did/v1.1", "https://w3id.org/security/multikey/v1"]),
    ({"defaultContext": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", "https://example.org/extra/v1"]},
     ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", "https://example.org/extra/v1"]),
    ({"defaultContext": ["https://www.w3.org/ns/did/v1", "https://example.org/extra/v1"], "publicKeyFormat": "Ed25519VerificationKey2020"},
     ["https://www.w3.org/ns/did/v1", "https://example.org/extra/v1", "https://w3id.org/security/suites/ed25519-2020/v1",
      "https://w3id.org/security/suites/x25519-2020/v1"]),
    ({}, ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]),
])
async def test_default_context_begins_the_context_and_the_type_contexts_follow_once(options, context):
    """did:key v0.7, Context Creation: contextArray starts as options.defaultContext."""
    resolver = DIDKeyResolver()
    for _ in range(2):  # and the document cache keeps the forms apart
        result = await Resolver({"key": resolver}).resolve(DID, options)
        assert result.error is None, result.resolution_metadata
        assert result.did_document["@context"] == context
    assert (await resolver.resolve(DID)).did_document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


@pytest.mark.parametrize("value", [
    "https://www.w3.org/ns/did/v1", [], ["https://example.org/not-did"], [{"@vocab": "x"}],
    ["https://www.w3.org/ns/did/v1", 5], None, ["https://www.w3.org/ns/did/v1", ["nested"]],
])
async def test_a_default_context_that_is_not_a_list_of_urls_beginning_with_the_did_context_is_refused(value):
    result = await _key_resolver().resolve(DID, {"defaultContext": value})
    assert result.error == "invalidOptions", result.resolution_metadata
    assert "defaultContext" in result.resolution_metadata["errorMessage"]


async def test_did_web_and_a_static_table_implement_no_options(didweb, guarded):
    web = DIDWebResolver(guarded)
    did = didweb.base_did
    for options in ({"publicKeyFormat": "nonsense"}, {"versionTime": "2000-01-01T00:00:00Z"}):
        for resolver in (web, Resolver({"web": web})):
            result = await resolver.resolve(did, options)
            assert result.error == "featureNotSupported", result.resolution_metadata
    assert didweb.hits.get("/.well-known/did.json", 0) == 0  # refused before anything is fetched
    assert (await web.resolve(did, {"accept": "application/did+ld+json"})).error is None
    table = StaticResolver([{"id": "did:web:t.example"}])
    assert (await table.resolve("did:web:t.example", {"versionId": "1"})).error == "featureNotSupported"
    assert (await table.resolve("did:web:t.example", {"accept": "application/did+json"})).error is None


@pytest.mark.parametrize("url, params", [
    (f"{DID}?service=files&relativeRef=%2Fmyresume", "DID parameters relativeRef, service are"),
    (f"{DID}?versionId=1", "DID parameter versionId is"),
    (f"{DID}?versionTime=2021-05-10T17:00:00Z#{MB}", "DID parameter versionTime is"),
    (f"{DID}?hl=zQmWvQxTqbG2Z9HPJgG57jjwR154cKhbtJenbyYTWkjgF3e", "DID parameter hl is"),
    (f"{DID}?serviceType=LinkedDomains", "DID parameter serviceType is"),
])
async def test_a_did_url_with_did_parameters_is_feature_not_supported_not_not_found(url, params):
    resolver = _key_resolver()
    for dereference in (resolver.dereference, resolver.resolve_verification_method):
        with pytest.raises(DIDError) as info:
            await dereference(url)
        assert info.value.code == "featureNotSupported", info.value
        assert params in info.value.detail


@pytest.mark.parametrize("url", [f"{DID}?custom=1", f"{DID}/path", f"{DID}/path?x=y#{MB}"])
async def test_other_paths_and_queries_are_still_not_found(url):
    """DID Resolution v1 §5: a path or query neither the method nor an extension dereferences."""
    with pytest.raises(DIDError) as info:
        await _key_resolver().dereference(url)
    assert info.value.code == "notFound"


def test_vcnode_resolve_says_feature_not_supported_for_did_parameters(capsys):
    code = main(["resolve", f"{DID}?service=files&relativeRef=%2Fx"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["dereferencingMetadata"]["error"] == "featureNotSupported"
    assert out["contentStream"] is None
