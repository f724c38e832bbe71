"""StatusChecker through real HTTP: aiohttp_server + did.http.GuardedHTTP on 127.0.0.1."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from aiohttp import web

from did.http import GuardedHTTP, create_guarded_session
from status_fakes import world  # noqa: F401  (the `world` fixture)


@pytest.fixture
async def served(aiohttp_server, world):
    """A tiny issuer: GET /status/{n} returns whatever world.http holds for that URL."""
    state: dict[str, object] = {"base": None, "cache_control": "max-age=60", "hits": 0}

    async def handler(request: web.Request) -> web.Response:
        state["hits"] += 1
        url = f"{state['base']}{request.path}"
        if url not in world.http.documents:
            return web.json_response({"error": "no such list"}, status=404)
        document, _ = world.http.documents[url]
        return web.json_response(document, headers={"Cache-Control": state["cache_control"]})

    app = web.Application()
    app.router.add_get("/status/{n}", handler)
    server = await aiohttp_server(app)
    host = f"127.0.0.1:{server.port}"
    state["base"] = f"http://{host}"
    session = create_guarded_session(allowed_insecure_hosts=[host])
    http = GuardedHTTP(session, allowed_insecure_hosts=[host], timeout=2.0)
    try:
        yield state, http
    finally:
        await session.close()


async def test_revocation_is_seen_over_http_once_max_age_passes(world, served):
    state, http = served
    url = f"{state['base']}/status/1"
    world.publish(url=url)
    checker = world.checker()
    checker.http = http  # the real guarded client instead of the fake
    cred = world.credential(world.entry(77, url=url))
    assert (await checker(cred))[0].outcome == "passed"
    world.publish(url=url, set_bits={77: 1})  # the issuer revokes and republishes
    world.clock.advance(seconds=30)
    assert (await checker(cred))[0].outcome == "passed"  # Cache-Control: max-age=60 holds
    world.clock.advance(seconds=31)
    check = (await checker(cred))[0]
    assert check.outcome == "failed" and "revoked by its issuer" in check.message
    assert state["hits"] == 2


async def test_no_store_means_every_check_fetches(world, served):
    state, http = served
    state["cache_control"] = "no-store"
    url = f"{state['base']}/status/2"
    world.publish(url=url, purpose="suspension")
    checker = world.checker(max_staleness=timedelta(hours=1))
    checker.http = http
    cred = world.credential(world.entry(5, "suspension", url=url))
    assert (await checker(cred))[0].outcome == "passed"
    world.publish(url=url, purpose="suspension", set_bits={5: 1})
    assert (await checker(cred))[0].outcome == "failed"
    world.publish(url=url, purpose="suspension")  # unsuspended
    assert (await checker(cred))[0].outcome == "passed"
    assert state["hits"] == 3


async def test_http_errors_and_caps_are_unknown(world, served):
    state, http = served
    checker = world.checker()
    checker.http = http
    missing = (await checker(world.credential(world.entry(1, url=f"{state['base']}/status/404"))))[0]
    assert (missing.outcome, missing.problem.code) == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert "HTTP 404" in missing.message
    url = f"{state['base']}/status/3"
    world.publish(url=url, set_bits={i: 1 for i in random.Random(1).sample(range(131_072), 5000)})
    small = world.checker(max_list_bytes=1024)
    small.http = http
    too_big = (await small(world.credential(world.entry(1, url=url))))[0]
    assert (too_big.outcome, too_big.problem.code) == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert "limit" in too_big.message


async def test_guard_refuses_hosts_not_allowed(world, served):
    _, http = served
    checker = world.checker()
    checker.http = http
    url = "http://127.0.0.2:9/status/1"  # not in the allow set: plain HTTP refused
    check = (await checker(world.credential(world.entry(1, url=url))))[0]
    assert (check.outcome, check.problem.code) == ("unknown", "STATUS_RETRIEVAL_ERROR")
    assert "HTTPS is required" in check.message


async def test_real_signatures_over_real_http_revoke_suspend_unsuspend(world, served):
    """Issue with two entries, then revoke / suspend / unsuspend; each change is seen next check."""
    from did.key import DIDKeyResolver, did_key_from_public_key
    from did.resolver import Resolver
    from status.bitstring import Bitstring
    from status.check import StatusChecker
    from status.credential import issue_status_list_credential, status_list_entry
    from vc.credentials import issue_credential, verify_credential
    from vc.crypto import Ed25519KeyPair
    from vc.cryptosuites import SUITES
    from vc.loader import default_loader

    state, http = served
    state["cache_control"] = "no-cache"
    loader, resolver = default_loader(), Resolver({"key": DIDKeyResolver()})
    key = Ed25519KeyPair.from_seed(bytes(range(1, 33)))
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{did.split(':')[-1]}"
    lists = {p: (f"{state['base']}/status/{p}", Bitstring(131_072)) for p in ("revocation", "suspension")}

    def publish(purpose: str) -> None:
        url, bits = lists[purpose]
        signed = issue_status_list_credential(
            list_url=url, issuer=did, purpose=purpose, bitstring=bits,
            key=key, verification_method=vm, now=world.clock(), loader=loader,
        )
        world.http.serve(url, signed)  # the aiohttp handler serves what world.http holds

    for purpose in lists:
        publish(purpose)
    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:student"},
            "credentialStatus": [
                status_list_entry(list_url=lists["revocation"][0], index=31_337, purpose="revocation"),
                status_list_entry(list_url=lists["suspension"][0], index=4_096, purpose="suspension"),
            ],
        },
        key=key, verification_method=vm, suite=SUITES["eddsa-rdfc-2022"], loader=loader, now=world.clock(),
    )
    checker = StatusChecker(http, resolver, loader, world.clock)

    async def statuses() -> tuple[bool, list[str]]:
        result = await verify_credential(credential, resolver=resolver, loader=loader, now=world.clock(), check_status=checker)
        return result.verified, [c.outcome for c in result.checks if c.name == "status"]

    assert await statuses() == (True, ["passed", "passed"])
    lists["suspension"][1].set(4_096, 1)
    publish("suspension")
    assert await statuses() == (False, ["passed", "failed"])
    lists["suspension"][1].set(4_096, 0)
    publish("suspension")
    assert await statuses() == (True, ["passed", "passed"])
    lists["revocation"][1].set(31_337, 1)
    publish("revocation")
    assert await statuses() == (False, ["failed", "passed"])
