"""Dates in article text: explicit ("December 19, 2025", "Sept. 29") and relative ("on Friday",
"last month", "two weeks ago"), each resolved against the article's publication date.

Used to read an article's own date from its byline or dateline, to date the events a timeline
lists, and to say what "Friday" meant in an answer. Everything is a regular expression over
English news prose: predictable, fast, and no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from index.english import (AGO_COUNTS, DEADLINE, FUTURE_CUE, MONTH_NAMES, MONTHS,
                           WEEKDAYS)

Precision = Literal["day", "week", "month", "year"]
PRECISIONS: tuple[Precision, ...] = ("day", "week", "month", "year")

# Capitalised only: news prose capitalises months, and "may" or "march" in lower case are verbs.
_MONTH = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_COUNT = r"\d{1,3}|" + "|".join(AGO_COUNTS)
_YEAR_SUFFIX = r"(?:,?\s+(?P<year>(?:19|20)\d\d)\b|\s+(?P<which_year>this|last|next)\s+year\b)?"

# Most specific first: where two patterns match overlapping text, the earlier one wins.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b")),
    ("month_day", re.compile(
        rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?!:\d){_YEAR_SUFFIX}")),
    ("day_month", re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?{_YEAR_SUFFIX}")),
    ("month_year", re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)\b")),
    ("year", re.compile(r"\b(?:in|since|by|during|until|before|after|early|late|mid-?|of)\s+"
                        r"(?P<year>(?:19|20)\d\d)\b(?![-/]\d)")),
    ("weekday", re.compile(rf"\b(?:(?P<which>(?i:last|next|this|coming|past))\s+)?"
                           rf"(?P<weekday>{'|'.join(w.capitalize() for w in WEEKDAYS)})\b")),
    ("ago", re.compile(rf"\b(?P<count>{_COUNT})\s+(?P<unit>day|week|month|year)s?\s+ago\b",
                       re.IGNORECASE)),
    ("period", re.compile(r"\b(?P<when>(?:earlier|later)\s+this|this|last|next|past|coming|previous)"
                          r"\s+(?P<unit>week|month|year)\b", re.IGNORECASE)),
    ("day_word", re.compile(r"\b(?P<word>today|tonight|yesterday|tomorrow|last night|"
                            r"this (?:morning|afternoon|evening))\b", re.IGNORECASE)),
]
@dataclass(frozen=True)
class TextDate:
    """A date written in a text: where, as written, and the period it names."""

    start: int  # offsets in the text searched
    end: int
    text: str
    day: date  # the first day of the period named
    precision: Precision
    relative: bool  # resolved against the reference (publication) date

    @property
    def label(self) -> str:
        return format_period(self.day, self.precision)


def format_period(day: date, precision: Precision) -> str:
    """"2025-12-19", "week of 2025-12-15", "2025-12" or "2025"."""
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if precision == "week":
        return f"week of {day.isoformat()}"
    return day.isoformat()


def spoken_period(day: date, precision: Precision) -> str:
    """"19 December 2025", "the week of 15 December 2025", "January 2026" or "2026"."""
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    return ("the week of " if precision == "week" else "") + spoken_date(day)


def spoken_date(day: date | str) -> str:
    """"19 December 2025": unambiguous in any English, for answer text."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def written_date(day: date) -> str:
    """"September 20, 2017": the way American English prose writes a date."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def parse_date_value(value: object) -> date:
    """A date from a setting, a sidecar or front-matter: a date, an ISO string, or a written date
    ("Dec. 19, 2025 10:00 GMT", "19 décembre 2025"); ValueError with the reason otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError("an empty date")
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        if re.match(r"\d{4}-\d", text):  # ISO-like but not a real date ("2025-13-01")
            raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)") from None
    found = [d for d in find_dates(text) if d.precision == "day"]
    if found:
        return found[0].day
    import dateparser  # only for written dates in other forms or languages (bundled data, offline)

    parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": True,
                                              "REQUIRE_PARTS": ["day", "month", "year"]})
    if parsed is None:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)")
    return parsed.date()


def day_number(day: date | str | None) -> int:
    """An integer that orders dates (days since year 1); 0 for no date. Chroma filters on it."""
    if not day:
        return 0
    return (date.fromisoformat(day) if isinstance(day, str) else day).toordinal()


def find_dates(text: str, reference: date | None = None) -> list[TextDate]:
    """The dates written in `text`, in order. Without a `reference` (the article's date), only
    dates that name their year are returned; with one, relative dates are resolved against it."""
    taken: list[tuple[int, int]] = []
    found: list[TextDate] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(a < end and start < b for a, b in taken):
                continue
            resolved = _resolve(kind, match, text, reference)
            if resolved is None:
                continue
            day, precision, relative = resolved
            taken.append((start, end))
            found.append(TextDate(start, end, match.group(0), day, precision, relative))
    return sorted(found, key=lambda d: d.start)


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` writes a date, with or without its year ("Dec. 19", "in 2017", "two days ago")."""
    # Any reference day will do: only where the dates are is wanted, not which days they name.
    return [(found.start, found.end) for found in find_dates(text, reference=date(2000, 1, 1))]


def _resolve(kind: str, match: re.Match[str], text: str,
             reference: date | None) -> tuple[date, Precision, bool] | None:
    groups = match.groupdict()
    try:
        if kind == "iso":
            return date(int(groups["year"]), int(groups["month"]), int(groups["day"])), "day", False
        if kind in ("month_day", "day_month"):
            month, day = MONTH_NAMES[groups["month"]], int(groups["day"])
            if groups.get("year"):
                return date(int(groups["year"]), month, day), "day", False
            if reference is None:
                return None
            if groups.get("which_year"):
                offset = {"this": 0, "last": -1, "next": 1}[groups["which_year"]]
                return date(reference.year + offset, month, day), "day", True
            # No year: the one that puts the date nearest the article's ("Jan. 5" in December is
            # next month's, "Sept. 29" in December this year's).
            candidates = [date(reference.year + k, month, day) for k in (-1, 0, 1)]
            return min(candidates, key=lambda d: abs(d - reference)), "day", True
        if kind == "month_year":
            return date(int(groups["year"]), MONTH_NAMES[groups["month"]], 1), "month", False
        if kind == "year":
            return date(int(groups["year"]), 1, 1), "year", False
    except ValueError:  # "February 30"
        return None
    if reference is None:
        return None
    if kind == "weekday":
        which = (groups.get("which") or "").lower() or None
        return _weekday(groups["weekday"].lower(), which, text, match.start(), reference)
    if kind == "ago":
        count = groups["count"].lower()
        n = int(count) if count.isdigit() else AGO_COUNTS[count]
        unit = groups["unit"].lower()
        return _shifted(reference, unit, -n), _unit_precision(unit), True
    if kind == "period":
        when, unit = " ".join(groups["when"].lower().split()), groups["unit"].lower()
        step = {"last": -1, "past": -1, "previous": -1, "next": 1, "coming": 1}.get(when, 0)
        return _shifted(reference, unit, step), _unit_precision(unit), True
    if kind == "day_word":
        word = " ".join(groups["word"].lower().split())
        step = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
        return reference + timedelta(days=step), "day", True
    return None


def _weekday(name: str, which: str | None, text: str, at: int,
             reference: date) -> tuple[date, Precision, bool]:
    target = WEEKDAYS.index(name)
    back = (reference.weekday() - target) % 7  # days back to the latest such day, today included
    ahead = (target - reference.weekday()) % 7
    if which in ("next", "coming"):
        return reference + timedelta(days=ahead or 7), "day", True
    if which in ("last", "past"):
        return reference - timedelta(days=back or 7), "day", True
    if which == "this":
        return reference - timedelta(days=reference.weekday()) + timedelta(days=target), "day", True
    # Bare: news reports what happened, so the latest such day, unless the sentence so far
    # speaks of what is to come.
    sentence_start = max(text.rfind(". ", 0, at), text.rfind("\n", 0, at), 0)
    if FUTURE_CUE.search(text, sentence_start, at) or DEADLINE.search(text[max(0, at - 6) : at]):
        return reference + timedelta(days=ahead), "day", True
    return reference - timedelta(days=back), "day", True


def _unit_precision(unit: str) -> Precision:
    return {"day": "day", "week": "week", "month": "month", "year": "year"}[unit]  # type: ignore[return-value]


def _shifted(reference: date, unit: str, steps: int) -> date:
    """The first day of the day, week (from Monday), month or year `steps` away from `reference`."""
    if unit == "day":
        return reference + timedelta(days=steps)
    if unit == "week":
        monday = reference - timedelta(days=reference.weekday())
        return monday + timedelta(weeks=steps)
    if unit == "month":
        months = reference.year * 12 + reference.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)
    return date(reference.year + steps, 1, 1)
