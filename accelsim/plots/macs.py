"""MAC distribution across layers and by op kind (SPEC.md section 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import figure_grid, layer_frame, op_colors, op_legend, save_figure, short_name


def mac_shares(obj: Any) -> pd.DataFrame:
    """MACs by op kind: ``op``, ``macs``, ``share`` (fraction of all MACs), largest first."""
    df = layer_frame(obj)
    by = df[df["macs"] > 0].groupby("op", sort=False)["macs"].sum().sort_values(ascending=False, kind="stable")
    total = by.sum()
    return pd.DataFrame({"op": by.index, "macs": by.to_numpy(), "share": by.to_numpy() / total if total else 0.0})


def plot_mac_distribution(workload: Any, top: int = 5, title: str | None = None,
                          axes: Sequence[Axes] | None = None, path: "str | Path | None" = None) -> Figure:
    """Left: each MAC layer's share of all MACs in execution order (coloured by op kind,
    ``top`` largest labelled); right: MAC share by op kind (conv vs matmul vs linear ...).

    ``workload`` is a Workload, a SimResult or per-layer rows with ``name, op, macs``.
    """
    df = layer_frame(workload)
    df = df[df["macs"] > 0].reset_index(drop=True)
    if df.empty:
        raise AccelsimError("the workload has no MAC layers")
    fig, (ax_l, ax_k) = figure_grid(axes, 2, (11, 4), gridspec_kw={"width_ratios": [3, 1]})
    share = df["macs"].to_numpy(float) / df["macs"].sum() * 100
    ax_l.bar(np.arange(len(df)), share, width=1.0, color=op_colors(df["op"]))
    for i in np.argsort(share)[::-1][:top]:
        ax_l.annotate(short_name(df["name"][i]), (i, share[i]), xytext=(0, 2), textcoords="offset points",
                      fontsize=6, rotation=60, va="bottom")
    ax_l.set_xlabel("MAC layer (execution order)")
    ax_l.set_ylabel("share of all MACs (%)")
    ax_l.margins(y=0.2)
    ax_l.grid(axis="y", alpha=0.3)
    op_legend(ax_l, df["op"], loc="upper right")
    kinds = mac_shares(df)
    ax_k.bar(kinds["op"], kinds["share"] * 100, color=op_colors(kinds["op"]))
    for x, s in zip(kinds["op"], kinds["share"]):
        ax_k.annotate(f"{s:.0%}", (x, s * 100), ha="center", va="bottom", fontsize=8)
    ax_k.set_ylabel("share of all MACs (%)")
    ax_k.set_title(f"total {df['macs'].sum() / 1e9:.2f} GMACs", fontsize="medium")
    ax_k.tick_params(axis="x", rotation=45)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
    return fig
