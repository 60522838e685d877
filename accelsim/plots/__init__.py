"""The study's figures (SPEC.md section 10), one function per figure, each returning a
matplotlib ``Figure`` and saving it when given ``path`` (PNG/SVG; no suffix = both).

Figures are built without pyplot, so they render headless and in threads.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from .arch import plot_energy_throughput
from .common import OP_COLORS, save_figure
from .gpu import gpu_share_table, plot_gpu_share
from .layers import energy_per_op_table, layer_table, plot_layer_breakdown, plot_layer_energy_per_op
from .macs import mac_shares, plot_mac_distribution

__all__ = ["OP_COLORS", "PLOTS", "energy_per_op_table", "gpu_share_table", "layer_table", "mac_shares", "plot_accuracy_tradeoff",
           "plot_energy_throughput", "plot_gpu_share", "plot_layer_breakdown", "plot_layer_energy_per_op",
           "plot_mac_distribution", "save_figure"]

#: ``accelsim plot KIND`` name -> function name in this package
PLOTS: dict[str, str] = {
    "energy-throughput": "plot_energy_throughput",
    "layers": "plot_layer_breakdown",
    "energy-per-op": "plot_layer_energy_per_op",
    "macs": "plot_mac_distribution",
    "accuracy": "plot_accuracy_tradeoff",
    "gpu-share": "plot_gpu_share",
}


def __getattr__(name: str) -> Callable:
    if name == "plot_accuracy_tradeoff":  # time/energy vs accuracy of execution paths
        return import_module("accelsim.plots.accuracy").plot_accuracy_tradeoff
    raise AttributeError(f"module 'accelsim.plots' has no attribute {name!r}")
