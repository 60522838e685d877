"""Energy per op vs throughput per mm2 across architectures, Pareto front drawn (SPEC.md section 10)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from ..sweep.pareto import pareto_mask
from .common import figure, save_figure

X, Y = "throughput_ops_per_s_per_mm2", "energy_per_op_j"


def plot_energy_throughput(df: pd.DataFrame, label_col: str = "arch", group_col: str | None = "workload",
                           front: bool = True, max_labels: int = 30, title: str | None = None,
                           ax: Axes | None = None, path: "str | Path | None" = None) -> Figure:
    """Energy per op (fJ/op) vs throughput per mm2 (TOPS/mm2), one series per ``group_col``.

    Points are labelled with ``label_col`` (all of them up to ``max_labels`` points,
    else only the Pareto points); the front (min energy/op, max throughput/mm2) of
    each series is circled and joined by a line. op = one FLOP = half a MAC.
    """
    missing = [c for c in (X, Y, label_col) if c not in df.columns]
    if missing:
        raise AccelsimError(f"sweep rows need column(s) {', '.join(missing)}")
    if df.empty:
        raise AccelsimError("no sweep rows to plot")
    fig, ax = figure(ax)
    groups = df.groupby(group_col, sort=False) if group_col and group_col in df.columns else [("", df)]
    for i, (name, g) in enumerate(groups):
        x = g[X].to_numpy(float) / 1e12   # ops/s/mm2 -> TOPS/mm2
        y = g[Y].to_numpy(float) * 1e15   # J/op -> fJ/op
        color = f"C{i % 10}"
        ax.scatter(x, y, s=22, color=color, label=str(name) or None, zorder=3)
        on = pareto_mask(g[[Y, X]].to_numpy(float), [False, True])
        if front and on.any():
            fx, fy = x[on], y[on]
            order = fx.argsort()
            ax.plot(fx[order], fy[order], color=color, lw=1.2, alpha=0.7, zorder=2)
            ax.scatter(fx, fy, s=70, facecolors="none", edgecolors=color, lw=1.4, zorder=4)
        label_all = len(g) <= max_labels
        for xi, yi, lab, is_front in zip(x, y, g[label_col].astype(str), on):
            if label_all or is_front:
                ax.annotate(lab, (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_xlabel("throughput per area (TOPS/mm$^2$, op = 1 FLOP)")
    ax.set_ylabel("energy per op (fJ/op)")
    ax.grid(alpha=0.3)
    if group_col and group_col in df.columns:
        ax.legend(fontsize="small", title="circled: Pareto front", title_fontsize="small")
    ax.set_title(title or "Energy per op vs throughput per mm$^2$")
    save_figure(fig, path)
    return fig
