"""OpenID4VCI on the node, below the wallet: metadata placement, offer refusals, the token and
credential endpoints' OAuth errors for requests no wallet library would send, single use
under concurrency (two store handles standing for two processes), what the store keeps, the
QR code, and the CLI (`vcnode offer create`, `issue-batch --offers`). tests/wallet drives a
third-party wallet through the same flow.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey

from node.app import create_app
from node.cli import main
from node.config import Config, ConfigError, load_config
from node.node import compose, open_master_key
from node.errors import InvalidRequestError, RetiredKeyError
from node.oid4vci import InsecureIssuerError, OAuthError, TxCode
from node.oid4vci.proofs import did_jwk
from postgres_server import stores  # noqa: F401  (the fixture)
from support import OFFERED_ACHIEVEMENT, OFFERED_AWARD, PRE_AUTHORIZED_GRANT, WallClock, ResponseLog, query, query_one

ACHIEVEMENT = OFFERED_ACHIEVEMENT
AWARD = {**OFFERED_AWARD}
PRE_AUTH = PRE_AUTHORIZED_GRANT
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Wallet:
    """Our own stand-in for requests the OpenID4VCI client would never make (the client-driven
    flow is tests/wallet): a P-256 or Ed25519 key, proofs made with joserfc."""

    def __init__(self, kind: str = "ed25519") -> None:
        self.key = OKPKey.generate_key("Ed25519") if kind == "ed25519" else ECKey.generate_key("P-256")
        self.alg = "EdDSA" if kind == "ed25519" else "ES256"
        self.did = did_jwk(self.key.as_dict(private=False))

    def proof(self, audience: str, nonce: str | None, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
        payload = {"aud": audience, "iat": int(time.time()), **({"nonce": nonce} if nonce else {}), **claims}
        head = header or {"alg": self.alg, "typ": "openid4vci-proof+jwt", "kid": self.did + "#0"}
        return jws.serialize_compact(head, json.dumps(payload).encode(), self.key, algorithms=[head["alg"]])

    def signed(self, payload: str, *, header: str | None = None) -> str:
        """A proof of exactly this payload text (and header text), for what json.dumps never writes."""
        head = header or json.dumps({"alg": self.alg, "typ": "openid4vci-proof+jwt", "kid": self.did + "#0"})
        b64 = lambda data: base64.urlsafe_b64encode(data.encode()).rstrip(b"=").decode()  # noqa: E731
        signing_input = f"{b64(head)}.{b64(payload)}"
        signature = self.key.private_key.sign(signing_input.encode()) if self.alg == "EdDSA" else b"x" * 64
        return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any, stores: Any) -> Any:
    """A node on each backend (tests/postgres_server.py)."""
    config = Config().replace(data_dir=tmp_path / "data", base_url="http://127.0.0.1:8443", status_purposes=("revocation",))
    (tmp_path / "data").mkdir()
    clock = WallClock()
    db = await stores.open()
    node = compose(config, db=db, master_key=await open_master_key(db, config, announce=False), clock=clock)
    app = create_app(config, node=node)
    responses = ResponseLog(app)
    client = await aiohttp_client(app)
    token = (await node.tokens.create(["issue"], issuer="default")).token
    env = type("Env", (), {})()
    env.node, env.client, env.clock, env.config, env.auth = node, client, clock, config, {"Authorization": f"Bearer {token}"}
    env.stores = stores
    resp = await client.post("/issuers/default/achievements", json=ACHIEVEMENT, headers=env.auth)
    assert resp.status == 201
    yield env
    await db.close()
    responses.check()


async def counts(env: Any) -> tuple[int, int, int]:
    rows = [await query_one(env.node.db, f"SELECT COUNT(*) AS n FROM {t}") for t in ("credentials", "status_entries", "oid4vci_offers")]
    return tuple(int(r["n"]) for r in rows)  # type: ignore[return-value]


async def make_offer(env: Any, **extra: Any) -> dict[str, Any]:
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, **extra}, headers=env.auth)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def token_for(env: Any, offer: dict[str, Any], **form: str) -> dict[str, Any]:
    code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    resp = await env.client.post("/issuers/default/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, **form})
    assert resp.status == 200, await resp.text()
    # RFC 6749 §5.1: no-store "as well as the Pragma response header field with a value of no-cache".
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Pragma"] == "no-cache"
    return await resp.json()


async def nonce(env: Any) -> str:
    resp = await env.client.post("/issuers/default/oid4vci/nonce")
    return (await resp.json())["c_nonce"]


async def credential(env: Any, access: str | None, body: Any, *, raw: bytes | None = None) -> tuple[int, dict[str, Any], Any]:
    headers = {"Authorization": f"Bearer {access}"} if access else {}
    if raw is not None:
        resp = await env.client.post("/issuers/default/oid4vci/credential", data=raw, headers={**headers, "Content-Type": "application/json"})
    else:
        resp = await env.client.post("/issuers/default/oid4vci/credential", json=body, headers=headers)
    return resp.status, await resp.json(), resp


# ------------------------------------------------------------------ metadata


async def test_metadata_is_where_openid4vci_and_rfc8414_put_it(env: Any) -> None:
    base = env.config.effective_base_url
    meta = await (await env.client.get("/.well-known/openid-credential-issuer")).json()
    assert meta["credential_issuer"] == base
    assert meta["credential_endpoint"] == f"{base}/issuers/default/oid4vci/credential"
    assert meta["nonce_endpoint"] == f"{base}/issuers/default/oid4vci/nonce"
    assert meta["display"] == [{"name": "University of Example"}]
    assert list(meta["credential_configurations_supported"]) == ["ds-101"]
    config = meta["credential_configurations_supported"]["ds-101"]
    assert config["credential_definition"]["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    as_meta = await (await env.client.get("/.well-known/oauth-authorization-server")).json()
    assert as_meta["issuer"] == base and as_meta["grant_types_supported"] == [PRE_AUTH]
    assert as_meta["pre-authorized_grant_anonymous_access_supported"] is True
    # A path issuer: inserted (1.0) and appended (the drafts); 'default' has no path.
    await env.node.issuers.create("physics")
    for path in ("/.well-known/openid-credential-issuer/issuers/physics", "/issuers/physics/.well-known/openid-credential-issuer"):
        resp = await env.client.get(path)
        assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
        body = await resp.json()
        assert body["credential_issuer"] == f"{base}/issuers/physics" and body["credential_configurations_supported"] == {}
    # The authorization server metadata too, appended as well: a wallet of the drafts that
    # appends for one document appends for the other.
    for path in ("/.well-known/oauth-authorization-server/issuers/physics", "/issuers/physics/.well-known/oauth-authorization-server"):
        resp = await env.client.get(path)
        assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*", path
        body = await resp.json()
        assert body["issuer"] == f"{base}/issuers/physics" and body["token_endpoint"] == f"{base}/issuers/physics/oid4vci/token"
    for path in ("/.well-known/openid-credential-issuer/issuers/default", "/.well-known/openid-credential-issuer/issuers/nobody",
                 "/.well-known/oauth-authorization-server/issuers/nobody", "/issuers/nobody/.well-known/oauth-authorization-server",
                 "/issuers/default/.well-known/oauth-authorization-server"):
        assert (await env.client.get(path)).status == 404, path


# ------------------------------------------------------------------ offers


async def test_an_offer_is_checked_in_full_when_made_and_nothing_is_kept_when_refused(env: Any) -> None:
    before = await counts(env)
    cases = [
        ({**AWARD, "learner": {"name": "Ana", "id": "did:example:ana"}}, 422, "wallet"),
        ({"achievementId": "ds-101", "learner": {"email": "x@example.org"}}, 422, "(a)"),
        ({**AWARD, "achievementId": "nope"}, 422, "nope"),
        ({**AWARD, "grade": "Z"}, 422, "grade"),
        ({**AWARD, "txCode": {"length": 2}}, 400, "txCode.length"),
        ({**AWARD, "expiresIn": 5}, 400, "expiresIn"),
    ]
    for body, status, says in cases:
        resp = await env.client.post("/issuers/default/offers", json=body, headers=env.auth)
        problem = await resp.json()
        assert resp.status == status and says in json.dumps(problem), (body, problem)
    assert (await env.client.post("/issuers/default/offers", json=AWARD)).status == 401
    # A key that has issued already cannot be offered again.
    issued = await env.client.post("/issuers/default/microcredentials", json={**AWARD, "idempotencyKey": "k-1"}, headers=env.auth)
    assert issued.status == 201
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, "idempotencyKey": "k-1"}, headers=env.auth)
    assert resp.status == 409
    after = await counts(env)
    assert after[2] == before[2] and after[0] == before[0] + 1


async def test_an_idempotency_key_a_live_offer_holds_is_refused_when_the_next_offer_is_made(env: Any) -> None:
    """One key issues one credential: of two offers holding it, the second wallet to collect was
    refused. The operator now hears it when making the second offer (409), not the learner later;
    an offer that can no longer issue (expired, void, its token expired) holds no key."""
    first = await make_offer(env, idempotencyKey="k-3", expiresIn=60)
    before = await counts(env)
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, "idempotencyKey": "k-3"}, headers=env.auth)
    problem = await resp.json()
    assert resp.status == 409 and resp.content_type == "application/problem+json", problem
    assert problem["code"] == "idempotency-conflict" and first["id"] in problem["detail"], problem
    assert await counts(env) == before
    # Other keys, and offers without a key of their own, are not held back.
    await make_offer(env, idempotencyKey="k-4")
    await make_offer(env)
    await make_offer(env)
    # Exchanged for a token: held while the token lives, then free.
    await token_for(env, first)
    env.clock.offset = timedelta(seconds=61)
    assert (await env.client.post("/issuers/default/offers", json={**AWARD, "idempotencyKey": "k-3"}, headers=env.auth)).status == 409
    env.clock.offset = timedelta(seconds=env.config.oid4vci_token_ttl_seconds + 1)
    second = await make_offer(env, idempotencyKey="k-3", txCode={"length": 4})
    # Void after five wrong transaction codes: free again.
    code = second["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    wrong = "0000" if second["txCode"] != "0000" else "1111"
    for _ in range(5):
        resp = await env.client.post("/issuers/default/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": wrong})
        assert (await resp.json())["error"] == "invalid_grant"
    third = await make_offer(env, idempotencyKey="k-3")
    # Issued: the key has issued, which Achievements.check has always refused.
    access = (await token_for(env, third))["access_token"]
    wallet = Wallet()
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101",
                                                     "proofs": {"jwt": [wallet.proof(env.config.effective_base_url, await nonce(env))]}})
    assert status == 200, body
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, "idempotencyKey": "k-3"}, headers=env.auth)
    assert resp.status == 409 and "has issued" in (await resp.json())["detail"]


async def test_offers_need_an_https_credential_issuer_identifier(env: Any, aiohttp_client: Any) -> None:
    """§12.2.1: a Credential Issuer "is identified by a case sensitive URL using the https
    scheme". A node on http://credentials.example.org handed out offers wallets refuse, without a
    word; now making one is refused (409, saying why). Its metadata is still served, and plain
    http stays usable for development: localhost, 127.0.0.1, and hosts in allow_insecure_hosts."""
    config = env.config.replace(base_url="http://credentials.example.org")
    node = compose(config, db=env.node.db, master_key=env.node.issuers.master_key, clock=env.clock)
    client = await aiohttp_client(create_app(config, node=node))
    auth = {"Authorization": f"Bearer {(await node.tokens.create(['issue'], issuer='default')).token}"}
    before = await counts(env)
    resp = await client.post("/issuers/default/offers", json=AWARD, headers=auth)
    problem = await resp.json()
    assert resp.status == 409 and resp.content_type == "application/problem+json", problem
    assert problem["code"] == "insecure-credential-issuer" and "§12.2.1" in problem["detail"], problem
    assert "http://credentials.example.org" in problem["detail"] and "allow_insecure_hosts" in problem["detail"]
    assert await counts(env) == before
    meta = await client.get("/.well-known/openid-credential-issuer")
    assert meta.status == 200 and (await meta.json())["credential_issuer"] == "http://credentials.example.org"
    # Allowed explicitly, as any plain-HTTP host of the node is.
    config = config.replace(allow_insecure_hosts=("credentials.example.org:80",))
    node = compose(config, db=env.node.db, master_key=env.node.issuers.master_key, clock=env.clock)
    client = await aiohttp_client(create_app(config, node=node))
    resp = await client.post("/issuers/default/offers", json=AWARD, headers=auth)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["credentialIssuer"] == "http://credentials.example.org"
    # Local hosts (the tests' own node is http://127.0.0.1:8443); https anywhere.
    for base in ("http://localhost:8443", "http://127.0.0.1:9000", "https://credentials.example.org"):
        other = compose(env.config.replace(base_url=base), db=env.node.db, master_key=env.node.issuers.master_key, clock=env.clock)
        assert (await other.oid4vci.create_offer("default", AWARD)).credential_offer["credential_issuer"] == base
    for base, allowed in (("http://credentials.example.org:8080", ("credentials.example.org:80",)), ("http://10.0.0.7", ())):
        other = compose(env.config.replace(base_url=base), db=env.node.db, master_key=env.node.issuers.master_key, clock=env.clock)
        with pytest.raises(InsecureIssuerError):
            await other.oid4vci.create_offer("default", AWARD, allow_insecure_hosts=allowed)


async def test_a_transaction_code_description_is_any_text_of_300_characters(env: Any) -> None:
    """§4.1.1 limits the description's length only; non-ASCII was refused, "citing §4.1.1",
    so an operator could not write the hint in the learner's language."""
    for description in ("Código enviado por SMS — confira a mensagem", "Bestätigungscode per E-Mail", "é" * 300):
        offer = await make_offer(env, txCode={"description": description})
        assert offer["credentialOffer"]["grants"][PRE_AUTH]["tx_code"]["description"] == description
        carried = json.loads(parse_qs(urlsplit(offer["link"]).query)["credential_offer"][0])
        assert carried["grants"][PRE_AUTH]["tx_code"]["description"] == description
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, "txCode": {"description": "é" * 301}}, headers=env.auth)
    assert resp.status == 400 and "txCode" in json.dumps(await resp.json())
    # The offer goes by value: a QR code must hold all of it (2331 bytes), and 300 characters of
    # another script take 9 bytes each in the link. Refused when made, not a 500 when drawn.
    before = await counts(env)
    resp = await env.client.post("/issuers/default/offers", json={**AWARD, "txCode": {"description": "字" * 300}}, headers=env.auth)
    problem = await resp.json()
    assert resp.status == 400 and "QR code" in problem["detail"] and problem["field"] == "txCode.description", problem
    assert await counts(env) == before
    offer = await make_offer(env, txCode={"description": "字" * 200})
    assert offer["qrCode"]["png"].startswith("data:image/png")
    with pytest.raises(InvalidRequestError, match=r"at most 300 characters \(§4.1.1\), not 301"):
        TxCode(description="x" * 301)
    with pytest.raises(InvalidRequestError, match="not Unicode text"):
        TxCode(description="C\udcf3digo")  # an undecodable byte of a command-line argument


async def test_the_qr_code_holds_the_link_and_the_store_holds_no_secret(env: Any) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    offer = await make_offer(env, txCode=True)
    png = base64.b64decode(offer["qrCode"]["png"].split(",", 1)[1])
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [offer["link"]]
    code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    dump = json.dumps([dict(r) for r in await query(env.node.db, "SELECT * FROM oid4vci_offers")])
    assert code not in dump and offer["txCode"] not in dump.replace(offer["id"], "")
    resp = await env.client.get(f"/issuers/default/offers/{offer['id']}", headers=env.auth)
    assert (await resp.json())["state"] == "offered"
    assert (await env.client.get("/issuers/default/offers/nope", headers=env.auth)).status == 404


# ------------------------------------------------------------------ token endpoint


async def test_the_token_endpoint_answers_oauth_errors(env: Any) -> None:
    offer = await make_offer(env, txCode=True)
    code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    url = "/issuers/default/oid4vci/token"
    cases: list[tuple[Any, dict[str, str], str]] = [
        (json.dumps({"grant_type": PRE_AUTH}), {"Content-Type": "application/json"}, "invalid_request"),
        ("pre-authorized_code=x", FORM, "invalid_request"),
        ("grant_type=authorization_code&code=x", FORM, "unsupported_grant_type"),
        (f"grant_type={PRE_AUTH}", FORM, "invalid_request"),
        (f"grant_type={PRE_AUTH}&pre-authorized_code=nope&tx_code=1", FORM, "invalid_grant"),
        (f"grant_type={PRE_AUTH}&pre-authorized_code={code}", FORM, "invalid_request"),  # tx_code missing
        (f"grant_type={PRE_AUTH}&pre-authorized_code={code}&pre-authorized_code={code}&tx_code=1", FORM, "invalid_request"),
        (f"grant_type={PRE_AUTH}&grant_type={PRE_AUTH}&pre-authorized_code=nope", FORM, "invalid_request"),
        # §6.1: unrecognized parameters are ignored, repeated or not (OWF's client adds resource).
        (f"grant_type={PRE_AUTH}&pre-authorized_code=nope&foo=1&foo=2&resource=a&resource=b", FORM, "invalid_grant"),
        (f"grant_type={PRE_AUTH}&pre-authorized_code={code}&tx_code=1&authorization_details=[]", FORM, "invalid_authorization_details"),
        (b"\xff\xfe", FORM, "invalid_request"),
    ]
    for data, headers, error in cases:
        resp = await env.client.post(url, data=data, headers=headers)
        body = await resp.json()
        assert resp.status == 400 and body["error"] == error, (data, body)
        assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Pragma"] == "no-cache"
    # Another issuer's endpoint does not know this issuer's codes.
    await env.node.issuers.create("physics")
    resp = await env.client.post("/issuers/physics/oid4vci/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": offer["txCode"]})
    assert (await resp.json())["error"] == "invalid_grant"
    plain = await make_offer(env)
    resp = await env.client.post(url, data={"grant_type": PRE_AUTH, "pre-authorized_code": plain["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"], "tx_code": "1"})
    assert (await resp.json())["error"] == "invalid_request"  # no transaction code was asked for
    # The right code still works: none of the refusals above used it up.
    assert (await token_for(env, offer, tx_code=offer["txCode"]))["token_type"] == "Bearer"


async def test_a_transaction_code_is_read_as_the_learner_meant_it(env: Any) -> None:
    """Text codes are capitals and digits, but a phone keyboard often starts in lower case and
    the offer cannot say so: "c6hmmdsm" for "C6HMMDSM", or a space pasted along, was a wrong
    code and spent one of five attempts. Case and surrounding whitespace are set aside first."""
    url = "/issuers/default/oid4vci/token"

    async def redeem(offer: dict[str, Any], typed: str) -> Any:
        code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
        resp = await env.client.post(url, data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": typed})
        return resp.status, await resp.json()

    async def failures(offer: dict[str, Any]) -> int:
        row = await query_one(env.node.db, "SELECT tx_failures FROM oid4vci_offers WHERE id = ?", (offer["id"],))
        return int(row["tx_failures"])

    text = await make_offer(env, txCode={"length": 8, "inputMode": "text"})
    assert text["credentialOffer"]["grants"][PRE_AUTH]["tx_code"]["input_mode"] == "text"
    status, body = await redeem(text, "  \t")
    assert (status, body["error"]) == (400, "invalid_request") and await failures(text) == 0  # blank: not an attempt
    status, body = await redeem(text, f" {text['txCode'].lower()}\n")
    assert status == 200 and body["token_type"] == "Bearer", body
    assert await failures(text) == 0
    numeric = await make_offer(env, txCode=True)
    status, body = await redeem(numeric, f"\t{numeric['txCode']} ")
    assert status == 200, body
    # A wrong code is still wrong, and counted.
    other = await make_offer(env, txCode={"length": 8, "inputMode": "text"})
    wrong = "AAAAAAAA" if other["txCode"] != "AAAAAAAA" else "BBBBBBBB"
    status, body = await redeem(other, wrong.lower())
    assert (status, body["error"]) == (400, "invalid_grant") and await failures(other) == 1


async def test_authorization_details_name_the_offers_credential_and_get_an_identifier(env: Any) -> None:
    """§6.1.1: a wallet may name the credential it wants in the pre-authorized token request
    (the EUDI wallet library does, with AccessTokenOption.Limited); it was invalid_authorization_details,
    so such wallets could not collect. §6.2: the token response then MUST carry authorization_details
    with credential_identifiers, and the wallet sends one as credential_identifier (§8.2)."""
    url = "/issuers/default/oid4vci/token"
    base = env.config.effective_base_url
    wallet = Wallet()
    offer = await make_offer(env, txCode=True)
    code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": offer["txCode"]}
    entry = {"type": "openid_credential", "credential_configuration_id": "ds-101"}
    other = dict(ACHIEVEMENT, slug="ds-102")
    assert (await env.client.post("/issuers/default/achievements", json=other, headers=env.auth)).status == 201
    refused = [
        [{**entry, "credential_configuration_id": "ds-102"}],  # the issuer's, but not this offer's
        [entry, {**entry, "credential_configuration_id": "ds-102"}],
        [entry, entry],
        [{**entry, "type": "payment_initiation"}],
        [{"type": "openid_credential", "format": "ldp_vc"}],  # the drafts' way, by format
        [{**entry, "claims": [{"path": ["credentialSubject", "name"]}]}],
        [{**entry, "locations": ["https://other.example.org"]}],
        entry,
        [],
        "[{",
        [[[[[[[[[[entry]]]]]]]]]],
    ]
    for details in refused:
        text = details if isinstance(details, str) else json.dumps(details)
        resp = await env.client.post(url, data={**form, "authorization_details": text})
        body = await resp.json()
        assert (resp.status, body["error"]) == (400, "invalid_authorization_details"), (details, body)
    row = await query_one(env.node.db, "SELECT redeemed, tx_failures FROM oid4vci_offers WHERE id = ?", (offer["id"],))
    assert row["redeemed"] is None and row["tx_failures"] == 0  # none of those used the code or an attempt
    # Unknown members are ignored (§5.1.1); locations naming this issuer, as the EUDI library
    # sends when the issuer is its own authorization server, is fine.
    granted = await token_for(env, offer, tx_code=offer["txCode"],
                              authorization_details=json.dumps([{**entry, "locations": [base], "x-note": 1}]))
    assert granted["authorization_details"] == [
        {"type": "openid_credential", "credential_configuration_id": "ds-101", "locations": [base], "credential_identifiers": [offer["id"]]}
    ]
    (identifier,) = granted["authorization_details"][0]["credential_identifiers"]
    access = granted["access_token"]
    proof = {"jwt": [wallet.proof(base, await nonce(env))]}
    for request, error in (
        ({"credential_identifier": identifier, "credential_configuration_id": "ds-101", "proofs": proof}, "invalid_credential_request"),
        ({"credential_identifier": "ds-101", "proofs": proof}, "unknown_credential_identifier"),
        ({"credential_identifier": 7, "proofs": proof}, "unknown_credential_identifier"),
    ):
        status, body, _ = await credential(env, access, request)
        assert (status, body["error"]) == (400, error), (request, body)
    status, body, _ = await credential(env, access, {"credential_identifier": identifier, "proofs": proof})
    assert status == 200 and body["credentials"][0]["credential"]["credentialSubject"]["id"] == wallet.did, body
    # Another token's identifier is unknown to this one.
    second = await make_offer(env)
    access = (await token_for(env, second, authorization_details=json.dumps([entry])))["access_token"]
    status, body, _ = await credential(env, access, {"credential_identifier": identifier,
                                                     "proofs": {"jwt": [wallet.proof(base, await nonce(env))]}})
    assert (status, body["error"]) == (400, "unknown_credential_identifier"), body
    # The EUDI library form-encodes the JSON itself before its HTTP client encodes the form.
    third = await make_offer(env)
    twice = quote_plus(json.dumps([{**entry, "locations": [base]}], separators=(",", ":")))
    granted = await token_for(env, third, authorization_details=twice)
    assert granted["authorization_details"][0]["credential_identifiers"] == [third["id"]]


async def test_the_credential_is_named_as_the_token_response_said_and_not_the_other_way(env: Any) -> None:
    """§8.2: credential_identifier "MUST NOT be used" unless the token response returned
    authorization_details: with a token whose response named none it is now
    invalid_credential_request saying what to send, before the nonce is spent or anything issued.
    credential_configuration_id after credential_identifiers is taken (the JS wallet clients send
    nothing else), when it names the token's own configuration."""
    base = env.config.effective_base_url
    wallet = Wallet()
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "ds-101"}])
    plain, named = await make_offer(env), await make_offer(env)
    plain_access = (await token_for(env, plain))["access_token"]
    named_access = (await token_for(env, named, authorization_details=details))["access_token"]
    before = await counts(env)
    proof = {"jwt": [wallet.proof(base, await nonce(env))]}
    for access, request, told in (
        (plain_access, {"credential_identifier": plain["id"]}, "credential_identifier must not be used: send credential_configuration_id 'ds-101'"),
        (named_access, {}, f"send credential_identifier '{named['id']}'"),
        (plain_access, {}, "send credential_configuration_id 'ds-101'"),
        (plain_access, {"credential_identifier": plain["id"], "credential_configuration_id": "ds-101"}, "send credential_configuration_id 'ds-101', not both"),
        (named_access, {"credential_identifier": named["id"], "credential_configuration_id": "ds-101"}, f"send credential_identifier '{named['id']}'"),
    ):
        status, body, _ = await credential(env, access, {**request, "proofs": proof})
        assert (status, body["error"]) == (400, "invalid_credential_request"), (request, body)
        assert told in body["error_description"], body
    assert await counts(env) == before
    # Named as its token response said, each is issued; the first with the nonce none of those spent.
    status, body, _ = await credential(env, plain_access, {"credential_configuration_id": "ds-101", "proofs": proof})
    assert status == 200, body
    status, body, _ = await credential(env, named_access, {"credential_identifier": named["id"], "proofs": {"jwt": [wallet.proof(base, await nonce(env))]}})
    assert status == 200, body
    # Given credential_identifiers, a wallet asking by the token's configuration is served too;
    # by another configuration it is not.
    other = await make_offer(env)
    other_access = (await token_for(env, other, authorization_details=details))["access_token"]
    status, body, _ = await credential(env, other_access, {"credential_configuration_id": "no-such", "proofs": {"jwt": [wallet.proof(base, await nonce(env))]}})
    assert (status, body["error"]) == (400, "unknown_credential_configuration"), body
    status, body, _ = await credential(env, other_access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(base, await nonce(env))]}})
    assert status == 200, body


async def test_a_token_redeemed_before_its_response_was_recorded_takes_either_name(env: Any) -> None:
    """A token redeemed before oid4vci.0003, or by an older vcnode during a rolling upgrade, has
    identifiers_granted NULL (tests/node/test_store.py). The node that gave it took either name,
    so either still works: the upgrade refuses no wallet halfway through a collection."""
    base = env.config.effective_base_url
    wallet = Wallet()
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": "ds-101"}])
    for form in ({}, {"authorization_details": details}):
        for name in ("credential_configuration_id", "credential_identifier"):
            offer = await make_offer(env)
            access = (await token_for(env, offer, **form))["access_token"]
            async with env.node.db.transaction() as tx:  # as oid4vci.0003 leaves a token redeemed before it
                await tx.execute("UPDATE oid4vci_offers SET identifiers_granted = NULL WHERE id = ?", (offer["id"],))
            value = "ds-101" if name == "credential_configuration_id" else offer["id"]
            status, body, _ = await credential(env, access, {name: value, "proofs": {"jwt": [wallet.proof(base, await nonce(env))]}})
            assert status == 200, (form, name, body)


async def test_a_code_and_an_offer_are_used_once_across_processes(env: Any, tmp_path: Path) -> None:
    """Two handles on one store stand for two processes (or replicas): exactly one of two
    simultaneous redemptions wins, and one of two simultaneous credential requests."""
    other_db = await env.stores.open()
    env.stores.handles.remove(other_db)  # closed below
    try:
        other = compose(env.config, db=other_db, master_key=env.node.issuers.master_key, clock=env.clock)
        offer = await make_offer(env)
        form = {"grant_type": [PRE_AUTH], "pre-authorized_code": [offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]]}
        results = await asyncio.gather(
            env.node.oid4vci.exchange("default", form), other.oid4vci.exchange("default", form), return_exceptions=True
        )
        tokens = [r for r in results if isinstance(r, dict)]
        assert len(tokens) == 1 and [r.error for r in results if isinstance(r, OAuthError)] == ["invalid_grant"]
        access = tokens[0]["access_token"]
        audience = env.config.effective_base_url
        wallet = Wallet("p256")
        requests = [
            {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}} for _ in range(2)
        ]
        before = await counts(env)
        results = await asyncio.gather(
            env.node.oid4vci.issue_credential("default", f"Bearer {access}", requests[0]),
            other.oid4vci.issue_credential("default", f"Bearer {access}", requests[1]),
            return_exceptions=True,
        )
        issued = [r for r in results if isinstance(r, dict)]
        assert len(issued) == 1 and [r.error for r in results if isinstance(r, OAuthError)] == ["credential_request_denied"], results
        assert issued[0]["credentials"][0]["credential"]["credentialSubject"]["id"] == wallet.did
        after = await counts(env)
        assert after[:2] == (before[0] + 1, before[1] + 1)
        # Issued: the award's personal data is gone from the offer.
        row = await query_one(env.node.db, "SELECT request, credential_id FROM oid4vci_offers WHERE id = ?", (offer["id"],))
        assert row["request"] is None and row["credential_id"] == issued[0]["credentials"][0]["credential"]["id"]
    finally:
        await other_db.close()


# ------------------------------------------------------------------ credential endpoint


async def test_the_credential_endpoint_refuses_with_the_specs_errors_and_issues_nothing(env: Any) -> None:
    offer = await make_offer(env)
    access = (await token_for(env, offer))["access_token"]
    audience = env.config.effective_base_url
    wallet = Wallet()
    before = await counts(env)

    status, body, resp = await credential(env, None, {})
    assert status == 401 and body["error"] == "invalid_token" and resp.headers["WWW-Authenticate"].startswith("Bearer")
    status, body, _ = await credential(env, "not-a-token", {})
    assert status == 401 and body["error"] == "invalid_token"
    status, body, _ = await credential(env, access, None, raw=b"{")
    assert status == 400 and body["error"] == "invalid_credential_request"

    n = await nonce(env)
    good = wallet.proof(audience, n)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"proofs": {"jwt": [good]}}, 400, "invalid_credential_request"),
        ({"credential_configuration_id": "other", "proofs": {"jwt": [good]}}, 400, "unknown_credential_configuration"),
        # This token's response named no credential_identifiers: §8.2 forbids the parameter.
        ({"credential_identifier": "x", "proofs": {"jwt": [good]}}, 400, "invalid_credential_request"),
        ({"credential_configuration_id": "ds-101"}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"di_vp": [{}]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [good, good]}}, 400, "invalid_credential_request"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [good]}, "credential_response_encryption": {"jwk": {}, "enc": "A256GCM"}}, 400, "invalid_encryption_parameters"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": ["a.b.c"]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, n, header={"alg": "EdDSA", "typ": "JWT", "kid": wallet.did + "#0"})]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, n, header={"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "jwk": wallet.key.as_dict(private=True)})]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, n, header={"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": "did:web:example.org#key-1"})]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, n, iat=int(time.time()) + 3600)]}}, 400, "invalid_proof"),
        ({"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, "never-handed-out")]}}, 400, "invalid_nonce"),
    ]
    for request, status, error in cases:
        got_status, body, _ = await credential(env, access, request)
        assert (got_status, body["error"]) == (status, error), (request, body)
    # A configuration the issuer has, but not this token's: insufficient_scope.
    other = dict(ACHIEVEMENT, slug="ds-102")
    assert (await env.client.post("/issuers/default/achievements", json=other, headers=env.auth)).status == 201
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-102", "proofs": {"jwt": [good]}})
    assert status == 403 and body["error"] == "insufficient_scope"
    assert await counts(env) == before
    # The nonce none of those spent still works; then the offer is done.
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [good]}})
    assert status == 200, body
    status, again, _ = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}})
    assert status == 400 and again["error"] == "credential_request_denied"
    # Notifications: only for what this token issued.
    url = "/issuers/default/oid4vci/notification"
    headers = {"Authorization": f"Bearer {access}"}
    resp = await env.client.post(url, json={"notification_id": "nope", "event": "credential_accepted"}, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_notification_id"
    resp = await env.client.post(url, json={"notification_id": body["notification_id"], "event": "kept"}, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_notification_request"
    resp = await env.client.post(url, json={"notification_id": body["notification_id"], "event": "credential_deleted"}, headers=headers)
    assert resp.status == 204
    # The token expires.
    env.clock.offset = timedelta(seconds=env.config.oid4vci_token_ttl_seconds + 1)
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101"})
    assert status == 401 and "expired" in body["error_description"]


async def test_a_refusal_to_issue_is_credential_request_denied_never_a_problem(env: Any, monkeypatch: Any) -> None:
    """§8.3.1.2: "if the request is denied, the specific error codes from this section MUST be
    used", 400 in application/json. The award's idempotency key taken meanwhile by a credential
    with other content (or the issuer's key retired while signing) was a 409 problem+json, which
    no wallet reads; a genuine failure of the node stays a 500."""
    audience = env.config.effective_base_url
    wallet = Wallet()
    offer = await make_offer(env, idempotencyKey="k-2")
    access = (await token_for(env, offer))["access_token"]
    # The operator issues under the same key, to someone else, before the wallet collects.
    direct = {**AWARD, "learner": {**AWARD["learner"], "id": "did:example:someone-else"}, "idempotencyKey": "k-2"}
    assert (await env.client.post("/issuers/default/microcredentials", json=direct, headers=env.auth)).status == 201
    before = await counts(env)
    request = {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}}
    status, body, resp = await credential(env, access, request)
    assert (status, body["error"]) == (400, "credential_request_denied"), body
    assert resp.content_type == "application/json" and resp.headers["Cache-Control"] == "no-store"
    assert "urn:" not in body["error_description"]  # the other credential is not named to this wallet
    assert await counts(env) == before
    state = await (await env.client.get(f"/issuers/default/offers/{offer['id']}", headers=env.auth)).json()
    assert state["state"] == "redeemed"

    async def refuses(error: Exception) -> Any:
        async def issue(*args: Any, **kwargs: Any) -> Any:
            raise error
        monkeypatch.setattr(env.node.achievements, "issue", issue)

    access = (await token_for(env, await make_offer(env)))["access_token"]
    await refuses(RetiredKeyError("issuer 'default''s key k was retired on 2025-01-01; it signs nothing any more"))
    request = {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}}
    status, body, _ = await credential(env, access, request)
    assert (status, body["error"]) == (400, "credential_request_denied"), body
    # A bug stays a bug: not dressed up as the wallet's fault (the middleware makes it a 500).
    await refuses(RuntimeError("boom"))
    request = {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}}
    with pytest.raises(RuntimeError):
        await env.node.oid4vci.issue_credential("default", f"Bearer {access}", request)
    # Either way the offer was given back, so the operator's fix can still be collected.
    monkeypatch.undo()
    request = {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, await nonce(env))]}}
    status, body, _ = await credential(env, access, request)
    assert status == 200, body


async def test_a_wallet_in_a_browser_may_call_the_wallet_endpoints_from_its_own_origin(env: Any) -> None:
    """A web wallet (or a wallet app's web view) fetches from its own origin: without CORS the
    browser hid every answer of the token, nonce, credential and notification endpoints from it.
    They take no cookie: what authenticates is sent by the wallet itself."""
    origin = {"Origin": "https://wallet.example"}
    for endpoint in ("token", "nonce", "credential", "notification"):
        path = f"/issuers/default/oid4vci/{endpoint}"
        resp = await env.client.options(path, headers={**origin, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "authorization, content-type"})
        assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*", path
        assert {"Authorization", "Content-Type", "DPoP"} <= set(resp.headers["Access-Control-Allow-Headers"].split(", ")), path
    resp = await env.client.post("/issuers/default/oid4vci/nonce", headers=origin)
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await env.client.post("/issuers/default/oid4vci/credential", json={}, headers=origin)
    assert resp.status == 401 and resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in resp.headers["Access-Control-Expose-Headers"].split(", ")
    # The operator's own offer route stays same-origin.
    resp = await env.client.post("/issuers/default/offers", json={}, headers={**origin, **env.auth})
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_what_a_qa_sweep_of_the_wallet_endpoints_found(env: Any) -> None:
    audience = env.config.effective_base_url
    wallet = Wallet()
    # RFC 6750 §3.1: a request with no authentication, or with a scheme this issuer does not
    # use, gets the bare challenge; a token that fails gets the error in it.
    for headers in ({}, {"Authorization": "DPoP abc"}):
        resp = await env.client.post("/issuers/default/oid4vci/credential", json={}, headers=headers)
        assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer", headers
        assert (await resp.json())["error"] == "invalid_token"
    status, _, resp = await credential(env, "not-a-token", {})
    assert status == 401 and resp.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # A c_nonce is good only at the issuer whose nonce endpoint gave it (Appendix F.4).
    await env.node.issuers.create("physics")
    physics_nonce = (await (await env.client.post("/issuers/physics/oid4vci/nonce")).json())["c_nonce"]
    access = (await token_for(env, await make_offer(env)))["access_token"]
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [wallet.proof(audience, physics_nonce)]}})
    assert (status, body["error"]) == (400, "invalid_nonce"), body
    # RFC 7515 §4.1.9: typ is a media type, case-insensitive, "application/" implied when it has no '/'.
    for typ in ("application/openid4vci-proof+jwt", "OpenID4VCI-Proof+JWT"):
        header = {"alg": "EdDSA", "typ": typ, "kid": wallet.did + "#0"}
        status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101",
                                                         "proofs": {"jwt": [wallet.proof(audience, await nonce(env), header=header)]}})
        assert status == 200, (typ, body)
        access = (await token_for(env, await make_offer(env)))["access_token"]
    header = {"alg": "EdDSA", "typ": "application/jwt", "kid": wallet.did + "#0"}
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101",
                                                     "proofs": {"jwt": [wallet.proof(audience, await nonce(env), header=header)]}})
    assert (status, body["error"]) == (400, "invalid_proof")


async def test_a_key_proof_is_parsed_with_bounds_and_its_times_are_numbers(env: Any) -> None:
    """A proof's payload nested 3000 deep was a RecursionError, a 500 (Python's parser recurses);
    ``"iat": NaN`` passed the freshness check (NaN compares false with every bound). The header,
    payload and a did:jwk are parsed with the bounds request bodies have; iat, exp and nbf must
    be finite numbers (RFC 7519 NumericDate). All are invalid_proof, and none spends the nonce."""
    audience = env.config.effective_base_url
    wallet = Wallet()
    access = (await token_for(env, await make_offer(env)))["access_token"]
    n = await nonce(env)
    fresh = int(time.time())
    claims = f'"aud": {json.dumps(audience)}, "nonce": {json.dumps(n)}'
    deep = "[" * 3000 + "]" * 3000
    kid = wallet.did + "#0"
    deep_jwk = "did:jwk:" + base64.urlsafe_b64encode(deep.encode()).rstrip(b"=").decode() + "#0"
    proofs = {
        "deep payload": wallet.signed(f'{{{claims}, "iat": {fresh}, "x": {deep}}}'),
        "deep header": wallet.signed(f'{{{claims}, "iat": {fresh}}}', header=f'{{"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": "{kid}", "x": {deep}}}'),
        "deep did:jwk": wallet.proof(audience, n, header={"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "kid": deep_jwk}),
        "iat NaN": wallet.signed(f'{{{claims}, "iat": NaN}}'),
        "iat Infinity": wallet.signed(f'{{{claims}, "iat": Infinity}}'),
        "iat true": wallet.signed(f'{{{claims}, "iat": true}}'),
        "exp NaN": wallet.signed(f'{{{claims}, "iat": {fresh}, "exp": NaN}}'),
        "exp a string": wallet.proof(audience, n, exp=str(fresh + 60)),
        "exp false": wallet.proof(audience, n, exp=False),
        "nbf a string": wallet.proof(audience, n, nbf="now"),
        "nbf in an hour": wallet.proof(audience, n, nbf=fresh + 3600),
    }
    before = await counts(env)
    for what, proof in proofs.items():
        assert len(proof) < 16 * 1024, what
        status, body, resp = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [proof]}})
        assert (status, body.get("error")) == (400, "invalid_proof"), (what, body)
        assert resp.content_type == "application/json", what
    assert await counts(env) == before
    # Well-formed times are accepted, with the nonce none of those spent.
    ok = wallet.proof(audience, n, exp=fresh + 60, nbf=fresh - 1)
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [ok]}})
    assert status == 200, body


def test_a_bearer_access_token_lives_at_most_five_minutes(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    """§13.10: access tokens longer than 5 minutes are long-lived and MUST NOT be issued unless
    sender-constrained; the node's are bearer tokens. Up to 30 days was accepted."""
    assert Config().replace(oid4vci_token_ttl_seconds=300).oid4vci_token_ttl_seconds == 300
    for value in (301, 2592000):
        with pytest.raises(ConfigError, match="§13.10") as refused:
            load_config(env={"VCNODE_OID4VCI_TOKEN_TTL_SECONDS": str(value)}, config_file=None)
        assert "oid4vci_token_ttl_seconds" in str(refused.value) and "bearer" in str(refused.value)
    # vcnode serve reads the same configuration, so it refuses to start, saying why.
    monkeypatch.setenv("VCNODE_OID4VCI_TOKEN_TTL_SECONDS", "3600")
    assert main(["serve", "--data", str(tmp_path / "data")]) == 2
    assert "§13.10" in capsys.readouterr().err and not (tmp_path / "data").exists()


# ------------------------------------------------------------------ the CLI


def test_vcnode_offer_create_prints_the_link_and_writes_the_qr_code(tmp_path: Path, capsys: Any) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    where = ["--data", str(tmp_path / "data"), "--base-url", "https://registry.example.edu"]
    assert main(["init", *where]) == 0  # only init and serve make a node of a folder
    (tmp_path / "ach.json").write_text(json.dumps(ACHIEVEMENT))
    assert main(["achievement", "create", str(tmp_path / "ach.json"), *where]) == 0
    capsys.readouterr()
    qr = tmp_path / "ana.png"
    code = main(["offer", "create", "ds-101", "--learner-name", "Ana Lima", "--learner-email", "ana@example.org",
                 "--tx-code", "--tx-code-description", "Código por SMS", "--qr", str(qr), *where])
    out = capsys.readouterr()
    assert code == 0, out.err
    link = out.out.strip()
    assert link.startswith("openid-credential-offer://?credential_offer=") and "transaction code" in out.err
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(qr))] == [link]
    assert main(["offer", "create", "ds-101", "--learner-name", "", *where]) == 2
    assert "(a)" in capsys.readouterr().err
    # A node on plain http (not local, not allowed): no offer, and the operator is told why.
    plain = ["--data", str(tmp_path / "plain"), "--base-url", "http://credentials.example.org"]
    assert main(["init", *plain]) == 0
    assert main(["achievement", "create", str(tmp_path / "ach.json"), *plain]) == 0
    capsys.readouterr()
    assert main(["offer", "create", "ds-101", "--learner-name", "Ana Lima", *plain]) == 1
    out = capsys.readouterr()
    assert out.out == "" and "§12.2.1" in out.err and "https scheme" in out.err, out.err
    # issue-batch --offers: one offer per row, its link on a JSON line; an id column is refused.
    csv_file = tmp_path / "learners.csv"
    csv_file.write_text("name,email,id\nBo,bo@example.org,\nCy,,did:example:cy\n")
    folder = tmp_path / "offers"
    code = main(["issue-batch", "ds-101", str(csv_file), "--offers", "--out", str(folder), *where])
    err = capsys.readouterr().err
    assert code == 1 and "line 3" in err and "offered 1, refused 1 of 2 rows" in err
    (line,) = [json.loads(x) for x in (folder / "offers.jsonl").read_text().splitlines()]
    assert line["line"] == 2 and line["name"] == "Bo" and line["link"].startswith("openid-credential-offer://")
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(line["qr"]))] == [line["link"]]
    assert main(["offer", "show", line["offerId"], *where]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "offered"
    # The same file again: Bo's row key is held by the offer just made, and the run says so.
    code = main(["issue-batch", "ds-101", str(csv_file), "--offers", "--out", str(tmp_path / "again"), *where])
    err = capsys.readouterr().err
    assert code == 1 and f"line 2: already offered: idempotency key" in err and line["offerId"] in err, err


def test_an_error_description_spells_out_the_section_sign_rather_than_mangling_it() -> None:
    """RFC 6749 §5.2 allows printable ASCII only (no quote, no backslash); the messages cite
    sections with "§", which reached wallets as "('8.2)"."""
    error = OAuthError("invalid_credential_request", 'send one, not both (§8.2) — "quoted" \\ …')
    assert error.description == "send one, not both (section 8.2) - 'quoted' ' ..."
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in error.description)


async def test_an_authorization_details_entry_without_type_is_told_it_needs_one(env: Any) -> None:
    """Python's openid4vci models drop "type" when serialising; the refusal said "not None"."""
    offer = await make_offer(env)
    code = offer["credentialOffer"]["grants"][PRE_AUTH]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": code,
            "authorization_details": json.dumps([{"credential_configuration_id": "ds-101"}])}
    resp = await env.client.post("/issuers/default/oid4vci/token", data=form)
    body = await resp.json()
    assert (resp.status, body["error"]) == (400, "invalid_authorization_details"), body
    assert "needs 'type': 'openid_credential'" in body["error_description"], body


async def test_a_proof_signed_with_rfc_9864s_ed25519_name_is_accepted(env: Any) -> None:
    """RFC 9864 deprecates "EdDSA" for the fully-specified "Ed25519"; a wallet that signs with the
    new name (the second wallet sweep's case) was refused. A P-256 key cannot sign as it."""
    base = env.config.effective_base_url
    wallet = Wallet()
    access = (await token_for(env, await make_offer(env)))["access_token"]
    header = {"alg": "Ed25519", "typ": "openid4vci-proof+jwt", "kid": wallet.did + "#0"}
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101",
                                                     "proofs": {"jwt": [wallet.proof(base, await nonce(env), header=header)]}})
    assert status == 200 and body["credentials"][0]["credential"]["credentialSubject"]["id"] == wallet.did, body
    p256 = Wallet("p256")
    access = (await token_for(env, await make_offer(env)))["access_token"]
    forged = p256.signed(json.dumps({"aud": base, "iat": int(time.time()), "nonce": await nonce(env)}),
                         header=json.dumps({"alg": "Ed25519", "typ": "openid4vci-proof+jwt", "kid": p256.did + "#0"}))
    status, body, _ = await credential(env, access, {"credential_configuration_id": "ds-101", "proofs": {"jwt": [forged]}})
    assert (status, body["error"]) == (400, "invalid_proof"), body
