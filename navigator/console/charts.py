"""Bar charts drawn on the server as SVG geometry: no chart library, no script, and the same
figures are always in a table beside the chart for screen readers.

This module only computes numbers and carries the labels; `console/dashboard.jinja` writes
the SVG, so titles and labels are escaped there like any other text and nothing is marked
safe."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    baseline: float
    bars: list[Bar]


def bar_chart(
    title: str, points: list[tuple[str, float | None]], *, width: int = 640, height: int = 220
) -> BarChart:
    """One bar per point; a missing value (None) draws no bar but keeps its slot and label."""
    top, bottom, gap = 20.0, 30.0, 8.0
    plot = height - top - bottom
    peak = max((value for _, value in points if value is not None), default=0.0) or 1.0
    slot = width / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        size = 0.0 if value is None else plot * value / peak
        bars.append(
            Bar(
                x=round(i * slot + gap / 2, 1),
                y=round(top + plot - size, 1),
                width=round(slot - gap, 1),
                height=round(size, 1),
                label=label,
                value="–" if value is None else f"{value:g}",
            )
        )
    return BarChart(title, width, height, top + plot, bars)
