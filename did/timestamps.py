"""XML Schema 1.1 ``dateTimeStamp`` values (XMLSCHEMA11-2 §3.4.28: a dateTime with a time zone)
as the DID layer reads them: a verification method's ``revoked`` and ``expires``
(Controlled Identifiers 1.0 §2.2).

The reading is ``vc.datamodel.parse_datetime_stamp``'s, which did/ cannot import (vc imports
did): the time zone is required, ``24:00:00`` is the next midnight, and years XML Schema allows
but ``datetime`` cannot hold (past 9999, before 1) compare as the end or start of time.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

_DATE_TIME_STAMP = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9])(?:\.(?P<frac>[0-9]+))?"
    r"|(?P<midnight>24:00:00(?:\.0+)?))"
    r"(?P<tz>Z|[+\-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_date_time_stamp(value: object) -> datetime:
    """``value`` as an aware UTC datetime; ``ValueError`` saying why when it is no dateTimeStamp."""
    if not isinstance(value, str):
        raise ValueError(f"a dateTimeStamp is a string, not {type(value).__name__}")
    m = _DATE_TIME_STAMP.fullmatch(value)
    if m is None:
        raise ValueError(f"{value[:80]!r} is not an XML Schema dateTimeStamp (such as 2025-01-01T00:00:00Z)")
    # XSD 1.1 §E.3.3: the day must exist in its month. The last four digits decide a leap year,
    # and a year of thousands of digits never reaches int().
    year_text, month, day = m["year"], int(m["month"]), int(m["day"])
    leap = calendar.isleap(int(("-" if year_text[0] == "-" else "") + year_text[-4:]))
    if day > (28 if month == 2 and not leap else _DAYS[month - 1]):
        raise ValueError(f"{value!r} names a day its month does not have")
    if len(year_text.lstrip("-")) > 4:
        return (datetime.min if year_text[0] == "-" else datetime.max).replace(tzinfo=timezone.utc)
    year = int(year_text)
    if year < 1:
        return datetime.min.replace(tzinfo=timezone.utc)
    tz = m["tz"]
    offset = timezone.utc if tz == "Z" else timezone(
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
