"""A wallet nobody here wrote collects micro-credentials from a running node (OpenID4VCI 1.0).

The wallet is the OpenWallet Foundation's OpenID4VCI client from the npm registry
(``@openid4vc/openid4vci``, the library Credo wallets use), driven by tests/wallet/js/wallet.mjs:
offer -> issuer metadata -> authorization server metadata -> token -> nonce -> key proof ->
credential -> notification. The node is served on 127.0.0.1 with its clock a few seconds
ahead of the wall clock or jumped forward (expiry), and every response it sends is checked
against its /openapi.json. The credential received is verified by the JavaScript reference
stack (../shared/interop) and by the node, revoked, and seen revoked by both. Each refusal
is checked to leave the store as it was: no credential, no status index.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from did.http import GuardedHTTP, create_guarded_session
from node.app import create_app
from node.config import Config
from node.node import Node, compose, open_master_key
from node.store import SQLiteDatabase
from support import OFFERED_ACHIEVEMENT, OFFERED_AWARD, PRE_AUTHORIZED_GRANT, WallClock, ResponseLog, npm_installed, query_one, run_js

ROOT = Path(__file__).resolve().parents[2]
WALLET = ROOT / "tests" / "wallet" / "js"
PRE_AUTH = PRE_AUTHORIZED_GRANT

ACHIEVEMENT = OFFERED_ACHIEVEMENT
AWARD = {**OFFERED_AWARD, "grade": "A"}


class Served:
    def __init__(self, node: Node, url: str, http: aiohttp.ClientSession, token: str, clock: WallClock) -> None:
        self.node, self.url, self.http, self.token, self.clock = node, url, http, token, clock

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def offer(self, issuer: str = "default", **extra: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.url}/issuers/{issuer}/offers", json={**AWARD, **extra}, headers=self.auth) as resp:
            body = await resp.json()
            assert resp.status == 201, body
            return body

    async def counts(self) -> tuple[int, int]:
        """(credentials issued, status indexes handed out): what a refusal must leave as it was."""
        credentials = await query_one(self.node.db, "SELECT COUNT(*) AS n FROM credentials")
        entries = await query_one(self.node.db, "SELECT COUNT(*) AS n FROM status_entries")
        return int(credentials["n"]), int(entries["n"])


@pytest.fixture(scope="module")
def wallet_dir() -> Path:
    return npm_installed(WALLET, "wallet", what="the OpenID4VCI wallet client")


async def wallet(wallet_dir: Path, **scenario: Any) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        "node", "wallet.mjs", cwd=wallet_dir,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(scenario).encode()), timeout=120)
    try:
        got = json.loads(out)
    except ValueError:
        raise AssertionError(f"the wallet printed no JSON: {out[:500]!r} {err[-2000:]!r}") from None
    return Result(got)


class Result(dict):  # type: ignore[type-arg]
    """The wallet's answer; shown without the metadata it read when an assertion fails."""

    def __repr__(self) -> str:
        return repr({k: v for k, v in self.items() if k != "metadata"})


@pytest.fixture
async def served(tmp_path: Path, aiohttp_client: Any, unused_tcp_port_factory: Any) -> AsyncIterator[Served]:
    port = unused_tcp_port_factory()
    config = Config().replace(data_dir=tmp_path / "data", host="127.0.0.1", port=port, status_purposes=("revocation",))
    clock = WallClock()
    (tmp_path / "data").mkdir(mode=0o700)
    db = await SQLiteDatabase.open(tmp_path / "data")
    master = await open_master_key(db, config, announce=False)
    session = create_guarded_session(allowed_insecure_hosts=config.insecure_hosts)
    node = compose(config, db=db, master_key=master, clock=clock, http=GuardedHTTP(session, allowed_insecure_hosts=config.insecure_hosts))
    app = create_app(config, node=node)
    responses = ResponseLog(app)
    await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": port})
    token = (await node.tokens.create(["issue", "status"], issuer="default")).token
    async with aiohttp.ClientSession() as http:
        served = Served(node, config.effective_base_url, http, token, clock)
        async with http.post(f"{served.url}/issuers/default/achievements", json=ACHIEVEMENT, headers=served.auth) as resp:
            assert resp.status == 201, await resp.text()
        yield served
    await session.close()
    await db.close()
    responses.check()  # every response the wallet (and the test) got is what /openapi.json says


@pytest.mark.interop
async def test_a_wallet_collects_a_micro_credential_bound_to_its_did(served: Served, wallet_dir: Path, tmp_path: Path) -> None:
    offer = await served.offer(txCode=True)
    # The offer, three ways: JSON, a link carrying it by value, and a QR code of that link.
    link = offer["link"]
    assert link.startswith("openid-credential-offer://?credential_offer=")
    carried = json.loads(parse_qs(urlsplit(link).query)["credential_offer"][0])
    assert carried == offer["credentialOffer"]
    assert carried["credential_issuer"] == served.url and carried["credential_configuration_ids"] == ["ds-101"]
    assert carried["grants"][PRE_AUTH]["tx_code"] == {"input_mode": "numeric", "length": 6}
    assert offer["txCode"].isdigit() and len(offer["txCode"]) == 6
    assert offer["qrCode"]["svg"].startswith("<svg") and offer["qrCode"]["png"].startswith("data:image/png;base64,")
    before = await served.counts()

    got = await wallet(wallet_dir, offer=link, txCode=offer["txCode"], key="ed25519", binding="did:key", notify=True, tokenTwice=True)
    assert got["ok"], got
    # The client read the node's metadata as OpenID4VCI 1.0, and an ldp_vc configuration per achievement.
    assert got["metadata"]["version"] == "V1" and got["metadata"]["credentialIssuer"] == served.url
    configuration = got["metadata"]["configuration"]
    assert configuration["format"] == "ldp_vc"
    assert configuration["credential_definition"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert configuration["cryptographic_binding_methods_supported"] == ["did:key", "did:jwk"]
    assert configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["EdDSA", "Ed25519", "ES256"]
    assert configuration["credential_metadata"]["display"][0]["name"] == "Data Science Fundamentals"
    assert got["metadata"]["authorizationServer"]["token_endpoint"] == f"{served.url}/issuers/default/oid4vci/token"
    assert got["token"]["token_type"] == "Bearer"
    # The pre-authorized code is single use: the same code again is refused.
    assert got["replay"]["error"]["error"] == "invalid_grant", got["replay"]

    vc = got["credential"]
    assert vc["credentialSubject"]["id"] == got["holder"] and got["holder"].startswith("did:key:z6Mk")
    assert vc["issuer"]["id"] == served.node.issuers.did_web("default")
    assert vc["credentialSubject"]["achievement"]["id"] == f"{served.url}/issuers/default/achievements/ds-101"
    assert await served.counts() == (before[0] + 1, before[1] + 1)
    async with served.http.get(f"{served.url}/issuers/default/offers/{offer['id']}", headers=served.auth) as resp:
        state = await resp.json()
    assert state["state"] == "issued" and state["credentialId"] == vc["id"] and state["holder"] == got["holder"]
    assert state["notification"] == "credential_accepted"

    # Verified by the JavaScript reference stack and by the node, status included.
    path = tmp_path / "collected.json"
    path.write_text(json.dumps(vc))
    code, js = await run_js("verify.mjs", str(path), "--did-web-base", served.url, "--status")
    assert code == 0 and js["verified"] is True, js
    async with served.http.post(f"{served.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
        result = await resp.json()
    assert resp.status == 200 and result["verified"] is True, result
    assert result["microcredential"]["complete"] is True

    # Revoked: both see it.
    revoke = {"credentialId": state["credentialId"], "status": "revoked"}
    async with served.http.post(f"{served.url}/credentials/status", json=revoke, headers=served.auth) as resp:
        assert resp.status == 200, await resp.text()
    code, js = await run_js("verify.mjs", str(path), "--did-web-base", served.url, "--status")
    assert code == 1 and js["verified"] is False, js
    async with served.http.post(f"{served.url}/credentials/verify", json={"verifiableCredential": vc}) as resp:
        result = await resp.json()
    assert resp.status == 400 and [e["code"] for e in result["errors"]] == ["STATUS_CHECK_FAILED"], result


@pytest.mark.interop
@pytest.mark.parametrize("key, binding", [("p256", "did:jwk"), ("p256", "did:key"), ("ed25519", "jwk")])
async def test_other_keys_and_bindings(served: Served, wallet_dir: Path, key: str, binding: str) -> None:
    """ES256 with P-256 keys, did:jwk and did:key alike; a bare jwk header binds to its did:jwk."""
    offer = await served.offer()
    got = await wallet(wallet_dir, offer=offer["link"], key=key, binding=binding)
    assert got["ok"], got
    subject = got["credential"]["credentialSubject"]["id"]
    if binding == "jwk":
        assert subject.startswith("did:jwk:")
    else:
        assert subject == got["holder"] and subject.startswith(binding + ":")
    assert got["credential"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


@pytest.mark.interop
@pytest.mark.parametrize(
    "fault, error",
    [
        ("other-audience", "invalid_proof"),
        ("wrong-key", "invalid_proof"),
        ("alg-not-offered", "invalid_proof"),
        ("stale-iat", "invalid_proof"),
        ("no-nonce", "invalid_proof"),
    ],
)
async def test_bad_key_proofs_are_refused_and_nothing_is_issued(served: Served, wallet_dir: Path, fault: str, error: str) -> None:
    offer = await served.offer()
    before = await served.counts()
    got = await wallet(wallet_dir, offer=offer["link"], key="ed25519", fault=fault)
    assert not got["ok"] and got["stage"] == "credential", got
    assert got["status"] == 400 and got["error"]["error"] == error, got
    assert await served.counts() == before
    # The offer is still good: the same wallet, behaving, collects it (the nonce it spent was not used).
    again = await wallet(wallet_dir, offer=offer["link"], nonce=got["nonce"])
    assert again["stage"] == "token" and again["error"]["error"] == "invalid_grant", again  # the code was used
    async with served.http.get(f"{served.url}/issuers/default/offers/{offer['id']}", headers=served.auth) as resp:
        assert (await resp.json())["state"] == "redeemed"


@pytest.mark.interop
async def test_a_wallet_that_names_the_credential_in_the_token_request_collects_it(served: Served, wallet_dir: Path) -> None:
    """§6.1.1: authorization_details in the pre-authorized token request, form-encoded by the
    client itself; §6.2: the answer names the credential_identifiers, which the client's schema
    takes; §8.2: the wallet asks by one of them (a request wallet.mjs makes itself, the client
    having no way to send credential_identifier)."""
    offer = await served.offer(txCode=True)
    got = await wallet(wallet_dir, offer=offer["link"], txCode=offer["txCode"], authorizationDetails=True, byIdentifier=True)
    assert got["ok"], got
    assert got["token"]["authorization_details"] == [
        {"type": "openid_credential", "credential_configuration_id": "ds-101", "credential_identifiers": [offer["id"]]}
    ]
    assert got["credential"]["credentialSubject"]["id"] == got["holder"]


@pytest.mark.interop
async def test_a_wallet_given_credential_identifiers_that_asks_by_configuration_collects_it(
    served: Served, wallet_dir: Path
) -> None:
    """The client asks by credential_configuration_id whatever the token response said (§8.2 would
    have it send the credential_identifier it was given; it has no way to). The token names one
    offer, so the node serves it (node.oid4vci.issuer, issue_credential)."""
    offer = await served.offer()
    got = await wallet(wallet_dir, offer=offer["link"], authorizationDetails=True)
    assert got["ok"], got
    assert got["token"]["authorization_details"][0]["credential_identifiers"] == [offer["id"]]
    assert got["credential"]["credentialSubject"]["id"] == got["holder"]


@pytest.mark.interop
async def test_a_reused_nonce_is_refused(served: Served, wallet_dir: Path) -> None:
    first = await wallet(wallet_dir, offer=(await served.offer())["link"])
    assert first["ok"], first
    before = await served.counts()
    second = await wallet(wallet_dir, offer=(await served.offer())["link"], nonce=first["nonce"])
    assert not second["ok"] and second["stage"] == "credential" and second["error"]["error"] == "invalid_nonce", second
    assert await served.counts() == before


@pytest.mark.interop
async def test_expired_offers_and_wrong_transaction_codes_are_refused(served: Served, wallet_dir: Path) -> None:
    before = await served.counts()
    # Expired: the node's clock passes the offer's end.
    offer = await served.offer(expiresIn=60)
    served.clock.offset = timedelta(seconds=61)
    got = await wallet(wallet_dir, offer=offer["link"])
    assert got["stage"] == "token" and got["status"] == 400 and got["error"]["error"] == "invalid_grant", got
    assert "expired" in got["error"]["error_description"]
    served.clock.offset = timedelta(0)
    # A wrong transaction code is refused, five of them void the offer: the right one is refused then too.
    offer = await served.offer(txCode={"length": 4})
    wrong = "0000" if offer["txCode"] != "0000" else "1111"
    for _ in range(5):
        got = await wallet(wallet_dir, offer=offer["link"], txCode=wrong)
        assert got["stage"] == "token" and got["error"]["error"] == "invalid_grant", got
    got = await wallet(wallet_dir, offer=offer["link"], txCode=offer["txCode"])
    assert got["error"]["error"] == "invalid_grant" and "void" in got["error"]["error_description"], got
    async with served.http.get(f"{served.url}/issuers/default/offers/{offer['id']}", headers=served.auth) as resp:
        assert (await resp.json())["state"] == "locked"
    assert await served.counts() == before


@pytest.mark.interop
async def test_the_wallet_collects_an_offer_made_with_the_cli(served: Served, wallet_dir: Path) -> None:
    """`vcnode offer create` beside the running node (same data folder, same base URL)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "offer", "create", "ds-101", "--learner-name", "Bo Berg", "--tx-code", "8", "--json",
        "--data", str(served.node.config.data_dir), "--base-url", served.url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    offer = json.loads(out)
    assert len(offer["txCode"]) == 8
    got = await wallet(wallet_dir, offer=offer["link"], txCode=offer["txCode"], key="p256", binding="did:key")
    assert got["ok"], got
    assert got["credential"]["credentialSubject"]["identifier"][0]["identityHash"] == "Bo Berg"


@pytest.mark.interop
async def test_a_path_issuer_is_found_where_openid4vci_puts_it(served: Served, wallet_dir: Path) -> None:
    """An issuer BASE/issuers/NAME (did:web:HOST:issuers:NAME): metadata at
    /.well-known/openid-credential-issuer/issuers/NAME, the client finds it from the offer."""
    await served.node.issuers.create("physics")
    token = (await served.node.tokens.create(["issue"], issuer="physics")).token
    auth = {"Authorization": f"Bearer {token}"}
    async with served.http.post(f"{served.url}/issuers/physics/achievements", json=ACHIEVEMENT, headers=auth) as resp:
        assert resp.status == 201
    async with served.http.post(f"{served.url}/issuers/physics/offers", json=AWARD, headers=auth) as resp:
        offer = await resp.json()
    assert offer["credentialIssuer"] == f"{served.url}/issuers/physics"
    got = await wallet(wallet_dir, offer=offer["link"], key="p256", binding="did:jwk")
    assert got["ok"], got
    assert got["credential"]["issuer"]["id"] == served.node.issuers.did_web("physics")
    async with served.http.get(f"{served.url}/.well-known/openid-credential-issuer/issuers/physics") as resp:
        assert (await resp.json())["credential_issuer"] == f"{served.url}/issuers/physics"
    async with served.http.get(f"{served.url}/.well-known/oauth-authorization-server/issuers/physics") as resp:
        assert (await resp.json())["issuer"] == f"{served.url}/issuers/physics"
