"""The benchmark's scaling plot: query time, index time and memory against corpus size.

Plain SVG written by hand, like the evaluation report: it opens offline and needs no plotting library.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

PANEL_WIDTH, PANEL_HEIGHT = 320, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 34, 64
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c")


def _scale(low: float, high: float, log: bool):
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low or 1.0

    def position(value: float) -> float:
        value = math.log10(value) if log else value
        return (value - low) / span

    return position


def _ticks(low: float, high: float, log: bool) -> list[float]:
    if log:
        return [m * 10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
                for m in (1, 2, 5) if low <= m * 10.0 ** e <= high]
    step = 10 ** math.floor(math.log10(high / 4 or 1))
    for factor in (1, 2, 5, 10):
        if high / (step * factor) <= 5:
            step *= factor
            break
    return [step * i for i in range(int(high / step) + 1)]


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:g}"


def _panel(x0: float, title: str, unit: str, sizes: list[int], series: list[tuple[str, list]],
           log_y: bool = False, limit: float | None = None) -> str:
    """One chart: `series` are (name, values per size); a dashed line marks `limit`."""
    values = [v for _, line in series for v in line if v is not None]
    if limit is not None:
        values.append(limit)
    if not values:
        return ""
    low_y = min(values) / 1.5 if log_y else 0.0
    high_y = max(values) * (1.5 if log_y else 1.15) or 1.0
    low_x, high_x = (min(sizes), max(sizes)) if len(set(sizes)) > 1 else (sizes[0] / 2, sizes[0] * 2)
    to_x = _scale(low_x / 1.3, high_x * 1.3, True)
    to_y = _scale(low_y, high_y, log_y)
    width, height = PANEL_WIDTH - LEFT - RIGHT, PANEL_HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return x0 + LEFT + to_x(value) * width

    def y(value: float) -> float:
        return TOP + height - to_y(value) * height

    parts = [f'<text x="{x0 + PANEL_WIDTH / 2:.0f}" y="18" font-size="13" font-weight="bold" '
             f'text-anchor="middle">{html.escape(title)}</text>']
    for tick in _ticks(low_y, high_y, log_y):
        parts.append(f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + width}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#e3e3e3"/><text x="{x0 + LEFT - 5}" '
                     f'y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{_label(tick)}</text>')
    for size in sorted(set(sizes)):
        parts.append(f'<text x="{x(size):.1f}" y="{TOP + height + 15}" font-size="10" '
                     f'text-anchor="middle">{size:,}</text>')
    parts.append(f'<text x="{x0 + LEFT + width / 2:.0f}" y="{TOP + height + 30}" font-size="10" '
                 f'text-anchor="middle">articles (log scale)</text>')
    parts.append(f'<text x="{x0 + 12}" y="{TOP + height / 2:.0f}" font-size="10" text-anchor="middle" '
                 f'transform="rotate(-90 {x0 + 12} {TOP + height / 2:.0f})">{html.escape(unit)}</text>')
    parts.append(f'<rect x="{x0 + LEFT}" y="{TOP}" width="{width}" height="{height}" fill="none" '
                 'stroke="#999"/>')
    if limit is not None:
        parts.append(f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + width}" y1="{y(limit):.1f}" '
                     f'y2="{y(limit):.1f}" stroke="#d62728" stroke-dasharray="5 4"/>'
                     f'<text x="{x0 + LEFT + width - 3}" y="{y(limit) - 4:.1f}" font-size="10" '
                     f'fill="#d62728" text-anchor="end">target {_label(limit)}</text>')
    for number, (name, line) in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points = [(x(s), y(v), s, v) for s, v in zip(sizes, line) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for px, py, size, value in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"><title>'
                         f'{html.escape(name)}, {size:,} articles: {value:g} {html.escape(unit)}'
                         '</title></circle>')
        legend_y = PANEL_HEIGHT - 16
        legend_x = x0 + LEFT + number * (width / max(1, len(series)))
        parts.append(f'<rect x="{legend_x:.0f}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{legend_x + 13:.0f}" y="{legend_y + 1}" font-size="10">'
                     f'{html.escape(name)}</text>')
    return "".join(parts)


def scaling_svg(result: dict) -> str:
    """The plot of a benchmark result (as `newsdesk bench` writes it) as an SVG document."""
    rows = sorted(result.get("scaling", []), key=lambda row: row["articles"])
    sizes = [row["articles"] for row in rows]
    machine = result.get("machine", {})
    caption = (f"newsdesk benchmark, {machine.get('date', '')[:10]}: {machine.get('cpu', '')}, "
               f"{machine.get('cores', '?')} cores, {machine.get('ram_gib', '?')} GiB")
    # Sizes merged from several runs (--merge) say which code each was measured with.
    commits = [(row.get("measured") or {}).get("commit") or machine.get("commit") or "?" for row in rows]
    if len(set(commits)) > 1:
        caption += "; sizes measured on commits " + ", ".join(
            f"{str(commit).split()[0]} ({row['articles']:,})" for commit, row in zip(commits, rows))
    panels = [
        _panel(0, "Query time", "ms", sizes, [
            ("retrieval p50", [row["retrieval_ms"]["p50"] for row in rows]),
            ("passages ready p50", [row["passages_ready_ms"]["p50"] for row in rows]),
        ], limit=100),
        _panel(PANEL_WIDTH, "Index time", "seconds (log scale)", sizes, [
            ("build_index", [row["index"]["seconds"] for row in rows]),
            ("embedding alone", [round(row["passages"] / row["embedding_alone"]["passages_per_second"], 2)
                                 for row in rows]),
        ], log_y=True),
        _panel(2 * PANEL_WIDTH, "Peak memory of newsdesk", "MiB", sizes, [
            ("indexing", [_peak(row, "indexing", "after_indexing") for row in rows]),
            ("answering", [_peak(row, "answering", "after_queries") for row in rows]),
        ], limit=2048),
    ]
    width, height = 3 * PANEL_WIDTH, PANEL_HEIGHT + 22
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" font-family="system-ui, sans-serif" role="img" '
            f'aria-label="benchmark: query time, index time and memory against articles">'
            f'<rect width="{width}" height="{height}" fill="#fff"/>{"".join(panels)}'
            f'<text x="{width / 2:.0f}" y="{height - 4}" font-size="10" fill="#555" '
            f'text-anchor="middle">{html.escape(caption)}</text></svg>\n')


def _peak(row: dict, phase: str, earlier_name: str) -> float | None:
    # Rows of earlier runs measured both phases in one process, peak after each.
    peaks = row["peak_rss_mib"]
    return peaks.get(phase, peaks.get(earlier_name))


def write_scaling_plot(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scaling_svg(result), encoding="utf-8")
