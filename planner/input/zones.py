"""Time zone names as calendar files write them, mapped to IANA names (contract 1.2).

Windows zone names (`W. Europe Standard Time`) are mapped by icalendar itself,
from CLDR's windowsZones table. Outlook and Exchange also write a zone's
*display name* as its TZID (`"(UTC+00:00) Dublin, Edinburgh, Lisbon, London"`),
often without a VTIMEZONE that defines it: the common ones are listed here,
each with the IANA zone CLDR maps its Windows zone to. A display name is
matched by its place names, so the offset prefix written by older versions
(`(GMT)`, `(UTC)`, `(GMT+01:00)`) does not matter.
"""

from __future__ import annotations

import re

# place names of a Windows display name -> the IANA zone of its Windows zone (CLDR windowsZones, 001)
DISPLAY_NAMES = {
    "coordinated universal time": "UTC",
    "dublin, edinburgh, lisbon, london": "Europe/London",
    "greenwich mean time : dublin, edinburgh, lisbon, london": "Europe/London",
    "monrovia, reykjavik": "Atlantic/Reykjavik",
    "casablanca": "Africa/Casablanca",
    "amsterdam, berlin, bern, rome, stockholm, vienna": "Europe/Berlin",
    "belgrade, bratislava, budapest, ljubljana, prague": "Europe/Budapest",
    "brussels, copenhagen, madrid, paris": "Europe/Paris",
    "sarajevo, skopje, warsaw, zagreb": "Europe/Warsaw",
    "west central africa": "Africa/Lagos",
    "athens, bucharest": "Europe/Bucharest",
    "cairo": "Africa/Cairo",
    "helsinki, kyiv, riga, sofia, tallinn, vilnius": "Europe/Helsinki",
    "helsinki, kiev, riga, sofia, tallinn, vilnius": "Europe/Helsinki",
    "jerusalem": "Asia/Jerusalem",
    "harare, pretoria": "Africa/Johannesburg",
    "istanbul": "Europe/Istanbul",
    "moscow, st. petersburg": "Europe/Moscow",
    "moscow, st. petersburg, volgograd": "Europe/Moscow",
    "nairobi": "Africa/Nairobi",
    "abu dhabi, muscat": "Asia/Dubai",
    "islamabad, karachi": "Asia/Karachi",
    "chennai, kolkata, mumbai, new delhi": "Asia/Kolkata",
    "bangkok, hanoi, jakarta": "Asia/Bangkok",
    "beijing, chongqing, hong kong, urumqi": "Asia/Shanghai",
    "kuala lumpur, singapore": "Asia/Singapore",
    "perth": "Australia/Perth",
    "osaka, sapporo, tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "brisbane": "Australia/Brisbane",
    "canberra, melbourne, sydney": "Australia/Sydney",
    "auckland, wellington": "Pacific/Auckland",
    "azores": "Atlantic/Azores",
    "brasilia": "America/Sao_Paulo",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "city of buenos aires": "America/Argentina/Buenos_Aires",
    "atlantic time (canada)": "America/Halifax",
    "newfoundland": "America/St_Johns",
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific time (us & canada)": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "guadalajara, mexico city, monterrey": "America/Mexico_City",
    "bogota, lima, quito, rio branco": "America/Bogota",
}

_PREFIX = re.compile(r"^\s*\((?:UTC|GMT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?\)\s*", re.IGNORECASE)


def from_display_name(tzid: str) -> str | None:
    """The IANA zone of an Outlook display name, or None when it is not one listed."""
    text = str(tzid).strip().strip('"')
    if not _PREFIX.match(text):
        return None
    places = re.sub(r"\s+", " ", _PREFIX.sub("", text)).strip().lower()
    return DISPLAY_NAMES.get(places)
