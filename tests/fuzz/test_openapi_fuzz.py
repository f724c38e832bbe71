"""API fuzzing from /openapi.json: Schemathesis against a running node (issue 14, point 4).

A real ``vcnode serve`` process on 127.0.0.1 (tests/served.py), its tokens made with ``vcnode
token create``, and Schemathesis's own CLI (``python -m schemathesis.cli run``) generating
requests for every operation the node describes, so endpoints added later are fuzzed without
a change here. Three identities, one run each: no token, an ``admin`` token, and a token for
another issuer (``issue,status`` bound to ``partner``: the 403 paths). Every response must
pass Schemathesis's checks: no 5xx, a status, media type, headers and body the document
declares, refusals of schema-invalid input (4xx), 401 where a token is required, 405 for
methods not served. Not checked: that schema-valid input is accepted (a credential the
generator makes is well-formed and unsigned; the node rightly says no). The node must log no
internal error.

The node is told to fetch from itself alone (``fetch_allow_hosts``): generated credentials name
did:web hosts and status-list URLs, and the fuzzer must not send the node out to them.

Sizes (docs/reliability.md, "API fuzzing"): under CI a short seeded run, the same requests every
time; ``VCNODE_FUZZ_EXAMPLES=N`` sets the examples per operation and phase for a long random
run (``VCNODE_FUZZ_SEED`` fixes its seed), and ``VCNODE_FUZZ_MIN_REQUESTS`` the number of
requests it must at least have sent:

    VCNODE_FUZZ_EXAMPLES=150 VCNODE_FUZZ_MIN_REQUESTS=10000 python -m pytest tests/fuzz -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from served import ServedNode, free_port, serve_node

EXAMPLES = int(os.environ.get("VCNODE_FUZZ_EXAMPLES") or 0)
LONG = EXAMPLES > 0
SEED = os.environ.get("VCNODE_FUZZ_SEED") or ("" if LONG else "14")
MIN_REQUESTS = int(os.environ.get("VCNODE_FUZZ_MIN_REQUESTS") or (10_000 if LONG else 300))
IDENTITIES = {"anonymous": None, "admin": ("admin", None), "partner": ("issue,status", "partner")}
# positive_data_acceptance: a generated credential is well-formed and unsigned; refusing it is right.
EXCLUDED_CHECKS = "positive_data_acceptance"

ACHIEVEMENT = {
    "title": "Fuzzing Fundamentals", "description": "Sending a node what it never expected.", "humanCode": "FZ-1",
    "learningOutcomes": ["Read a problem report"], "ects": 1, "eqfLevel": 5,
    "assessment": {"type": "written examination"}, "participation": "online",
    "qualityAssurance": {"description": "Institutional accreditation", "url": "https://qa.example/decisions/1"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL"},
}


def _post(node: ServedNode, path: str, body: Any, token: str) -> Any:
    req = urllib.request.Request(
        node.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    port = free_port()
    folder = tmp_path_factory.mktemp("fuzzed")
    with serve_node(
        folder, port=port, rate_limit_per_second=0, fetch_allow_hosts=f"127.0.0.1:{port}",
        status_purposes="revocation,suspension", fetch_timeout_seconds=2,
    ) as node:
        node.cli("issuer", "create", "partner")
        admin = node.token("admin")
        for scopes, issuer in filter(None, IDENTITIES.values()):
            node.token(scopes, issuer)
        # Something to find: an achievement, a credential and so the status lists 1.
        slug = _post(node, "/issuers/default/achievements", ACHIEVEMENT, admin)["slug"]
        _post(node, "/credentials/issue", {"credential": {
            "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": node.did,
            "credentialSubject": {"id": "did:example:learner"}}}, admin)
        node.slug = slug  # type: ignore[attr-defined]
        yield node


def _config(folder: Path, slug: str) -> Path:
    """Path parameters that name what exists, half of the time (the other half: anything)."""
    config = folder / "schemathesis.toml"
    config.write_text(f"""
[dictionaries.issuers]
values = ["default", "partner"]
[dictionaries.slugs]
values = ["{slug}"]
[dictionaries.seqs]
values = [1]
[parameters]
"path.name" = {{ dictionary = "issuers", probability = 0.5 }}
"path.issuer" = {{ dictionary = "issuers", probability = 0.5 }}
"path.slug" = {{ dictionary = "slugs", probability = 0.5 }}
"path.seq" = {{ dictionary = "seqs", probability = 0.5 }}
# An over-long query string is refused before any handler reads it: 414, as RFC 9112 §3 says.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "431", "5xx"]
""")
    return config


def _run(node: ServedNode, identity: str, folder: Path) -> dict[str, Any]:
    report = folder / f"schemathesis-{identity}.json"
    args = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(_config(folder, node.slug)),  # type: ignore[attr-defined]
        "run", node.url + "/openapi.json",
        "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
        "--workers", "1", "--request-timeout", "60",
        "--report", "json", "--report-json-path", str(report), "--no-color",
    ]
    if LONG:
        args += ["--max-examples", str(EXAMPLES), "--generation-database", "none"]
    else:
        # Short and the same every run: the coverage phase's boundary values, a few generated cases.
        args += ["--max-examples", "4", "--generation-deterministic"]
    if SEED:
        args += ["--seed", SEED]
    spec = IDENTITIES[identity]
    if spec is not None:
        args += ["--header", f"Authorization: Bearer {node.token(*spec)}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=3600, cwd=folder)
    (folder / f"schemathesis-{identity}.txt").write_text(proc.stdout + proc.stderr)
    assert report.exists(), f"schemathesis wrote no report: {proc.stdout[-3000:]} {proc.stderr[-3000:]}"
    out: dict[str, Any] = json.loads(report.read_text())
    out["output"] = proc.stdout
    return out


def _describe(report: dict[str, Any]) -> str:
    # The failure details (the reproducing curl command included) are in the text output.
    tail = report["output"][report["output"].find("FAILURES"):] if "FAILURES" in report["output"] else report["output"][-4000:]
    return json.dumps(report["failures"] + report["errors"], indent=1)[:3000] + "\n" + tail[:12000]


def test_every_operation_with_and_without_tokens_answers_as_documented(
    node: ServedNode, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("schemathesis")
    counts = {}
    for identity in IDENTITIES:
        report = _run(node, identity, folder)
        assert report["operations"]["tested"] == report["operations"]["total"] > 0, report["operations"]
        assert not report["failures"] and not report["errors"], f"{identity}: {_describe(report)}"
        counts[identity] = report["test_cases"]["generated"]
    total = sum(counts.values())
    print(f"\nschemathesis: {total} requests generated ({counts}), seed {SEED or 'random'}, 0 failures")
    assert total >= MIN_REQUESTS, counts
    assert node.internal_errors() == [], node.internal_errors()[:5]
