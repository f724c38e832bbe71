"""The CSV reader of ``vcnode issue-batch`` (node/cli/issue_batch.py ``read_rows``, ``row_request``).

A file written by the csv module (any quoting, either line ending, with or without the BOM
spreadsheets write, header names in any case with spaces or hyphens, cells holding commas,
quotes and newlines) reads back as the rows written, from a file or from standard input.
Any bytes at all are read or refused with one of the errors the command reports as a usage
error (UsageError, csv.Error, UnicodeDecodeError), never a traceback; every row read becomes
a request whose learner and evidence the micro-credential parsers read or refuse with
ProfileError.
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from node.cli.issue_batch import COLUMNS, UsageError, read_rows, row_request
from vc.edu import ProfileError, parse_evidence, parse_learner

REPORTED = (UsageError, csv.Error, UnicodeDecodeError)

aliases: dict[str, list[str]] = {}
for alias, column in COLUMNS.items():
    aliases.setdefault(column, []).append(alias)
cells = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@st.composite
def header_names(draw: st.DrawFn, column: str) -> str:
    name = draw(st.sampled_from(aliases[column]))
    name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    if "_" in name and draw(st.booleans()):
        name = name.replace("_", draw(st.sampled_from([" ", "-"])))
    return draw(st.sampled_from(["", " "])) + name + draw(st.sampled_from(["", " ", "\t"]))


@st.composite
def csv_files(draw: st.DrawFn, cells: st.SearchStrategy[str] = cells) -> tuple[bytes, list[str], list[list[str]]]:
    """(file bytes, the columns, the data rows) as a spreadsheet or a script would write them."""
    others = draw(st.lists(st.sampled_from(sorted(set(COLUMNS.values()) - {"name"})), unique=True, max_size=6))
    columns = draw(st.permutations(["name", *others]))
    header = [draw(header_names(c)) for c in columns]
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=6))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    if quoting == csv.QUOTE_MINIMAL and terminator == "\n":
        # the csv module then leaves a "\r" unquoted, which no CSV reader can tell from a line end
        rows = [[cell.replace("\r", "") for cell in row] for row in rows]
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data if draw(st.booleans()) else data), columns, rows


def _read(data: bytes, *, stdin: bool) -> list[tuple[int, dict[str, str]]]:
    if stdin:
        saved = sys.stdin
        # what a shell redirect gives: a text stream over the bytes (read_rows reads its bytes as
        # UTF-8 whatever the locale's encoding, without universal newlines, as from a file)
        sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="latin-1")
        try:
            return list(read_rows("-"))
        finally:
            sys.stdin = saved
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "learners.csv"
        path.write_bytes(data)
        return list(read_rows(str(path)))


def _expected(columns: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        if any(cell.strip() for cell in row):
            out.append({c: v.strip() for c, v in zip(columns, row) if v.strip()})
    return out


@given(csv_files(), st.booleans())
# found: from standard input the BOM a spreadsheet writes stayed in the header ("\ufeffname")
@example((b"\xef\xbb\xbfname\r\n", ["name"], []), True)
@example((b'\xef\xbb\xbf"name"\r\n', ["name"], []), True)
def test_rows_written_by_the_csv_module_read_back(case: tuple[bytes, list[str], list[list[str]]], stdin: bool) -> None:
    data, columns, rows = case
    read = [row for _, row in _read(data, stdin=stdin)]
    assert read == _expected(columns, rows)


@given(csv_files(st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"), max_size=12)))
def test_line_numbers_name_the_rows_they_came_from(case: tuple[bytes, list[str], list[list[str]]]) -> None:
    data, _, rows = case  # one physical line per row: the header is line 1, blank rows are skipped
    expected = [i + 2 for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    assert [line for line, _ in _read(data, stdin=False)] == expected


hostile_files = st.one_of(
    st.binary(max_size=200),
    csv_files().map(lambda case: case[0]),
    csv_files().flatmap(
        lambda case: st.tuples(st.just(case[0]), st.integers(0, len(case[0])), st.binary(min_size=1, max_size=4)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
        )
    ),
    st.text(max_size=80).map(lambda t: t.encode("utf-16")),
    st.text(max_size=80).map(lambda t: t.encode("latin-1", "replace")),
    st.sampled_from([b"name\n" + b"x" * 200_000 + b"\n", b'name\n"unterminated', b"\x00name\n", b"name,name\n"]),
)


@given(hostile_files, st.booleans())
def test_any_bytes_are_read_or_refused_with_a_reported_error(data: bytes, stdin: bool) -> None:
    try:
        rows = _read(data, stdin=stdin)
    except REPORTED:
        return
    for line, row in rows:
        assert line >= 2
        if "__error__" in row:
            continue
        request = row_request("ds101", row)
        assert isinstance(request["idempotencyKey"], str) and request["idempotencyKey"]
        for parse, value in ((parse_learner, request["learner"]), (parse_evidence, request.get("evidence"))):
            try:
                parse(value)
            except ProfileError as e:
                assert e.problems

