"""Helpers shared by test modules (importable as ``support``: pytest puts tests/ on the path).

Kept out of conftest.py because several conftest.py files exist and ``from conftest import``
picks whichever was imported first.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- the JavaScript reference harness (../shared/interop) -------------------------------------
ROOT = Path(__file__).resolve().parent.parent
SHARED_INTEROP = Path(os.environ.get("VC_INTEROP_SRC", ROOT.parent / "shared" / "interop")).resolve()
_installed: Path | None = None


def _unavailable(message: str) -> None:
    # Under CI the cross-checks are part of the bar: a missing harness fails, never skips.
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def interop_harness() -> Path:
    """An installed copy of the JS harness: VC_INTEROP_DIR if it is one, else a copy of
    ../shared/interop made once per package-lock (the shared folder may be read-only) and
    installed with `npm ci` from the lock file."""
    global _installed
    if _installed is not None:
        return _installed
    given = os.environ.get("VC_INTEROP_DIR")
    if given and (Path(given) / "node_modules").is_dir():
        _installed = Path(given).resolve()
        return _installed
    _installed = npm_installed(SHARED_INTEROP, "interop", what="the interop harness")
    return _installed


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Any:
    """Held by one process at a time (an advisory lock on ``lock_file``): the suite runs in
    several pytest-xdist workers, and two of them must not install the same thing at once."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def npm_installed(source: Path, name: str, *, what: str) -> Path:
    """An installed copy of the npm package folder ``source``: copied to .cache/NAME-<lock
    digest> once per package-lock.json and installed there with ``npm ci`` from the lock file
    (so exactly the locked versions, and nothing written into the source folder). Without node
    and npm the test is skipped, or under CI=true fails."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable(f"node and npm are needed for {what}")
    lock = source / "package-lock.json"
    if not lock.is_file():
        _unavailable(f"{what} is not at {source}")
    digest = hashlib.sha256(lock.read_bytes() + (source / "package.json").read_bytes()).hexdigest()[:16]
    target = ROOT / ".cache" / f"{name}-{digest}"
    with exclusive(ROOT / ".cache" / f"{name}.lock"):
        return _npm_install(source, target, what)


def _npm_install(source: Path, target: Path, what: str) -> Path:
    if not (target / "node_modules").is_dir():
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("node_modules"))
        for p in staging.rglob("*"):
            p.chmod(p.stat().st_mode | 0o200)
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=staging, capture_output=True, text=True, timeout=600
        )
        if proc.returncode != 0:
            _unavailable(f"npm ci of {what} failed: {proc.stderr[-2000:]}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    else:
        # The scripts may change without the lock: keep the installed copy's in step.
        for script in source.glob("*.mjs"):
            shutil.copy2(script, target / script.name)
    return target


def _parse(args: tuple[str, ...], out: bytes, err: bytes) -> object:
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"node {' '.join(args)} printed no JSON: {out[:500]!r} {err[:2000]!r}") from None


async def run_js(*args: str, stdin: bytes | None = None, timeout: float = 120) -> tuple[int, Any]:
    """Run a harness script (e.g. "verify.mjs", path, ...) -> (exit code, its JSON output)."""
    cwd = interop_harness()
    proc = await asyncio.create_subprocess_exec(
        "node", *args, cwd=cwd,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=timeout)
    return proc.returncode or 0, _parse(args, out, err)


def run_js_sync(*args: str, stdin: bytes | None = None, timeout: float = 120) -> tuple[int, Any]:
    proc = subprocess.run(["node", *args], cwd=interop_harness(), input=stdin, capture_output=True, timeout=timeout)
    return proc.returncode, _parse(args, proc.stdout, proc.stderr)


# --- responses against /openapi.json ---------------------------------------------------------


class ResponseLog:
    """Every response an app sends, kept to be checked against the app's own /openapi.json:
    its status and media type must be described for that operation, and its body must match
    the described schema. Attach before the app starts (``ResponseLog(app)``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str | None, int, str, bytes]] = []
        app.on_response_prepare.append(self._record)

    async def _record(self, request: Any, response: Any) -> None:
        resource = request.match_info.route.resource
        body = getattr(response, "body", None)
        self.seen.append(
            (request.method, resource.canonical if resource is not None else None, response.status, response.content_type, bytes(body or b""))
        )

    def check(self) -> set[tuple[str, int]]:
        """Check every recorded response of a described operation; the (operationId, status) pairs seen."""
        from openapi_schema_validator import OAS31Validator

        from node.routes.openapi import document

        doc = document(self.app)
        validators: dict[str, Any] = {}
        covered: set[tuple[str, int]] = set()
        for method, path, status, media, body in self.seen:
            op = doc["paths"].get(path or "", {}).get(method.lower())
            if op is None:  # HEAD, CORS preflights, unknown paths: not operations
                continue
            described = op["responses"].get(str(status))
            where = f"{method} {path} -> {status} {media}: {body[:300]!r}"
            assert described is not None, f"undocumented status: {where}"
            covered.add((op["operationId"], status))
            if "content" not in described:
                assert not body, f"a body where none is described: {where}"
                continue
            assert media in described["content"], f"undocumented media type (described: {list(described['content'])}): {where}"
            if not media.endswith("json"):  # HTML, CSS, script: the media type is what is described
                continue
            schema = described["content"][media]["schema"]
            key = json.dumps(schema, sort_keys=True)
            if key not in validators:
                validators[key] = OAS31Validator({**schema, "components": doc["components"]})
            errors = sorted(validators[key].iter_errors(json.loads(body)), key=lambda e: list(e.absolute_path))
            assert not errors, f"{where}\n" + "\n".join(f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])
        return covered


# --- the node's store, read directly by tests -----------------------------------------------------


async def query(db: Any, sql: str, params: Any = ()) -> list[Any]:
    """Every row of ``sql`` on a ``node.store.Database`` (committed data)."""
    async with db.read() as tx:
        return await tx.fetchall(sql, params)


async def query_one(db: Any, sql: str, params: Any = ()) -> Any:
    async with db.read() as tx:
        return await tx.fetchone(sql, params)


# --- the signing pool (tests/node/test_signing.py, test_microcredential_batches.py) -------------


@pytest.fixture(autouse=True)
def fresh_shared_signer() -> Any:
    """Imported by a test module, its tests each end with the process's own signing pool closed
    and forgotten: a test that breaks the pool must not leave later tests on one core."""
    from node import signing

    yield
    if signing._shared is not None:
        signing._shared.close()
    signing._shared = None


# --- OpenID4VCI tests (tests/node/test_oid4vci.py, tests/wallet) -------------------------------

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
# A complete achievement (slug ds-101) and an award of it, as an issuer would offer it.
OFFERED_ACHIEVEMENT: dict[str, Any] = {
    "slug": "ds-101",
    "title": "Data Science Fundamentals",
    "description": "Statistics and Python for data analysis.",
    "learningOutcomes": ["Explain the assumptions of linear regression"],
    "ects": 5,
    "eqfLevel": 6,
    "assessment": {"type": "written examination", "resultType": "LetterGrade", "allowedValues": ["A", "B", "C", "F"]},
    "participation": "online",
    "qualityAssurance": {"description": "Institutional accreditation by NVAO", "url": "https://www.nvao.net/decisions/12345"},
    "awardingBody": {"name": "University of Example", "countryCode": "NL"},
}
OFFERED_AWARD: dict[str, Any] = {"achievementId": "ds-101", "learner": {"name": "Ana Lima", "email": "ana@example.org"}}


class WallClock:
    """A node's clock for tests with wallets: the wall clock (wallets stamp their proofs with
    it) plus an ``offset`` a test moves forward to expire things."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset
