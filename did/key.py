"""did:key for Ed25519 (did:key Method v0.7, W3C CCG): pure, no I/O.

A did:key is ``did:key:[version:]z<base58btc(varint(0xed) + 32-byte public key)>``. Its DID
document is generated, never fetched (§3.1.2 Document Creation). The default form is the
current one, a ``Multikey`` verification method (contexts did/v1 + multikey/v1), which is what
the reference implementation (@digitalbazaar/did-method-key) returns; ``publicKeyFormat`` asks
for the older ``Ed25519VerificationKey2020`` form (with the derived X25519 key agreement key),
``JsonWebKey2020``, or, with ``enableExperimentalPublicKeyTypes``, ``Ed25519VerificationKey2018``.
"""

from __future__ import annotations

import base64
from typing import Any, Mapping, Sequence

from did.cache import LRU, FrozenJSON
from did.curve25519 import ed25519_point_y, x25519_from_ed25519
from did.errors import (
    DIDError,
    InvalidDID,
    InvalidOptions,
    InvalidPublicKeyLength,
    InvalidPublicKeyType,
    UnsupportedPublicKeyType,
)
from did.document import DID_CONTEXTS
from did.multikey import b58decode, b58encode, check_key_multibase_length, encode_ed25519_public
from did.options import check_resolution_options
from did.resolver import ResolutionResult
from did.syntax import parse_did

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
X25519_2020_V1 = "https://w3id.org/security/suites/x25519-2020/v1"
ED25519_2018_V1 = "https://w3id.org/security/suites/ed25519-2018/v1"
X25519_2019_V1 = "https://w3id.org/security/suites/x25519-2019/v1"
JWS_2020_V1 = "https://w3id.org/security/suites/jws-2020/v1"

ED25519_CODEC = 0xED
X25519_CODEC = 0xEC
X25519_PUB_PREFIX = b"\xec\x01"

# Multicodec names for the key types the did:key spec lists, so an unsupported key says what it is.
_KNOWN_CODECS = {
    0xEC: "X25519",
    0xE7: "secp256k1",
    0xEA: "BLS12-381 G1",
    0xEB: "BLS12-381 G2",
    0xEE: "BLS12-381 G1+G2",
    0x1200: "P-256",
    0x1201: "P-384",
    0x1202: "P-521",
    0x1205: "RSA",
}

# did:key v0.7, Signature Method Creation: "Ensure the proper key length of rawPublicKeyBytes
# based on the multicodecValue table" (P-521 and RSA are listed there without a length).
_KEY_LENGTHS = {0xE7: 33, 0xEC: 32, 0xED: 32, 0x1200: 33, 0x1201: 49}

SIGNATURE_FORMATS = ("Multikey", "Ed25519VerificationKey2020", "JsonWebKey2020")
EXPERIMENTAL_FORMATS = ("Ed25519VerificationKey2018",)
_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation")

def _read_varint(data: bytes) -> tuple[int, int]:
    """Unsigned LEB128 (multiformats unsigned-varint); returns (value, bytes used)."""
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                # unsigned-varint: a non-minimal encoding must be refused, or one key has many did:keys
                raise InvalidDID("the did:key multicodec header is not a minimally encoded varint")
            return value, i + 1
    raise InvalidDID("the did:key multicodec header is not a valid varint")


def _b58(data: bytes) -> str:
    return b58encode(data)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def did_key_from_public_key(public_key: bytes) -> str:
    """The did:key of a 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise InvalidPublicKeyLength(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    ed25519_point_y(public_key)
    return "did:key:" + encode_ed25519_public(bytes(public_key))


def _split_did_key(did: str) -> str:
    """Check the did:key shape (§3.1.2 steps 1-3) and return the multibase value."""
    parsed = parse_did(did)
    if parsed.method != "key":
        raise InvalidDID(f"{did!r} is not a did:key")
    parts = parsed.msid.split(":")
    if len(parts) == 2:
        version = parts[0]
        # digits with one that is not 0; never int(): past 4,300 digits it raises ValueError
        if not (version.isascii() and version.isdigit() and version.strip("0")):
            raise InvalidDID(f"did:key version {version!r} is not a positive integer")
    elif len(parts) != 1:
        raise InvalidDID(f"{did!r} has too many ':' components for a did:key")
    multibase = parts[-1]
    if not multibase.startswith("z"):
        raise InvalidDID(f"the did:key value {multibase[:60]!r} is not base58btc multibase (must start with 'z')")
    # Before decoding, which is quadratic in the length: parse_did's bound (2048) alone still
    # lets through values far longer than any key.
    check_key_multibase_length(multibase, "the did:key value")
    return multibase


def public_key_from_did_key(did: str) -> bytes:
    """The 32-byte Ed25519 public key of a did:key, with the did:key method's errors.

    ``invalidDid`` for a malformed identifier, ``invalidPublicKeyLength`` for a key whose
    length is not the one the did:key table gives its type (checked first, as the spec's
    algorithm does, whatever the type), ``unsupportedPublicKeyType`` for a key of the right
    length that is not Ed25519 (X25519, P-256 ...) and ``invalidPublicKey`` for bytes that are
    not a curve point.
    """
    multibase = _split_did_key(did)
    try:
        raw = b58decode(multibase[1:])
    except ValueError as e:
        raise InvalidDID(f"the did:key value is not valid base58btc: {e}") from e
    codec, used = _read_varint(raw)
    key = raw[used:]
    name = "Ed25519" if codec == ED25519_CODEC else _KNOWN_CODECS.get(codec, f"multicodec 0x{codec:x}")
    expected = _KEY_LENGTHS.get(codec)
    if expected is not None and len(key) != expected:
        raise InvalidPublicKeyLength(f"a {name} public key is {expected} bytes, the did:key holds {len(key)}")
    if codec != ED25519_CODEC:
        raise UnsupportedPublicKeyType(f"the did:key holds a {name} key; this node supports Ed25519 only")
    ed25519_point_y(key)
    return key


def _signature_vm(did: str, public_key: bytes, fmt: str) -> dict[str, Any]:
    multibase = encode_ed25519_public(public_key)
    vm: dict[str, Any] = {"id": f"{did}#{multibase}", "type": fmt, "controller": did}
    if fmt in ("Multikey", "Ed25519VerificationKey2020"):
        vm["publicKeyMultibase"] = multibase
    elif fmt == "JsonWebKey2020":
        vm["publicKeyJwk"] = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}
    else:  # Ed25519VerificationKey2018
        vm["publicKeyBase58"] = _b58(public_key)
    return vm


def _key_agreement_vm(did: str, public_key: bytes, fmt: str) -> dict[str, Any]:
    x_key = x25519_from_ed25519(public_key)
    multibase = "z" + _b58(X25519_PUB_PREFIX + x_key)
    vm: dict[str, Any] = {"id": f"{did}#{multibase}", "controller": did}
    if fmt == "Multikey":
        vm.update(type="Multikey", publicKeyMultibase=multibase)
    elif fmt == "Ed25519VerificationKey2020":
        vm.update(type="X25519KeyAgreementKey2020", publicKeyMultibase=multibase)
    elif fmt == "JsonWebKey2020":
        vm.update(type="JsonWebKey2020", publicKeyJwk={"kty": "OKP", "crv": "X25519", "x": _b64url(x_key)})
    else:
        vm.update(type="X25519KeyAgreementKey2019", publicKeyBase58=_b58(x_key))
    return vm


def verification_methods(did: str, public_key: bytes, public_key_format: str = "Multikey") -> list[dict[str, Any]]:
    """The signature verification method and the derived key agreement one, in ``public_key_format``."""
    return [_signature_vm(did, public_key, public_key_format), _key_agreement_vm(did, public_key, public_key_format)]


def did_key_document(
    did: str,
    *,
    public_key_format: str = "Multikey",
    enable_experimental_public_key_types: bool = False,
    enable_encryption_key_derivation: bool | None = None,
    default_context: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Expand a did:key into its DID document (did:key §3.1.2 Document Creation).

    ``enable_encryption_key_derivation`` defaults to what the reference implementation does for
    each form: no key agreement key in the Multikey form, the derived X25519 key in the others.
    ``default_context`` (the spec's ``options.defaultContext``, by default the DID v1 context
    alone) begins the ``@context``; the contexts of the methods' types follow, each once
    (did:key v0.7, Context Creation). It must be a list of context URLs beginning with a DID
    context (DID Core 1.0 §6.3.1), else ``invalidOptions``.
    """
    # Flags are booleans: a truth test would read "false" (a query string's text) as true.
    if not isinstance(enable_experimental_public_key_types, bool):
        raise InvalidOptions(
            f"enableExperimentalPublicKeyTypes must be a boolean, not {enable_experimental_public_key_types!r}"
        )
    if enable_encryption_key_derivation is not None and not isinstance(enable_encryption_key_derivation, bool):
        raise InvalidOptions(
            f"enableEncryptionKeyDerivation must be a boolean, not {enable_encryption_key_derivation!r}"
        )
    if not isinstance(public_key_format, str):
        raise InvalidOptions(f"publicKeyFormat must be a string, not {public_key_format!r}")
    base_context = _default_context(default_context)
    public_key = public_key_from_did_key(did)
    if public_key_format in EXPERIMENTAL_FORMATS:
        if not enable_experimental_public_key_types:
            raise InvalidPublicKeyType(
                f"publicKeyFormat {public_key_format!r} is experimental; set enableExperimentalPublicKeyTypes"
            )
    elif public_key_format not in SIGNATURE_FORMATS:
        raise UnsupportedPublicKeyType(
            f"publicKeyFormat {public_key_format!r} is not supported"
            f" (one of {', '.join(SIGNATURE_FORMATS + EXPERIMENTAL_FORMATS)})"
        )
    with_agreement = (
        public_key_format != "Multikey" if enable_encryption_key_derivation is None else enable_encryption_key_derivation
    )
    signing = _signature_vm(did, public_key, public_key_format)
    type_contexts = {
        "Multikey": [MULTIKEY_V1],
        "Ed25519VerificationKey2020": [ED25519_2020_V1] + ([X25519_2020_V1] if with_agreement else []),
        "JsonWebKey2020": [JWS_2020_V1],
        "Ed25519VerificationKey2018": [ED25519_2018_V1] + ([X25519_2019_V1] if with_agreement else []),
    }[public_key_format]
    contexts = base_context + [c for c in type_contexts if c not in base_context]
    document: dict[str, Any] = {"@context": contexts, "id": did, "verificationMethod": [signing]}
    for relationship in _RELATIONSHIPS:
        document[relationship] = [signing["id"]]
    if with_agreement:
        agreement = _key_agreement_vm(did, public_key, public_key_format)
        if public_key_format in ("JsonWebKey2020", "Ed25519VerificationKey2018"):
            # the spec's JWK and 2018 test vectors list both keys and reference the X25519 one
            document["verificationMethod"].append(agreement)
            document["keyAgreement"] = [agreement["id"]]
        else:
            # the spec example and the reference implementation embed it
            document["keyAgreement"] = [agreement]
    return document


def _default_context(value: Sequence[str] | None) -> list[str]:
    if value is None:
        return [DID_V1]
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(item, str) and item for item in value)
        or value[0] not in DID_CONTEXTS
    ):
        raise InvalidOptions(
            f"defaultContext must be a list of context URLs whose first is {' or '.join(DID_CONTEXTS)}; got {value!r}"
        )
    return list(dict.fromkeys(value))


_FLAGS = ("enableExperimentalPublicKeyTypes", "enableEncryptionKeyDerivation")
# The resolution options a did:key resolver implements (did:key v0.7, Document Creation).
RESOLUTION_OPTIONS = ("publicKeyFormat", *_FLAGS, "defaultContext")


def _read_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Per-call resolution options, each flag a boolean: ``True``/``False`` or exactly the text
    ``"true"``/``"false"`` (how options arrive from a query string, as the did-key test suite
    sends them); anything else is ``invalidOptions`` (DID Resolution v1 §4), never truth-tested."""
    check_resolution_options(options, RESOLUTION_OPTIONS, "key")
    out = {name: value for name, value in options.items() if name != "accept"}
    for name in _FLAGS:
        if name in out and not isinstance(out[name], bool):
            value = out[name]
            if value not in ("true", "false"):
                raise InvalidOptions(f"the did:key option {name} must be true or false, not {value!r}")
            out[name] = value == "true"
    if "defaultContext" in out and out["defaultContext"] is None:  # None is the built-in default, not an option
        raise InvalidOptions("defaultContext must be a list of context URLs, not null")
    return out


class DIDKeyResolver:
    """did:key resolver (DIDResolver protocol). Options follow the did:key spec's names:
    ``publicKeyFormat``, ``enableExperimentalPublicKeyTypes``, ``enableEncryptionKeyDerivation``,
    ``defaultContext``. Constructor arguments give the defaults; per-call ``options`` override
    them. Any other option (``versionTime``, ``expandRelativeUrls`` ...) is
    ``featureNotSupported``; ``accept`` must name a representation (``did.options``).

    A did:key document is a pure function of the DID and the options, and a verifier meets the
    same few issuer keys again and again, so the last ``cache_size`` documents built are kept
    (an LRU; failures are not kept). Each call still returns objects of its own: a caller that
    edits its document cannot change what the next one gets.
    """

    # Nothing here depends on time, the network or state, so did.resolver.Resolver may remember
    # the verification methods it resolves through this resolver (it reads this flag).
    deterministic = True
    resolution_options = RESOLUTION_OPTIONS

    def __init__(
        self,
        *,
        public_key_format: str = "Multikey",
        enable_experimental_public_key_types: bool = False,
        enable_encryption_key_derivation: bool | None = None,
        cache_size: int = 1024,
    ) -> None:
        self.defaults = {
            "publicKeyFormat": public_key_format,
            "enableExperimentalPublicKeyTypes": enable_experimental_public_key_types,
            "enableEncryptionKeyDerivation": enable_encryption_key_derivation,
            "defaultContext": None,
        }
        # frozen, not the dict: thawing one is ~1 us, a deepcopy ~7, building one ~40 (did.cache)
        self._documents: LRU[tuple[Any, ...], FrozenJSON] = LRU(max(0, cache_size))

    @staticmethod
    def _build(did: str, public_key_format: Any, experimental: bool, derivation: Any, context: Any) -> dict[str, Any]:
        return did_key_document(
            did,
            public_key_format=public_key_format,
            enable_experimental_public_key_types=experimental,
            enable_encryption_key_derivation=derivation,
            default_context=list(context) if isinstance(context, tuple) else context,
        )

    def cache_info(self) -> Any:
        """The document cache's statistics (hits, misses, maxsize, currsize), as ``functools`` gives them."""
        return self._documents.info()

    def document(self, did: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        opts = {**self.defaults, **_read_options(options or {})}
        args = (
            did,
            opts["publicKeyFormat"],
            opts["enableExperimentalPublicKeyTypes"],
            opts["enableEncryptionKeyDerivation"],
            # a tuple, so the cache can hold the key; anything else is refused by the build
            tuple(opts["defaultContext"]) if isinstance(opts["defaultContext"], list) else opts["defaultContext"],
        )
        try:
            hash(args)
        except TypeError:  # an odd option value (a list ...): built, refused or not, without the cache
            return self._build(*args)
        frozen = self._documents.get(args)
        if frozen is not None:
            return frozen.thaw()  # type: ignore[no-any-return]
        document = self._build(*args)
        if self._documents.maxsize:
            self._documents[args] = FrozenJSON(document)  # the caller keeps the original
        return document

    async def resolve(self, did: str, options: Mapping[str, Any] | None = None) -> ResolutionResult:
        try:
            return ResolutionResult.success(self.document(did, options))
        except DIDError as e:
            return ResolutionResult.failure(e)
