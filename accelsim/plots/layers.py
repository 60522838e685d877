"""Per-layer figures for one workload on one architecture (SPEC.md section 10).

Layers are drawn in execution order on a background that marks the network's parts
(backbone or encoder vs decoder or head, from the layers' ``part`` tags), whose shares
of time and energy the legend states: where the decoder's few layers take most of the
time is the point of the study. The largest layers are numbered at their bars without
overlap and named beside the panel with the shortest unambiguous layer name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import (REPORT_WIDTH_PX, band_widths_px, figure, figure_grid, fit_figure_legend, layer_frame,
                     layers_text, name_pattern, op_colors, op_handles, part_column, part_handles, percent,
                     save_figure, shade_parts, unique_names)
from .labels import label_row, place_labels


def part_shares(df: pd.DataFrame, parts: pd.Series, col: str) -> dict[str, float]:
    """Share of ``col``'s total held by each part."""
    total = float(df[col].sum()) or 1.0
    return {p: float(v) / total for p, v in df[col].groupby(parts.to_numpy(), sort=False).sum().items()}


def plot_layer_breakdown(result: Any, top: int = 6, title: str | None = None,
                         axes: Sequence[Axes] | None = None, path: "str | Path | None" = None) -> Figure:
    """Execution time (us, top) and energy (uJ, bottom) of every layer in execution order,
    coloured by op kind, on a background marking the network's parts.

    ``result`` is a SimResult or its per-layer DataFrame (``latency_s``, ``energy_j``).
    The ``top`` largest layers of each panel are numbered at their bars and listed beside
    the panel with their share of the total.
    """
    df = layer_frame(result)
    for col in ("latency_s", "energy_j"):
        if col not in df.columns:
            raise AccelsimError(f"per-layer rows need column {col!r} (a simulation result)")
    fig, (ax_t, ax_e) = figure_grid(axes, 2, (9.0, 6.2), stacked=True)
    idx = np.arange(len(df))
    colors = op_colors(df["op"])
    names = unique_names(df["name"])
    parts = part_column(df)
    shades: dict[str, str] = {}
    ranked = []
    for ax, col, unit, what in ((ax_t, "latency_s", "us", "execution time"), (ax_e, "energy_j", "uJ", "energy")):
        vals = df[col].to_numpy(float) * 1e6
        if parts is not None:
            shades = shade_parts(ax, parts)
        ax.bar(idx, vals, width=1.0, color=colors, zorder=2)
        total = vals.sum()
        ax.set_ylabel(f"{what} ({unit})")
        ax.set_ylim(0, vals.max() * 1.22 if len(vals) and vals.max() > 0 else 1)  # headroom: rank row
        ax.set_xlim(-0.5, len(df) - 0.5)
        ax.grid(axis="y", alpha=0.3, zorder=1)
        ax.set_title(f"{what} per layer: total {total:,.1f} {unit}", fontsize="medium", loc="left")
        ranked.append((ax, vals, _rank_top(ax, vals, names, top, total)))
    ax_e.set_xlabel("layer (execution order)")
    ops = op_handles(df["op"])
    fit_figure_legend(fig, ops, min(len(ops), 11), loc="outside lower center", fontsize="small",
                      frameon=False, handlelength=1.2, columnspacing=1.0)
    if parts is not None:
        thin = _mark_thin_parts((ax_t, ax_e), parts, shades)
        t, e = part_shares(df, parts, "latency_s"), part_shares(df, parts, "energy_j")
        counts = parts.value_counts(sort=False)
        labels = {p: f"{THIN_MARK + ' ' if p in thin else ''}{p} ({layers_text(counts[p])}): {percent(t[p])} of "
                     f"time, {percent(e[p])} of energy" for p in shades}
        fit_figure_legend(fig, part_handles(shades, labels), min(len(shades), 3), loc="outside upper center",
                          fontsize="small", frameon=False, title=title,
                          title_fontsize="large")  # the title heads the part key (a suptitle would collide)
    if title and parts is None:
        fig.suptitle(title)
    for ax, vals, order in ranked:  # numbers at the bars, once the layout is final
        label_row(ax, order, vals[order], [str(r) for r in range(1, len(order) + 1)])
    save_figure(fig, path)
    return fig


#: Narrowest part band (pixels, at the report's width) drawn as a band alone; a narrower one
#: is marked above the axes with :data:`THIN_MARK` and so listed in the legend
MIN_BAND_PX = 3.0
THIN_MARK = "\u25bc"  # a down-pointing triangle


def _mark_thin_parts(axes: Sequence[Axes], parts: pd.Series, shades: dict[str, str]) -> set[str]:
    """Parts whose every band is narrower than :data:`MIN_BAND_PX` at :data:`REPORT_WIDTH_PX`:
    each gets a triangle above every panel at its position (and its legend entry the same
    mark). Dividers beside any such sliver are hidden (at that width they would cover it).
    Returns those parts."""
    from matplotlib.transforms import blended_transform_factory

    thin: set[str] = set()
    for ax in axes:
        runs = band_widths_px(ax, parts, REPORT_WIDTH_PX)
        widest = {p: max(w for q, _, _, w in runs if q == p) for p, _, _, _ in runs}
        for p, lo, hi, width in runs:
            if width >= MIN_BAND_PX:
                continue
            for line in ax.get_lines():
                if line.get_gid() == "part-divider" and line.get_xdata()[0] in (lo - 0.5, hi + 0.5):
                    line.set_visible(False)
            if widest[p] >= MIN_BAND_PX:
                continue  # the part shows elsewhere: this sliver needs no mark
            thin.add(p)
            ax.plot([(lo + hi) / 2], [1.0], marker="v", ms=7, color=shades[p], mec="0.2", mew=0.8, clip_on=False,
                    transform=blended_transform_factory(ax.transData, ax.transAxes), zorder=7, gid=f"thin:{p}")
    return thin


def _rank_top(ax: Axes, vals: np.ndarray, names: Sequence[str], top: int, total: float) -> np.ndarray:
    """List the ``top`` largest bars beside ``ax`` (rank, name, share); returns their positions."""
    order = np.argsort(vals, kind="stable")[::-1][:top]
    lines = [f"{r}. {names[i]} ({percent(vals[i] / total if total else 0.0)})" for r, i in enumerate(order, 1)]
    if lines:
        ax.text(1.01, 1.0, "largest layers:\n" + "\n".join(lines), transform=ax.transAxes, fontsize=7.5,
                va="top", ha="left", linespacing=1.35)
    return order


def plot_layer_energy_per_op(result: Any, title: str | None = None, ax: Axes | None = None,
                             path: "str | Path | None" = None) -> Figure:
    """Energy per op of every MAC layer, sorted high to low and normalised to the highest.

    Energy per op = layer energy (J) / (2 x MACs); bars coloured by op kind (depthwise
    convs and attention matmuls stand out, SPEC.md section 3). Layers tied at the same
    level (the same block repeated) are labelled once, with their count and a name
    pattern (``backbone.*.*.mlp.dwconv``).
    """
    df = layer_frame(result)
    if "energy_j" not in df.columns:
        raise AccelsimError("per-layer rows need column 'energy_j' (a simulation result)")
    df = df[df["macs"] > 0].reset_index(drop=True)
    if df.empty:
        raise AccelsimError("no MAC layers to plot")
    epo = df["energy_j"].to_numpy(float) / (2.0 * df["macs"].to_numpy(float))
    order = np.argsort(-epo, kind="stable")
    norm = epo[order] / epo[order[0]]
    fig, ax = figure(ax, (8, 4.2))
    ops = df["op"].to_numpy()[order]
    ax.bar(np.arange(len(norm)), norm, width=1.0, color=op_colors(ops))
    ax.set_xlabel("MAC layers, sorted by energy per op")
    ax.set_ylabel(f"energy per op / max (max = {epo[order[0]] * 1e15:,.0f} fJ/op)")
    ax.set_ylim(0, 1.12)
    ax.set_xlim(-0.5, len(norm) - 0.5)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=op_handles(ops), loc="upper right", fontsize="small", title="op kind",
              title_fontsize="small")
    ax.set_title(title or "Per-layer energy per op, normalised")
    runs = tie_runs(norm, ops)[:3]
    names = df["name"].to_numpy()[order]
    texts = [(f"{hi - lo + 1} x {ops[lo]}: " if hi > lo else "") + name_pattern(names[lo:hi + 1])
             for lo, hi in runs]
    place_labels(ax, [(lo + hi) / 2 for lo, hi in runs], [norm[lo] for lo, _ in runs], texts,
                 obstacles=np.column_stack([np.arange(len(norm)), norm]), marker_pt=1.0, fontsize=7.5,
                 avoid=[ax.get_legend()], bars=bar_boxes(norm))
    save_figure(fig, path)
    return fig


def bar_boxes(heights: np.ndarray) -> np.ndarray:
    """Rectangles (x0, 0, x1, height) of unit-width bars at 0..n-1, for the label placer."""
    x = np.arange(len(heights), dtype=float)
    return np.column_stack([x - 0.5, np.zeros(len(x)), x + 0.5, np.asarray(heights, float)])


def tie_runs(levels: np.ndarray, ops: Sequence[str], rel: float = 0.005) -> list[tuple[int, int]]:
    """Runs ``(first, last)`` of consecutive (sorted) bars of the same op whose levels agree
    within ``rel`` of the first one: one label per run instead of one per bar."""
    runs: list[tuple[int, int]] = []
    for i, (v, op) in enumerate(zip(levels, ops)):
        if runs and ops[runs[-1][0]] == op and abs(v - levels[runs[-1][0]]) <= rel * abs(levels[runs[-1][0]]):
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def layer_table(result: Any) -> pd.DataFrame:
    """The per-layer rows :func:`plot_layer_breakdown` draws, in execution order (SI units),
    with the ``part`` each layer is shaded as."""
    df = layer_frame(result)
    parts = part_column(df)
    cols = [c for c in ("name", "op", "macs", "latency_s", "energy_j") if c in df.columns]
    return df[cols].assign(part=parts if parts is not None else "")


def energy_per_op_table(result: Any) -> pd.DataFrame:
    """The MAC layers :func:`plot_layer_energy_per_op` draws, highest energy per op first:
    ``energy_per_op_j`` (J per op, op = half a MAC) and ``normalised`` (to the highest)."""
    df = layer_frame(result)
    df = df[df["macs"] > 0]
    epo = df["energy_j"].to_numpy(float) / (2.0 * df["macs"].to_numpy(float))
    out = df[["name", "op", "macs", "energy_j"]].assign(energy_per_op_j=epo)
    out = out.sort_values("energy_per_op_j", ascending=False, kind="stable").reset_index(drop=True)
    return out.assign(normalised=out["energy_per_op_j"] / out["energy_per_op_j"].iloc[0] if len(out) else 0.0)
