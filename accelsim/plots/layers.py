"""Per-layer figures for one workload on one architecture (SPEC.md section 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import figure, figure_grid, layer_frame, op_colors, op_legend, save_figure, short_name


def plot_layer_breakdown(result: Any, top: int = 6, title: str | None = None,
                         axes: Sequence[Axes] | None = None, path: "str | Path | None" = None) -> Figure:
    """Execution time (us) and energy (uJ) of every layer in order, coloured by op kind.

    ``result`` is a SimResult or its per-layer DataFrame (``latency_s``, ``energy_j``).
    The ``top`` largest layers of each panel are labelled with their (short) names.
    """
    df = layer_frame(result)
    for col in ("latency_s", "energy_j"):
        if col not in df.columns:
            raise AccelsimError(f"per-layer rows need column {col!r} (a simulation result)")
    fig, (ax_t, ax_e) = figure_grid(axes, 2, (11, 4.2))
    idx = np.arange(len(df))
    colors = op_colors(df["op"])
    for ax, col, scale, unit, what in ((ax_t, "latency_s", 1e6, "us", "execution time"),
                                       (ax_e, "energy_j", 1e6, "uJ", "energy")):
        vals = df[col].to_numpy(float) * scale
        ax.bar(idx, vals, width=1.0, color=colors)
        total = vals.sum()
        _label_top(ax, vals, df["name"], top, total)
        ax.set_xlabel("layer (execution order)")
        ax.set_ylabel(f"{what} per layer ({unit})")
        ax.set_title(f"{what}: total {total:,.1f} {unit}", fontsize="medium")
        ax.margins(y=0.3)
        ax.grid(axis="y", alpha=0.3)
    op_legend(ax_e, df["op"], loc="upper right")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
    return fig


def _label_top(ax: Axes, vals: np.ndarray, names: Sequence[str], top: int, total: float) -> None:
    """Rank numbers above the ``top`` largest bars and a ranked list of their names and shares.

    The largest layers are often neighbours (a decoder's last layers), so names written at
    the bars would overlap; numbers stacked at increasing heights with leader lines stay
    readable, and the list in the corner carries the names.
    """
    lines = []
    for rank, i in enumerate(np.argsort(vals, kind="stable")[::-1][:top], start=1):
        share = vals[i] / total if total else 0.0
        ax.annotate(str(rank), (i, vals[i]), xytext=(0, 3 + 8 * (rank - 1)), textcoords="offset points",
                    fontsize=7, ha="center", va="bottom",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"} if rank > 1 else None)
        lines.append(f"{rank}. {short_name(names[i])} ({share:.0%})")
    if lines:
        ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, fontsize=7, va="top", ha="left",
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.9})


def plot_layer_energy_per_op(result: Any, title: str | None = None, ax: Axes | None = None,
                             path: "str | Path | None" = None) -> Figure:
    """Energy per op of every MAC layer, sorted high to low and normalised to the highest.

    Energy per op = layer energy (J) / (2 x MACs); bars coloured by op kind (depthwise
    convs and attention matmuls stand out, SPEC.md section 3).
    """
    df = layer_frame(result)
    if "energy_j" not in df.columns:
        raise AccelsimError("per-layer rows need column 'energy_j' (a simulation result)")
    df = df[df["macs"] > 0]
    if df.empty:
        raise AccelsimError("no MAC layers to plot")
    epo = df["energy_j"].to_numpy(float) / (2.0 * df["macs"].to_numpy(float))
    order = np.argsort(-epo, kind="stable")
    norm = epo[order] / epo[order[0]]
    fig, ax = figure(ax, (8, 4))
    ops = df["op"].to_numpy()[order]
    ax.bar(np.arange(len(norm)), norm, width=1.0, color=op_colors(ops))
    names = df["name"].to_numpy()[order]
    for i in range(min(3, len(norm))):
        ax.annotate(short_name(names[i]), (i, norm[i]), xytext=(4, -2), textcoords="offset points",
                    fontsize=7, va="top")
    ax.set_xlabel("MAC layers, sorted by energy per op")
    ax.set_ylabel(f"energy per op / max (max = {epo[order[0]] * 1e15:.0f} fJ/op)")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    op_legend(ax, ops, loc="upper right")
    ax.set_title(title or "Per-layer energy per op, normalised")
    save_figure(fig, path)
    return fig
