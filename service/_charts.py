"""Small bar charts drawn as inline SVG on the server: no chart library, no script, nothing
fetched; the stylesheet colours them. Each chart has a title and a text table behind it
(``<title>`` and ``aria-label``), so a screen reader reads the numbers too.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from saraban.thai import to_thai_digits


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 560,
    height: int = 220,
    horizontal: bool = False,
) -> Markup:
    """Vertical bars (months) or horizontal bars (units), labelled with their counts. Every
    other month's label, counting back from the latest, is marked ``odd``: a phone's
    stylesheet hides those to make room for larger text."""
    if not any(count for _, count in items):
        return Markup('<p class="muted">ยังไม่มีข้อมูล</p>')
    peak = max(count for _, count in items) or 1
    described = ", ".join(f"{label} {count}" for label, count in items)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}: {escape(described)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if horizontal:
        label_width, top = 150, 6
        row = min(28, (height - top) // len(items))
        span = width - label_width - 50
        for index, (label, count) in enumerate(items):
            y = top + index * row
            bar = round(span * count / peak)
            parts.append(
                f'<text class="chart-label" x="{label_width - 6}" y="{y + row * 0.65:.1f}" '
                f'text-anchor="end">{escape(label)}</text>'
                f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{max(bar, 1)}" '
                f'height="{row - 6}" rx="2"/>'
                f'<text class="chart-value" x="{label_width + bar + 5}" '
                f'y="{y + row * 0.65:.1f}">{escape(to_thai_digits(str(count)))}</text>'
            )
    else:
        bottom, top = height - 28, 18
        slot = width / len(items)
        bar_width = max(4.0, slot * 0.62)
        parts.append(f'<line class="axis" x1="0" y1="{bottom}" x2="{width}" y2="{bottom}"/>')
        for index, (label, count) in enumerate(items):
            x = index * slot + (slot - bar_width) / 2
            bar_height = (bottom - top) * count / peak
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{bottom - bar_height:.1f}" '
                f'width="{bar_width:.1f}" height="{max(bar_height, 0.5):.1f}" rx="2"/>'
                f'<text class="chart-value" x="{x + bar_width / 2:.1f}" '
                f'y="{bottom - bar_height - 4:.1f}" text-anchor="middle">'
                f"{escape(to_thai_digits(str(count))) if count else ''}</text>"
                f'<text class="chart-label{" odd" if (len(items) - 1 - index) % 2 else ""}" '
                f'x="{x + bar_width / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
