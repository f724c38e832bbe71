"""VC Data Model 2.0 (and 1.1) checks: each rule has a case that breaks it, with the spec's code."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import base58
import pytest

from vc import datamodel
from vc.datamodel import (
    CREDENTIALS_V1,
    CREDENTIALS_V2,
    MAX_CLOCK_SKEW,
    ValidityPeriodError,
    check_credential,
    check_presentation,
    check_validity,
    parse_datetime_stamp,
)
from vc.errors import CryptographicSecurityError, MalformedValueError, ProblemError
from vc.results import Checks, VerificationResult

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def credential() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": "https://university.example/issuers/565049",
        "validFrom": "2023-01-01T00:00:00Z",
        "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "The School"},
    }


def credential_v1() -> dict[str, Any]:
    vc = credential()
    vc["@context"] = [CREDENTIALS_V1, "https://www.w3.org/2018/credentials/examples/v1"]
    del vc["validFrom"], vc["validUntil"]
    vc["issuanceDate"] = "2023-01-01T00:00:00Z"
    vc["expirationDate"] = "2030-01-01T00:00:00Z"
    return vc


def test_valid_v2_credential_passes_and_reports_version_and_dates() -> None:
    report = check_credential(credential(), now=NOW)
    assert report.version == "2.0"
    assert report.valid_from == datetime(2023, 1, 1, tzinfo=timezone.utc)
    assert report.valid_until == datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_v1_1_credential_is_accepted() -> None:
    assert check_credential(credential_v1(), now=NOW).version == "1.1"


def test_issuer_object_with_url_id_is_accepted() -> None:
    vc = credential()
    vc["issuer"] = {"id": "did:example:76e12ec712ebc6f1c221ebfeb1f", "name": "Example University"}
    check_credential(vc, now=NOW)


def test_subject_array_and_single_string_type_context_object_are_accepted() -> None:
    vc = credential()
    vc["credentialSubject"] = [{"id": "did:example:a", "name": "A"}, {"name": "B"}]
    vc["@context"].append({"extra": "https://example.org/extra#"})
    check_credential(vc, now=NOW)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for p in parents:
            target = target[p]
        target[last] = value

    return apply


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


BAD_CREDENTIALS = [
    ("no @context", _delete("@context"), "no @context"),
    ("@context a string", _set("@context", CREDENTIALS_V2), "@context must be an array"),
    ("wrong first context", _set("@context", ["https://www.w3.org/ns/credentials/examples/v2", CREDENTIALS_V2]), "first @context item"),
    ("context item a number", _set("@context", [CREDENTIALS_V2, 5]), "@context[1]"),
    ("context item a relative URL", _set("@context", [CREDENTIALS_V2, "examples/v2"]), "@context[1]"),
    ("no type", _delete("type"), "credential.type is missing"),
    ("type without VerifiableCredential", _set("type", ["ExampleAlumniCredential"]), "'VerifiableCredential'"),
    ("type with a number", _set("type", ["VerifiableCredential", 3]), "credential.type"),
    ("no issuer", _delete("issuer"), "no issuer"),
    ("issuer not a URL", _set("issuer", "Example University"), "issuer must be an absolute URL"),
    ("issuer object without id", _set("issuer", {"name": "Example University"}), "issuer.id"),
    ("issuer a number", _set("issuer", 42), "issuer must be a URL"),
    ("no credentialSubject", _delete("credentialSubject"), "no credentialSubject"),
    ("empty credentialSubject", _set("credentialSubject", {}), "credentialSubject is empty"),
    ("empty subject array", _set("credentialSubject", []), "at least one subject"),
    ("subject a string", _set("credentialSubject", "did:example:1"), "must be an object"),
    ("credential id not a URL", _set("id", "58172aac"), "credential.id must be an absolute URL"),
    ("credential id a list", _set("id", ["urn:uuid:1"]), "credential.id must be a URL string"),
    ("subject id not a URL", _set("credentialSubject.id", "not a url"), "credential.credentialSubject.id"),
    ("blank node subject id", _set("credentialSubject.id", "_:b0"), "credential.credentialSubject.id"),
    ("validFrom not a date", _set("validFrom", "yesterday"), "validFrom must be an XML Schema dateTimeStamp"),
    ("validFrom without timezone", _set("validFrom", "2023-01-01T00:00:00"), "with a timezone"),
    ("validUntil impossible day", _set("validUntil", "2030-02-30T00:00:00Z"), "not a real date"),
    ("validFrom a number", _set("validFrom", 1700000000), "validFrom must be"),
    ("validFrom after validUntil", _set("validFrom", "2031-01-01T00:00:00Z"), "later than validUntil"),
    ("name a number", _set("name", 7), "name must be a string or a language value object"),
    # VC DM 2.0 §11.1; JSON-LD expansion refuses these, so App. B.1 fails them (jcs too).
    ("@language a number", _set("name", {"@value": "Nom", "@language": 5}), "name.@language must be a string"),
    ("@language null", _set("description", {"@value": "Nom", "@language": None}), "description.@language must be a string"),
    ("@language no tag", _set("name", [{"@value": "Name", "@language": "en"}, {"@value": "Nom", "@language": "fr CA"}]),
     "name[1].@language must be a string holding a well-formed language tag"),
    ("@direction up", _set("name", {"@value": "Nom", "@direction": "up"}), "name.@direction must be 'ltr' or 'rtl'"),
    ("@direction null", _set("name", {"@value": "Nom", "@language": "fr", "@direction": None}), "name.@direction must be 'ltr' or 'rtl'"),
    ("credentialStatus without type", _set("credentialStatus", {"id": "https://example.com/status/1#1"}), "credentialStatus.type is missing"),
    ("credentialSchema without id", _set("credentialSchema", {"type": "JsonSchema"}), "credentialSchema must have an id"),
    ("refreshService without type", _set("refreshService", [{"id": "https://example.com/refresh"}]), "refreshService[0].type"),
    ("termsOfUse without type", _set("termsOfUse", {"id": "https://example.com/tou"}), "termsOfUse.type"),
    ("evidence not an object", _set("evidence", ["https://example.com/evidence"]), "evidence[0] must be an object"),
    ("empty evidence", _set("evidence", []), "evidence must hold at least one entry"),
    ("enveloped credential", _set("type", ["EnvelopedVerifiableCredential"]), "only embedded JSON-LD"),
    ("relatedResource without digest", _set("relatedResource", [{"id": "https://example.com/x"}]), "must carry digestSRI or digestMultibase"),
    ("relatedResource relative id", _set("relatedResource", [{"id": "x", "digestSRI": "sha256-" + "A" * 43 + "="}]), "relatedResource[0].id"),
    ("relatedResource bad SRI", _set("relatedResource", [{"id": "https://example.com/x", "digestSRI": "md5-abc"}]), "digestSRI"),
    ("relatedResource bad multibase", _set("relatedResource", [{"id": "https://example.com/x", "digestMultibase": "not-multibase!"}]), "digestMultibase"),
    ("relatedResource duplicate ids", _set("relatedResource", [
        {"id": "https://example.com/x", "digestSRI": "sha256-" + base64.b64encode(b"1" * 32).decode()},
        {"id": "https://example.com/x", "digestSRI": "sha256-" + base64.b64encode(b"2" * 32).decode()},
    ]), "more than once"),
]


@pytest.mark.parametrize("case, mutate, message", BAD_CREDENTIALS, ids=[c[0] for c in BAD_CREDENTIALS])
def test_malformed_credential_is_refused_with_malformed_value_error(
    case: str, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    vc = credential()
    mutate(vc)
    with pytest.raises(MalformedValueError) as info:
        check_credential(vc, now=NOW)
    assert info.value.code == "MALFORMED_VALUE_ERROR"
    assert message in info.value.detail


def test_v1_1_credential_without_issuance_date_is_refused() -> None:
    vc = credential_v1()
    del vc["issuanceDate"]
    with pytest.raises(MalformedValueError, match="must have an issuanceDate"):
        check_credential(vc)


def test_v1_1_allows_a_datetime_without_timezone_read_as_utc() -> None:
    vc = credential_v1()
    vc["issuanceDate"] = "2023-01-01T00:00:00"
    assert check_credential(vc).valid_from == datetime(2023, 1, 1, tzinfo=timezone.utc)


def test_v1_1_status_needs_an_id() -> None:
    vc = credential_v1()
    vc["credentialStatus"] = {"type": "StatusList2021Entry"}
    with pytest.raises(MalformedValueError, match="credentialStatus must have an id"):
        check_credential(vc)


@pytest.mark.parametrize(
    "now, message",
    [
        # One second past the 300 s allowed for clock skew, at either end.
        (datetime(2022, 12, 31, 23, 54, 59, tzinfo=timezone.utc), "not yet valid: validFrom is 2023-01-01T00:00:00Z"),
        (datetime(2030, 1, 1, 0, 5, 1, tzinfo=timezone.utc), "has expired: validUntil was 2030-01-01T00:00:00Z"),
    ],
)
def test_outside_validity_period_is_a_range_error_that_fails(now: datetime, message: str) -> None:
    with pytest.raises(ValidityPeriodError) as info:
        check_validity(credential(), now=now)
    assert info.value.code == "RANGE_ERROR"
    assert message in info.value.detail
    # Established, not "could not be established": the result entry says failed.
    result = VerificationResult("credential")
    with Checks(result).run("validity"):
        check_validity(credential(), now=now)
    assert result.checks[0].outcome == "failed"
    assert result.checks[0].problem is not None and result.checks[0].problem.code == "RANGE_ERROR"


def test_v1_1_expiration_date_is_enforced() -> None:
    with pytest.raises(ValidityPeriodError, match="expirationDate"):
        check_validity(credential_v1(), now=datetime(2031, 1, 1, tzinfo=timezone.utc))


def test_validity_boundaries_are_inclusive() -> None:
    check_validity(credential(), now=datetime(2023, 1, 1, tzinfo=timezone.utc))
    check_validity(credential(), now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    strict = timedelta(0)
    check_validity(credential(), now=datetime(2023, 1, 1, tzinfo=timezone.utc), max_clock_skew=strict)
    check_validity(credential(), now=datetime(2030, 1, 1, tzinfo=timezone.utc), max_clock_skew=strict)


@pytest.mark.parametrize("make", [credential, credential_v1], ids=["validFrom/validUntil", "issuanceDate/expirationDate"])
def test_the_validity_period_allows_the_clock_skew_proofs_get(make: Callable[[], dict[str, Any]]) -> None:
    """A verifier a minute behind the issuer that stamped validFrom (or issuanceDate) with its
    own clock accepts the fresh credential, as Digital Bazaar's vc library does (maxClockSkew
    300 s, applied at both ends of the period); past 300 s it is refused."""
    vc = make()
    start_field, end_field = ("validFrom", "validUntil") if "validFrom" in vc else ("issuanceDate", "expirationDate")
    start = datetime.fromisoformat(vc[start_field].replace("Z", "+00:00"))
    end = datetime.fromisoformat(vc[end_field].replace("Z", "+00:00"))
    message = check_validity(vc, now=start - timedelta(seconds=60))
    assert "within 300 s (the clock skew allowed) of the validity period" in message
    check_validity(vc, now=start - MAX_CLOCK_SKEW)
    check_validity(vc, now=end + MAX_CLOCK_SKEW)
    with pytest.raises(ValidityPeriodError, match="not yet valid"):
        check_validity(vc, now=start - timedelta(seconds=60), max_clock_skew=timedelta(seconds=59))
    with pytest.raises(ValidityPeriodError, match="expired"):
        check_validity(vc, now=end + MAX_CLOCK_SKEW + timedelta(seconds=1))
    with pytest.raises(ValueError, match="max_clock_skew"):
        check_validity(vc, now=start, max_clock_skew=timedelta(seconds=-1))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("2024-01-01T01:30:00+01:30", datetime(2024, 1, 1, tzinfo=timezone.utc)),
        ("2024-01-01T24:00:00Z", datetime(2024, 1, 2, tzinfo=timezone.utc)),
        ("2024-01-01T00:00:00.1234567-00:00", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)),
        ("12024-01-01T00:00:00Z", datetime.max.replace(tzinfo=timezone.utc)),
    ],
)
def test_xml_schema_datetime_stamps_parse(text: str, expected: datetime) -> None:
    assert parse_datetime_stamp(text, "validFrom") == expected


@pytest.mark.parametrize(
    "text",
    ["2024-01-01", "2024-01-01 00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-01T25:00:00Z", "2024-01-01T00:00:00+15:00", "2024-13-01T00:00:00Z", ""],
)
def test_malformed_datetimes_are_refused(text: str) -> None:
    with pytest.raises(MalformedValueError):
        parse_datetime_stamp(text, "validFrom")


# --- related resources against pinned bytes -------------------------------------------------

CONTEXT_BYTES = b'{"@context": {"@protected": true, "ex": "https://example.org/#"}}\n'
CONTEXT_URL = "https://example.org/context/v1"
PUBLISHED = hashlib.sha256(b"the W3C's own bytes").hexdigest()


def _lookup(url: str, algorithm: str) -> frozenset[bytes]:
    if url != CONTEXT_URL:
        return frozenset()
    published = {bytes.fromhex(PUBLISHED)} if algorithm == "sha256" else set()
    return frozenset({hashlib.new(algorithm, CONTEXT_BYTES).digest(), *published})


def _sri(alg: str, data: bytes) -> str:
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, data).digest()).decode()


def _mb(digest: bytes, code: int = 0x12, header: str = "u") -> str:
    multihash = bytes([code, len(digest)]) + digest
    if header == "z":
        return "z" + base58.b58encode(multihash).decode()
    return "u" + base64.urlsafe_b64encode(multihash).decode().rstrip("=")


@pytest.mark.parametrize(
    "entry",
    [
        {"digestSRI": _sri("sha384", CONTEXT_BYTES)},
        {"digestSRI": _sri("sha256", CONTEXT_BYTES)},
        {"digestSRI": _sri("sha256", b"other") + " " + _sri("sha512", CONTEXT_BYTES)},
        {"digestMultibase": _mb(hashlib.sha256(CONTEXT_BYTES).digest())},
        {"digestMultibase": _mb(hashlib.sha256(CONTEXT_BYTES).digest(), header="z")},
        {"digestMultibase": _mb(hashlib.sha384(CONTEXT_BYTES).digest(), 0x20)},
        {"digestMultibase": _mb(bytes.fromhex(PUBLISHED))},
        {"digestSRI": "sha256-" + base64.b64encode(bytes.fromhex(PUBLISHED)).decode()},
        # VC Data Integrity 1.0 §2.6: "a single string value, or a list of string values".
        {"digestMultibase": [_mb(hashlib.sha256(CONTEXT_BYTES).digest()), _mb(hashlib.sha384(CONTEXT_BYTES).digest(), 0x20)]},
        {"digestMultibase": [_mb(hashlib.sha512(CONTEXT_BYTES).digest(), 0x13, header="z")]},
    ],
)
def test_related_resource_digest_of_pinned_context_is_checked(entry: dict[str, str]) -> None:
    vc = credential()
    vc["relatedResource"] = [{"id": CONTEXT_URL, **entry}]
    report = check_credential(vc, resources=_lookup)
    assert report.checked_resources == (CONTEXT_URL,)


@pytest.mark.parametrize(
    "entry",
    [
        {"digestSRI": _sri("sha384", CONTEXT_BYTES + b" ")},
        # SRI: only the strongest algorithm counts, so a matching sha256 beside a wrong sha384 fails.
        {"digestSRI": _sri("sha256", CONTEXT_BYTES) + " " + _sri("sha384", b"x")},
        {"digestMultibase": _mb(hashlib.sha256(b"tampered").digest())},
        {"digestSRI": _sri("sha384", CONTEXT_BYTES), "digestMultibase": _mb(hashlib.sha256(b"x").digest())},
        # Every digest of a list is a claim about the resource: one wrong one fails it.
        {"digestMultibase": [_mb(hashlib.sha256(CONTEXT_BYTES).digest()), _mb(hashlib.sha384(b"x").digest(), 0x20)]},
    ],
)
def test_related_resource_digest_mismatch_is_a_cryptographic_security_error(entry: dict[str, str]) -> None:
    vc = credential()
    vc["relatedResource"] = [{"id": CONTEXT_URL, **entry}]
    with pytest.raises(CryptographicSecurityError, match="does not match the pinned content"):
        check_credential(vc, resources=_lookup)


@pytest.mark.parametrize(
    "value,says",
    [
        ([], "digestMultibase is an empty list"),
        (["not-multibase!"], "digestMultibase[0] is not valid multibase"),
        ([_mb(hashlib.sha256(CONTEXT_BYTES).digest()), 5], "digestMultibase[1] must be a multibase string"),
        ({"a": 1}, "digestMultibase must be a multibase string"),
    ],
)
def test_a_digest_multibase_list_is_read_item_by_item(value: Any, says: str) -> None:
    vc = credential()
    vc["relatedResource"] = [{"id": "https://example.com/x", "digestMultibase": value}]
    with pytest.raises(MalformedValueError) as e:
        check_credential(vc)
    assert says in str(e.value)


def test_related_resource_not_pinned_is_reported_unchecked() -> None:
    vc = credential()
    vc["relatedResource"] = {"id": "https://example.com/logo.png", "digestSRI": _sri("sha384", b"png")}
    report = check_credential(vc, resources=_lookup)
    assert report.unchecked_resources == ("https://example.com/logo.png",)
    assert report.checked_resources == ()


def test_checks_never_mutate_the_document() -> None:
    vc = credential()
    vc["relatedResource"] = [{"id": CONTEXT_URL, "digestSRI": _sri("sha384", CONTEXT_BYTES)}]
    before = copy.deepcopy(vc)
    check_credential(vc, now=NOW, resources=_lookup)
    assert vc == before


# --- presentations ------------------------------------------------------------------------


def presentation() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:holder",
        "verifiableCredential": [credential()],
    }


def test_valid_presentation_passes() -> None:
    assert check_presentation(presentation()).version == "2.0"
    check_presentation({**presentation(), "termsOfUse": {"type": "HolderPolicy", "id": "https://example.com/tou/1"}})
    vp = presentation()
    vp["holder"] = {"id": "did:example:holder"}
    del vp["verifiableCredential"]
    check_presentation(vp)


BAD_PRESENTATIONS = [
    ("wrong type", _set("type", ["VerifiableCredential"]), "'VerifiablePresentation'"),
    ("wrong context", _set("@context", ["https://example.org/"]), "first @context item"),
    ("holder not a URL", _set("holder", "Alice"), "holder must be an absolute URL"),
    ("holder object without id", _set("holder", {"name": "Alice"}), "holder.id"),
    ("id not a URL", _set("id", "vp-1"), "presentation.id"),
    ("JWT credential", _set("verifiableCredential", ["eyJhbGciOiJFZERTQSJ9.e30.sig"]), "only embedded JSON-LD"),
    ("enveloped credential", _set("verifiableCredential", {"@context": [CREDENTIALS_V2], "id": "data:application/vc+jwt,eyJ", "type": "EnvelopedVerifiableCredential"}), "EnvelopedVerifiableCredential"),
    ("enveloped presentation", _set("type", ["EnvelopedVerifiablePresentation"]), "enveloped"),
    ("credential a number", _set("verifiableCredential", [1]), "must be a credential object"),
    # VC DM 2.0 §5.5: terms of use of "the credential or presentation", each with its type.
    ("termsOfUse without type", _set("termsOfUse", {"id": "https://example.com/tou/1"}), "termsOfUse.type is missing"),
    ("termsOfUse entry not an object", _set("termsOfUse", ["https://example.com/tou/1"]), "termsOfUse[0] must be an object"),
    ("termsOfUse empty", _set("termsOfUse", []), "termsOfUse must hold at least one entry"),
]


@pytest.mark.parametrize("case, mutate, message", BAD_PRESENTATIONS, ids=[c[0] for c in BAD_PRESENTATIONS])
def test_malformed_presentation_is_refused(case: str, mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    vp = presentation()
    mutate(vp)
    with pytest.raises(ProblemError) as info:
        check_presentation(vp)
    assert info.value.code == "MALFORMED_VALUE_ERROR"
    assert message in info.value.detail


def test_is_url() -> None:
    assert datamodel.is_url("did:key:z6Mk")
    assert datamodel.is_url("urn:uuid:1")
    assert not datamodel.is_url("/relative")
    assert not datamodel.is_url("https://exa mple.com")
    assert not datamodel.is_url("_:b0")


# Digests the W3C publishes for https://www.w3.org/ns/credentials/v2 (VC DM 2.0 REC bytes),
# and the older CR2 digests the VC DM 2.0 test suite still uses (see shared/vectors/contexts/DIGESTS.json).
V2_REC_SRI = "sha384-l/HrjlBCNWyAX91hr6LFV2Y3heB5Tcr6IeE4/Tje8YyzYBM8IhqjHWiWpr8+ZbYU"
V2_REC_MULTIBASE = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"
V2_CR2_SRI = "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg"


def test_related_resource_of_the_shipped_v2_context_accepts_the_w3c_published_digests() -> None:
    from vc.loader import default_loader

    loader = default_loader()
    vc = credential()
    vc["relatedResource"] = [{"id": CREDENTIALS_V2, "digestSRI": V2_REC_SRI, "digestMultibase": V2_REC_MULTIBASE}]
    assert check_credential(vc, resources=loader.digests).checked_resources == (CREDENTIALS_V2,)
    shipped = loader.raw_bytes(CREDENTIALS_V2)
    vc["relatedResource"] = [{"id": CREDENTIALS_V2, "digestSRI": _sri("sha512", shipped)}]
    assert check_credential(vc, resources=loader.digests).checked_resources == (CREDENTIALS_V2,)


def test_related_resource_with_an_outdated_v2_digest_is_refused() -> None:
    """The VC DM 2.0 suite's fixture digests the context as the W3C served it from 2024-07-03
    to 2025-02-24 (w3c/vc-data-model contexts/credentials/v2 @ 8d0ee107), which means something
    else for status entries than the Recommendation's (statusSize's type, where statusMessage is
    defined). §5.3: a digest that does not match the resource the verifier uses MUST be an error."""
    from vc.loader import default_loader

    vc = credential()
    vc["relatedResource"] = [{"id": CREDENTIALS_V2, "digestSRI": V2_CR2_SRI}]
    with pytest.raises(CryptographicSecurityError, match="https://www.w3.org/ns/credentials/v2"):
        check_credential(vc, resources=default_loader().digests)


def test_a_bare_digest_is_not_a_digest_multibase() -> None:
    """The suite's digestMultibase is the base64url of a bare SHA-256 (no multihash header);
    VC Data Integrity 1.0 §2.6 requires a Multibase-encoded Multihash."""
    from vc.loader import default_loader

    vc = credential()
    vc["relatedResource"] = [{"id": CREDENTIALS_V2, "digestMultibase": "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k"}]
    with pytest.raises(MalformedValueError, match="not a multihash"):
        check_credential(vc, resources=default_loader().digests)


@pytest.mark.parametrize(
    "value, message",
    [
        # Deep in lists of lists, and inside a dict subclass (a caller's OrderedDict): the fast
        # walk without paths hands both to the walk that names where the bad id is.
        ([[{"id": "not a url"}]], r"credential\.credentialSubject\.portfolio\[0\]\[0\]\.id must be an absolute URL"),
        ([OrderedDict(id=7)], r"credential\.credentialSubject\.portfolio\[0\]\.id must be a URL string"),
    ],
)
def test_every_id_is_checked_however_deep_and_whatever_mapping_holds_it(value: Any, message: str) -> None:
    vc = credential()
    vc["credentialSubject"]["portfolio"] = value
    with pytest.raises(MalformedValueError, match=message):
        check_credential(vc)
    vc["credentialSubject"]["portfolio"] = [[{"id": "https://example.edu/work/1"}], OrderedDict(id="https://example.edu/work/2")]
    check_credential(vc)
