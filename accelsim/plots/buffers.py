"""Energy per op against PE buffer size: both sides of the buffer trade-off.

:func:`buffer_sweep` simulates a workload on designs like a base configuration (E by default)
whose per-PE weight buffer, then input buffer, takes each size in turn, in the accelerator scope
(costs are the mapping search's own optimum at each size). :func:`plot_buffer_tradeoff` draws
energy per op against size, split into the parts that move:

- **refills** (global-buffer reads and PE-array NoC hops of every byte filled into a PE, plus
  partial-sum spills): fall as a larger buffer holds larger tiles, so operands are fetched
  fewer times;
- **buffer access** (weight or input buffer reads and fills): rises, SRAM energy per access
  grows with capacity^0.6 (SPEC.md section 5);
- **leakage**: rises with the PE-array area the larger buffers take (the fitted area of
  SPEC.md section 6 for every point, so the points compare alike);
- the rest (MAC datapath, accumulation, control, PPU) barely moves.

Units: KiB per PE, fJ per op (1 op = 1 FLOP = half a MAC).
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

#: parts of the energy drawn, each a sum of cost components, with the cause of its trend
PARTS: dict[str, tuple[tuple[str, ...], str]] = {
    "refills": (("global_buffer", "noc"), "refills: GB reads + NoC hops (fewer re-fetches with size)"),
    "buffer": (("weight_buffer", "input_buffer"), "buffer reads + fills (energy/access ~ size^0.6)"),
    "leakage": (("leakage",), "leakage (area grows with the buffer)"),
    "rest": (("mac", "accumulation", "control", "ppu", "dram"), "MAC, accumulation, control, PPU"),
}
WEIGHT_KB = (32, 64, 128, 256, 512, 1024)
INPUT_KB = (16, 32, 64, 128, 256)


def buffer_sweep(workload="segformer-b2", base="E", weight_kb: Sequence[float] = WEIGHT_KB,
                 input_kb: Sequence[float] = INPUT_KB, scope: str = "accelerator",
                 memo: MutableMapping | None = None) -> pd.DataFrame:
    """One row per design: ``axis`` (the buffer varied), ``size_kb`` (KiB per PE), the other
    buffer's size, ``energy_per_op_fj`` and ``<part>_fj`` for each of :data:`PARTS`, ``latency_s``,
    ``area_mm2`` and ``note`` (why a size has no mapping: NaN values). Every design uses the fitted
    PE-array area (the synthesised one is known for E only)."""
    import warnings

    import accelsim
    from ..arch.area import AreaExtrapolationWarning
    from ..errors import AccelsimError

    wl = accelsim.load_workload(workload) if isinstance(workload, str) else workload
    b = accelsim.load_arch(base)
    memo = {} if memo is None else memo
    rows = []
    for axis, sizes in (("weight_buffer_kb", weight_kb), ("input_buffer_kb", input_kb)):
        for size in sizes:
            arch = b.replace(**{axis: float(size)}, pe_array_area_mm2=None,
                             name=f"{b.name}[{axis}={size:g}]")
            row = {"axis": axis, "size_kb": float(size),
                   "other_kb": arch.input_buffer_kb if axis == "weight_buffer_kb" else arch.weight_buffer_kb,
                   "energy_per_op_fj": math.nan, "latency_s": math.nan, "area_mm2": math.nan, "note": ""}
            try:
                with warnings.catch_warnings():  # sizes outside Table II: the fit extrapolates
                    warnings.simplefilter("ignore", AreaExtrapolationWarning)
                    res = accelsim.simulate(wl, arch, scope=scope, memo=memo)
            except AccelsimError as exc:  # a layer's smallest tile does not fit: no design point
                row["note"] = str(exc)
                rows.append(row)
                continue
            row.update(energy_per_op_fj=res.energy_j / res.flops * 1e15, latency_s=res.latency_s,
                       area_mm2=res.area_mm2)
            for part, (comps, _) in PARTS.items():
                row[f"{part}_fj"] = sum(res.energy_breakdown[c] for c in comps) / res.flops * 1e15
            rows.append(row)
    return pd.DataFrame(rows)


def plot_buffer_tradeoff(df: pd.DataFrame, title: str = "", path: "str | Path | None" = None) -> Figure:
    """Two panels (weight buffer, input buffer): total energy per op and its moving parts
    against the buffer size per PE (log2 axis); the smallest total is marked."""
    from .common import figure_grid, save_figure

    fig, axes = figure_grid(None, 2, (11.0, 5.0), sharey=True)
    colors = {"refills": "#d62728", "buffer": "#1f77b4", "leakage": "#7f7f7f", "rest": "#2ca02c"}
    for ax, axis in zip(axes, ("weight_buffer_kb", "input_buffer_kb")):
        part = df[df["axis"] == axis].sort_values("size_kb")
        if part.empty:
            continue
        x = part["size_kb"]
        for size in part.loc[part["energy_per_op_fj"].isna(), "size_kb"]:  # cannot map every layer
            ax.axvline(size, color="#999999", ls=":", lw=1)
            ax.text(size, 2, " no mapping:\n a layer's smallest\n tile does not fit", fontsize=7, color="#555555",
                    va="bottom")
        part = part.dropna(subset=["energy_per_op_fj"])
        ax.plot(part["size_kb"], part["energy_per_op_fj"], "o-", color="black", lw=2, label="total")
        for name, (_, label) in PARTS.items():
            ax.plot(part["size_kb"], part[f"{name}_fj"], "s--", color=colors[name], ms=4, label=label)
        best = part.loc[part["energy_per_op_fj"].idxmin()]
        edge = "left" if best["size_kb"] == part["size_kb"].min() else (
            "right" if best["size_kb"] == part["size_kb"].max() else "center")
        ax.annotate(f"min {best['energy_per_op_fj']:.1f} fJ/op at {best['size_kb']:g} KiB",
                    (best["size_kb"], best["energy_per_op_fj"]), textcoords="offset points", xytext=(0, -16),
                    ha=edge, fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(x), [f"{v:g}" for v in x])
        other = "input" if axis == "weight_buffer_kb" else "weight"
        ax.set_xlabel(f"{axis.split('_')[0]} buffer per PE (KiB); {other} buffer {part['other_kb'].iloc[0]:g} KiB")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("energy per op (fJ, 1 op = 1 FLOP)")
    axes[0].set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle(title or "Energy per op against PE buffer size (accelerator scope)", fontsize=10)
    save_figure(fig, path)
    return fig
