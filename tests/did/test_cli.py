"""``vcnode resolve`` and ``vcnode key generate`` through node.cli.main, output captured."""

from __future__ import annotations

import asyncio
import json

import pytest

from node.cli import main

KEY_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
KEY_MB = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def run(capsys, *argv):
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_resolve_did_key(capsys, vectors):
    code, out = run(capsys, "resolve", KEY_DID)
    assert code == 0
    reference = json.loads((vectors / "did-key" / "reference-impl-output" / "digitalbazaar-did-method-key-5.3.0.json").read_text())
    assert out["didDocument"] == reference["dids"][KEY_DID]["multikey"]
    # what vcnode resolve prints is a serialization: its media type is stated (resolveRepresentation)
    assert out["didResolutionMetadata"] == {"contentType": "application/did+ld+json"}
    code, out = run(capsys, "resolve", KEY_DID, "--key-format", "Ed25519VerificationKey2020")
    assert out["didDocument"] == reference["dids"][KEY_DID]["ed25519VerificationKey2020"]


def test_dereference_did_url(capsys):
    code, out = run(capsys, "resolve", f"{KEY_DID}#{KEY_MB}")
    assert code == 0
    assert out["contentStream"]["id"] == f"{KEY_DID}#{KEY_MB}"
    assert out["contentStream"]["publicKeyMultibase"] == KEY_MB
    code, out = run(capsys, "resolve", f"{KEY_DID}#nope")
    assert code == 1
    assert out["dereferencingMetadata"]["error"] == "notFound"
    assert out["contentStream"] is None
    code, out = run(capsys, "resolve", f"{KEY_DID}#a`b")
    assert code == 1
    assert out["dereferencingMetadata"]["error"] == "invalidDidUrl"


@pytest.mark.parametrize(
    "did, error",
    [("did:key:zTjsVPtY", "invalidPublicKeyLength"), ("did:key:@", "invalidDid"), ("did:nope:1", "methodNotSupported")],
)
def test_resolution_failure_exits_1_with_error(capsys, did, error):
    code, out = run(capsys, "resolve", did)
    assert code == 1
    assert out["didDocument"] is None
    assert out["didResolutionMetadata"]["error"] == error


def test_bad_usage_exits_2(capsys):
    assert main(["resolve", KEY_DID, "--allow-insecure", "no-port"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["resolve"])
    assert info.value.code == 2
    assert main(["key"]) == 2


async def test_resolve_did_web_against_a_live_server(capsys, didweb):
    did = didweb.base_did + ":user:alice"
    # main() runs its own event loop, so it runs in a thread beside the server's loop
    code = await asyncio.to_thread(main, ["resolve", did, "--allow-insecure", didweb.host])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["didDocument"]["id"] == did
    code = await asyncio.to_thread(main, ["resolve", did])  # without the allowance: refused
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["didResolutionMetadata"]["error"] == "invalidDid"
    assert didweb.hits["/user/alice/did.json"] == 1


def test_key_generate_round_trips(capsys):
    from vc.crypto import Ed25519KeyPair

    code, first = run(capsys, "key", "generate")
    assert code == 0
    assert first["type"] == "Multikey"
    assert first["publicKeyMultibase"].startswith("z6Mk")
    assert first["secretKeyMultibase"].startswith("z3u2")
    assert first["controller"] == "did:key:" + first["publicKeyMultibase"]
    assert first["id"] == first["controller"] + "#" + first["publicKeyMultibase"]
    pair = Ed25519KeyPair.from_multikey(first)  # the secret matches the public key
    assert pair.public_multibase == first["publicKeyMultibase"]
    _, second = run(capsys, "key", "generate")
    assert second["secretKeyMultibase"] != first["secretKeyMultibase"]


async def test_resolve_names_the_media_type_of_what_it_prints(capsys, aiohttp_server):
    """application/did+ld+json only for a document whose @context begins with the DID context;
    a document without one (or with another first) is the JSON representation."""
    from aiohttp import web

    async def document(request):
        did = "did:web:" + request.host.replace(":", "%3A") + ":" + request.match_info["name"]
        context = {"ld": ["https://www.w3.org/ns/did/v1"], "other": ["https://example.org/not-did"]}.get(request.match_info["name"])
        return web.json_response({"id": did, **({"@context": context} if context else {})})

    app = web.Application()
    app.router.add_get("/{name}/did.json", document)
    server = await aiohttp_server(app)
    host = f"127.0.0.1:{server.port}"
    for name, expected in (("ld", "application/did+ld+json"), ("noctx", "application/did+json"), ("other", "application/did+json")):
        did = f"did:web:127.0.0.1%3A{server.port}:{name}"
        code = await asyncio.to_thread(main, ["resolve", did, "--allow-insecure", host])
        out = json.loads(capsys.readouterr().out)
        assert code == 0, out
        assert out["didResolutionMetadata"] == {"contentType": expected}, name
