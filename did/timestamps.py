"""XML Schema 1.1 ``dateTimeStamp`` values (XMLSCHEMA11-2 §3.4.28: a dateTime with a time zone)
as the DID layer reads them: a verification method's ``revoked`` and ``expires``
(Controlled Identifiers 1.0 §2.2).

The one reading of these values in the node: ``vc.datamodel.parse_datetime_stamp`` (validity
periods, proof ``created``/``expires``) wraps ``parse_date_time``. The time zone is required,
``24:00:00`` is the next midnight, and years XML Schema allows but ``datetime`` cannot hold (past
9999, before 1) compare as the end or start of time.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

# XML Schema 1.1 Part 2 §3.3.7 dateTime lexical space, the time zone optional here: a
# dateTimeStamp (§3.4.28) requires it, VC DM 1.1's xsd:dateTime does not.
DATE_TIME = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9])(?:\.(?P<frac>[0-9]+))?"
    r"|(?P<midnight>24:00:00(?:\.0+)?))"
    r"(?P<tz>Z|[+\-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class NotADateTime(ValueError):
    """The text is not in the lexical space (or lacks the time zone a dateTimeStamp needs)."""


class NoSuchDay(ValueError):
    """The form is right but the day does not exist in its month (XSD 1.1 §E.3.3)."""


def is_date_time_stamp(value: object) -> bool:
    """Whether ``value`` is a dateTimeStamp by form (a string in the lexical space, with a time zone)."""
    m = DATE_TIME.fullmatch(value) if isinstance(value, str) else None
    return m is not None and m["tz"] is not None


def parse_date_time(value: str, *, require_timezone: bool = True) -> datetime:
    """``value`` as an aware UTC datetime: ``NotADateTime`` or ``NoSuchDay`` when it is none.
    Without ``require_timezone`` a value with no time zone is read as UTC."""
    m = DATE_TIME.fullmatch(value)
    if m is None or (require_timezone and m["tz"] is None):
        raise NotADateTime(f"{value[:80]!r} is not an XML Schema dateTimeStamp (such as 2025-01-01T00:00:00Z)")
    # XSD 1.1 §E.3.3: the day must exist in its month, the clamped years too. The last four
    # digits decide a leap year (0000 is 1 BCE, a leap year), and a year of thousands of digits
    # never reaches int(), which refuses numbers past 4,300 digits.
    year_text, month, day = m["year"], int(m["month"]), int(m["day"])
    leap = calendar.isleap(int(("-" if year_text[0] == "-" else "") + year_text[-4:]))
    if day > (28 if month == 2 and not leap else _DAYS[month - 1]):
        raise NoSuchDay(f"{value!r} names a day its month does not have")
    if len(year_text.lstrip("-")) > 4:
        return (datetime.min if year_text[0] == "-" else datetime.max).replace(tzinfo=timezone.utc)
    year = int(year_text)
    if year < 1:
        return datetime.min.replace(tzinfo=timezone.utc)
    tz = m["tz"]
    offset = timezone.utc if tz in ("Z", None) else timezone(
        (-1 if tz[0] == "-" else 1) * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    )
    try:
        if m["midnight"]:
            moment = datetime(year, month, day, tzinfo=offset) + timedelta(days=1)
        else:
            micro = int((m["frac"] or "0")[:6].ljust(6, "0"))
            moment = datetime(year, month, day, int(m["hour"]), int(m["minute"]), int(m["second"]), micro, tzinfo=offset)
        return moment.astimezone(timezone.utc)
    except OverflowError:  # within a day of year 1 or 9999, shifted past it by the offset
        return (datetime.max if year > 5000 else datetime.min).replace(tzinfo=timezone.utc)


def parse_date_time_stamp(value: object) -> datetime:
    """``value`` as an aware UTC datetime; ``ValueError`` saying why when it is no dateTimeStamp."""
    if not isinstance(value, str):
        raise NotADateTime(f"a dateTimeStamp is a string, not {type(value).__name__}")
    return parse_date_time(value)
