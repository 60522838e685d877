"""``accelsim simulate``: one workload on one architecture, per-layer table and totals.

With no arguments it runs SegFormer-B2 at 512x512 (150 classes) on arch E.
"""

from __future__ import annotations

import click
import numpy as np
import pandas as pd

from .common import OBJECTIVE_CHOICES, emit, frame_text, output_option, simulate_workload, workload_options

TABLE_COLUMNS = ["name", "op", "macs", "cycles", "latency_us", "energy_uj", "utilization", "bound",
                 "spatial_k", "spatial_p", "spatial_c", "spatial_g", "tile_k", "tile_c", "tile_p",
                 "tile_q", "loop_order"]


def _table_frame(layers: pd.DataFrame) -> pd.DataFrame:
    df = layers.assign(latency_us=layers["latency_s"] * 1e6, energy_uj=layers["energy_j"] * 1e6)
    cols = [c for c in TABLE_COLUMNS if c in df.columns]
    df = df[cols].round({"latency_us": 3, "energy_uj": 3, "utilization": 3})
    ints = [c for c in cols if c == "cycles" or c.startswith(("spatial_", "tile_"))]
    # counts print as integers (cycles rounded up), <NA> for non-MAC layers
    return df.assign(**{c: np.ceil(df[c]) for c in ints}).astype({c: "Int64" for c in ints})


def _totals_text(summary: dict, breakdown: dict) -> str:
    lines = ["", "totals:"]
    for key in ("workload", "exec_path", "arch", "objective", "macs", "cycles", "latency_s", "energy_j",
                "area_mm2", "utilization", "energy_per_op_j", "throughput_ops_per_s_per_mm2"):
        if key in summary:
            v = summary[key]
            lines.append(f"  {key:32s} {v:.6g}" if isinstance(v, float) else f"  {key:32s} {v}")
    total = sum(breakdown.values()) or 1.0
    lines.append("energy by component:")
    for comp, joules in breakdown.items():
        lines.append(f"  {comp:32s} {joules:.6g} J ({joules / total:6.1%})")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.command("simulate")
    @workload_options
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True,
                  help="mapping-search objective")
    @click.option("--max-candidates", type=click.IntRange(min=1), default=None,
                  help="cap on mapping candidates per layer (default: exhaustive)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                  show_default=True)
    @output_option("-o", "out", default=None, help="write to FILE instead of stdout")
    def simulate_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                     arch: str, objective: str, max_candidates: int | None, fmt: str,
                     out: str | None) -> None:
        """Map every layer of a workload onto an architecture and report cycles, latency, energy."""
        _, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective,
                                   max_candidates)
        summary = res.summary()
        if fmt == "table":
            text = frame_text(_table_frame(res.layers), "table") + "\n" + _totals_text(
                summary, res.energy_breakdown)
        else:
            text = frame_text(res.layers, fmt, totals={**summary, "energy_breakdown_j": res.energy_breakdown})
        emit(text, out)
