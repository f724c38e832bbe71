"""vc.datamodel.parse_datetime_stamp: XML Schema 1.1 dateTimeStamp, as VC Data Model 2.0 §4.6 requires.

Stamps generated from their parts (any year, the 24:00:00 end of day, fractions of any length,
every offset from -14:00 to +14:00) parse to the instant they name, computed here with the
standard library (years past 9999 become datetime.max, years before 1 datetime.min). Any text
(arbitrary, or a valid stamp with one edit) parses exactly when XML Schema's lexical rules
(XSD 1.1 Part 2 §3.3.7 and §3.3.28, transcribed below, with the day-of-month constraint of
§E.3.3) accept it, and otherwise raises MalformedValueError.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from strategies import any_text, huge_digits, mutated
from vc.datamodel import parse_datetime_stamp
from vc.errors import MalformedValueError

UTC = timezone.utc
MAX, MIN = datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)

# XSD 1.1 Part 2: yearFrag, monthFrag, dayFrag, hourFrag ..., endOfDayFrag, timezoneFrag (required).
XSD_DATETIME_STAMP = re.compile(
    r"(-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
    r"(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)


def _days_in_month(year: int, month: int) -> int:
    """XSD 1.1 §E.3.3 daysInMonth (year 0000 is 1 BCE, a leap year)."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _xsd_valid(text: str) -> bool:
    m = XSD_DATETIME_STAMP.fullmatch(text)
    if m is None:
        return False
    year = m[1]
    # divisibility by 4, 100 and 400 is decided by the last four digits
    return int(m[3]) <= _days_in_month(int(year[:1] + year[-4:]) if year[0] == "-" else int(year[-4:]), int(m[2]))


@st.composite
def stamps(draw: st.DrawFn) -> tuple[str, datetime]:
    """A valid stamp with a year from 1 to 9999 and the instant it names."""
    year = draw(st.integers(1, 9999))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, _days_in_month(year, month)))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    tz = "Z" if offset == 0 and draw(st.booleans()) else f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02}:{abs(offset) % 60:02}"
    zone = timezone(timedelta(minutes=offset))
    if draw(st.integers(0, 9)) == 0:  # endOfDayFrag: midnight at the end of the day
        text = f"{year:04}-{month:02}-{day:02}T24:00:00" + draw(st.sampled_from(["", ".0", ".000"])) + tz
        local = datetime(year, month, day, tzinfo=zone)
        try:
            local += timedelta(days=1)
        except OverflowError:
            return text, MAX
    else:
        hour, minute, second = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
        frac = draw(st.text(st.sampled_from("0123456789"), max_size=12))
        text = f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}" + (f".{frac}" if frac else "") + tz
        local = datetime(year, month, day, hour, minute, second, int(frac[:6].ljust(6, "0")), tzinfo=zone)
    try:
        return text, local.astimezone(UTC)
    except OverflowError:
        return text, MAX if year > 5000 else MIN


@given(stamps())
@example(("9999-12-31T24:00:00Z", MAX))
@example(("0001-01-01T00:00:00+14:00", MIN))
def test_generated_stamps_parse_to_the_instant_they_name(case: tuple[str, datetime]) -> None:
    text, expected = case
    assert parse_datetime_stamp(text, "validFrom") == expected


far_years = st.one_of(st.integers(10_000, 10**30).map(str), huge_digits)
near_valid = stamps().flatmap(lambda case: mutated(case[0], st.sampled_from("0123456789-+:.TZ24 tz\u0663\uff11")))


@given(far_years, st.integers(1, 12), st.integers(1, 31), st.booleans())
@example("1" + "0" * 4300, 1, 1, False)  # found: int() of a year past 4,300 digits raised ValueError
@example("10000", 2, 30, False)  # found: a day that does not exist was not checked past year 9999
def test_years_outside_pythons_range_clamp_and_keep_the_calendars_rules(year: str, month: int, day: int, bce: bool) -> None:
    text = f"{'-' if bce else ''}{year}-{month:02}-{day:02}T00:00:00Z"
    if not _xsd_valid(text):
        try:
            parse_datetime_stamp(text, "validUntil")
        except MalformedValueError:
            return
        raise AssertionError(f"{text} names no day, yet it was accepted")
    assert parse_datetime_stamp(text, "validUntil") == (MIN if bce else MAX)


@given(st.one_of(any_text, near_valid, st.text(st.sampled_from("0123456789-:TZ+."), max_size=30)))
@example("0000-02-29T00:00:00Z")
@example("-0001-02-29T00:00:00Z")
def test_any_text_parses_exactly_when_xml_schema_accepts_it(text: str) -> None:
    try:
        parsed = parse_datetime_stamp(text, "validFrom")
    except MalformedValueError as e:
        assert "validFrom" in e.detail
        assert not _xsd_valid(text)
        return
    assert _xsd_valid(text), f"{text!r} is not an XML Schema dateTimeStamp"
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)


@given(stamps())
def test_without_a_required_timezone_a_bare_datetime_is_utc(case: tuple[str, datetime]) -> None:
    text, _ = case
    bare = re.sub(r"(Z|[+-]\d\d:\d\d)$", "", text)
    parsed = parse_datetime_stamp(bare, "issuanceDate", require_timezone=False)
    assert parsed == parse_datetime_stamp(bare + "Z", "issuanceDate")
    try:
        parse_datetime_stamp(bare, "validFrom")
    except MalformedValueError:
        return
    raise AssertionError("a dateTime without a timezone passed as a dateTimeStamp")


@given(st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2), st.binary(max_size=5)))
def test_values_that_are_not_strings_are_malformed(value: object) -> None:
    try:
        parse_datetime_stamp(value, "validFrom")
    except MalformedValueError:
        return
    raise AssertionError("a non-string was read as a date")
