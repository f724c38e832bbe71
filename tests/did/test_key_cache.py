"""The did:key caches: DIDKeyResolver's document LRU and Resolver's verification method memo.

Both exist for speed only (bench/README.md): they must be bounded, give exactly what an uncached
resolution gives, keep no failures, and hand every caller objects of its own.
"""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from did.errors import DIDError, InvalidDID, NotFound
from did.key import DIDKeyResolver, did_key_document, did_key_from_public_key
from did.resolver import ResolutionResult, Resolver, StaticResolver, VerificationMethod

KEY_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
KEY_VM = KEY_DID + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def _dids(count: int) -> list[str]:
    # valid Ed25519 points: the public keys of seeds 1..count
    from vc.crypto import Ed25519KeyPair

    return [did_key_from_public_key(Ed25519KeyPair.from_seed(bytes([i]) * 32).public_key) for i in range(1, count + 1)]


def _vm_url(did: str) -> str:
    return f"{did}#{did.removeprefix('did:key:')}"


# --- DIDKeyResolver ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [None, {"publicKeyFormat": "Ed25519VerificationKey2020"}, {"publicKeyFormat": "JsonWebKey2020"},
     {"enableEncryptionKeyDerivation": True},
     {"publicKeyFormat": "Ed25519VerificationKey2018", "enableExperimentalPublicKeyTypes": True}],
)
def test_cached_documents_equal_freshly_built_ones(options: Mapping[str, Any] | None) -> None:
    resolver = DIDKeyResolver()
    opts = {"publicKeyFormat": "Multikey", "enableExperimentalPublicKeyTypes": False,
            "enableEncryptionKeyDerivation": None, **(options or {})}
    expected = did_key_document(
        KEY_DID,
        public_key_format=opts["publicKeyFormat"],
        enable_experimental_public_key_types=opts["enableExperimentalPublicKeyTypes"],
        enable_encryption_key_derivation=opts["enableEncryptionKeyDerivation"],
    )
    first, second = resolver.document(KEY_DID, options), resolver.document(KEY_DID, options)
    assert first == second == expected
    assert resolver.cache_info().hits == 1


def test_different_options_are_different_entries() -> None:
    resolver = DIDKeyResolver()
    multikey = resolver.document(KEY_DID)
    ed2020 = resolver.document(KEY_DID, {"publicKeyFormat": "Ed25519VerificationKey2020"})
    assert multikey["verificationMethod"][0]["type"] == "Multikey"
    assert ed2020["verificationMethod"][0]["type"] == "Ed25519VerificationKey2020"
    assert resolver.document(KEY_DID)["verificationMethod"][0]["type"] == "Multikey"
    assert resolver.cache_info().currsize == 2


def test_each_caller_gets_its_own_document() -> None:
    resolver = DIDKeyResolver()
    first = resolver.document(KEY_DID)
    first["verificationMethod"][0]["publicKeyMultibase"] = "tampered"
    first["assertionMethod"].clear()
    again = resolver.document(KEY_DID)
    assert again == did_key_document(KEY_DID)
    assert again["verificationMethod"] is not first["verificationMethod"]


def test_the_document_cache_is_bounded_and_least_recently_used() -> None:
    resolver = DIDKeyResolver(cache_size=2)
    a, b, c = _dids(3)
    resolver.document(a)
    resolver.document(b)
    resolver.document(a)  # a is now the most recent
    resolver.document(c)  # evicts b
    assert resolver.cache_info().currsize == 2
    hits = resolver.cache_info().hits
    resolver.document(a)
    assert resolver.cache_info().hits == hits + 1
    resolver.document(b)
    assert resolver.cache_info().hits == hits + 1  # b was rebuilt
    for did in _dids(20):
        assert resolver.document(did)["id"] == did
    assert resolver.cache_info().currsize == 2


def test_cache_size_zero_caches_nothing_and_still_resolves() -> None:
    resolver = DIDKeyResolver(cache_size=0)
    assert resolver.document(KEY_DID) == resolver.document(KEY_DID) == did_key_document(KEY_DID)
    assert resolver.cache_info().currsize == 0


async def test_failures_are_not_cached_and_stay_failures() -> None:
    resolver = DIDKeyResolver()
    bad = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0"  # '0' is not base58
    for _ in range(2):
        result = await resolver.resolve(bad)
        assert result.error == "invalidDid"
    assert resolver.cache_info().currsize == 0
    with pytest.raises(InvalidDID):
        resolver.document(bad)


def test_unhashable_option_values_bypass_the_cache() -> None:
    resolver = DIDKeyResolver()
    with pytest.raises(DIDError):
        resolver.document(KEY_DID, {"publicKeyFormat": ["Multikey"]})
    assert resolver.cache_info().currsize == 0


# --- Resolver's verification method memo -----------------------------------------------------------


class CountingKeyResolver(DIDKeyResolver):
    def __init__(self, *, deterministic: bool = True) -> None:
        super().__init__(cache_size=0)
        self.deterministic = deterministic
        self.calls = 0

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        self.calls += 1
        return await super().resolve(did, options)


async def test_remembered_methods_equal_resolved_ones_with_documents_of_their_own() -> None:
    counting = CountingKeyResolver()
    resolver = Resolver({"key": counting})
    first = await resolver.resolve_verification_method(KEY_VM)
    uncached = await Resolver({"key": DIDKeyResolver()}, method_cache_size=0).resolve_verification_method(KEY_VM)
    assert first == uncached and first.document == uncached.document
    first.document["assertionMethod"].clear()
    second = await resolver.resolve_verification_method(KEY_VM)
    assert counting.calls == 1
    assert isinstance(second, VerificationMethod)
    assert second == uncached and second.document == uncached.document
    assert second.public_key == uncached.public_key
    # a bare did:key names its key; remembered under its own URL
    bare = await resolver.resolve_verification_method(KEY_DID)
    assert bare == uncached and counting.calls == 2


async def test_the_method_memo_is_bounded() -> None:
    counting = CountingKeyResolver()
    resolver = Resolver({"key": counting}, method_cache_size=3)
    urls = [_vm_url(did) for did in _dids(5)]
    for url in urls:
        assert (await resolver.resolve_verification_method(url)).id == url
    assert len(resolver._method_cache) == 3
    calls = counting.calls
    await resolver.resolve_verification_method(urls[-1])  # remembered
    assert counting.calls == calls
    await resolver.resolve_verification_method(urls[0])  # evicted: resolved again
    assert counting.calls == calls + 1
    assert len(resolver._method_cache) == 3


async def test_failures_options_and_nondeterministic_methods_are_not_remembered() -> None:
    counting = CountingKeyResolver()
    resolver = Resolver({"key": counting})
    missing = KEY_DID + "#nope"
    for _ in range(2):
        with pytest.raises(NotFound):
            await resolver.resolve_verification_method(missing)
    assert counting.calls == 2
    for _ in range(2):
        await resolver.resolve_verification_method(KEY_VM, {"publicKeyFormat": "Ed25519VerificationKey2020"})
    assert counting.calls == 4 and not resolver._method_cache

    fetching = CountingKeyResolver(deterministic=False)  # as did:web: a document can change
    resolver = Resolver({"key": fetching})
    for _ in range(2):
        await resolver.resolve_verification_method(KEY_VM)
    assert fetching.calls == 2 and not resolver._method_cache


async def test_a_static_table_entry_is_not_remembered() -> None:
    # the table is public: a test may edit it after construction, and must then see the edit
    document = did_key_document(KEY_DID)
    resolver = StaticResolver([document], methods={"key": DIDKeyResolver()})
    await resolver.resolve_verification_method(KEY_VM)
    resolver.documents[KEY_DID]["verificationMethod"][0]["type"] = "Unknown"
    with pytest.raises(DIDError):
        await resolver.resolve_verification_method(KEY_VM)
    # DIDs outside the table go to the method resolvers, and may be remembered
    other = _vm_url(_dids(1)[0])
    await resolver.resolve_verification_method(other)
    assert list(resolver._method_cache) == [other]
