"""Time in answers: questions about when things happened, or about the latest state of things,
are answered with the articles' dates.

For "latest / now / as of / so far" questions the newest articles' passages come first and the
answer says as of when; relative dates an answer repeats ("on Friday") are given as calendar
dates, resolved against the publication date of the article that says them.
"""

from __future__ import annotations

import re
from datetime import date

from index.dates import day_number, find_dates, spoken_date, spoken_period
from index.store import StoredPassage
from qa.citations import content_words
from qa.thresholds import CONTEXT_CHARS, MAX_UPDATE_DAYS


def newest_cited_date(published: list[str | None]) -> str | None:
    dated = [day for day in published if day]
    return max(dated) if dated else None


def as_of(text: str, newest: str | None) -> str:
    """The answer text said as of the newest cited article's date, unless it already says so."""
    if not newest or re.search(r"\bas of\b", text, re.IGNORECASE):
        return text
    return f"As of {spoken_date(newest)}: {text}"


def with_calendar_dates(claim: str, cited: list[StoredPassage]) -> str:
    """The claim with each relative date it shares with a cited passage given as a calendar date:
    "Rubio spoke on Friday" -> "Rubio spoke on Friday (Friday: 19 December 2025)".

    The date is resolved against the publication date of the cited article that says it; a
    relative date no cited dated article says is left alone.
    """
    resolved: dict[str, str] = {}
    for passage in cited:
        if not passage.published:
            continue
        reference = date.fromisoformat(passage.published)
        for found in find_dates(passage.text, reference):
            if found.relative:
                resolved.setdefault(_key(found.text), spoken_period(found.day, found.precision))
    if not resolved:
        return claim
    notes = []
    for found in find_dates(claim, date(2000, 1, 1)):  # any reference: only the words matter here
        label = resolved.get(_key(found.text))
        if found.relative and label and label not in claim:
            notes.append(f"{found.text.strip()}: {label}")
    if not notes:
        return claim
    body = claim.rstrip()
    end = body[-1] if body and body[-1] in ".!?" and not body.endswith("”") else ""
    body = body[:-1] if end else body
    return f"{body} ({'; '.join(dict.fromkeys(notes))}){end}"


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def reported_update(newer: StoredPassage, new_version: str, older: StoredPassage,
                    old_version: str) -> bool:
    """Whether two dated articles' versions of a fact are one fact reported at two moments:
    dated differently but a few days apart, and told with words in common around the versions
    ("9,000 people are now sheltering in relief camps" / "moved 4,000 people to relief camps", not
    "1,432 people have been rescued" / "16 people have been confirmed dead")."""
    if not (newer.published and older.published) or newer.published == older.published:
        return False
    apart = abs(day_number(newer.published) - day_number(older.published))
    if apart > MAX_UPDATE_DAYS:
        return False
    own = content_words(new_version) | content_words(old_version)
    return bool((_around(newer.text, new_version) & _around(older.text, old_version)) - own)


def _around(text: str, version: str) -> set[str]:
    at = text.lower().find(version.lower())
    if at < 0:
        return set()
    return content_words(text[max(0, at - CONTEXT_CHARS) : at] + " "
                         + text[at + len(version) : at + len(version) + CONTEXT_CHARS])


def dated(passage: StoredPassage, outlet: bool = True) -> str:
    """"19 December 2025 (Dawn)", for a sentence that names where and when a version appeared."""
    parts = spoken_date(passage.published) if passage.published else "an undated article"
    return f"{parts} ({passage.outlet})" if outlet and passage.outlet else parts
