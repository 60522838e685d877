"""Point labels that do not overlap each other, the data points, or the legend.

Greedy placement in display space: each label (in priority order) tries offsets around
its point on rings of growing radius, and takes the first position whose box stays
inside the axes and touches no placed label, no data point and no legend; labels placed
away from their point get a thin leader line. If no position is free, the one with the
fewest conflicts is used. Deterministic (no randomness), so figures stay byte-stable,
and vectorised over the points, so thousands of points cost milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.text import Annotation

#: ring radii in points, nearest first
RADII_PT = (5.0, 11.0, 18.0, 27.0, 38.0, 52.0, 70.0, 92.0, 120.0)
#: directions tried on each ring (degrees): diagonals first, then the axes, then between
ANGLES = (45, 135, -45, -135, 0, 180, 90, -90, 22.5, 157.5, -22.5, -157.5, 67.5, 112.5, -67.5, -112.5)
#: label box padding in points
PAD_PT = 2.5


@dataclass(frozen=True)
class Placed:
    """A placed label: its annotation and its box in display pixels (x0, y0, x1, y1)."""

    annotation: Annotation
    box: tuple[float, float, float, float]


def renderer_of(fig):
    """A renderer for ``fig`` (attaching an Agg canvas to a pyplot-free figure)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which of ``boxes`` (k x 4) intersect ``box`` (4,)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=bool)
    return ~((boxes[:, 2] <= box[0]) | (boxes[:, 0] >= box[2]) | (boxes[:, 3] <= box[1]) | (boxes[:, 1] >= box[3]))


def place_labels(ax: Axes, x: Sequence[float], y: Sequence[float], texts: Sequence[str], *,
                 obstacles: "np.ndarray | None" = None, marker_pt: float = 4.0, fontsize: float = 7.5,
                 color: "str | Sequence[str]" = "0.1", avoid: Sequence = (),
                 bars: "np.ndarray | None" = None) -> list[Placed]:
    """Annotate points ``(x[i], y[i])`` (data coordinates) with ``texts[i]``, in order.

    ``obstacles`` (n x 2, data coordinates) are further points no label may cover
    (default: the labelled points); ``marker_pt`` is their radius in points. ``bars``
    (k x 4: x0, y0, x1, y1 in data coordinates) are rectangles labels keep off. ``avoid``
    holds artists whose boxes labels keep clear of (e.g. a legend). Call after the axes
    limits and the layout are final (the figure is drawn once here to fix the layout).
    """
    fig = ax.figure
    renderer = renderer_of(fig)
    fig.draw(renderer)  # runs the layout engine: axes positions are final from here on
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    data = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    anchors = ax.transData.transform(data)
    pts = anchors if obstacles is None else ax.transData.transform(np.asarray(obstacles, float))
    pts = pts[np.isfinite(pts).all(axis=1)]
    taken = [np.array(a.get_window_extent(renderer).extents) for a in avoid if a is not None]
    rects = np.zeros((0, 4))
    if bars is not None and len(bars):
        b = np.asarray(bars, float)
        lo, hi = ax.transData.transform(b[:, :2]), ax.transData.transform(b[:, 2:])
        rects = np.column_stack([np.minimum(lo, hi), np.maximum(lo, hi)])
    prop = FontProperties(size=fontsize)
    colors = [color] * len(texts) if isinstance(color, str) else list(color)
    pad, r_mark = PAD_PT * px, marker_pt * px
    placed: list[Placed] = []
    for (ax_x, ax_y), xy, text, c in zip(anchors, data, texts, colors):
        if not (np.isfinite(ax_x) and np.isfinite(ax_y)):
            continue
        w, h, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
        best = None
        for r in RADII_PT:
            for ang in ANGLES:
                dx, dy = math.cos(math.radians(ang)), math.sin(math.radians(ang))
                ha = "left" if dx > 0.3 else "right" if dx < -0.3 else "center"
                va = "bottom" if dy > 0.3 else "top" if dy < -0.3 else "center"
                tx, ty = ax_x + dx * r * px, ax_y + dy * r * px
                x0 = tx if ha == "left" else tx - w if ha == "right" else tx - w / 2
                y0 = ty if va == "bottom" else ty - h if va == "top" else ty - h / 2
                box = np.array([x0 - pad, y0 - pad, x0 + w + pad, y0 + h + pad])
                inside = (box[0] >= frame.x0 and box[2] <= frame.x1 and box[1] >= frame.y0
                          and box[3] <= frame.y1)
                near = ((pts[:, 0] > box[0] - r_mark) & (pts[:, 0] < box[2] + r_mark)
                        & (pts[:, 1] > box[1] - r_mark) & (pts[:, 1] < box[3] + r_mark))
                boxes = np.array([p.box for p in placed] + taken).reshape(-1, 4)
                cost = (1000 * (not inside) + 100 * int(_overlaps(box, boxes).sum()) + int(near.sum())
                        + int(_overlaps(box, rects).sum()))
                if best is None or cost < best[0]:
                    best = (cost, r, dx, dy, ha, va, box)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, r, dx, dy, ha, va, box = best
        leader = {"arrowstyle": "-", "lw": 0.5, "color": "0.45", "shrinkA": 0, "shrinkB": marker_pt}
        ann = ax.annotate(text, tuple(xy), xytext=(dx * r, dy * r), textcoords="offset points", ha=ha, va=va,
                          fontsize=fontsize, color=c, arrowprops=leader if r > RADII_PT[0] else None,
                          annotation_clip=False, zorder=6)
        ann.set_in_layout(False)
        placed.append(Placed(ann, tuple(float(v) for v in box)))
    return placed


def label_row(ax: Axes, x: Sequence[float], y: Sequence[float], texts: Sequence[str], *, fontsize: float = 8,
              gap_pt: float = 4.0, top_pt: float = 3.0) -> list[Placed]:
    """Short labels (rank numbers) for bars in one row along the top of ``ax``, in the bars'
    left-to-right order, spread just enough not to overlap and joined to the bar tops
    ``(x[i], y[i])`` (data coordinates) by leader lines that cannot cross each other.

    For bars too close for a label each (the last layers of a network); the axes need
    headroom above the tallest bar (e.g. ``ylim`` 1.18 x the maximum).
    """
    fig = ax.figure
    renderer = renderer_of(fig)
    fig.draw(renderer)
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    prop = FontProperties(size=fontsize)
    anchors = ax.transData.transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    order = np.argsort(anchors[:, 0], kind="stable")
    widths = np.array([renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts])
    heights = [renderer.get_text_width_height_descent(t, prop, ismath=False)[1] for t in texts]
    gap = gap_pt * px
    centers = anchors[order, 0].copy()
    w = widths[order]
    for i in range(1, len(centers)):  # push right until clear of the left neighbour
        centers[i] = max(centers[i], centers[i - 1] + (w[i - 1] + w[i]) / 2 + gap)
    overflow = centers[-1] + w[-1] / 2 - (frame.x1 - gap) if len(centers) else 0.0
    if overflow > 0:  # shift the row left, then keep it inside on the left too
        centers -= overflow
        for i in range(len(centers)):
            lo = (frame.x0 + gap + w[i] / 2) if i == 0 else centers[i - 1] + (w[i - 1] + w[i]) / 2 + gap
            centers[i] = max(centers[i], lo)
    top = frame.y1 - top_pt * px
    placed: list[Placed] = []
    leader = {"arrowstyle": "-", "lw": 0.5, "color": "0.45", "shrinkA": 1, "shrinkB": 1}
    for j, k in enumerate(order):
        (ax_x, ax_y), text = anchors[k], texts[k]
        dx, dy = (centers[j] - ax_x) / px, (top - ax_y) / px
        ann = ax.annotate(text, (float(x[k]), float(y[k])), xytext=(dx, dy), textcoords="offset points",
                          ha="center", va="top", fontsize=fontsize, arrowprops=leader, annotation_clip=False,
                          zorder=6)
        ann.set_in_layout(False)
        box = (centers[j] - w[j] / 2, top - heights[k], centers[j] + w[j] / 2, top)
        placed.append(Placed(ann, tuple(float(v) for v in box)))
    return placed
