"""The issuers' did:web documents over real HTTP: shape, CORS, and resolution by a did:web client."""

from __future__ import annotations

import pytest

from did.http import GuardedHTTP, create_guarded_session
from did.key import DIDKeyResolver
from did.document import check_did_document
from did.resolver import Resolver, is_authorized
from did.web import ACCEPT, DIDWebResolver
from node.app import create_app
from node.config import load_config
from node.routes import NODE_KEY


def _config(tmp_path, port: int):
    return load_config({"data_dir": str(tmp_path / "data"), "port": port}, env={})


@pytest.fixture
async def node(tmp_path, aiohttp_server, unused_tcp_port):
    port = unused_tcp_port
    app = create_app(_config(tmp_path, port))
    server = await aiohttp_server(app, port=port)
    await app[NODE_KEY].issuers.create("physics")
    return server


async def test_default_issuer_document_at_well_known(node, aiohttp_client):
    client = await aiohttp_client(node)
    response = await client.get("/.well-known/did.json")
    assert response.status == 200
    # the document carries @context: the JSON-LD representation (DID Core 1.0 §6.3.1)
    assert response.content_type == "application/did+ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = await response.json()
    did = f"did:web:localhost%3A{node.port}"  # the default base URL: http://localhost:PORT
    issuer = await node.app[NODE_KEY].issuers.get("default")
    vm_id = f"{did}#{issuer.public_key_multibase}"
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": issuer.public_key_multibase}
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
    }
    # Public keys only: nothing secret-looking leaves the node.
    text = await response.text()
    assert "secret" not in text.lower() and "private" not in text.lower()


async def test_other_issuer_document_and_unknown_issuer(node, aiohttp_client):
    client = await aiohttp_client(node)
    response = await client.get("/issuers/physics/did.json")
    assert response.status == 200
    assert (await response.json())["id"] == f"did:web:localhost%3A{node.port}:issuers:physics"
    missing = await client.get("/issuers/nobody/did.json")
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"
    assert "nobody" in (await missing.json())["detail"]


async def test_cors_preflight_allows_conditional_get(node, aiohttp_client):
    client = await aiohttp_client(node)
    response = await client.options(
        "/.well-known/did.json", headers={"Origin": "https://wallet.example", "Access-Control-Request-Method": "GET"}
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


async def test_a_did_web_client_resolves_the_node_over_http(node):
    host = f"localhost:{node.port}"
    async with create_guarded_session(allowed_insecure_hosts=[host]) as session:
        resolver = Resolver(
            {"web": DIDWebResolver(GuardedHTTP(session, allowed_insecure_hosts=[host])), "key": DIDKeyResolver()}
        )
        for name in ("default", "physics"):
            issuer = await node.app[NODE_KEY].issuers.get(name)
            result = await resolver.resolve(issuer.did)
            assert result.error is None, result.to_json()
            method = await resolver.resolve_verification_method(issuer.verification_method)
            assert method.controller == issuer.did
            assert is_authorized(method.document, method.id, "assertionMethod")
            # The did:key form names the same key.
            by_key = await resolver.resolve_verification_method(issuer.verification_methods[1])
            assert by_key.public_key == method.public_key


async def test_healthz(node, aiohttp_client):
    client = await aiohttp_client(node)
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["schemaVersion"] >= 1


async def test_no_endpoint_serves_a_private_key(node, aiohttp_client):
    """Keys never leave the node: walk every public GET the node answers and look for the secrets."""
    core = node.app[NODE_KEY]
    vc = await core.issuance.issue(
        "physics",
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:dana"},
        },
        {},
    )
    secrets = []
    for name in ("default", "physics"):
        pair = await core.issuers.keypair(name)
        secrets += [pair.secret_multibase, pair.seed.hex(), pair.seed.hex().upper()]
    client = await aiohttp_client(node)
    paths = [
        "/.well-known/did.json",
        "/issuers/physics/did.json",
        "/healthz",
        "/openapi.json",
        "/status/" + vc["credentialStatus"]["statusListCredential"].split("/status/", 1)[1],
    ]
    for path in paths:
        response = await client.get(path)
        assert response.status == 200, path
        body = await response.text()
        for secret in secrets:
            assert secret not in body, path
    assert all(s not in str(vc) for s in secrets)


JS_HARNESS_ACCEPT = "application/did+ld+json, application/did+json, application/json, */*;q=0.5"  # shared/interop/lib/didweb.mjs


@pytest.mark.parametrize("accept, media_type", [
    (None, "application/did+ld+json"),
    ("application/did+ld+json", "application/did+ld+json"),
    ("application/json", "application/did+ld+json"),  # plain JSON clients: JSON-LD is JSON
    ("*/*", "application/did+ld+json"),
    ("application/ld+json", "application/did+ld+json"),
    (JS_HARNESS_ACCEPT, "application/did+ld+json"),  # a tie goes to the document as it is
    ("application/did+json;q=0.5, application/did+ld+json", "application/did+ld+json"),
    ("application/did+json", "application/did+json"),
    (ACCEPT, "application/did+ld+json"),  # our own did:web resolver asks for the whole document
    ("application/did+json, application/json", "application/did+json"),
])
async def test_the_documents_representation_follows_accept(node, aiohttp_client, accept, media_type):
    """DID Core 1.0 §6.3.1: a document with @context is the JSON-LD representation, labelled
    application/did+ld+json; a client ranking application/did+json higher gets the JSON
    representation (§6.2), which has no @context. The QA sweep's finding 11."""
    client = await aiohttp_client(node)
    did = f"did:web:localhost%3A{node.port}:issuers:physics"
    response = await client.get("/issuers/physics/did.json", headers={"Accept": accept} if accept else {})
    assert response.status == 200
    assert response.content_type == media_type
    assert response.headers["Vary"] == "Accept"
    document = await response.json(content_type=None)
    assert ("@context" in document) is (media_type == "application/did+ld+json")
    if "@context" in document:
        assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    check_did_document(document, did)
    # each representation its own strong ETag, and a 304 for the one the client holds
    again = await client.get("/issuers/physics/did.json", headers={
        **({"Accept": accept} if accept else {}), "If-None-Match": response.headers["ETag"]})
    assert again.status == 304 and again.headers["Vary"] == "Accept"


async def test_the_two_representations_have_different_etags_and_the_same_entries(node, aiohttp_client):
    client = await aiohttp_client(node)
    ld = await client.get("/.well-known/did.json", headers={"Accept": "application/did+ld+json"})
    plain = await client.get("/.well-known/did.json", headers={"Accept": "application/did+json"})
    assert ld.headers["ETag"] != plain.headers["ETag"]
    ld_doc, plain_doc = await ld.json(content_type=None), await plain.json(content_type=None)
    assert {k: v for k, v in ld_doc.items() if k != "@context"} == plain_doc
    crossed = await client.get("/.well-known/did.json", headers={"Accept": "application/did+json", "If-None-Match": ld.headers["ETag"]})
    assert crossed.status == 200 and crossed.content_type == "application/did+json"
    head = await client.head("/.well-known/did.json", headers={"Accept": "application/did+json"})
    assert head.status == 200 and head.content_type == "application/did+json" and head.headers["Vary"] == "Accept"


async def test_openapi_declares_both_representations(node, aiohttp_client):
    client = await aiohttp_client(node)
    spec = await (await client.get("/openapi.json")).json()
    for path in ("/.well-known/did.json", "/issuers/{name}/did.json"):
        ok = spec["paths"][path]["get"]["responses"]["200"]
        assert set(ok["content"]) == {"application/did+ld+json", "application/did+json"}
        assert "Vary" in ok["headers"]
        assert "Vary" in spec["paths"][path]["get"]["responses"]["304"]["headers"]
