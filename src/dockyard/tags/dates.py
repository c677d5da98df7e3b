"""moment.js date formatting (English locale), for `{{date}}` and `{{commit_date}}`.

metadata-action renders `{{date 'FORMAT' tz='Zone'}}` with moment-timezone:
`moment(date).tz(zone).format(FORMAT)`. This implements moment's tokenizer
and its English-locale tokens: years (Y, YY, YYYY, …), quarters, months,
days (of month, week, year), ISO and locale weeks and week-years, hours
(H, h, k), minutes, seconds, fractions (S…SSSSSSSSS), am/pm, offsets (Z, ZZ),
zone abbreviations (z), unix time (X, x), eras (N, y), the long-date macros
(LT, LTS, L…LLLL, l…llll), `[escaped text]` and backslash escapes. Any other
character is copied, as moment does.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dockyard.errors import InputError

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

# moment's English long-date formats (locale/en longDateFormat).
_LONG_FORMATS = {
    "LTS": "h:mm:ss A",
    "LT": "h:mm A",
    "L": "MM/DD/YYYY",
    "LL": "MMMM D, YYYY",
    "LLL": "MMMM D, YYYY h:mm A",
    "LLLL": "dddd, MMMM D, YYYY h:mm A",
    "l": "M/D/YYYY",
    "ll": "MMM D, YYYY",
    "lll": "MMM D, YYYY h:mm A",
    "llll": "ddd, MMM D, YYYY h:mm A",
}
_LOCAL_TOKENS = re.compile(r"(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})")
# moment's formattingTokens, verbatim (the trailing `.` copies anything else).
_TOKENS = re.compile(
    r"(\[[^\[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?"
    r"|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?"
    r"|S{1,9}|x|X|zz?|ZZ?|.)",
    re.DOTALL,
)


def zone(name: str) -> ZoneInfo:
    """An IANA zone, matched case-insensitively as moment-timezone does.

    moment-timezone logs an unknown zone and formats in the runner's local
    time; dockyard refuses it instead (a tag that silently changes with the
    machine's zone is worse than an error).
    """
    key = _zone_keys().get(name.lower(), name)
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(
            f"unknown time zone {name!r} (expected an IANA name such as UTC or Asia/Tokyo)"
        ) from None


@cache
def _zone_keys() -> dict[str, str]:
    return {key.lower(): key for key in available_timezones()}


def format_moment(moment: datetime, fmt: str) -> str:
    """`moment(moment).format(fmt)` for an aware datetime, in its own zone."""
    for _ in range(5):  # moment expands nested long-date formats at most 5 times
        expanded = _LOCAL_TOKENS.sub(_expand_long, fmt)
        if expanded == fmt:
            break
        fmt = expanded
    return "".join(_render_token(moment, m.group(0)) for m in _TOKENS.finditer(fmt))


def _expand_long(m: re.Match[str]) -> str:
    if m.group(1) or m.group(2):
        return m.group(0)
    return _LONG_FORMATS[m.group(3)]


def _render_token(moment: datetime, token: str) -> str:
    fn = _FUNCS.get(token)
    if fn is not None:
        return fn(moment)
    if token.startswith("[") and token.endswith("]") and len(token) > 1:
        return token[1:-1]
    return token.replace("\\", "")


def _pad(n: int, width: int, force_sign: bool = False) -> str:
    sign = "-" if n < 0 else ("+" if force_sign else "")
    return sign + str(abs(n)).zfill(width)


def _ordinal(n: int) -> str:
    last = n % 10
    if (n % 100) // 10 == 1:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(last, "th")


def _first_week_offset(year: int, dow: int, doy: int) -> int:
    # moment's firstWeekOffset: the January day that is always in week 1.
    fwd = 7 + dow - doy
    weekday = (date(year, 1, fwd).isoweekday()) % 7  # JS getUTCDay: Sunday = 0
    fwdlw = (7 + weekday - dow) % 7
    return -fwdlw + fwd - 1


def _weeks_in_year(year: int, dow: int, doy: int) -> int:
    days = 366 if calendar.isleap(year) else 365
    return (days - _first_week_offset(year, dow, doy) + _first_week_offset(year + 1, dow, doy)) // 7


def _week_of_year(moment: datetime, dow: int, doy: int) -> tuple[int, int]:
    """moment's weekOfYear: (week, week-year); ISO is dow=1 doy=4, English dow=0 doy=6."""
    year = moment.year
    week = (moment.timetuple().tm_yday - _first_week_offset(year, dow, doy) - 1) // 7 + 1
    if week < 1:
        return week + _weeks_in_year(year - 1, dow, doy), year - 1
    if week > _weeks_in_year(year, dow, doy):
        return week - _weeks_in_year(year, dow, doy), year + 1
    return week, year


def _iso_week(m: datetime) -> tuple[int, int]:
    return _week_of_year(m, 1, 4)


def _en_week(m: datetime) -> tuple[int, int]:
    return _week_of_year(m, 0, 6)


def _offset(m: datetime, sep: str) -> str:
    delta = m.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{mins:02d}"


def _hour12(m: datetime) -> int:
    return m.hour % 12 or 12


def _weekday(m: datetime) -> int:
    return m.isoweekday() % 7  # Sunday = 0, as moment's day()


def _millis(m: datetime) -> int:
    return m.microsecond // 1000


def _fraction(digits: int) -> Callable[[datetime], str]:
    def render(m: datetime) -> str:
        # moment renders milliseconds, then pads (or cuts) to the token width.
        ms = f"{_millis(m):03d}"
        return (ms + "0" * digits)[:digits]

    return render


def _year_token(m: datetime) -> str:
    return _pad(m.year, 4) if m.year <= 9999 else f"+{m.year}"


def _unix_ms(m: datetime) -> int:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return (m - epoch) // timedelta(milliseconds=1)


_FUNCS: dict[str, Callable[[datetime], str]] = {
    "M": lambda m: str(m.month),
    "Mo": lambda m: _ordinal(m.month),
    "MM": lambda m: f"{m.month:02d}",
    "MMM": lambda m: _MONTHS[m.month - 1][:3],
    "MMMM": lambda m: _MONTHS[m.month - 1],
    "Q": lambda m: str((m.month - 1) // 3 + 1),
    "Qo": lambda m: _ordinal((m.month - 1) // 3 + 1),
    "D": lambda m: str(m.day),
    "Do": lambda m: _ordinal(m.day),
    "DD": lambda m: f"{m.day:02d}",
    "DDD": lambda m: str(m.timetuple().tm_yday),
    "DDDo": lambda m: _ordinal(m.timetuple().tm_yday),
    "DDDD": lambda m: f"{m.timetuple().tm_yday:03d}",
    "d": lambda m: str(_weekday(m)),
    "do": lambda m: _ordinal(_weekday(m)),
    "dd": lambda m: _DAYS[_weekday(m)][:2],
    "ddd": lambda m: _DAYS[_weekday(m)][:3],
    "dddd": lambda m: _DAYS[_weekday(m)],
    "e": lambda m: str(_weekday(m)),
    "E": lambda m: str(m.isoweekday()),
    "w": lambda m: str(_en_week(m)[0]),
    "wo": lambda m: _ordinal(_en_week(m)[0]),
    "ww": lambda m: f"{_en_week(m)[0]:02d}",
    "W": lambda m: str(_iso_week(m)[0]),
    "Wo": lambda m: _ordinal(_iso_week(m)[0]),
    "WW": lambda m: f"{_iso_week(m)[0]:02d}",
    "Y": _year_token,
    "YY": lambda m: f"{m.year % 100:02d}",
    "YYYY": lambda m: _pad(m.year, 4),
    "YYYYY": lambda m: _pad(m.year, 5),
    "YYYYYY": lambda m: _pad(m.year, 6, force_sign=True),
    "y": lambda m: str(m.year),
    "yo": lambda m: _ordinal(m.year),
    "yy": lambda m: f"{m.year % 100:02d}",
    "yyy": lambda m: _pad(m.year, 3),
    "yyyy": lambda m: _pad(m.year, 4),
    "N": lambda m: "AD",
    "NN": lambda m: "AD",
    "NNN": lambda m: "AD",
    "NNNN": lambda m: "Anno Domini",
    "NNNNN": lambda m: "AD",
    "gg": lambda m: f"{_en_week(m)[1] % 100:02d}",
    "gggg": lambda m: _pad(_en_week(m)[1], 4),
    "ggggg": lambda m: _pad(_en_week(m)[1], 5),
    "GG": lambda m: f"{_iso_week(m)[1] % 100:02d}",
    "GGGG": lambda m: _pad(_iso_week(m)[1], 4),
    "GGGGG": lambda m: _pad(_iso_week(m)[1], 5),
    "a": lambda m: "am" if m.hour < 12 else "pm",
    "A": lambda m: "AM" if m.hour < 12 else "PM",
    "H": lambda m: str(m.hour),
    "HH": lambda m: f"{m.hour:02d}",
    "h": lambda m: str(_hour12(m)),
    "hh": lambda m: f"{_hour12(m):02d}",
    "k": lambda m: str(m.hour or 24),
    "kk": lambda m: f"{m.hour or 24:02d}",
    "hmm": lambda m: f"{_hour12(m)}{m.minute:02d}",
    "hmmss": lambda m: f"{_hour12(m)}{m.minute:02d}{m.second:02d}",
    "Hmm": lambda m: f"{m.hour}{m.minute:02d}",
    "Hmmss": lambda m: f"{m.hour}{m.minute:02d}{m.second:02d}",
    "m": lambda m: str(m.minute),
    "mm": lambda m: f"{m.minute:02d}",
    "s": lambda m: str(m.second),
    "ss": lambda m: f"{m.second:02d}",
    "z": lambda m: m.tzname() or "",
    "zz": lambda m: m.tzname() or "",
    "Z": lambda m: _offset(m, ":"),
    "ZZ": lambda m: _offset(m, ""),
    "X": lambda m: str(_unix_ms(m) // 1000),
    "x": lambda m: str(_unix_ms(m)),
    **{"S" * n: _fraction(n) for n in range(1, 10)},
}
