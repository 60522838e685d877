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
    """Share of convolution MACs (dashed) and of measured GPU time (solid) vs input size.

    The study's observation: convolutions hold most of the MACs but a much smaller
    share of GPU time, so MAC shares predict GPU time shares poorly.
    """
    shares = gpu_share_table(gpu)
    fig, ax = figure(ax)
    for i, ((wl, dev, dtype), g) in enumerate(shares.groupby(["workload", "device_name", "dtype"], sort=False)):
        x = g["input_h"] * g["input_w"] / 1e6   # megapixels
        color = f"C{i % 10}"
        ax.plot(x, g["conv_mac_share"] * 100, "--o", color=color, ms=4, label=f"{wl}: MAC share")
        ax.plot(x, g["conv_time_share"] * 100, "-s", color=color, ms=4, label=f"{wl}: measured time share ({dev}, {dtype})")
        for xi, lab in zip(x, g["input"]):
            ax.annotate(str(lab), (xi, 0), xytext=(0, 3), textcoords="offset points", fontsize=6, ha="center")
    ax.set_xlabel("input size (megapixels)")
    ax.set_ylabel("convolution share (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    ax.set_title(title or "Convolutions: share of MACs vs share of measured time")
    save_figure(fig, path)
    return fig
