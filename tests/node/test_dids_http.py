"""The issuers' did:web documents over real HTTP: shape, CORS, and resolution by a did:web client."""

from __future__ import annotations

import pytest

from did.http import GuardedHTTP, create_guarded_session
from did.key import DIDKeyResolver
from did.resolver import Resolver, is_authorized
from did.web import DIDWebResolver
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
    assert response.content_type == "application/did+json"
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
