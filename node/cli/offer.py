"""``vcnode offer create ACHIEVEMENT --learner-name NAME ...``: a credential offer for a wallet.

The learner scans the QR code (or opens the link) with an OpenID4VCI wallet, which collects the
micro-credential from the running node (docs/wallets.md). The award is checked in full now,
as ``issue-batch`` checks a row: an incomplete one is refused with every problem named (exit
2), and nothing is stored. Prints the ``openid-credential-offer://`` link (and the transaction
code, with ``--tx-code``: deliver it to the learner by another channel) and writes the QR code
to ``--qr FILE.png`` or ``FILE.svg``. The link, the code and the QR code are shown this once;
the node keeps only hashes. ``vcnode offer show ID`` says what became of an offer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from node.cli.achievement import print_problems
from node.cli.config import add_common_flags, add_json_flag, fail, print_json, run
from node.config import Config
from node.issuers import DEFAULT_ISSUER
from node.node import open_node
from node.oid4vci import NewOffer, TxCode
from node.oid4vci.qr import qr_png, qr_svg
from vc.edu import ProfileError


def write_qr(path: Path, link: str) -> None:
    """The link's QR code as PNG or SVG, by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".svg":
        path.write_text(qr_svg(link), encoding="utf-8")
    else:
        path.write_bytes(qr_png(link))


def tx_code_of(args: argparse.Namespace) -> TxCode | None:
    if args.tx_code is None:
        return None
    return TxCode(length=args.tx_code, input_mode="text" if args.tx_code_text else "numeric", description=args.tx_code_description)


def _create(args: argparse.Namespace) -> int:
    qr = Path(args.qr) if args.qr else None
    if qr is not None and qr.suffix.lower() not in (".png", ".svg"):
        return fail("--qr names a .png or .svg file")
    learner = {"name": args.learner_name}
    if args.learner_email:
        learner["email"] = args.learner_email
    award: dict[str, Any] = {"achievementId": args.achievement, "learner": learner}
    for key, value in (("validFrom", args.valid_from), ("grade", args.grade), ("idempotencyKey", args.idempotency_key)):
        if value is not None:
            award[key] = value

    async def operation(config: Config) -> int:
        async with open_node(config, network=False) as node:
            try:
                offer: NewOffer = await node.oid4vci.create_offer(
                    args.issuer, award, tx_code=tx_code_of(args), expires_in=args.expires_in,
                    allow_insecure_hosts=config.allow_insecure_hosts,
                )
            except ProfileError as e:
                return print_problems("the offer was", e)
        if qr is not None:
            write_qr(qr, offer.link)
        if args.json:
            out = offer.to_json()
            if qr is not None:
                out["qrFile"] = str(qr)
            print_json(out)
            return 0
        print(offer.link)
        if offer.tx_code is not None:
            print(f"transaction code (send it to the learner by another channel): {offer.tx_code}", file=sys.stderr)
        print(
            f"offer {offer.id} of {offer.configuration_id} for {args.learner_name}, usable until "
            f"{offer.expires.strftime('%Y-%m-%d %H:%M UTC')}" + (f"; QR code in {qr}" if qr else ""),
            file=sys.stderr,
        )
        return 0

    return run(args, operation)


def _show(args: argparse.Namespace) -> int:
    async def operation(config: Config) -> int:
        async with open_node(config, network=False, signing=False) as node:
            state = await node.oid4vci.offer(args.issuer, args.id)
        print_json(state.to_json())
        return 0

    return run(args, operation)


def add_offer_flags(p: argparse.ArgumentParser) -> None:
    """What an offer takes besides its award (shared with ``issue-batch --offers``)."""
    p.add_argument("--tx-code", type=int, nargs="?", const=6, metavar="N",
                   help="the wallet must also send a transaction code of N characters (default 6), printed here")
    p.add_argument("--tx-code-text", action="store_true", help="letters and digits instead of digits only")
    p.add_argument("--tx-code-description", metavar="TEXT", help="what the wallet shows beside the input (at most 300 characters)")
    p.add_argument("--expires-in", type=int, metavar="SECONDS", help="how long the offer can be used (default: oid4vci_offer_ttl_seconds)")


def register(sub: Any) -> None:
    parser = sub.add_parser("offer", help="offer micro-credentials to learners' wallets (OpenID4VCI)")
    actions = parser.add_subparsers(dest="offer_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="make a credential offer: prints the openid-credential-offer:// link, writes its QR code",
        description="Offer one micro-credential of ACHIEVEMENT to a learner's wallet. The wallet collects it from the "
        "running node (pre-authorized code flow), bound to its own DID.",
    )
    create.add_argument("achievement", metavar="ACHIEVEMENT", help="the achievement's slug (vcnode achievement list)")
    create.add_argument("--learner-name", required=True, metavar="NAME", help="the learner's name, as the credential will carry it")
    create.add_argument("--learner-email", metavar="EMAIL", help="the learner's e-mail address (the credential carries it salted and hashed)")
    create.add_argument("--valid-from", metavar="DATE", help="when the award takes effect (default: when collected)")
    create.add_argument("--grade", metavar="GRADE", help="the grade, one of the assessment's allowed values")
    create.add_argument("--idempotency-key", metavar="KEY", help="the award's identity: one credential per key, ever")
    create.add_argument("--issuer", default=DEFAULT_ISSUER, help="the issuer (default: default)")
    create.add_argument("--qr", metavar="FILE.png|FILE.svg", help="write the QR code of the link here")
    add_offer_flags(create)
    create.add_argument("--json", action="store_true", help="print the offer as POST /issuers/{name}/offers answers it")
    add_common_flags(create)
    create.set_defaults(func=_create)
    show = actions.add_parser("show", help="what became of an offer (offered, redeemed, issued, expired, locked)")
    show.add_argument("id", metavar="ID", help="the offer's id (offerId, as create printed it)")
    show.add_argument("--issuer", default=DEFAULT_ISSUER, help="the issuer that made it (default: default)")
    add_json_flag(show)
    add_common_flags(show)
    show.set_defaults(func=_show)
