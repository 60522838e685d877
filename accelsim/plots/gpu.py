"""Convolution MAC share vs measured GPU time share vs image size (SPEC.md sections 9-10)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import figure, save_figure


def gpu_share_table(gpu: "pd.DataFrame | str | Path") -> pd.DataFrame:
    """Per (device, workload, input): conv MAC share and conv GPU time share (fractions).

    ``gpu`` is a frame from :func:`accelsim.gpu.load` or files/folders it accepts.
    """
    from .. import gpu as gpu_data

    frame = gpu if isinstance(gpu, pd.DataFrame) else gpu_data.load(gpu)
    if frame.empty:
        raise AccelsimError("no GPU measurements: record some with `accelsim gpu` first")
    shares = gpu_data.conv_shares(frame)
    if shares.empty:
        raise AccelsimError("the GPU measurements hold no per-layer timings")
    return shares.sort_values(["workload", "input_h", "input_w"], kind="stable").reset_index(drop=True)


def plot_gpu_share(gpu: "pd.DataFrame | str | Path", title: str | None = None, ax: Axes | None = None,
                   path: "str | Path | None" = None) -> Figure:
    """Share of convolution MACs (dashed, circles) and of measured time (solid, squares) vs
    input size in pixels (log axis: the study spans about 1K to 4M pixels), one colour per
    workload and device; the legend sits below the axes, off the data.

    The study's observation: convolutions hold most of the MACs but a much smaller
    share of GPU time, so MAC shares predict GPU time shares poorly.
    """
    from matplotlib.lines import Line2D

    shares = gpu_share_table(gpu)
    fig, ax = figure(ax, figsize=(7.0, 5.0))
    handles = []
    groups = shares.groupby(["workload", "device_name", "dtype"], sort=False)
    several = groups.ngroups > 1 and shares[["device_name", "dtype"]].drop_duplicates().shape[0] > 1
    for i, ((wl, dev, dtype), g) in enumerate(groups):
        x = (g["input_h"] * g["input_w"]).to_numpy(float)   # pixels
        color = f"C{i % 10}"
        ax.plot(x, g["conv_mac_share"] * 100, "--o", color=color, ms=4)
        ax.plot(x, g["conv_time_share"] * 100, "-s", color=color, ms=4)
        handles.append(Line2D([], [], color=color, lw=2, label=f"{wl} ({dev}, {dtype})" if several else wl))
    handles += [Line2D([], [], color="0.3", ls="--", marker="o", ms=4, label="share of MACs"),
                Line2D([], [], color="0.3", ls="-", marker="s", ms=4, label="share of measured time")]
    ax.set_xscale("log")
    sizes = shares.drop_duplicates("input").sort_values(["input_h", "input_w"])
    px = (sizes["input_h"] * sizes["input_w"]).to_numpy(float)
    ax.set_xticks(px, [f"{lab}\n{_pixels(p)}" for lab, p in zip(sizes["input"], px)], fontsize=8)
    ax.minorticks_off()
    lo, hi = px.min(), px.max()
    ax.set_xlim(lo / 1.6, hi * 1.6)
    ax.set_xlabel("input size (pixels, log scale)")
    ax.set_ylabel("convolution share (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    pairs = shares[["device_name", "dtype"]].drop_duplicates().itertuples(index=False)
    devices = ", ".join(f"{d} ({t})" for d, t in pairs)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize="small",
              frameon=False)
    ax.set_title(title or f"Convolutions: share of MACs vs share of measured time\n{devices}", fontsize="medium")
    save_figure(fig, path)
    return fig


def _pixels(n: float) -> str:
    """``65536`` -> ``"66K px"``, ``147456`` -> ``"147K px"``, ``4194304`` -> ``"4.2M px"``."""
    for scale, unit in ((1e6, "M"), (1e3, "K")):
        if n >= scale:
            v = n / scale
            return f"{v:.1f}{unit} px" if v < 10 else f"{v:.0f}{unit} px"
    return f"{n:.0f} px"
