"""How one cell's text is read: the parsers of the input schema's value kinds
(dates, times, windows, numbers, zones, paths), the limits far above any real
visit, and how a message quotes a value. planner.input.schema builds its fields
on these and re-exports them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from planner import domain as d

# --- limits far above any real visit (a four-week visit has about 300 sessions) --------

MAX_ROWS = 20_000  # rows per CSV file or sheet, header included
MAX_COLUMNS = 200  # columns per CSV file or sheet
MAX_CELL = 1_000_000  # characters in one cell (a long pasted notes text is a few hundred KB at most)
MAX_FILE_BYTES = 64 * 1024 * 1024  # one CSV file or visit.toml
MAX_WORKBOOK_BYTES = 64 * 1024 * 1024  # the .xlsx file itself
MAX_PART_BYTES = 64 * 1024 * 1024  # one part of the workbook's zip, uncompressed
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # every part of the workbook's zip, uncompressed
MAX_PARTS = 1_000  # parts in the workbook's zip
MAX_RATIO = 200  # uncompressed / compressed size of a part (checked for parts over 1 MB)
MAX_CONTENT_TYPES_BYTES = 1024 * 1024  # [Content_Types].xml, uncompressed
MAX_NUMBER_DIGITS = 20  # a whole number's text
DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
YEARS_AHEAD = 5  # a visit's days at most this many years after today
MAX_TIMEZONE = 64  # characters of a time zone name
DAY = 24 * 60

# (1.2) every id of every table: letters, digits, - and _, starting with a letter or digit
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
ID_RULE = "may contain only letters, digits, '-' and '_' (A–Z, a–z, 0–9), and must start with a letter or digit"
MAX_TOML_KEYS = 1_000  # keys (lines holding '=') in visit.toml: a real one has about 30
MAX_TOML_DEPTH = 8  # brackets and braces open at once in visit.toml: a real one needs 1
MAX_SHOWN = 80  # characters of a value quoted in a message


# --- parsing single values ---------------------------------------------------------------

class BadValue(ValueError):
    """A value that does not parse; its message is the user's sentence."""


def parse_date(text: str) -> dt.date:
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not match:
        raise BadValue(f"'{text}' is not a date (YYYY-MM-DD)")
    try:
        value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise BadValue(f"'{text}' is not a date (YYYY-MM-DD)") from None
    if not DATE_MIN <= value <= DATE_MAX:
        raise BadValue(f"'{text}': the year {match.group(1)} is outside {DATE_MIN.year}–{DATE_MAX.year}; "
                       f"is the year right?")
    return value


def parse_time(text: str) -> dt.time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::00)?\s*", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise BadValue(f"'{text}' is not a time (HH:MM, 24-hour)")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_datetime(text: str) -> dt.datetime:
    match = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::00)?)\s*", text)
    if not match:
        raise BadValue(f"'{text}' is not a date and time (YYYY-MM-DD HH:MM)")
    try:
        time = parse_time(match.group(2))
    except BadValue:
        raise BadValue(f"'{text}' is not a date and time (YYYY-MM-DD HH:MM)") from None
    return d.combine(parse_date(match.group(1)), time)


def parse_int(text: str, minimum: int | None = 0, maximum: int | None = None) -> int:
    text = text.strip()
    if len(text) > MAX_NUMBER_DIGITS or not re.fullmatch(r"[+-]?\d+", text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BadValue(f"'{shown}' is not a whole number")
    value = int(text)
    if minimum is not None and value < minimum:
        raise BadValue(f"{value} is too small (at least {minimum})")
    if maximum is not None and value > maximum:
        raise BadValue(f"{value} is too large (at most {maximum}{' minutes, a day' if maximum == DAY else ''})")
    return value


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise BadValue(f"'{shown(text)}' is not true or false")


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """A value as a message quotes it: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


def parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(";") if item.strip())


def parse_dates(text: str) -> tuple[dt.date, ...]:
    return tuple(parse_date(item) for item in parse_list(text))


def parse_windows(text: str) -> tuple[d.Window, ...]:
    windows = []
    for item in parse_list(text):
        match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2}))?", item)
        if not match:
            raise BadValue(f"'{item}' is not a date (YYYY-MM-DD) or a date with a time range "
                           f"(YYYY-MM-DD HH:MM-HH:MM)")
        day = parse_date(match.group(1))
        if match.group(2) is None:
            windows.append(d.Window.whole_day(day))
            continue
        start = parse_time(match.group(2))
        end_text = match.group(3)
        end = d.combine(day + dt.timedelta(days=1), dt.time(0)) if end_text == "24:00" \
            else d.combine(day, parse_time(end_text))
        if end <= d.combine(day, start):
            raise BadValue(f"the window '{item}' must end after it starts")
        windows.append(d.Window(d.combine(day, start), end))
    return tuple(windows)


NOT_REGIONS = {"localtime", "factory", "posixrules"}  # names in the tz database that name no place


def parse_timezone(text: str) -> str:
    """An IANA region (Europe/London) or UTC: `localtime`, `Factory`, `posixrules`
    and the posix/ and right/ copies are files of the database, not zones (1.2)."""
    import zoneinfo

    text = text.strip()
    problem = BadValue(f"'{shown(text, 40)}' is not an IANA timezone (e.g. Europe/London)")
    if len(text) > MAX_TIMEZONE or not re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", text):
        raise problem
    if text.lower() in NOT_REGIONS or text.lower().startswith(("posix/", "right/")):
        raise problem
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise problem from None
    return text


def parse_relative_path(text: str) -> str:
    """A path inside the visit folder: relative, no `..` leading out of it."""
    text = text.strip()
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() \
            or PureWindowsPath(text).drive or text.startswith(("\\", "~")):
        raise BadValue(f"'{text}' is an absolute path; give a path relative to the visit folder "
                       f"(e.g. calendars/{Path(text.replace(chr(92), '/')).name or 'name.ics'})")
    depth = 0
    for part in re.split(r"[\\/]+", text):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise BadValue(f"'{text}' leads out of the visit folder; keep the file inside it")
        elif part not in ("", "."):
            depth += 1
    if depth == 0:
        raise BadValue(f"'{text}' names no file")
    return text


def parse_phone(text: str) -> str:
    """A phone number as free text on one line."""
    return re.sub(r"\s+", " ", text).strip()
