"""Cross-checks with Digital Bazaar's JS stack (../shared/interop, needs node + `npm ci`).

The harness is installed by tests/support.py (or VC_INTEROP_DIR names an installed copy). The
tests skip when no installed harness is found.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from status.bitstring import Bitstring
from support import interop_harness, run_js
from status_fakes import world  # noqa: F401  (the `world` fixture)

pytestmark = pytest.mark.interop


def _harness() -> Path:
    return interop_harness()


async def _node(*args: str, stdin: bytes | None = None) -> tuple[int, dict]:
    return await run_js(*args, stdin=stdin)


async def test_reference_decoder_reads_our_block_compressed_lists():
    _harness()
    for length, indexes in ((131_072, [0, 7, 8, 94_567, 131_071]), (16_777_216, [0, 9, 600_000, 9_000_000, 16_777_215])):
        bits = Bitstring(length)
        bits.encode()  # the later encode reuses compressed blocks
        for i in indexes:
            bits.set(i, 1)
        code, out = await _node("status.mjs", "decode", bits.encode())
        assert code == 0, out
        assert out["length"] == length and out["setIndices"] == indexes


async def test_we_read_lists_the_reference_encoder_writes():
    _harness()
    code, out = await _node("status.mjs", "encode", "--indices", "3,17,94567,131071")
    assert code == 0, out
    assert Bitstring.decode(out["encodedList"]).set_indexes() == [3, 17, 94_567, 131_071]


async def test_we_verify_a_status_list_the_reference_stack_signed(world):
    _harness()
    from did.key import DIDKeyResolver
    from did.resolver import Resolver
    from status.check import StatusChecker
    from vc.loader import default_loader

    code, listed = await _node("status.mjs", "create", "--indices", "3,17", "--sign", "--id", "https://status.example/credentials/status/1")
    assert code == 0, listed
    world.http.serve(listed["id"], listed)
    checker = StatusChecker(world.http, Resolver({"key": DIDKeyResolver()}), default_loader(), world.clock)
    cred = world.credential(world.entry(17, url=listed["id"]), world.entry(18, url=listed["id"]), issuer=listed["issuer"])
    checks = await checker(cred)
    assert [c.outcome for c in checks] == ["failed", "passed"], [c.to_json() for c in checks]


async def test_reference_verifier_reads_our_signed_list_and_status(aiohttp_server, world):
    _harness()
    from datetime import datetime, timezone

    from did.key import did_key_from_public_key
    from status.credential import issue_status_list_credential, status_list_entry
    from vc.credentials import issue_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    loader = default_loader()
    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did.split(':')[-1]}"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    list_url = "https://uni.example/status/revocation/1"
    bits = Bitstring(131_072)
    bits.set(4242, 1)
    served = {"list": issue_status_list_credential(
        list_url=list_url, issuer=did, purpose="revocation", bitstring=bits,
        key=key, verification_method=vm, now=now, loader=loader)}

    async def handler(request):
        return web.json_response(served["list"])

    app = web.Application()
    app.router.add_get("/status/revocation/1", handler)
    server = await aiohttp_server(app)
    rewrite = f"https://uni.example=http://127.0.0.1:{server.port}"

    for index, expect_verified in ((4242, False), (4243, True)):
        credential = issue_credential(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": did,
                "validFrom": "2025-01-01T00:00:00Z",
                "credentialSubject": {"id": "did:example:student"},
                "credentialStatus": status_list_entry(list_url=list_url, index=index, purpose="revocation"),
            },
            key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=now,
        )
        code, out = await _node("verify.mjs", "-", "--status", "--url-rewrite", rewrite,
                                stdin=json.dumps(credential).encode())
        assert (code == 0) is expect_verified, out
        text = json.dumps(out)
        assert '"status": true' in text if not expect_verified else '"status": false' in text, out


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_the_reference_verifies_the_proof_of_a_credential_with_a_message_entry(tmp_path, suite):
    """statusSize, statusMessage and a list of statusReference URLs are terms of the entry in the
    credentials/v2 context; both implementations must canonicalize them alike. (The JavaScript
    status library reads one-bit entries only, so the status itself is not checked there.)"""
    from datetime import datetime, timezone

    from did.key import did_key_from_public_key
    from test_status_signed import message_credential
    from vc.crypto import Ed25519KeyPair
    from vc.loader import default_loader

    key = Ed25519KeyPair.from_seed(bytes(range(32)))
    did = did_key_from_public_key(key.public_key)
    signed = message_credential(did, key, f"{did}#{did.split(':')[-1]}", default_loader(), datetime(2025, 6, 1, tzinfo=timezone.utc), suite)
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(signed))
    code, out = await _node("verify.mjs", str(path), "--now", "2025-06-01T00:00:00Z")
    assert code == 0 and out["verified"] is True, out
    signed["credentialStatus"]["statusSize"] = 3
    path.write_text(json.dumps(signed))
    code, out = await _node("verify.mjs", str(path), "--now", "2025-06-01T00:00:00Z")
    assert code == 1 and out["verified"] is False, out
