"""``vcnode issue-batch ACHIEVEMENT learners.csv``: one micro-credential per CSV row.

Columns (header row, names case-insensitive): ``name`` (required), ``email``, ``id`` (the
learner's DID), ``valid_from`` (or ``date``), ``grade``, ``evidence`` (a URL, or a narrative),
``idempotency_key`` (or ``key``). Every row is checked before anything is signed; refused rows
are reported with their line number and reasons, the others issued in one batch (one status
index allocation and one write of each status list for the whole file). A row's idempotency key
is its ``idempotency_key`` column, else a hash of its content, so re-running the same file
issues nothing twice.

Output: ``--out DIR`` (one ``<uuid>.json`` per credential), ``--out FILE.jsonl`` (appended, one
credential per line), default standard output (JSON lines). Only newly issued credentials are
written: the node keeps no credential bodies, so rows issued by an earlier run are counted as
"already issued" (the earlier output holds them). A progress bar goes to standard error when
it is a terminal. Exit 0 when every row was issued (now or before), 1 when some were refused,
2 bad usage.

``--offers``: one OpenID4VCI credential offer per row instead of a credential (docs/wallets.md):
each row is checked as above, then its offer's link goes out as a JSON line
``{line, name, email?, offerId, link, txCode?, expires, qr?}`` (standard output, or appended to
``--out FILE.jsonl``; with ``--out DIR``, to ``DIR/offers.jsonl`` beside one ``<offerId>.png`` QR
code per row). The learner's wallet collects the credential later, bound to its own DID, so an
``id`` column is refused. A row whose key has issued already is refused as such.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from node.node import open_node
from node.cli.config import add_common_flags, fail, run
from node.cli.offer import add_offer_flags, tx_code_of, write_qr
from node.config import Config
from node.errors import IdempotencyConflictError
from node.issuers import DEFAULT_ISSUER
from vc.edu import ProfileError

COLUMNS = {
    "name": "name",
    "email": "email",
    "id": "id",
    "did": "id",
    "valid_from": "valid_from",
    "validfrom": "valid_from",
    "date": "valid_from",
    "grade": "grade",
    "evidence": "evidence",
    "idempotency_key": "key",
    "idempotencykey": "key",
    "key": "key",
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
MAX_CELL = 10_000


class UsageError(Exception):
    pass


def read_rows(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) per data row; refuses unknown or missing columns up front."""
    handle = sys.stdin if path == "-" else open(path, newline="", encoding="utf-8-sig")
    try:
        lines = iter(handle)
        first = next(lines, None)
        if first is None:
            raise UsageError(f"{path} is empty; expected a header row with at least a name column")
        # A spreadsheet's BOM: utf-8-sig drops it from a file, but standard input keeps it.
        reader = csv.reader(itertools.chain([first.removeprefix("\ufeff")], lines))
        header = next(reader)
        names = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
        unknown = [h for h, n in zip(header, names) if n not in COLUMNS]
        if unknown:
            raise UsageError(f"{path}: unknown column(s) {', '.join(map(repr, unknown))}; use {', '.join(sorted(set(COLUMNS)))}")
        mapped = [COLUMNS[n] for n in names]
        if "name" not in mapped:
            raise UsageError(f"{path}: the header has no name column")
        if len(set(mapped)) != len(mapped):
            raise UsageError(f"{path}: a column appears twice in the header")
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(mapped):
                yield line, {"__error__": f"has {len(record)} cells, the header has {len(mapped)}"}
                continue
            yield line, {m: cell.strip() for m, cell in zip(mapped, record) if cell.strip()}
    finally:
        if handle is not sys.stdin:
            handle.close()


def row_request(slug: str, row: dict[str, str]) -> dict[str, Any]:
    learner = {k: row[k] for k in ("name", "email", "id") if k in row}
    request: dict[str, Any] = {"achievementId": slug, "learner": learner}
    if "valid_from" in row:
        request["validFrom"] = row["valid_from"]
    if "grade" in row:
        request["grade"] = row["grade"]
    if "evidence" in row:
        ev = row["evidence"]
        request["evidence"] = [{"id": ev} if _URI.match(ev) else {"narrative": ev}]
    # Without a key column the row's content is its identity: the same row twice is one award.
    content = json.dumps({"achievement": slug, **{k: v for k, v in sorted(row.items()) if k != "key"}}, sort_keys=True)
    request["idempotencyKey"] = row.get("key") or "row-sha256:" + hashlib.sha256(content.encode()).hexdigest()
    return request


class _Progress:
    """tqdm on a terminal, nothing otherwise (or with --no-progress)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="credential", desc="issuing", file=sys.stderr)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run(args: argparse.Namespace) -> int:
    try:
        rows = list(read_rows(args.csv))
    except UsageError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot read {args.csv}: {e.strerror or e}")
    except (csv.Error, UnicodeDecodeError) as e:
        return fail(f"{args.csv} is not a readable CSV file: {e}")
    if not rows:
        return fail(f"{args.csv} has no data rows")
    out = Path(args.out) if args.out else None
    if out is not None and not out.suffix == ".jsonl" and out.exists() and not out.is_dir():
        return fail(f"--out {out} exists and is not a folder; name a folder or a .jsonl file")
    if args.offers:
        return _run_offers(args, rows, out)

    async def operation(config: Config) -> int:
        bad_rows = [(line, row["__error__"]) for line, row in rows if "__error__" in row]
        good = [(line, row) for line, row in rows if "__error__" not in row]
        requests = [row_request(args.achievement, row) for _, row in good]
        lines = [line for line, _ in good]
        async with open_node(config, network=False) as node:
            achievements = node.achievements
            await achievements.get(args.issuer, args.achievement)  # unknown achievement: fail before any row
            progress = _Progress(len(requests), not args.no_progress)
            try:
                options = {"cryptosuite": args.cryptosuite} if args.cryptosuite else None
                outcome = await achievements.issue(args.issuer, requests, all_or_nothing=False, options=options, progress=progress)
                progress(len(outcome.refused))  # refused rows are done too: the bar ends full
            finally:
                progress.close()
        _write(out, [i.credential for i in outcome.issued if i.credential is not None])
        for line, reason in bad_rows:
            print(f"line {line}: {reason}", file=sys.stderr)
        for r in outcome.refused:
            for p in r.problems:
                print(f"line {lines[r.index]}: {p}", file=sys.stderr)
        refused = len(bad_rows) + len(outcome.refused)
        replayed = len(outcome.issued) - outcome.new
        print(
            f"issued {outcome.new}, already issued {replayed}, refused {refused} of {len(rows)} rows"
            + (f" -> {out}" if out is not None else ""),
            file=sys.stderr,
        )
        return 1 if refused else 0

    return run(args, operation)


def _write(out: Path | None, credentials: list[dict[str, Any]]) -> None:
    if out is None:
        for c in credentials:
            sys.stdout.write(json.dumps(c, separators=(",", ":"), ensure_ascii=False) + "\n")
        return
    if out.suffix == ".jsonl":
        # Appended, never rewritten: an earlier run's credentials are not kept anywhere else.
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as f:
            for c in credentials:
                f.write(json.dumps(c, separators=(",", ":"), ensure_ascii=False) + "\n")
            f.flush()
        return
    out.mkdir(parents=True, exist_ok=True)
    for c in credentials:
        name = c["id"].rsplit(":", 1)[-1]
        (out / f"{name}.json").write_text(json.dumps(c, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- --offers: one credential offer per row instead of a credential ---------------------------


def _run_offers(args: argparse.Namespace, rows: list[tuple[int, dict[str, str]]], out: Path | None) -> int:
    async def operation(config: Config) -> int:
        refused = [(line, row["__error__"]) for line, row in rows if "__error__" in row]
        made: list[dict[str, Any]] = []
        async with open_node(config, network=False) as node:
            await node.achievements.get(args.issuer, args.achievement)  # unknown achievement: fail before any row
            for line, row in rows:
                if "__error__" in row:
                    continue
                if "id" in row:
                    refused.append((line, "(a) leave out the learner's id: the wallet's DID becomes it when it collects the offer"))
                    continue
                try:
                    offer = await node.oid4vci.create_offer(
                        args.issuer, row_request(args.achievement, row), tx_code=tx_code_of(args), expires_in=args.expires_in
                    )
                except ProfileError as e:
                    refused += [(line, str(p)) for p in e.problems]
                    continue
                except IdempotencyConflictError:
                    refused.append((line, "already issued (its idempotency key has issued a credential)"))
                    continue
                entry: dict[str, Any] = {"line": line, "name": row["name"]}
                if "email" in row:
                    entry["email"] = row["email"]
                entry.update({"offerId": offer.id, "link": offer.link, "expires": offer.to_json()["expires"]})
                if offer.tx_code is not None:
                    entry["txCode"] = offer.tx_code
                made.append(entry)
        _write_offers(out, made)
        for line, reason in sorted(refused):
            print(f"line {line}: {reason}", file=sys.stderr)
        lines = {line for line, _ in refused}
        print(f"offered {len(made)}, refused {len(lines)} of {len(rows)} rows" + (f" -> {out}" if out else ""), file=sys.stderr)
        return 1 if refused else 0

    return run(args, operation)


def _write_offers(out: Path | None, offers: list[dict[str, Any]]) -> None:
    """The offers' JSON lines (and, for a folder, one QR code per offer beside them)."""
    if out is not None and out.suffix != ".jsonl":
        for entry in offers:
            entry["qr"] = str(out / f"{entry['offerId']}.png")
            write_qr(Path(entry["qr"]), entry["link"])
        out = out / "offers.jsonl"
    text = "".join(json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n" for entry in offers)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f:
        f.write(text)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "issue-batch",
        help="issue one micro-credential per row of a CSV file",
        description="Issue one micro-credential of ACHIEVEMENT per CSV row (columns: name, email, id, valid_from, "
        "grade, evidence, idempotency_key). Re-running the same file issues nothing twice.",
    )
    p.add_argument("achievement", metavar="ACHIEVEMENT", help="the achievement's slug (vcnode achievement list)")
    p.add_argument("csv", metavar="LEARNERS.csv", help="the learners, one per row (- for standard input)")
    p.add_argument("--issuer", default=DEFAULT_ISSUER, help="the issuer (default: default)")
    p.add_argument("--out", metavar="DIR|FILE.jsonl", help="a folder (one file per credential) or a .jsonl file; default stdout")
    p.add_argument("--cryptosuite", choices=("eddsa-rdfc-2022", "eddsa-jcs-2022"), help="proof suite (default eddsa-rdfc-2022)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--offers", action="store_true", help="make one credential offer per row (a wallet link and QR code) instead of credentials")
    add_offer_flags(p)
    add_common_flags(p)
    p.set_defaults(func=_run)
