"""Energy per op vs throughput per mm2 across architectures, Pareto fronts drawn (SPEC.md section 10).

Built to stay readable from a dozen study configurations to thousands of grid points:
markers shrink and fade as points multiply, only the Pareto-optimal points and the
configurations named by the caller are labelled, labels never overlap (see
:mod:`accelsim.plots.labels`), and long names (grid points such as
``E[num_pe=8,k0=16,c0=16]``) are labelled with a number and spelled out in a table
under the axes. The legend sits above the axes, off the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from ..sweep.pareto import AUTO, mapped_rows, pareto_mask, resolve_by
from .common import figure, save_figure, subject_text
from .labels import renderer_of
from .labels import place_labels

X, Y = "throughput_ops_per_s_per_mm2", "energy_per_op_j"
#: labels longer than this are numbered and listed in the names table
MAX_INLINE_LABEL = 10
#: rows of the names table at most (further labelled points are counted in its last line)
MAX_TABLE_ROWS = 24


def marker_style(n: int) -> tuple[float, float]:
    """(marker area in pt^2, alpha) for ``n`` points: smaller and lighter as points multiply."""
    if n <= 60:
        return 26.0, 0.95
    if n <= 600:
        return 12.0, 0.7
    return 4.0, 0.45


def series_names(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """One legend name per row: the values of ``keys`` that vary across ``df``, joined."""
    varying = [k for k in keys if df[k].nunique(dropna=False) > 1]
    if not varying:
        return pd.Series(str(df[keys[0]].iloc[0]) if keys else "", index=df.index)
    parts = [df[k].fillna("").astype(str).replace("", "full model" if k == "exec_path" else "")
             + (" scope" if k == "scope" else "") for k in varying]
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out


def plot_energy_throughput(df: pd.DataFrame, label_col: str = "arch",
                           group_col: "str | Sequence[str] | None" = AUTO, front: bool = True,
                           named: Sequence[str] = (), max_labels: int = 40, title: str | None = None,
                           ax: Axes | None = None, path: "str | Path | None" = None) -> Figure:
    """Energy per op (fJ/op) vs throughput per mm2 (TOPS/mm2), one series per group.

    ``group_col``: ``"auto"`` (default) gives one series and one Pareto front per
    workload, execution path and scope, like :func:`accelsim.pareto`; a column (or
    list), or ``None`` for one series. The front (min energy/op, max throughput/mm2) of
    each series is circled and joined by a line. Labelled with ``label_col``: the front
    points (at most ``max_labels``, cheapest energy first) and every row whose label is in
    ``named``. op = one FLOP = half a MAC. Error rows (unmappable points) are left out.
    """
    if label_col not in df.columns:
        raise AccelsimError(f"sweep rows need column {label_col!r}")
    table = energy_throughput_table(df, group_col)
    fig, ax = figure(ax, figsize=(7.0, 5.0))
    size, alpha = marker_style(len(table))
    label_rows: list[tuple[float, float, str, str, float]] = []  # x, y, text, colour, priority
    for i, (name, g) in enumerate(table.groupby("series", sort=False)):
        x = g[X].to_numpy(float) / 1e12   # ops/s/mm2 -> TOPS/mm2
        y = g[Y].to_numpy(float) * 1e15   # J/op -> fJ/op
        color = f"C{i % 10}"
        marker = SCOPE_MARKERS.get(str(g["scope"].iloc[0]), "o") if "scope" in g.columns else "o"
        ax.scatter(x, y, s=size, color=color, alpha=alpha, linewidths=0, label=str(name) or None, zorder=3,
                   marker=marker)
        on = g["pareto"].to_numpy(bool)
        if front and on.any():
            order = x[on].argsort()
            ax.plot(x[on][order], y[on][order], color=color, lw=1.3, alpha=0.8, zorder=4)
            ax.scatter(x[on], y[on], s=max(60.0, size * 3), facecolors="none", edgecolors=color, lw=1.4, zorder=5)
        want = on | g[label_col].astype(str).isin([str(n) for n in named]).to_numpy()
        for xi, yi, lab, is_front in zip(x[want], y[want], g[label_col].astype(str)[want], on[want]):
            label_rows.append((xi, yi, lab, color, yi if is_front else -1.0))
    ax.set_xlabel("throughput per area (TOPS/mm$^2$, op = 1 FLOP)")
    ax.set_ylabel("energy per op (fJ/op)")
    ax.grid(alpha=0.3)
    ax.margins(0.08)
    legend = _legend(ax, table["series"].nunique(), front)
    subject = subject_text(table)
    pad = 4.0
    if legend is not None:  # the title sits above the legend, however many rows it has
        pad += legend.get_window_extent(renderer_of(fig)).height * 72.0 / fig.dpi
    ax.set_title(title or "Energy per op vs throughput per mm$^2$" + (f"\n{subject}" if subject else ""),
                 pad=pad, fontsize="medium" if subject and not title else None)
    _label_points(ax, label_rows, max_labels, len(table), legend)
    save_figure(fig, path)
    return fig


#: marker of each scope's points (the front of each (workload, scope) is its own series)
SCOPE_MARKERS = {"accelerator": "o", "system": "s"}


def energy_throughput_table(df: pd.DataFrame, group_col: "str | Sequence[str] | None" = AUTO) -> pd.DataFrame:
    """The rows :func:`plot_energy_throughput` draws (error rows left out, SI units) with
    ``series`` (the legend name: the grouping columns that vary, scope spelled out) and
    ``pareto`` (on its series' front: min energy per op, max throughput per mm2)."""
    missing = [c for c in (X, Y) if c not in df.columns]
    if missing:
        raise AccelsimError(f"sweep rows need column(s) {', '.join(missing)}")
    df = mapped_rows(df)
    if df.empty:
        raise AccelsimError("no sweep rows to plot")
    keys = resolve_by(df, None, group_col)
    out = df.assign(series=series_names(df, keys) if keys else "")
    out["pareto"] = False
    for _, g in out.groupby("series", sort=False):
        pts = np.column_stack([g[Y].to_numpy(float), g[X].to_numpy(float)])
        out.loc[g.index, "pareto"] = pareto_mask(pts, [False, True])
    return out


def _legend(ax: Axes, n_series: int, front: bool):
    """The series and a "Pareto front" entry in one row above the axes (off the data)."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if front:
        handles.append(Line2D([], [], color="0.35", marker="o", mfc="none", ms=8, lw=1.3))
        labels.append("Pareto front" + (" (of each)" if n_series > 1 else ""))
    if not handles or (n_series <= 1 and not front):
        return None
    fig = ax.figure
    renderer = renderer_of(fig)
    for ncols in range(min(4, len(handles)), 0, -1):  # as many columns as fit the figure's width
        legend = ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=ncols,
                           fontsize="small", frameon=False, borderaxespad=0.2, handletextpad=0.3,
                           columnspacing=1.2)
        if legend.get_window_extent(renderer).width <= 0.8 * fig.bbox.width:
            break
    for h in legend.legend_handles:  # legend markers at full size and colour, however faded the points
        if hasattr(h, "set_sizes"):
            h.set_sizes([26.0])
            h.set_alpha(1.0)
    return legend


def _label_points(ax: Axes, rows: list[tuple[float, float, str, str, float]], max_labels: int, n_points: int,
                  legend) -> None:
    """Label named rows first, then front rows by ascending energy, up to ``max_labels``;
    long names become numbers listed in a table under the axes."""
    rows = sorted(rows, key=lambda r: (r[4] >= 0, r[4]))  # named (priority -1) first, then front
    shown, skipped = rows[:max_labels], len(rows) - min(len(rows), max_labels)
    texts, table = [], []
    for x, y, lab, color, _ in shown:
        if len(lab) <= MAX_INLINE_LABEL:
            texts.append(lab)
        else:
            if lab not in table:  # one number per name, whichever series it is in
                table.append(lab)
            texts.append(str(table.index(lab) + 1))
    if table or skipped:
        lines = [f"{i}: {lab}" for i, lab in enumerate(table[:MAX_TABLE_ROWS], start=1)]
        if len(table) > MAX_TABLE_ROWS:
            lines.append(f"... {len(table) - MAX_TABLE_ROWS} more numbered points")
        if skipped:
            lines.append(f"{skipped} more Pareto-optimal point(s) not labelled (see `accelsim pareto`)")
        ncol = 2 if len(lines) > 8 else 1
        per = -(-len(lines) // ncol)
        cols = ["\n".join(lines[i * per:(i + 1) * per]) for i in range(ncol)]
        for j, text in enumerate(cols):
            ax.annotate(text, (j / ncol, 0), xycoords="axes fraction", xytext=(0, -34), textcoords="offset points",
                        ha="left", va="top", fontsize=7, family="monospace")
    if shown:
        place_labels(ax, [r[0] for r in shown], [r[1] for r in shown], texts,
                     obstacles=None if n_points <= 0 else _all_points(ax), color=[r[3] for r in shown],
                     avoid=[legend] if legend is not None else [])


def _all_points(ax: Axes) -> np.ndarray:
    """Every scatter point of ``ax`` in data coordinates (the label placer's obstacles)."""
    pts = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    return np.vstack(pts) if pts else np.zeros((0, 2))
