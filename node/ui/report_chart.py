"""Bar charts drawn on the server as inline SVG, for the network dashboard.

No JavaScript and no library: a chart is a few rectangles and words. Bars
are horizontal with the label above each, so a chart keeps its words
readable on a 360 px phone: the drawing is 320 units wide and scales to
the column (never wider than its ``max-width``). Each chart is an image
(``role="img"``) named by its ``<title>`` and described by its ``<desc>``;
the table beside it holds the same numbers as text, for anyone who cannot
see the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 320
PAD = 8
LABEL_H = 18
BAR_H = 16
GAP = 10
FONT = 13
BAR_COLOUR = "#1f6fb2"
REF_COLOUR = "#a50e0e"
TEXT_COLOUR = "#1d1d1f"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    #: The value as people read it ("4.5", "12 h").
    text: str


def bar_chart(
    ident: str,
    title: str,
    desc: str,
    bars: list[Bar],
    *,
    reference: tuple[float, str] | None = None,
) -> Markup:
    """An SVG of one horizontal bar per item; ``reference`` draws a dashed aim line."""
    top = PAD + (LABEL_H if reference else 0)
    row = LABEL_H + BAR_H + GAP
    height = top + row * max(len(bars), 1) + PAD
    scale_max = max([b.value for b in bars] + ([reference[0]] if reference else []) + [1e-9])
    # Room on the right of the longest bar for its value.
    span = WIDTH - 2 * PAD - 48

    def x_of(value: float) -> float:
        return PAD + span * max(value, 0) / scale_max

    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * row
        end = x_of(bar.value)
        parts.append(
            f'<text x="{PAD}" y="{y + FONT}" fill="{TEXT_COLOUR}">{escape(bar.label)}</text>'
        )
        width = max(end - PAD, 1.5 if bar.value > 0 else 0)
        parts.append(
            f'<rect x="{PAD}" y="{y + LABEL_H}" width="{width:.1f}" height="{BAR_H}" '
            f'fill="{BAR_COLOUR}"/>'
        )
        parts.append(
            f'<text x="{PAD + width + 4:.1f}" y="{y + LABEL_H + BAR_H - 3}" '
            f'fill="{TEXT_COLOUR}">{escape(bar.text)}</text>'
        )
    if not bars:
        parts.append(f'<text x="{PAD}" y="{top + FONT}" fill="{TEXT_COLOUR}">–</text>')
    if reference is not None:
        x = x_of(reference[0])
        parts.append(
            f'<line x1="{x:.1f}" y1="{PAD + 4}" x2="{x:.1f}" y2="{height - PAD}" '
            f'stroke="{REF_COLOUR}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        anchor = "end" if x > WIDTH / 2 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(
            f'<text x="{x + dx:.1f}" y="{PAD + FONT - 2}" text-anchor="{anchor}" '
            f'fill="{REF_COLOUR}">{escape(reference[1])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
