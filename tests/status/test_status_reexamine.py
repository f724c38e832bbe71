"""A status list fetched again that is exactly the document verified before is not verified
again (issue 13: a node verifying against lists served without a ttl, its own above all,
re-checked the list's proof on every verification), within the checker's max_staleness; a
changed list, or one past that bound, is."""

from __future__ import annotations

from datetime import timedelta

from status_fakes import world  # noqa: F401  (the `world` fixture)


async def test_the_same_list_fetched_again_is_not_verified_again_but_a_changed_one_is(world):
    world.publish()
    url = next(iter(world.http.documents))
    world.http.serve(url, world.http.documents[url][0], max_age=0)  # served no-cache
    checker = world.checker(max_staleness=timedelta(minutes=5))
    cred = world.credential(world.entry(3))
    for _ in range(3):  # no-cache: fetched every time, verified once
        assert (await checker(cred))[0].outcome == "passed"
    assert len(world.http.calls) == 3 and world.verifier.calls == 1
    world.publish(set_bits={3: 1})  # the issuer revokes: another document, verified, seen at once
    world.http.serve(url, world.http.documents[url][0], max_age=0)
    check = (await checker(cred))[0]
    assert check.outcome == "failed" and "revoked" in check.message
    assert world.verifier.calls == 2


async def test_a_list_is_verified_again_once_max_staleness_has_passed(world):
    world.publish()
    url = next(iter(world.http.documents))
    world.http.serve(url, world.http.documents[url][0], max_age=0)
    checker = world.checker(max_staleness=timedelta(minutes=5))
    cred = world.credential(world.entry(3))
    assert (await checker(cred))[0].outcome == "passed"
    world.clock.advance(minutes=4)
    assert (await checker(cred))[0].outcome == "passed"
    assert world.verifier.calls == 1
    world.clock.advance(minutes=2)  # examined 6 minutes ago: the proof is checked again
    assert (await checker(cred))[0].outcome == "passed"
    assert world.verifier.calls == 2


async def test_a_list_that_failed_is_examined_again_every_time(world):
    world.publish()
    url = next(iter(world.http.documents))
    document = dict(world.http.documents[url][0])
    document["proof"] = {"digest": "forged"}
    world.http.serve(url, document, max_age=0)
    checker = world.checker()
    cred = world.credential(world.entry(3))
    for _ in range(2):
        assert (await checker(cred))[0].outcome == "unknown"
    assert world.verifier.calls == 2
