"""Which articles a question may draw on: a period (`since`, `until`) and outlets, as a caller gives
them to `ask()`, the timeline, the command line or the page.

Dates are ISO strings or `datetime.date`; outlet names match the indexed ones whatever their case
or spacing. A filter that leaves no article is said so plainly, naming the filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from index.dates import parse_date_value
from index.store import ArticleRecord, PassageFilter

DateLike = date | str | None


class FilterError(ValueError):
    """A filter newsdesk cannot use (a date that is not one, `since` after `until`); says which."""


def parse_filter_date(name: str, value: DateLike) -> date | None:
    """`value` as a date, None for no bound; FilterError naming `name` when it is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_date_value(value)
    except ValueError:
        raise FilterError(f"{name}={value!r} is not a date (use YYYY-MM-DD)") from None


def outlet_names(outlets: str | Iterable[str] | None) -> list[str]:
    """The outlets asked for, as given: one name, or several."""
    if outlets is None:
        return []
    names = [outlets] if isinstance(outlets, str) else list(outlets)
    return [" ".join(str(name).split()) for name in names if str(name).strip()]


def article_filter(
    records: Iterable[ArticleRecord],
    since: DateLike = None,
    until: DateLike = None,
    outlets: str | Iterable[str] | None = None,
) -> tuple[PassageFilter, str | None]:
    """The filter for these bounds over the indexed articles `records`, and, when it leaves no
    article, the notice that says so (else None). Raises FilterError for unusable bounds."""
    start, end = parse_filter_date("since", since), parse_filter_date("until", until)
    if start and end and start > end:
        raise FilterError(f"since={start.isoformat()} is after until={end.isoformat()}")
    records = list(records)
    indexed = sorted({r.outlet for r in records if r.outlet})
    by_key: dict[str, list[str]] = {}
    for name in indexed:
        by_key.setdefault(name.casefold(), []).append(name)
    wanted = outlet_names(outlets)
    matched = [name for asked in wanted for name in by_key.get(asked.casefold(), [])]
    # Names no article has are kept as asked: the filter then matches nothing, and says so.
    unknown = [asked for asked in wanted if asked.casefold() not in by_key]
    only = PassageFilter(since=start, until=end, outlets=tuple(dict.fromkeys(matched + unknown)))
    if not only or any(only.allows(r.outlet, r.published) for r in records):
        return only, None
    return only, _nothing_passes(only, records, indexed, unknown)


def _nothing_passes(only: PassageFilter, records: list[ArticleRecord], indexed: list[str],
                    unknown: list[str]) -> str:
    dated = sorted(r.published for r in records if r.published)
    lines = [f"No indexed article matches the filter ({only.describe()})."]
    if unknown:
        lines.append(f"No article is from {_listed(unknown)}; the outlets indexed are "
                     f"{_listed(indexed) if indexed else 'none (no article names its outlet)'}.")
    if only.since or only.until:
        span = f"from {dated[0]} to {dated[-1]}" if dated else "none (no article gives its date)"
        undated = len(records) - len(dated)
        lines.append(f"The articles' dates run {span}" + (
            f"; {undated} article{'s' if undated != 1 else ''} without a date "
            f"{'are' if undated != 1 else 'is'} left out by a date filter." if undated else "."))
    return " ".join(lines)


def _listed(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names[:8]] + (["…"] if len(names) > 8 else [])
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
