"""``vcnode verify``: JSON on stdout, exit 0 verified / 1 not verified / 2 unusable input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from did.key import did_key_from_public_key
from node.cli import main
from vc.credentials import issue_credential
from vc.crypto import Ed25519KeyPair
from vc.cryptosuites import SUITES
from vc.limits import DEFAULT_LIMITS
from vc.loader import default_loader
from vc.presentations import create_presentation, sign_presentation

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = Ed25519KeyPair.from_seed(bytes([9]) * 32)
DID = did_key_from_public_key(KEY.public_key)
VM = f"{DID}#{DID.removeprefix('did:key:')}"


def signed_credential() -> dict[str, Any]:
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:student", "name": "Ada"},
    }
    return issue_credential(vc, key=KEY, verification_method=VM, suite=SUITES["eddsa-rdfc-2022"], loader=default_loader(), now=NOW)


def write(tmp_path: Path, doc: Any, name: str = "doc.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return str(path)


def run(capsys: Any, *argv: str) -> tuple[int, Any, str]:
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_verified_credential_exits_0_with_json(tmp_path: Path, capsys: Any) -> None:
    code, out, err = run(capsys, write(tmp_path, signed_credential()), "--now", "2025-06-01T12:00:00Z")
    assert code == 0, out
    assert out["verified"] is True and out["kind"] == "credential"
    assert {c["check"] for c in out["checks"]} >= {"dataModel", "validity", "proof", "binding"}
    assert "verified" in err


def test_tampered_credential_exits_1_and_names_the_error(tmp_path: Path, capsys: Any) -> None:
    vc = signed_credential()
    vc["credentialSubject"]["name"] = "Eve"
    code, out, _ = run(capsys, write(tmp_path, vc), "--json", "--now", "2025-06-01T12:00:00Z")
    assert code == 1
    assert out["verified"] is False
    assert "PROOF_VERIFICATION_ERROR" in {e["code"] for e in out["errors"]}


def test_expired_as_of_now_exits_1(tmp_path: Path, capsys: Any) -> None:
    vc = signed_credential()
    code, out, _ = run(capsys, write(tmp_path, vc), "--json", "--now", "2023-06-01T00:00:00Z")
    assert code == 1
    assert "RANGE_ERROR" in {e["code"] for e in out["errors"]}


def test_presentation_challenge_is_checked(tmp_path: Path, capsys: Any) -> None:
    vp = sign_presentation(
        create_presentation([signed_credential()], holder=DID), key=KEY, verification_method=VM,
        suite=SUITES["eddsa-jcs-2022"], loader=default_loader(), now=NOW, challenge="abc", domain="verifier.example",
    )
    path = write(tmp_path, vp)
    good = run(capsys, path, "--challenge", "abc", "--domain", "verifier.example", "--now", "2025-06-01T12:00:00Z", "--json")
    assert good[0] == 0, good[1]
    assert good[1]["kind"] == "presentation" and len(good[1]["credentialResults"]) == 1
    bad = run(capsys, path, "--challenge", "xyz", "--now", "2025-06-01T12:00:00Z", "--json")
    assert bad[0] == 1
    assert "INVALID_CHALLENGE_ERROR" in {e["code"] for e in bad[1]["errors"]}


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"a": ', "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"type": "Thing"}', "neither VerifiableCredential nor VerifiablePresentation"),
        ("[" * 5000 + "]" * 5000, "nests deeper"),
        ('{"type": ["VerifiableCredential"], "x": "' + "a" * (DEFAULT_LIMITS.max_bytes + 1) + '"}', "more than the limit"),
        ('{"type": ["VerifiableCredential"], "credentialSubject": {"name": "Ada", "name": "Eve"}}', "the member 'name' appears twice"),
    ],
    ids=["truncated", "array", "no VC type", "deep", "oversized", "member twice"],
)
def test_unusable_input_exits_2(content: str, words: str, tmp_path: Path, capsys: Any) -> None:
    code, out, err = run(capsys, write(tmp_path, content))
    assert code == 2
    assert out is None and words in err


def test_missing_file_and_credential_with_challenge_exit_2(tmp_path: Path, capsys: Any) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read" in err
    code, out, _ = run(capsys, write(tmp_path, signed_credential()), "--challenge", "c", "--json")
    assert code == 2 and "presentations only" in out["error"]


def test_unusable_network_options_are_usage_errors(tmp_path: Path, capsys: Any) -> None:
    path = write(tmp_path, signed_credential())
    code, out, _ = run(capsys, path, "--allow-insecure", "not-a-host-port", "--json")
    assert code == 2 and "--allow-insecure" in out["error"]
    code, out, _ = run(capsys, path, "--timeout", "0", "--json")
    assert code == 2 and "--timeout must be positive" in out["error"]