"""``vcnode verify FILE``: verify a credential or presentation and print the result as JSON.

Exit 0 verified, 1 not verified, 2 unusable input (unreadable, not JSON, over the hostile-input
bounds, or neither a credential nor a presentation). did:key resolves locally; did:web goes
through the guarded HTTP client. Status lists are checked by ``status.check`` when present.

Verifying as a node: with ``--data DIR``, or when the default data folder (``./vcnode-data``,
``VCNODE_DATA_DIR``) holds a node, that node's own DIDs and status lists are answered from its
store, as the node itself does, and everything else goes over the network. That is how the
credentials of a node on ``http://localhost:8443`` (whose did:web the guarded client would not
fetch: plain HTTP to a loopback address) verify on the machine that runs it, served or not.
``--network-only`` leaves the data folder out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

from node.cli.config import warn_about_environment
from node.cli.network import add_network_arguments, guarded_resolver, network_settings
from node.config import Config, ConfigError, load_config
from node.keys import KeyProtectionError
from node.node import open_node
from node.own_lists import OwnStatusLists
from node.store import StoreError, store_exists
from did.resolver import Resolver
from vc.errors import ProblemError
from vc.limits import DEFAULT_LIMITS, parse_json
from vc.results import VerificationResult

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_UNUSABLE = 0, 1, 2


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="verify a credential or presentation (JSON file, or - for stdin)",
        description="Verify a Verifiable Credential or Presentation and print the result as JSON. "
        "Exit 0 verified, 1 not verified, 2 unusable input.",
    )
    p.add_argument("file", metavar="FILE", help="the JSON document, or - to read standard input")
    p.add_argument("--challenge", help="the challenge the presentation's proof must carry")
    p.add_argument("--domain", help="the domain the presentation's proof must carry")
    p.add_argument("--json", action="store_true", help="print only compact JSON (no summary on stderr)")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="DID",
        help="an accreditation body to trust: report whether each issuer is accredited through it; repeatable",
    )
    p.add_argument("--trust-depth", type=int, default=3, metavar="N", help="accreditation links to follow (default 3)")
    p.add_argument("--now", help="verify as of this time (XML Schema dateTime with timezone) instead of the clock")
    p.add_argument(
        "--data",
        dest="data_dir",
        metavar="DIR",
        help="verify as the node in DIR: its own DIDs and status lists come from its store (default: ./vcnode-data if it is a node)",
    )
    p.add_argument("--network-only", action="store_true", help="use no data folder: resolve every DID and status list over the network")
    add_network_arguments(p, timeout_help="seconds allowed for each network fetch")
    p.set_defaults(func=run)


def _fail(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"verified": False, "error": message}))
    else:
        print(f"vcnode verify: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1)
    path = Path(file)
    # Read one byte past the bound so an oversized file is refused without loading it whole.
    with path.open("rb") as f:
        return f.read(DEFAULT_LIMITS.max_bytes + 1)


def run(args: argparse.Namespace) -> int:
    try:
        allowed = network_settings(args)
    except ValueError as e:
        return _fail(str(e), args.json)
    try:
        data = _read(args.file)
    except OSError as e:
        return _fail(f"cannot read {args.file}: {e.strerror or e}", args.json)
    try:
        doc = parse_json(data)
    except ProblemError as e:
        return _fail(f"{args.file}: {e.detail} ({e.code})", args.json)
    if not isinstance(doc, dict):
        return _fail(f"{args.file}: expected a JSON object (a credential or presentation)", args.json)
    types = doc.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiablePresentation" in types:
        kind = "presentation"
    elif "VerifiableCredential" in types:
        kind = "credential"
    else:
        return _fail(f"{args.file}: type includes neither VerifiableCredential nor VerifiablePresentation", args.json)
    if kind == "credential" and (args.challenge or args.domain):
        return _fail("--challenge and --domain apply to presentations only", args.json)
    if args.now:
        from vc.datamodel import parse_datetime_stamp

        try:
            now = parse_datetime_stamp(args.now, "--now")
        except ProblemError as e:
            return _fail(e.detail, args.json)
    else:
        now = datetime.now(timezone.utc)
    try:
        node_config = _node_config(args)
    except ConfigError as e:
        return _fail(str(e), args.json)
    try:
        result = asyncio.run(_verify(doc, kind, args, allowed, now, node_config))
    except (ConfigError, KeyProtectionError, StoreError) as e:
        return _fail(str(e), args.json)
    out = result.to_json()
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
    else:
        print(json.dumps(out, indent=2))
        print(_summary(result), file=sys.stderr)
        _print_reports(result)
    return EXIT_VERIFIED if result.verified else EXIT_NOT_VERIFIED


def _print_reports(result: VerificationResult) -> None:
    """Profile reports (the EU micro-credential elements), readably, beside the summary."""
    from vc.edu import render_report

    reports = [("", result.reports.get("microcredential"))]
    reports += [(f"credential {i}: ", r.reports.get("microcredential")) for i, r in enumerate(result.credentials)]
    for prefix, report in reports:
        if report:
            print(prefix + render_report(report), file=sys.stderr)
    accreditations = [("", result.reports.get("accreditation"))]
    accreditations += [(f"credential {i}: ", r.reports.get("accreditation")) for i, r in enumerate(result.credentials)]
    for prefix, acc in accreditations:
        if acc:
            print(f"{prefix}issuer {acc.get('issuer')}: {acc['status']} ({acc.get('reason', '')})", file=sys.stderr)
    for stack in result.reports.get("stacks", []):
        levels = ", ".join(f"EQF {k}: {v}" for k, v in stack["ectsByEqfLevel"].items())
        verdict = "holds" if stack["verified"] else "REFUSED: " + "; ".join(p["message"] for p in stack["problems"])
        print(f"stack {stack['stack']}: {stack['sumEcts']} of {stack['statedTotalEcts']} ECTS ({levels}); {verdict}", file=sys.stderr)


def _summary(result: VerificationResult) -> str:
    if result.verified:
        return f"verified: the {result.kind} passed every check"
    bad = [f"{c.name} {c.outcome}: {c.message}" for c in result.checks if not c.ok]
    for i, r in enumerate(result.credentials):
        bad += [f"credential {i} {c.name} {c.outcome}: {c.message}" for c in r.checks if not c.ok]
    return f"NOT verified ({result.kind}):\n  " + "\n  ".join(bad)


def _node_config(args: argparse.Namespace) -> Config | None:
    """The configuration of the node to verify as (``--data``, or the default data folder when
    it holds a node), or None."""
    if args.network_only:
        if args.data_dir:
            raise ConfigError("--data and --network-only exclude each other")
        return None
    config = load_config({"data_dir": args.data_dir})
    warn_about_environment()
    if args.data_dir is None and not config.database_url and not store_exists(config.data_dir):
        return None
    return config


@asynccontextmanager
async def _verifier(
    args: argparse.Namespace, allowed: list[str], node_config: Config | None
) -> AsyncIterator[tuple[Any, Resolver, Any]]:
    """(HTTP client, resolver, status-list client): a node's (its own DIDs and lists from its
    store) or a plain guarded one."""
    if node_config is None:
        async with guarded_resolver(allowed, args.timeout) as (http, resolver):
            yield http, resolver, http
        return
    config = node_config.replace(allow_insecure_hosts=(*node_config.allow_insecure_hosts, *allowed))
    async with open_node(config, signing=False) as node:
        if node.http is not None:
            node.http.timeout = args.timeout  # the command's --timeout, as without a node
        print(
            f"vcnode verify: verifying as the node in {config.data_dir} ({node.config.effective_base_url}): "
            "its own DIDs and status lists from its store",
            file=sys.stderr,
        )
        yield node.http, node.resolver, OwnStatusLists(node.status_lists, node.http)


async def _verify(
    doc: dict[str, Any], kind: str, args: argparse.Namespace, allowed: list[str], now: datetime, node_config: Config | None
) -> VerificationResult:
    from status.check import StatusChecker
    from vc.credentials import verify_credential
    from vc.edu import REPORTERS
    from vc.loader import default_loader
    from vc.presentations import verify_presentation

    loader = default_loader()
    async with _verifier(args, allowed, node_config) as (http, resolver, lists):
        check_status = StatusChecker(lists, resolver, loader, lambda: now).check
        if kind == "presentation":
            result = await verify_presentation(
                doc,
                resolver=resolver,
                loader=loader,
                now=now,
                challenge=args.challenge,
                domain=args.domain,
                check_status=check_status,
                reporters=REPORTERS,
            )
        else:
            result = await verify_credential(doc, resolver=resolver, loader=loader, now=now, check_status=check_status, reporters=REPORTERS)
        # Accreditation of the issuers (with --trust) and the stack check (issue 7, node.trust).
        from node.trust import AccreditationVerifier, add_trust_reports, fetch_published

        async def verify_link(credential: dict[str, Any]) -> VerificationResult:
            return await verify_credential(credential, resolver=resolver, loader=loader, now=now, check_status=check_status)

        accreditations = AccreditationVerifier(
            trusted=args.trust,
            verify=verify_link,
            fetch=lambda did: fetch_published(http, did),
            now=now,
            max_depth=max(1, args.trust_depth),
        )
        await add_trust_reports(accreditations, result)
        return result
