"""The near-miss hints of validation's messages ("did you mean `finance`?") and
the distance beyond which an unavailable window is taken for a year typo."""

from __future__ import annotations

import datetime as dt
import difflib

FAR_WINDOW = dt.timedelta(days=366)  # unavailable windows this far from the visit are ignored (with a warning)
TYPO_SEARCH_LIMIT = 2_000  # above this many known ids only letter case is compared (difflib is quadratic)


def did_you_mean(value: str, known) -> str | None:
    """The known id or choice the user most likely meant: the same letters in
    another case, or a small typo (difflib), or the one longer name it begins."""
    lower = value.lower()
    by_lower: dict[str, str] = {}
    for k in sorted(known):
        by_lower.setdefault(k.lower(), k)
    if lower in by_lower:
        return by_lower[lower]
    if len(by_lower) > TYPO_SEARCH_LIMIT:
        return None
    close = difflib.get_close_matches(lower, list(by_lower), n=1, cutoff=0.75)
    if close:
        return by_lower[close[0]]
    longer = [k for k in by_lower if len(value) >= 3 and k.startswith(lower)]
    return by_lower[longer[0]] if len(longer) == 1 else None


def unknown_id_message(value: str, known, what: str, hint: bool = True) -> str:
    shown = value if len(value) <= 60 else value[:60] + "…"
    message = f"unknown {what} id '{shown}'"
    if "," in value:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        return f"{message}: lists are separated with `;`, write `{';'.join(parts)}`"
    guess = did_you_mean(value, known) if known and hint else None
    if guess is not None:
        message += f"; did you mean `{guess}`?" + (" (ids are exact, letter case included)"
                                                  if guess.lower() == value.lower() else "")
    return message
