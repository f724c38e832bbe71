"""vc.loader: pinned contexts only, digests checked, clear errors, operator pins."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from vc.errors import ProofTransformationError
from vc.loader import CONTEXTS_DIR, ContextLoader, ContextManifestError, UnknownContextError, default_loader, published_digests

MANIFEST = json.loads((CONTEXTS_DIR / "MANIFEST.json").read_text(encoding="utf-8"))

REQUIRED = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/security/suites/x25519-2020/v1",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/ns/credentials/status/v1",
    "https://w3id.org/citizenship/v4rc1",
]


@pytest.mark.parametrize("entry", MANIFEST["contexts"], ids=lambda e: e["file"])
def test_manifest_digest_matches_shipped_file(entry):
    data = (CONTEXTS_DIR / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert "@context" in json.loads(data)
    origin = entry["origin"]
    assert ("npm" in origin and "path" in origin) or "other" in origin


def test_every_shipped_file_is_in_the_manifest():
    listed = {e["file"] for e in MANIFEST["contexts"]}
    on_disk = {p.name for p in CONTEXTS_DIR.iterdir() if p.suffix in (".json", ".jsonld") and p.name != "MANIFEST.json"}
    assert listed == on_disk


@pytest.mark.parametrize("url", REQUIRED)
def test_required_contexts_are_served(url):
    remote = default_loader()(url, {})
    assert remote["documentUrl"] == url
    assert "@context" in remote["document"]


def test_shipped_contexts_are_json_equal_to_the_reference_copies(vectors):
    ref = vectors / "contexts"
    pairs = {
        "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
        "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
        "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context.json",
    }
    for url, name in pairs.items():
        assert default_loader().document(url) == json.loads((ref / name).read_bytes()), url


def test_published_w3c_digest_is_accepted_beside_the_npm_bytes(vectors):
    digests = json.loads((vectors / "contexts" / "DIGESTS.json").read_text())["files"]
    w3c = bytes.fromhex(digests["credentials-v2.jsonld"]["published_sha256"])
    accepted = published_digests("https://www.w3.org/ns/credentials/v2")
    assert w3c in accepted
    npm = hashlib.sha256(default_loader().raw_bytes("https://www.w3.org/ns/credentials/v2")).digest()
    assert npm in accepted and npm != w3c
    sri = digests["credentials-v2.jsonld"]["digestSRI_sha384"]
    import base64

    assert base64.b64decode(sri.split("-", 1)[1]) in published_digests("https://www.w3.org/ns/credentials/v2", "sha384")


def test_digests_of_unpinned_url_are_empty():
    assert published_digests("https://example.com/ctx") == frozenset()


def test_unknown_context_error_names_the_url():
    with pytest.raises(UnknownContextError) as e:
        default_loader()("https://evil.example/ctx.jsonld", {})
    assert "https://evil.example/ctx.jsonld" in e.value.detail
    assert isinstance(e.value, ProofTransformationError)
    assert e.value.problem().code == "PROOF_TRANSFORMATION_ERROR"


def test_returned_documents_are_copies():
    loader = ContextLoader()
    loader("https://www.w3.org/ns/credentials/v2", {})["document"]["@context"]["id"] = "tampered"
    assert loader("https://www.w3.org/ns/credentials/v2", {})["document"]["@context"]["id"] == "@id"


def test_default_loader_is_cached():
    assert default_loader() is default_loader()


def _pin(folder: Path, url: str, doc: dict, sha: str | None = None) -> None:
    data = json.dumps(doc).encode()
    (folder / "ctx.json").write_bytes(data)
    entry = {"url": url, "file": "ctx.json", "sha256": sha or hashlib.sha256(data).hexdigest()}
    (folder / "MANIFEST.json").write_text(json.dumps({"contexts": [entry]}))


def test_extra_dir_pins_an_operator_context(tmp_path):
    _pin(tmp_path, "https://uni.example/ctx/v1", {"@context": {"grade": "https://uni.example/vocab#grade"}})
    loader = ContextLoader(extra_dir=tmp_path)
    assert loader("https://uni.example/ctx/v1", {})["document"]["@context"]["grade"].endswith("#grade")
    assert "https://www.w3.org/ns/credentials/v2" in loader
    assert "https://uni.example/ctx/v1" not in default_loader()


def test_extra_dir_with_wrong_digest_is_refused(tmp_path):
    _pin(tmp_path, "https://uni.example/ctx/v1", {"@context": {}}, sha="00" * 32)
    with pytest.raises(ContextManifestError, match="SHA-256"):
        ContextLoader(extra_dir=tmp_path)


def test_extra_dir_cannot_replace_a_shipped_context(tmp_path):
    _pin(tmp_path, "https://www.w3.org/ns/credentials/v2", {"@context": {}})
    with pytest.raises(ContextManifestError, match="already pinned"):
        ContextLoader(extra_dir=tmp_path)


def test_extra_dir_without_manifest_is_refused(tmp_path):
    with pytest.raises(ContextManifestError, match="manifest"):
        ContextLoader(extra_dir=tmp_path)


def test_extra_dir_file_outside_folder_is_refused(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(
        json.dumps({"contexts": [{"url": "https://x.example/c", "file": "../c.json", "sha256": "00"}]})
    )
    with pytest.raises(ContextManifestError, match="directly in"):
        ContextLoader(extra_dir=tmp_path)


def test_a_shipped_context_changed_on_disk_is_refused(tmp_path, monkeypatch):
    import shutil

    import vc.loader as loader_module

    copy_dir = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy_dir)
    target = copy_dir / "credentials-v2.jsonld"
    target.write_bytes(target.read_bytes().replace(b"https://schema.org/name", b"https://evil.example/name"))
    monkeypatch.setattr(loader_module, "CONTEXTS_DIR", copy_dir)
    with pytest.raises(ContextManifestError, match="credentials-v2.jsonld"):
        ContextLoader()
