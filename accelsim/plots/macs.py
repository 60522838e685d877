"""MAC distribution across layers and by op kind (SPEC.md section 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import (figure_grid, layer_frame, layers_text, name_pattern, op_colors, part_column, part_handles,
                     percent, save_figure, shade_parts, unique_names)
from .labels import place_labels
from .layers import bar_boxes


def mac_shares(obj: Any) -> pd.DataFrame:
    """MACs by op kind: ``op``, ``macs``, ``share`` (fraction of all MACs), largest first."""
    df = layer_frame(obj)
    by = df[df["macs"] > 0].groupby("op", sort=False)["macs"].sum().sort_values(ascending=False, kind="stable")
    total = by.sum()
    return pd.DataFrame({"op": by.index, "macs": by.to_numpy(), "share": by.to_numpy() / total if total else 0.0})


def mac_table(obj: Any) -> pd.DataFrame:
    """The MAC layers :func:`plot_mac_distribution` draws, in execution order: ``name``,
    ``op``, ``macs`` and ``share`` (fraction of all MACs)."""
    df = layer_frame(obj)
    df = df[df["macs"] > 0]
    total = float(df["macs"].sum())
    return df[["name", "op", "macs"]].assign(share=df["macs"] / total if total else 0.0).reset_index(drop=True)


def plot_mac_distribution(workload: Any, top: int = 5, title: str | None = None,
                          axes: Sequence[Axes] | None = None, path: "str | Path | None" = None) -> Figure:
    """Left: each MAC layer's share of all MACs in execution order, coloured by op kind, on a
    background marking the network's parts (their MAC shares in the legend), the ``top``
    largest labelled with their shortest unambiguous names; right: MAC share by op kind
    (the bar colours are the left panel's legend).

    ``workload`` is a Workload, a SimResult or per-layer rows with ``name, op, macs``.
    """
    df = layer_frame(workload)
    df = df[df["macs"] > 0].reset_index(drop=True)
    if df.empty:
        raise AccelsimError("the workload has no MAC layers")
    fig, (ax_l, ax_k) = figure_grid(axes, 2, (10, 4.2), gridspec_kw={"width_ratios": [3, 1]})
    share = df["macs"].to_numpy(float) / df["macs"].sum() * 100
    parts = part_column(df)
    if parts is not None:
        shades = shade_parts(ax_l, parts)
        by_part = df["macs"].groupby(parts.to_numpy(), sort=False).sum() / df["macs"].sum()
        counts = parts.value_counts(sort=False)
        ax_l.legend(handles=part_handles(shades, {p: f"{p} ({layers_text(counts[p])}): {percent(by_part[p])} of MACs"
                                                   for p in shades}),
                    loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(shades), fontsize="small",
                    frameon=False)
    ax_l.bar(np.arange(len(df)), share, width=1.0, color=op_colors(df["op"]), zorder=2)
    ax_l.set_xlabel("MAC layer (execution order)")
    ax_l.set_ylabel("share of all MACs (%)")
    ax_l.set_ylim(0, share.max() * 1.4)  # headroom for the labels
    ax_l.set_xlim(-0.5, len(df) - 0.5)
    ax_l.grid(axis="y", alpha=0.3, zorder=1)
    kinds = mac_shares(df)
    y = np.arange(len(kinds))[::-1]
    ax_k.barh(y, kinds["share"] * 100, color=op_colors(kinds["op"]))
    ax_k.set_yticks(y, kinds["op"])
    for yi, s in zip(y, kinds["share"]):
        ax_k.annotate(percent(s), (s * 100, yi), xytext=(3, 0), textcoords="offset points", va="center",
                      fontsize=8)
    ax_k.set_xlim(0, kinds["share"].max() * 100 * 1.3)
    ax_k.set_xlabel("share of all MACs (%)")
    ax_k.set_title(f"by op kind (total {df['macs'].sum() / 1e9:.2f} GMACs)", fontsize="medium")
    if title:
        fig.suptitle(title)
    groups = largest_groups(share, top)
    names = unique_names(df["name"])
    texts = [f"{names[g[0]]} ({percent(share[g[0]] / 100)})" if len(g) == 1 else
             f"{len(g)} x {name_pattern([names[i] for i in g])} ({percent(share[g[0]] / 100)} each)" for g in groups]
    order = [g[0] for g in groups]
    place_labels(ax_l, order, share[order], texts,
                 obstacles=np.column_stack([np.arange(len(df)), share]), marker_pt=1.0, fontsize=7.5,
                 avoid=[ax_l.get_legend()], bars=bar_boxes(share))
    save_figure(fig, path)
    return fig


def largest_groups(values: np.ndarray, top: int, rel: float = 0.005) -> list[list[int]]:
    """The ``top`` largest values as groups of positions whose values agree within ``rel``
    (a repeated block's layers), largest first: one label per group instead of per bar."""
    groups: list[list[int]] = []
    for i in np.argsort(values, kind="stable")[::-1]:
        if groups and abs(values[i] - values[groups[-1][0]]) <= rel * abs(values[groups[-1][0]]):
            groups[-1].append(int(i))
        elif len(groups) < top:
            groups.append([int(i)])
        else:
            break
    return [sorted(g) for g in groups]
