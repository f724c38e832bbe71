"""``vcnode issue-batch ACHIEVEMENT learners.csv``: one micro-credential per CSV row.

Columns (a header row; names are matched without regard to case, spaces and punctuation, so
``E-mail``, ``email`` and ``EMAIL`` are one column): ``name`` (required; or ``learner name``),
``email``, ``id`` (the learner's DID), ``valid_from`` (or ``date``), ``grade``, ``evidence`` (a
URL, or a narrative), ``idempotency_key`` (or ``key``); two headers naming one column are refused.
Any other column refuses the file (a close miss of a known name says "did you mean"), unless
``--ignore-columns`` names it: an export's extra columns are left out on request only, so a
misspelt ``grade`` never issues credentials without their grade. Cells are separated by ','
or, when the header names the name column only that way, by ';' or a tab (a spreadsheet saved
where ',' is the decimal mark; Excel's ``sep=;`` first line is honoured), which is said.
The file is UTF-8 (a spreadsheet's BOM is dropped), standard input too, whatever the locale;
anything else is refused saying to save it as CSV UTF-8, never guessed (``_read_text``);
a cell holds at most ``MAX_CELL`` characters. A grade is written as the achievement's scale
writes it (``b`` -> ``B``) when case tells none of its grades apart (``vc.edu.normalise_grade``,
as over HTTP). Refused rows are reported with their line number and reasons, the others
issued in batches of at most ``ROWS_PER_BATCH`` (10,000) rows, each checked before any of it
is handed out, with one status index allocation and one write of each
status list. A row's idempotency key is its ``idempotency_key`` column, else a hash of its
content, so re-running the same file issues nothing twice; a row whose key an earlier row of
the file has is refused, naming that row's line. The file goes to the node batch by batch so
that no transaction of the command holds the store's write lock long enough to turn away a
server's writes (``ROWS_PER_BATCH``).

Output: ``--out DIR`` (one ``<uuid>.json`` per credential), ``--out FILE.jsonl`` (appended, one
credential per line), default standard output (JSON lines). Every row's credential goes to the
output exactly once, including rows an earlier run issued: the node keeps what it issued
(``keep_credentials``; with it off, the batch's credentials are journalled in the store until the
output holds them), so a run interrupted at any point (even by SIGKILL) loses nothing, and its
re-run writes what the output lacks. Credentials already in the output (by id) are not written
again; standard output holds nothing from before, so there every row's credential is written.
Writes go out in chunks, each flushed and fsynced (a folder's files are each written under a
partial name and renamed); a ``.jsonl`` file whose last line was cut off (by a crash of a
version before this one) has the cut line moved aside to ``FILE.jsonl.torn-<time>`` and said so.
A row issued before whose credential is no longer kept (purged, or issued with
``keep_credentials`` off) and is not in the output is reported by line. A progress bar goes to
standard error when it is a terminal; it counts the credentials being signed, the rows already
issued and refused shown beside it, not as progress. Exit 0 when every row was issued (now or
before), 1 when some were refused, 2 bad usage.

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
import difflib
import hashlib
import io
import itertools
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from node.node import open_node
from node.cli.config import add_common_flags, fail, run
from node.cli.offer import add_offer_flags, tx_code_of, write_qr
from node.config import Config
from node.errors import IdempotencyConflictError, UnknownAchievementError
from node.files import fsync_path
from node import signing
from node.heap import settle_heap
from node.issuers import DEFAULT_ISSUER
from node.oid4vci import OfferedAlreadyError
from vc.edu import ProfileError, normalise_grade

# Header names (as documented) -> column. A header matches when it equals one of these once
# case, spaces and punctuation are set aside (``header_key``).
COLUMNS = {
    "name": "name",
    "learner_name": "name",
    "full_name": "name",
    "email": "email",
    "email_address": "email",
    "learner_email": "email",
    "id": "id",
    "did": "id",
    "learner_id": "id",
    "learner_did": "id",
    "valid_from": "valid_from",
    "date": "valid_from",
    "issue_date": "valid_from",
    "grade": "grade",
    "evidence": "evidence",
    "idempotency_key": "key",
    "key": "key",
}
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
MAX_CELL = 10_000


# Rows per call to the node's issuance (``Achievements.issue``: one admission transaction and
# one completing transaction each). The admission holds the store's write lock while its batch
# is prepared beside the signing, ~0.2 ms a micro-credential on the 2-core machine of
# bench/README.md: another process's write (a server's revocation) waits for it, and is refused
# after ``busy_timeout`` (10 s; 50,000 rows held it 10.1 s). 10,000 rows hold it ~2 s, and each
# batch allocates and publishes each status list once.
ROWS_PER_BATCH = 10_000


class UsageError(Exception):
    pass


def header_key(name: str) -> str:
    """A header name with case, spaces and punctuation set aside: ``E-mail`` -> ``email``."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


_BY_KEY = {header_key(alias): column for alias, column in COLUMNS.items()}


_ALIAS = {header_key(alias): alias for alias in reversed(list(COLUMNS))}  # a key -> its first documented name
SEPARATORS = {",": "','", ";": "';'", "\t": "a tab"}
_SEP_LINE = re.compile(r"^sep=([,;\t|])\r?\n?$", re.IGNORECASE)  # Excel's first line naming the separator


def _read_text(path: str) -> str:
    """The file (or standard input) as UTF-8, a spreadsheet's BOM dropped; anything else refused.

    Not guessed: cp1252, latin-1 and the other 8-bit encodings decode any bytes at all, so a
    wrong guess is never an error, only wrong letters in a learner's name, signed into a
    credential that cannot be corrected after it is handed out. The operator saves it again."""
    # Standard input's bytes, not the locale's decoding of them (the file and stdin alike).
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"{path} is UTF-16 (Excel's 'Unicode Text'), not UTF-8; save it as CSV UTF-8 (Excel: Save As, 'CSV UTF-8 (Comma delimited)')")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise UsageError(
            f"{path} is not UTF-8 (line {line} holds the byte 0x{raw[e.start]:02x}, which UTF-8 does not allow there; "
            "the file was probably saved as Windows/Latin-1 text); save it as CSV UTF-8 (Excel: Save As, "
            "'CSV UTF-8 (Comma delimited)'; LibreOffice: character set 'Unicode (UTF-8)') and run the command again"
        ) from None


def _names_a_name_column(line: str, separator: str) -> bool:
    try:
        cells = next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        return False
    return any(_BY_KEY.get(header_key(cell)) == "name" for cell in cells)


def _separator(header_line: str) -> str:
    """',' unless the header names the name column only when split at ';' or only at a tab (a
    spreadsheet saved where ',' is the decimal mark): then that one, which is unambiguous."""
    if _names_a_name_column(header_line, ","):
        return ","
    found = [sep for sep in (";", "\t") if _names_a_name_column(header_line, sep)]
    return found[0] if len(found) == 1 else ","


def _unknown(header: str) -> str:
    close = difflib.get_close_matches(header_key(header), list(_BY_KEY), n=1, cutoff=0.75)
    return repr(header) + (f" (did you mean {_ALIAS[close[0]]}?)" if close else "")


def read_rows(
    path: str, *, ignore: tuple[str, ...] = (), notes: list[str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) per data row; refuses unknown, missing or doubled columns up front.

    ``ignore``: header names whose columns are left out (``--ignore-columns``), matched as
    headers are. ``notes``: what the reading decided that the operator should hear (the
    separator, when not ','; the columns left out), one sentence each."""
    notes = notes if notes is not None else []
    text = _read_text(path)
    # newline="": the csv module sees the line ends as they are (a quoted cell may hold one).
    lines = iter(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    first = next(lines, None)
    skipped = 0
    separator = None
    if first is not None and (named := _SEP_LINE.match(first)):
        separator, skipped, first = named.group(1), 1, next(lines, None)
    if first is None:
        raise UsageError(f"{path} is empty; expected a header row with at least a name column")
    if separator is None:
        separator = _separator(first)
        if separator != ",":
            notes.append(f"{path}: its header is separated by {SEPARATORS[separator]}, so its rows are read that way")
    reader = csv.reader(itertools.chain([first], lines), delimiter=separator)
    header = next(reader)
    left_out = {header_key(name) for name in ignore}
    mapped: list[str | None] = [None if header_key(h) in left_out else _BY_KEY.get(header_key(h), "?") for h in header]
    unknown = [h for h, m in zip(header, mapped) if m == "?"]
    if unknown:
        known = ", ".join(dict.fromkeys(COLUMNS))
        said = ", ".join(_unknown(h) for h in unknown)
        advice = f"use {known} (case, spaces and punctuation do not matter)"
        others = [h for h in unknown if "did you mean" not in _unknown(h)]
        if others:
            if any("," in h for h in others):
                flags = " ".join(f"--ignore-columns {shlex.quote(h)}" for h in others)
            else:
                flags = f"--ignore-columns {shlex.quote(','.join(others))}"
            advice += f", or leave {'it' if len(others) == 1 else 'them'} out with {flags}"
        hint = ""
        if separator == "," and len(header) == 1 and any(sep in first for sep in (";", "\t")):
            sep = ";" if ";" in first else "\t"
            hint = (f"; the file seems to use {SEPARATORS[sep]} as separator, but no name column is among its headers "
                    "either: name one, or save the file with ',' as separator")
        raise UsageError(f"{path}: unknown column(s) {said}; {advice}{hint}")
    dropped = [h for h, m in zip(header, mapped) if m is None]
    if dropped:
        notes.append(f"{path}: leaving out the column(s) {', '.join(map(repr, dropped))} (--ignore-columns)")
    missing = [name for name in ignore if header_key(name) not in {header_key(h) for h in header}]
    if missing:
        notes.append(f"{path}: --ignore-columns names {', '.join(map(repr, missing))}, which the header does not have")
    if "name" not in mapped:
        raise UsageError(f"{path}: the header has no name column")
    for column in dict.fromkeys(m for m in mapped if m is not None):
        same = [h for h, m in zip(header, mapped) if m == column]
        if len(same) > 1:
            raise UsageError(f"{path}: the headers {' and '.join(map(repr, same))} are both the {column} column; keep one")
    for record in reader:
        line = reader.line_num + skipped
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(mapped):
            yield line, {"__error__": f"has {len(record)} cells, the header has {len(mapped)}"}
            continue
        long = [h for h, cell in zip(header, record) if len(cell) > MAX_CELL]
        if long:
            yield line, {"__error__": f"the {', '.join(map(repr, long))} cell holds more than {MAX_CELL} characters"}
            continue
        yield line, {m: cell.strip() for m, cell in zip(mapped, record) if m is not None and cell.strip()}


def _unknown_achievement(e: UnknownAchievementError, issuer: str) -> str:
    listing = "vcnode achievement list" + ("" if issuer == DEFAULT_ISSUER else f" --issuer {issuer}")
    return f"{e.detail}; {listing} shows the slugs it has"


def fold_grades(rows: list[tuple[int, dict[str, str]]], allowed: tuple[str, ...]) -> None:
    """Write each row's grade as the achievement's scale writes it (``b`` -> ``B``;
    ``vc.edu.normalise_grade``, which the HTTP API reads grades through too) before the row's
    content becomes its idempotency key, so that ``b`` and ``B`` are one award."""
    for _, row in rows:
        grade = row.get("grade")
        if grade is not None:
            row["grade"] = normalise_grade(grade, allowed)


def row_request(slug: str, row: dict[str, str]) -> dict[str, Any]:
    learner = {k: row[k] for k in ("name", "email", "id") if k in row}
    request: dict[str, Any] = {"achievementId": slug, "learner": learner}
    if "valid_from" in row:
        request["validFrom"] = row["valid_from"]
    if "grade" in row:
        request["grade"] = row["grade"]
    if "evidence" in row:
        ev = row["evidence"]
        request["evidence"] = [{"id": ev} if _URI.fullmatch(ev) else {"narrative": ev}]
    # Without a key column the row's content is its identity: the same row twice is one award.
    content = json.dumps({"achievement": slug, **{k: v for k, v in sorted(row.items()) if k != "key"}}, sort_keys=True)
    request["idempotencyKey"] = row.get("key") or "row-sha256:" + hashlib.sha256(content.encode()).hexdigest()
    return request


class _Progress:
    """tqdm on a terminal, nothing otherwise (or with --no-progress). One bar over the file's
    batches (``ROWS_PER_BATCH``): it counts the credentials signed now, the rows already issued
    and refused beside it: a re-run that has nothing new to sign shows no bar, not a full one."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None
        # (signed, to sign, already issued, refused): the batches before this one, this one.
        self._before = self._now = (0, 0, 0, 0)

    def next_batch(self) -> None:
        self._before = (self.bar.n if self.bar is not None else 0, *self._now[1:])

    def plan(self, to_sign: int, replayed: int, refused: int) -> None:
        # Said once per batch, and again when a row is found refused while its batch is
        # signing (the batch is then checked whole and issued without it): the bar takes that
        # batch from its start again.
        signed, total, *aside = self._before
        self._now = (signed, total + to_sign, aside[0] + replayed, aside[1] + refused)
        if not self.enabled or self._now[1] == 0:
            return
        from tqdm import tqdm

        postfix = ", ".join(f"{n} {what}" for n, what in zip(self._now[2:], ("already issued", "refused")) if n) or None
        if self.bar is None:
            self.bar = tqdm(total=self._now[1], initial=signed, unit="credential", desc="issuing", file=sys.stderr, postfix=postfix)
        else:
            self.bar.total, self.bar.n = self._now[1], signed
            self.bar.set_postfix_str(postfix or "", refresh=True)

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _run(args: argparse.Namespace) -> int:
    ignore = tuple(name.strip() for value in args.ignore_columns or () for name in value.split(",") if name.strip())
    notes: list[str] = []
    try:
        rows = list(read_rows(args.csv, ignore=ignore, notes=notes))
    except UsageError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"cannot read {args.csv}: {e.strerror or e}")
    except csv.Error as e:
        return fail(f"{args.csv} is not a readable CSV file: {e}")
    for note in notes:
        print(f"vcnode: {note}", file=sys.stderr)
    if not rows:
        return fail(f"{args.csv} has no data rows")
    out = Path(args.out) if args.out else None
    if out is not None and not out.suffix == ".jsonl" and out.exists() and not out.is_dir():
        return fail(f"--out {out} exists and is not a folder; name a folder or a .jsonl file")
    if args.offers:
        return _run_offers(args, rows, out)

    async def operation(config: Config) -> int:
        refusals = [(line, [row["__error__"]]) for line, row in rows if "__error__" in row]
        try:
            output = open_output(out)
        except OSError as e:
            return fail(f"cannot use --out {out}: {e.strerror or e}")
        new = written = there_already = 0
        replayed: list[tuple[int, str]] = []
        lost: list[tuple[int, str]] = []
        async with open_node(config, network=False) as node:
            achievements = node.achievements
            try:
                achievement = await achievements.get(args.issuer, args.achievement)  # unknown: fail before any row
            except UnknownAchievementError as e:
                return fail(_unknown_achievement(e, args.issuer), 1)
            fold_grades(rows, achievement.definition.assessment.allowed_values)
            todo: list[tuple[int, dict[str, Any]]] = []  # (line, request)
            first: dict[str, int] = {}
            for line, row in rows:
                if "__error__" in row:
                    continue
                request = row_request(args.achievement, row)
                key = request["idempotencyKey"]
                if key in first:
                    # Over the whole file, whichever batch each falls in: one award per key.
                    if row.get("key"):
                        said = f"the same key as line {first[key]}"
                    else:
                        said = f"the same content as line {first[key]} (without a key, a row's content is its idempotency key)"
                    refusals.append((line, [f"idempotencyKey: {said}"]))
                    continue
                first[key] = line
                todo.append((line, request))
            # The processes start while the rows are checked, for the rows not issued before
            # (a re-run of an issued file signs nothing: no pool).
            used = await achievements.used_keys(args.issuer, [request["idempotencyKey"] for _, request in todo])
            signing.start_for(len(todo) - len(used), node.loader)
            # The file's rows and the node live as long as the command: out of the cyclic
            # collector's way, so that its full collections walk only what the batch makes.
            settle_heap()
            progress = _Progress(not args.no_progress)
            options = {"cryptosuite": args.cryptosuite} if args.cryptosuite else None
            try:
                for start in range(0, len(todo), ROWS_PER_BATCH):
                    batch = todo[start : start + ROWS_PER_BATCH]
                    lines = [line for line, _ in batch]
                    progress.next_batch()
                    # journal: the new credentials are in the store, with their records, before
                    # any is written out; a crash from here on loses none of them (module docstring).
                    outcome = await achievements.issue(
                        args.issuer, [request for _, request in batch], all_or_nothing=False, options=options,
                        progress=progress, plan=progress.plan, journal=True,
                    )
                    issued_ids = [i.credential_id for i in outcome.issued]
                    there = output.present(issued_ids)
                    to_write = [i.credential for i in outcome.issued if i.credential is not None and i.credential_id not in there]
                    try:
                        output.write(to_write)
                    except OSError as e:
                        # What is in the store stays there (kept or journalled): a re-run writes it.
                        return fail(f"writing {out or 'standard output'} failed: {e.strerror or e}; the credentials are kept in the store, run the same command again to write them")
                    # The output holds them now (flushed and fsynced): the journal has done its work.
                    await node.credentials.drop_journal(issued_ids)
                    new, written, there_already = new + outcome.new, written + len(to_write), there_already + len(there)
                    replayed += [(lines[i.index], i.credential_id) for i in outcome.issued if i.replayed]
                    lost += [(lines[i.index], i.credential_id) for i in outcome.issued if i.credential is None and i.credential_id not in there]
                    refusals += [(lines[r.index], [str(p) for p in r.problems]) for r in outcome.refused]
            finally:
                progress.close()
        refused = len(refusals)
        if args.json:
            # One object on standard error (standard output holds the credentials); "replayed"
            # as in POST /issuers/{name}/microcredentials, by CSV line instead of list index.
            summary = {
                "rows": len(rows),
                "issued": new,
                "replayed": [{"line": line, "credentialId": cid} for line, cid in sorted(replayed)],
                "refused": [{"line": line, "problems": problems} for line, problems in sorted(refusals)],
                "written": written,
                "notKept": [{"line": line, "credentialId": cid} for line, cid in sorted(lost)],
                "out": str(out) if out is not None else None,
            }
            print(json.dumps(summary), file=sys.stderr)  # ASCII: readable whatever the terminal's encoding
            return 1 if refused else 0
        for line, problems in sorted(refusals):
            for problem in problems:
                print(f"line {line}: {problem}", file=sys.stderr)
        for line, cid in sorted(lost):
            print(
                f"line {line}: issued before as {cid}, but the node no longer keeps it (purged, or keep_credentials was off) "
                "and it is not in this output: the earlier run's output holds it",
                file=sys.stderr,
            )
        print(
            f"issued {new}, already issued {len(replayed)}, refused {refused} of {len(rows)} rows"
            + (f" -> {out}" if out is not None else "")
            + f" ({written} written, {there_already} there already)",
            file=sys.stderr,
        )
        return 1 if refused else 0

    return run(args, operation)


# --- output: every row's credential exactly once, never a torn line ------------------------

# Credentials per flush + fsync: a crash loses at most the chunk being written (whose
# credentials the store still holds: the re-run writes them).
CHUNK = 256


def _line(credential: dict[str, Any]) -> bytes:
    return (json.dumps(credential, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


class _Stdout:
    """Standard output holds nothing from an earlier run: every credential is written."""

    def present(self, ids: list[str]) -> set[str]:
        return set()

    def write(self, credentials: list[dict[str, Any]]) -> None:
        sys.stdout.flush()
        out = sys.stdout.buffer
        for start in range(0, len(credentials), CHUNK):
            out.write(b"".join(_line(c) for c in credentials[start : start + CHUNK]))
            out.flush()
            try:
                os.fsync(out.fileno())  # redirected to a file: on disk per chunk
            except (OSError, ValueError, io.UnsupportedOperation):
                pass  # a pipe or terminal: nothing to sync


class _JsonLines:
    """A ``.jsonl`` file: appended, never rewritten; the ids it holds are read first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: set[str] = set()
        if not path.exists():
            return
        with path.open("rb") as f:
            data = f.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self._set_aside(data[end:], end)
        for number, raw in enumerate(data[:end].splitlines(), 1):
            try:
                credential = json.loads(raw)
                self.ids.add(credential["id"])
            except (ValueError, TypeError, KeyError):
                if raw.strip():
                    print(f"vcnode: line {number} of {path} is not a credential; left as it is", file=sys.stderr)

    def _set_aside(self, tail: bytes, keep: int) -> None:
        """An older version's crash cut the last line: move it aside and say so (its credential,
        when this file's rows issued it and the node keeps it, is written again below)."""
        aside = self.path.with_name(f"{self.path.name}.torn-{time.strftime('%Y%m%dT%H%M%S')}")
        aside.write_bytes(tail)
        with self.path.open("r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        print(
            f"vcnode: {self.path} ended in a cut-off line ({len(tail)} bytes, left by an interrupted run): moved it to "
            f"{aside}; its credential is written again if these rows issued it and the node keeps it",
            file=sys.stderr,
        )

    def present(self, ids: list[str]) -> set[str]:
        return self.ids.intersection(ids)

    def write(self, credentials: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        with self.path.open("ab") as f:
            for start in range(0, len(credentials), CHUNK):
                f.write(b"".join(_line(c) for c in credentials[start : start + CHUNK]))
                f.flush()
                os.fsync(f.fileno())
        if new:
            fsync_path(self.path.parent)  # the file's name is on disk too
        self.ids.update(c["id"] for c in credentials)


class _Folder:
    """One ``<uuid>.json`` per credential, each written under a partial name, synced, renamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            for partial in path.glob(".*.json.partial"):
                partial.unlink()  # an interrupted write; the renamed files are whole

    @staticmethod
    def name(credential_id: str) -> str:
        return credential_id.rsplit(":", 1)[-1] + ".json"

    def present(self, ids: list[str]) -> set[str]:
        return {i for i in ids if (self.path / self.name(i)).is_file()}

    def write(self, credentials: list[dict[str, Any]]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(credentials), CHUNK):
            for c in credentials[start : start + CHUNK]:
                target = self.path / self.name(c["id"])
                partial = self.path / f".{target.name}.partial"
                with partial.open("wb") as f:
                    f.write((json.dumps(c, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(partial, target)
            fsync_path(self.path)


def open_output(out: Path | None) -> _Stdout | _JsonLines | _Folder:
    """Where the credentials go (``--out``), with what it holds already."""
    if out is None:
        return _Stdout()
    if out.suffix == ".jsonl":
        return _JsonLines(out)
    return _Folder(out)


# --- --offers: one credential offer per row instead of a credential ---------------------------


def _run_offers(args: argparse.Namespace, rows: list[tuple[int, dict[str, str]]], out: Path | None) -> int:
    async def operation(config: Config) -> int:
        refused = [(line, row["__error__"]) for line, row in rows if "__error__" in row]
        made: list[dict[str, Any]] = []
        async with open_node(config, network=False) as node:
            try:
                achievement = await node.achievements.get(args.issuer, args.achievement)  # unknown: fail before any row
            except UnknownAchievementError as e:
                return fail(_unknown_achievement(e, args.issuer), 1)
            fold_grades(rows, achievement.definition.assessment.allowed_values)
            for line, row in rows:
                if "__error__" in row:
                    continue
                if "id" in row:
                    refused.append((line, "(a) leave out the learner's id: the wallet's DID becomes it when it collects the offer"))
                    continue
                try:
                    offer = await node.oid4vci.create_offer(
                        args.issuer, row_request(args.achievement, row), tx_code=tx_code_of(args), expires_in=args.expires_in,
                        allow_insecure_hosts=config.allow_insecure_hosts,
                    )
                except ProfileError as e:
                    refused += [(line, str(p)) for p in e.problems]
                    continue
                except OfferedAlreadyError as e:
                    refused.append((line, f"already offered: {e.detail}"))
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
        lines = {line for line, _ in refused}
        if args.json:  # the summary as one object, as for credentials
            problems: dict[int, list[str]] = {}
            for line, reason in sorted(refused):
                problems.setdefault(line, []).append(reason)
            summary = {
                "rows": len(rows),
                "offered": len(made),
                "refused": [{"line": line, "problems": p} for line, p in problems.items()],
                "out": str(out) if out is not None else None,
            }
            print(json.dumps(summary), file=sys.stderr)
            return 1 if refused else 0
        for line, reason in sorted(refused):
            print(f"line {line}: {reason}", file=sys.stderr)
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
    p.add_argument(
        "--json",
        action="store_true",
        help="the summary (rows, issued or offered, replayed and refused with their lines and problems) as one JSON "
        "object on standard error; the credentials (or offers) go where --out says, as always",
    )
    p.add_argument(
        "--ignore-columns",
        dest="ignore_columns",
        action="append",
        metavar="NAME[,NAME]",
        help="leave out these columns of the file (an export's extra columns, such as 'Student ID'); "
        "without it an unknown column refuses the file, so a misspelt one is never silently dropped",
    )
    p.add_argument("--offers", action="store_true", help="make one credential offer per row (a wallet link and QR code) instead of credentials")
    add_offer_flags(p)
    add_common_flags(p)
    p.set_defaults(func=_run)
