"""Time-vs-accuracy and energy-vs-accuracy plots for execution paths (SPEC.md section 10).

Paths are dots, retrained models (full variants reached by model switching) are drawn as
separate star markers, the Pareto-optimal points (min cost, max accuracy) are ringed and
joined by a step line. With GPU data a second panel shows the same on the GPU.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..paths.rdd import pareto_front, with_known_accuracy
from ..paths.syntax import parse_path
from .common import figure, figure_grid, save_figure

#: x column -> (axis label, scale to the plotted unit)
AXES = {"latency_s": ("latency per inference (ms)", 1e3), "energy_j": ("energy per inference (mJ)", 1e3)}


def is_model(path: str) -> bool:
    """True for a full retrained model: an empty path or only ``variant=`` (model switching)."""
    return set(parse_path(path or "")) <= {"variant"}


def _panel(ax, df: pd.DataFrame, x: str, y: str, label_col: str, title: str) -> None:
    label, scale = AXES.get(x, (x, 1.0))
    known = with_known_accuracy(df, y)
    if known.empty:
        ax.text(0.5, 0.5, "no rows with known accuracy", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title(title)
        return
    is_retrained = known["exec_path"].fillna("").map(is_model)
    paths = known[~is_retrained]
    models = known[is_retrained]
    front = pareto_front(known, x, y)
    ax.scatter(paths[x] * scale, paths[y] * 100, s=28, color="tab:blue", label="execution path",
               zorder=3)
    ax.scatter(models[x] * scale, models[y] * 100, s=140, marker="*", color="tab:orange",
               edgecolor="black", linewidth=0.5, label="retrained model", zorder=4)
    ax.step(front[x] * scale, front[y] * 100, where="post", color="tab:red", lw=1.2, zorder=2)
    ax.scatter(front[x] * scale, front[y] * 100, s=110, facecolor="none", edgecolor="tab:red",
               linewidth=1.5, label="Pareto-optimal", zorder=5)
    for i, (_, row) in enumerate(known.sort_values(x).iterrows()):
        text = str(row.get(label_col, "") or "full model")
        ax.annotate(text, (row[x] * scale, row[y] * 100), textcoords="offset points",
                    xytext=(5, -10 if i % 2 else 5), fontsize=7)
    ax.set_xlabel(label)
    ax.set_ylabel(f"{y} (%)" if y != "accuracy" else "accuracy (mIoU / AP / top-1, %)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def plot_accuracy_tradeoff(df: pd.DataFrame, x: str = "latency_s", y: str = "accuracy",
                           label_col: str = "exec_path", gpu_df: pd.DataFrame | None = None,
                           ax=None, path: "str | Path | None" = None,
                           title: str | None = None) -> Figure:
    """Cost (``x``: ``latency_s`` seconds or ``energy_j`` joules, plotted in ms / mJ) vs
    accuracy (fractions, plotted in %) with the Pareto front highlighted.

    ``df`` holds one row per evaluated path (``exec_path``, ``x``, ``y``; ``"unknown"``
    accuracies are left out). ``gpu_df`` adds a GPU panel beside the accelerator one.
    ``path`` saves the figure (.png/.svg/.pdf; no suffix = PNG and SVG).
    """
    if x not in df.columns:
        raise ValueError(f"column {x!r} missing; use one of {', '.join(AXES)}")
    arch = str(df["arch"].iloc[0]) if "arch" in df.columns and len(df) else "accelerator"
    accel_title = title or f"{arch}: {x.split('_')[0]} vs accuracy"
    if gpu_df is not None:
        if ax is not None:
            raise ValueError("give either ax or gpu_df (the GPU panel needs its own axes)")
        fig, (a1, a2) = figure_grid(None, 2, figsize=(12, 4.8))
        _panel(a1, df, x, y, label_col, accel_title)
        _panel(a2, gpu_df, x, y, label_col, "GPU (measured)")
    else:
        fig, ax = figure(ax, figsize=(7, 4.8))
        _panel(ax, df, x, y, label_col, accel_title)
    save_figure(fig, path)
    return fig
