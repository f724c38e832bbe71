"""The node keeps other issuers' DID documents as their Cache-Control allows."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.node import open_node
from node.config import Config
from vc.crypto import Ed25519KeyPair


async def test_the_node_fetches_a_remote_did_document_once_while_it_is_fresh(aiohttp_server: Any, tmp_path: Any) -> None:
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    hits = []

    async def did_json(request: web.Request) -> web.Response:
        hits.append(request.path)
        did = f"did:web:127.0.0.1%3A{request.url.port}"
        vm = {"id": f"{did}#k", "type": "Multikey", "controller": did, "publicKeyMultibase": key.public_multibase}
        doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
        return web.json_response(doc, headers={"Cache-Control": "max-age=600"})

    app = web.Application()
    app.router.add_get("/.well-known/did.json", did_json)
    server = await aiohttp_server(app)
    did = f"did:web:127.0.0.1%3A{server.port}"
    config = Config(data_dir=tmp_path / "data", allow_insecure_hosts=(f"127.0.0.1:{server.port}",), kdf="interactive")
    async with open_node(config, create=True) as node:
        first = await node.resolver.resolve(did)
        second = await node.resolver.resolve(did)
    assert first.did_document == second.did_document and first.did_document["id"] == did
    assert hits == ["/.well-known/did.json"]
