"""The evaluation as a self-contained HTML page: figures per kind, latency, every answer.

Plots are inline SVG: the page opens offline, with no script, font or style from anywhere else.
"""

from __future__ import annotations

import html
from pathlib import Path

METRICS = ("answer_accuracy", "citation_support", "answered_rate", "abstention_accuracy",
           "shown_accuracy", "reader_recall")
TABLE = ("answer_accuracy", "abstention_accuracy", "trust_score", "shown_accuracy", "reader_recall",
         "citation_support", "answered_rate", "latency_p50")
COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#17becf")


def _bars_per_kind(by_kind: dict) -> str:
    kinds = list(by_kind)
    width, height, left, bottom = 860, 260, 40, 40
    group = (width - left) / max(1, len(kinds))
    bar = group / (len(METRICS) + 1)
    parts = [f'<svg viewBox="0 0 {width} {height + 60}" role="img" aria-label="metrics per kind">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = height - tick * (height - bottom)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
                     f'<text x="4" y="{y + 4:.0f}" font-size="11">{tick:.2f}</text>')
    for k, kind in enumerate(kinds):
        x0 = left + k * group
        parts.append(f'<text x="{x0 + group / 2:.0f}" y="{height + 16}" font-size="12" '
                     f'text-anchor="middle">{html.escape(kind)}</text>')
        for m, metric in enumerate(METRICS):
            value = by_kind[kind].get(metric)
            if value is None:
                continue
            bar_height = value * (height - bottom)
            x = x0 + (m + 0.5) * bar
            parts.append(f'<rect x="{x:.1f}" y="{height - bar_height:.1f}" width="{bar * 0.9:.1f}" '
                         f'height="{bar_height:.1f}" fill="{COLOURS[m]}"><title>{metric}: '
                         f'{value:.2f}</title></rect>')
    for m, metric in enumerate(METRICS):
        x = left + m * 138
        parts.append(f'<rect x="{x}" y="{height + 32}" width="10" height="10" fill="{COLOURS[m]}"/>'
                     f'<text x="{x + 14}" y="{height + 41}" font-size="11">'
                     f'{metric.replace("_", " ")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _latency_histogram(seconds: list[float]) -> str:
    if not seconds:
        return "<p>No latencies.</p>"
    width, height, left = 760, 200, 40
    top = max(seconds)
    bins = 20
    step = top / bins or 1.0
    counts = [0] * bins
    for value in seconds:
        counts[min(bins - 1, int(value / step))] += 1
    tallest = max(counts)
    bar = (width - left) / bins
    parts = [f'<svg viewBox="0 0 {width} {height + 30}" role="img" aria-label="latency histogram">']
    for index, count in enumerate(counts):
        bar_height = count / tallest * (height - 10)
        x = left + index * bar
        parts.append(f'<rect x="{x:.1f}" y="{height - bar_height:.1f}" width="{bar * 0.9:.1f}" '
                     f'height="{bar_height:.1f}" fill="#1f77b4"><title>{index * step:.1f}–'
                     f'{(index + 1) * step:.1f} s: {count}</title></rect>')
    for index in range(0, bins + 1, 5):
        parts.append(f'<text x="{left + index * bar:.0f}" y="{height + 16}" font-size="11">'
                     f'{index * step:.1f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _risk_coverage(points: list[list[float]]) -> str:
    """Share of answers right against share of questions answered, as the decision moves."""
    if not points:
        return "<p>No questions.</p>"
    size, margin = 320, 40
    def place(coverage: float, accuracy: float) -> tuple[float, float]:
        return margin + coverage * (size - margin), size - accuracy * (size - margin)
    parts = [f'<svg viewBox="0 0 {size + 20} {size + 40}" role="img" aria-label="risk and coverage"'
             f' style="max-width:380px">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x, y = place(tick, tick)
        parts.append(f'<line x1="{margin}" x2="{size}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
                     f'<text x="4" y="{y + 4:.0f}" font-size="11">{tick:.2f}</text>'
                     f'<text x="{x:.0f}" y="{size + 16}" font-size="11" text-anchor="middle">'
                     f'{tick:.2f}</text>')
    line = " ".join("{:.1f},{:.1f}".format(*place(c, a)) for c, a in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for coverage, accuracy in points:
        x, y = place(coverage, accuracy)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f77b4"><title>answered '
                     f'{coverage:.2f}, right {accuracy:.2f}</title></circle>')
    parts.append(f'<text x="{(size + margin) / 2:.0f}" y="{size + 34}" font-size="12" '
                 'text-anchor="middle">share of questions answered</text></svg>')
    return "".join(parts)


def _cell(value) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else html.escape(str(value))


def write_report(result: dict, path: Path) -> None:
    """Write the evaluation `result` (as `newsdesk eval --out` saves it) as an HTML page."""
    summary = result["summary"]
    model = result.get("model", {})
    rows = "".join(
        f"<tr><th>{html.escape(kind)}</th>" + "".join(f"<td>{_cell(figures.get(m))}</td>" for m in
                                                     ("questions",) + TABLE)
        + "</tr>"
        for kind, figures in [("all", summary), *result["by_kind"].items(),
                              *result.get("by_set", {}).items()]
    )
    comparison = ""
    if result.get("comparison"):
        lines = "".join(
            f"<tr{' class=bad' if row['regression'] else ''}><th>{html.escape(row['metric'])}</th>"
            f"<td>{row['now']:.2f}</td><td>{row['baseline']:.2f}</td><td>{row['change']:+.2f}</td>"
            f"<td>{'REGRESSION' if row['regression'] else ''}</td></tr>"
            for row in result["comparison"]["metrics"]
        )
        comparison = (f"<h2>Against {html.escape(result['comparison']['baseline'])}</h2><table>"
                      "<tr><th>metric</th><th>now</th><th>baseline</th><th>change</th><th></th></tr>"
                      f"{lines}</table>")
    answers = "".join(
        f"<tr class={'ok' if (q['scores']['correct'] or q['scores']['abstention_correct']) else 'bad'}>"
        f"<td>{html.escape(q['kind'])}</td><td>{html.escape(q['question'])}</td>"
        f"<td>{html.escape(' | '.join(q['expected']))}</td><td>{html.escape(q['answer'])}</td>"
        f"<td>{q['seconds']:.1f}</td></tr>"
        for q in result["questions"]
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsdesk evaluation</title><style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:14px}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
tr.bad td{{background:#fdecea}} tr.bad th{{color:#b00}} svg{{width:100%;height:auto}}
</style></head><body>
<h1>newsdesk evaluation</h1>
<p>Dataset <code>{html.escape(str(result.get('dataset', '')))}</code>, model
<code>{html.escape(str(model.get('backend', '')))} {html.escape(str(model.get('name', '')))}</code>,
{summary['questions']} questions in {result.get('seconds', 0)} s.</p>
<table><tr><th></th><th>n</th>{''.join(f'<th>{m.replace("_", " ")}</th>' for m in TABLE)}</tr>{rows}</table>
<p>Trust: +1 right or rightly declined, 0 withheld, -1 wrong or answered when the articles do not
say, averaged (-1 to 1). Reader recall: an accepted answer is among the passages the model read.</p>
{comparison}
<h2>Metrics per kind</h2>{_bars_per_kind(result['by_kind'])}
<h2>Risk and coverage</h2>{_risk_coverage(summary.get('risk_coverage') or [])}
<h2>Latency per question</h2>{_latency_histogram([q['seconds'] for q in result['questions']])}
<h2>Every answer</h2><table><tr><th>kind</th><th>question</th><th>expected</th><th>answer</th><th>s</th></tr>{answers}</table>
</body></html>"""
    path.write_text(page, encoding="utf-8")
