"""Sensitivity figures (``accelsim sensitivity``): a tornado chart for one design and a
Pareto-membership map for many (tables from :mod:`accelsim.sweep.sensitivity`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import AccelsimError
from .common import figure, figure_grid, save_figure

#: tornado panels: metric column prefix -> panel title
TORNADO_PANELS = {"latency_s": "latency", "energy_j": "energy", "energy_per_op_j": "energy per op"}
LOW_COLOR, HIGH_COLOR = "#1f77b4", "#ff7f0e"


def constant_label(row: pd.Series) -> str:
    """``noc_pj_per_bit_hop 0.1-0.3`` (the group prefix ``energy.`` dropped)."""
    name = str(row["constant"]).split(".", 1)[-1]
    return f"{name}  {row['low']:.3g}-{row['high']:.3g}"


def plot_tornado(df: pd.DataFrame, title: str | None = None, path: "str | Path | None" = None) -> Figure:
    """One panel per metric (latency, energy, energy per op): for each constant (rows of
    :func:`accelsim.sweep.sensitivity.tornado`, largest energy-per-op swing on top) a bar from
    the nominal value to the value with the constant at its low end (blue) and at its high
    end (orange), in percent of the nominal value."""
    need = ["constant", "low", "high"] + [f"{m}_{s}" for m in TORNADO_PANELS for s in ("nominal", "at_low", "at_high")]
    missing = [c for c in need if c not in df.columns]
    if missing or df.empty:
        raise AccelsimError(f"tornado rows need column(s) {', '.join(missing) or 'and at least one row'}")
    n = len(df)
    fig, axes = figure_grid(None, len(TORNADO_PANELS), figsize=(12.0, 1.2 + 0.32 * n), sharey=True)
    y = np.arange(n)[::-1]  # first row (largest swing) on top
    for ax, (m, label) in zip(axes, TORNADO_PANELS.items()):
        nom = df[f"{m}_nominal"].to_numpy(float)
        for end, color in (("at_low", LOW_COLOR), ("at_high", HIGH_COLOR)):
            d = (df[f"{m}_{end}"].to_numpy(float) / nom - 1.0) * 100.0
            ax.barh(y, d, height=0.6, color=color, alpha=0.85,
                    label="constant at its low end" if end == "at_low" else "constant at its high end")
        ax.axvline(0.0, color="black", lw=0.8)
        flat = (df[f"{m}_at_low"].to_numpy(float) == nom) & (df[f"{m}_at_high"].to_numpy(float) == nom)
        for yi in y[flat]:
            ax.text(0.0, yi, " no change", va="center", ha="left", fontsize=7, color="0.45")
        ax.set_xlabel(f"{label}: change from nominal (%)")
        ax.grid(axis="x", alpha=0.3)
        lim = np.nanmax(np.abs(np.concatenate([(df[f"{m}_{e}"].to_numpy(float) / nom - 1.0) * 100
                                               for e in ("at_low", "at_high")])))
        lim = max(lim * 1.15, 0.5)
        ax.set_xlim(-lim, lim)
        first = df.iloc[0]
        unit = {"latency_s": (1e3, "ms"), "energy_j": (1e3, "mJ"), "energy_per_op_j": (1e15, "fJ/op")}[m]
        ax.set_title(f"{label} (nominal {first[f'{m}_nominal'] * unit[0]:.4g} {unit[1]})", fontsize=10)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([constant_label(r) for _, r in df.iterrows()], fontsize=8)
    axes[0].set_ylim(-0.7, n - 0.3)
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    r0 = df.iloc[0]
    head = title or f"{r0.get('workload', '')} on {r0.get('arch', '')} ({r0.get('scope', '')} scope)"
    fig.suptitle(f"{head}: one constant at a time over its range", fontsize=11)
    save_figure(fig, path)
    return fig


def plot_membership(table: pd.DataFrame, title: str | None = None, path: "str | Path | None" = None) -> Figure:
    """How often each configuration (column) is on each workload's (row) Pareto front over the
    sampled technologies (:func:`accelsim.sweep.sensitivity.membership`), in percent; a black
    frame marks the nominal front, and each row's label gives how often its front differs
    from the nominal one."""
    need = ["workload", "arch", "front_frequency", "on_front_nominal", "front_change_frequency"]
    missing = [c for c in need if c not in table.columns]
    if missing or table.empty:
        raise AccelsimError(f"membership rows need column(s) {', '.join(missing) or 'and at least one row'}")
    workloads = list(dict.fromkeys(table["workload"]))
    archs = list(dict.fromkeys(table["arch"]))
    freq = table.pivot(index="workload", columns="arch", values="front_frequency").loc[workloads, archs]
    nom = table.pivot(index="workload", columns="arch", values="on_front_nominal").loc[workloads, archs]
    change = table.groupby("workload", sort=False)["front_change_frequency"].first()
    fig, ax = figure(figsize=(1.2 + 0.62 * len(archs), 1.5 + 0.55 * len(workloads)))
    img = ax.imshow(freq.to_numpy(float) * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for i in range(len(workloads)):
        for j in range(len(archs)):
            v = freq.iat[i, j] * 100
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8, color="white" if v > 60 else "black")
            if bool(nom.iat[i, j]):
                ax.add_patch(_frame(j, i))
    ax.set_xticks(range(len(archs)), archs)
    ax.set_yticks(range(len(workloads)),
                  [f"{w}\nfront changes in {change[w] * 100:.0f} %" for w in workloads], fontsize=8)
    ax.set_xlabel("configuration (black frame: on the nominal front)")
    n = int(table["samples"].iloc[0]) if "samples" in table.columns else None
    scope = f", {table['scope'].iloc[0]} scope" if "scope" in table.columns else ""
    ax.set_title(title or f"Pareto-front membership over {n} sampled technologies (%{scope})", fontsize=10)
    fig.colorbar(img, ax=ax, label="% of samples on the front", shrink=0.8)
    save_figure(fig, path)
    return fig


def _frame(x: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.46, y - 0.44), 0.92, 0.88, fill=False, edgecolor="black", lw=1.6)
