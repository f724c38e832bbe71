"""``vcnode issuer create|list|show|enable-suspension|rotate-key|retire-key``: the issuers
hosted by this node, their status purposes and the life of their keys (``node.key_lifecycle``)."""

from __future__ import annotations

import argparse
from typing import Any

from node.cli.config import add_common_flags, print_json, run
from node.config import Config
from node.issuers import IssuerInfo
from node.node import open_node


def _create(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        purposes = args.status_purposes.split(",") if args.status_purposes else None
        async with open_node(config, network=False) as node:
            issuer = await node.issuers.create(args.name, status_purposes=purposes)
        if args.json:
            print_json(issuer.to_json())
        else:
            print(f"issuer {issuer.name}: {' '.join(issuer.dids)}")
        return 0

    return run(args, operation)


def _list(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            issuers = await node.issuers.list()
        if args.json:
            print_json({"issuers": [i.to_json() for i in issuers]})
        else:
            for issuer in issuers:
                print(f"{issuer.name}\t{' '.join(issuer.dids)}\t{','.join(issuer.status_purposes)}")
        return 0

    return run(args, operation)


def _key_line(key: Any, signed: int) -> str:
    if key.state == "active":
        when = f"active since {key.activated}"
    else:
        when = f"active {key.activated} to {key.superseded}"
        if key.state == "retired":
            when += f", retired {key.retired}" + (" (COMPROMISED)" if key.compromised else "")
        else:
            when += ", superseded (still in the did:web document: what it signed verifies)"
    return f"  {key.id}  {when}; signed {signed} credential{'s' if signed != 1 else ''}"


def _print_issuer(issuer: IssuerInfo, counts: dict[str, int]) -> None:
    print(f"issuer {issuer.name} (created {issuer.created})")
    print(f"  did:web  {issuer.did}")
    print(f"  did:key  {issuer.dids[1]} (the active key's)")
    print(f"  status purposes  {','.join(issuer.status_purposes)}")
    print("keys, oldest first:")
    for key in issuer.keys:
        print(_key_line(key, counts.get(key.id, 0)))


def _show(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            issuer = await node.issuers.get(args.name)
            counts = await node.keys.signed_counts(args.name)
        if args.json:
            out = issuer.to_json()
            out["created"] = issuer.created
            for key in out["keys"]:
                key["signedCredentials"] = counts.get(key["id"], 0)
            print_json(out)
        else:
            _print_issuer(issuer, counts)
        return 0

    return run(args, operation)


def _enable_suspension(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            issuer, added = await node.issuers.add_status_purpose(args.name, "suspension")
            refresh_ms = node.config.issuer_refresh_ms
        if args.json:
            print_json({"issuer": issuer.name, "statusPurposes": list(issuer.status_purposes), "enabledNow": added})
            return 0
        purposes = ",".join(issuer.status_purposes)
        if not added:
            print(f"issuer {issuer.name}: suspension was enabled already (status purposes {purposes}); nothing changed")
            return 0
        print(f"issuer {issuer.name}: suspension enabled (status purposes {purposes})")
        print(
            f"  Credentials it issues from now on carry a suspension entry; a running node issues them within {refresh_ms} ms."
        )
        print(
            "  Credentials issued before have no suspension entry and cannot gain one: they can be revoked, "
            "not suspended."
        )
        return 0

    return run(args, operation)


def _rotate(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            rotation = await node.keys.rotate(args.name)
            refresh_ms = node.config.issuer_refresh_ms
        if args.json:
            print_json(rotation.to_json())
            return 0
        issuer = rotation.issuer
        print(f"issuer {issuer.name}: key rotated")
        print(f"  signs from now on:  {rotation.current.id}")
        print(
            f"  superseded:         {rotation.previous.id}: it stays in {issuer.did}'s document, so the "
            f"credentials and lists it signed keep verifying; retire it with: vcnode issuer retire-key {issuer.name} {rotation.previous.id}"
        )
        print(f"  status lists:       {rotation.lists_resigned} re-signed with the new key")
        print(f"  did:key:            {rotation.did_key_note}")
        print(
            f"  A running node serves the new DID document within {refresh_ms} ms. Verifiers may keep the old document "
            f"for up to 5 minutes (it is served with max-age=300), and until they fetch it again they do not know the new key."
        )
        return 0

    return run(args, operation)


def _retire(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            retirement = await node.keys.retire(args.name, args.key_id, compromised=args.compromised, revoke=args.revoke)
            issuer = await node.issuers.get(args.name)
            counts = await node.keys.signed_counts(args.name)
        if args.json:
            print_json(retirement.to_json())
            return 0
        key = retirement.key
        if retirement.retired_now:
            print(f"issuer {issuer.name}: key {key.id} retired" + (" as compromised" if key.compromised else ""))
        else:
            print(f"issuer {issuer.name}: key {key.id} was retired on {key.retired}" + (" (now marked compromised)" if args.compromised else ""))
        signed = counts.get(key.id, 0)
        print(
            f"  It is no longer in {issuer.did}'s document: what it signed under the did:web ({signed} credential"
            f"{'s' if signed != 1 else ''} in all, under either DID) no longer verifies there"
            + ("; the issuer's status lists were re-signed with the active key." if retirement.lists_resigned else ".")
        )
        print(
            f"  Credentials it signed as {key.did_key} stay verifiable wherever did:key is accepted (a did:key cannot be "
            "retired); revoking them is the only way to withdraw them. "
            + (
                "Its secret is kept, sealed, to sign that did:key's status lists and nothing else."
                if retirement.kept_for_did_key_lists
                else "Its secret is erased (no status list needs it)."
            )
        )
        if args.compromised:
            print(f"  Credentials this key signed ({len(retirement.signed)}):")
            for record in retirement.signed:
                print(f"    {record.id}\t{record.subject_id or '-'}\t{record.issued}\t{record.status}")
            if retirement.revoked:
                print(f"  Revoked now: {len(retirement.revoked)}.")
            if retirement.not_revocable:
                print(f"  Issued without a revocation entry, so they cannot be revoked: {', '.join(retirement.not_revocable)}")
            if not args.revoke and any(r.status != "revoked" for r in retirement.signed):
                print(f"  Revoke them all with: vcnode issuer retire-key {issuer.name} {key.id} --compromised --revoke")
        return 0

    return run(args, operation)


def _action(actions: Any, name: str, func: Any, *, help: str, json_help: str, description: str | None = None) -> Any:
    """A sub-command on one issuer (NAME), with --json and the common flags."""
    parser = actions.add_parser(name, help=help, description=description or help)
    parser.add_argument("name", help="the issuer's name: lower-case letters, digits, '.', '_' or '-'")
    parser.add_argument("--json", action="store_true", help=json_help)
    add_common_flags(parser)
    parser.set_defaults(func=func)
    return parser


def register(sub: Any) -> None:
    parser = sub.add_parser("issuer", help="create, list and show issuers; enable suspension; rotate and retire their keys")
    actions = parser.add_subparsers(dest="issuer_action", metavar="ACTION", required=True)
    create = _action(
        actions, "create", _create, help="create an issuer with its own key, DIDs and status lists", json_help="print the issuer as JSON"
    )
    create.add_argument("--status-purposes", metavar="LIST", help="e.g. revocation,suspension (default from config)")
    listing = actions.add_parser("list", help="list the issuers")
    listing.add_argument("--json", action="store_true", help="print the issuers (with their keys) as JSON")
    add_common_flags(listing)
    listing.set_defaults(func=_list)
    _action(actions, "show", _show, help="an issuer's DIDs and the history of its keys (which key signed when)", json_help="print as JSON")
    _action(
        actions,
        "enable-suspension",
        _enable_suspension,
        help="the issuer's credentials carry a suspension entry from now on (idempotent)",
        description="Add suspension to the issuer's status purposes: every credential it issues from now on "
        "carries a suspension entry, so it can be suspended and reinstated (vcnode suspend / unsuspend). "
        "Credentials issued before cannot gain one. Safe while the node serves: a running node issues with "
        "it within issuer_refresh_ms. Running it again changes nothing.",
        json_help="print {issuer, statusPurposes, enabledNow} as JSON",
    )
    _action(
        actions,
        "rotate-key",
        _rotate,
        help="a new Ed25519 key signs from now on; the old one stays in the did:web document",
        description="Give the issuer a new Ed25519 key. The old key stays in the issuer's did:web document "
        "(assertionMethod), so credentials and status lists it signed keep verifying; the status lists are "
        "re-signed with the new key. A did:key cannot rotate: the issuer's did:key becomes the new key's.",
        json_help="print the result as JSON",
    )
    retire = _action(
        actions,
        "retire-key",
        _retire,
        help="take a superseded key out of the did:web document and erase it",
        description="Retire one of the issuer's earlier keys: it leaves the did:web document and its secret is "
        "erased, so nothing it signed under the did:web verifies any more. The active key cannot be retired "
        "(rotate first).",
        json_help="print the result as JSON",
    )
    retire.add_argument("key_id", metavar="KEY_ID", help="the key (z6Mk..., as issuer show lists it) or a verification method id ending in it")
    retire.add_argument("--compromised", action="store_true", help="record the key as compromised and list every credential it signed")
    retire.add_argument("--revoke", action="store_true", help="with --compromised: revoke every credential it signed, in this command")
