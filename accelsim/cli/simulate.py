"""``accelsim simulate``: one workload on one architecture, per-layer table and totals.

With no arguments it runs SegFormer-B2 at 512x512 (150 classes) on arch E in the accelerator
scope (the reference study's), and adds one line on what the system scope (global buffer and
DRAM) changes.
"""

from __future__ import annotations

import json

import click
import numpy as np
import pandas as pd

from ..errors import AccelsimError
from .common import (OBJECTIVE_CHOICES, emit, frame_text, mac_layer, scope_option, simulate_workload,
                     tolerance_option, workload_options)

TABLE_COLUMNS = ["name", "op", "macs", "cycles", "latency_us", "energy_uj", "utilization", "bound", "fused_into",
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
    for key in ("workload", "exec_path", "arch", "scope", "objective", "macs", "cycles", "latency_s", "energy_j",
                "area_mm2", "utilization", "energy_per_op_j", "throughput_ops_per_s_per_mm2"):
        if key in summary:
            v = summary[key]
            lines.append(f"  {key:32s} {v:.6g}" if isinstance(v, float) else f"  {key:32s} {v}")
    total = sum(breakdown.values()) or 1.0
    lines.append("energy by component:")
    for comp, joules in breakdown.items():
        lines.append(f"  {comp:32s} {joules:.6g} J ({joules / total:6.1%})")
    return "\n".join(lines)


def system_scope_line(wl, arch: str, acc, objective: str, max_candidates: int | None,
                      tolerance: float) -> str:
    """One line on what the system scope (global buffer, NoC and DRAM) adds to ``acc``, an
    accelerator-scope result, so that view is never hidden."""
    import accelsim

    a = accelsim.load_arch(arch)
    sys_ = accelsim.simulate(wl, a, objective=objective, max_candidates=max_candidates, scope="system",
                             tolerance=tolerance)
    dram = sys_.energy_breakdown["dram"] / sys_.energy_j if sys_.energy_j else 0.0
    return (f"system scope (adds the {a.global_buffer_kb / 1024:g} MiB global buffer, NoC and "
            f"{a.dram_type.upper()} DRAM at {a.dram_bandwidth_gbps:g} GB/s): "
            f"{sys_.latency_s * 1e3:.3f} ms ({sys_.latency_s / acc.latency_s:.2f}x), "
            f"{sys_.energy_j * 1e3:.2f} mJ ({sys_.energy_j / acc.energy_j:.2f}x), DRAM {dram:.1%} of its "
            "energy; --scope system shows its table")


def register(cli: click.Group) -> None:
    @cli.command("simulate")
    @workload_options
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True,
                  help="mapping-search objective")
    @scope_option()
    @tolerance_option()
    @click.option("--max-candidates", type=click.IntRange(min=1), default=None,
                  help="cap on mapping candidates per layer (default: exhaustive)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                  show_default=True)
    @click.option("--show-mapping", "show", multiple=True, metavar="LAYER",
                  help="also print LAYER's mapping as a loop nest (repeatable; see `accelsim map`)")
    @click.option("-o", "out", default=None, help="write to FILE instead of stdout")
    def simulate_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                     arch: str, objective: str, scope: str, tolerance: float, max_candidates: int | None,
                     fmt: str, show: tuple[str, ...], out: str | None) -> None:
        """Map every layer of a workload onto an architecture and report cycles, latency, energy."""
        memo: dict = {}
        wl, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective,
                                    max_candidates, scope, tolerance, memo=memo)
        model = {"scope": scope, "tolerance": tolerance}
        nests = [_loop_nest(wl, name, arch, objective, max_candidates, memo, model) for name in show]
        summary = res.summary()
        if fmt == "table":
            text = frame_text(_table_frame(res.layers), "table") + "\n" + _totals_text(
                summary, res.energy_breakdown)
            if scope == "accelerator":
                text += "\n" + system_scope_line(wl, arch, res, objective, max_candidates, tolerance)
            text += "".join("\n\n" + nest.text() for nest in nests)
        elif fmt == "json" and nests:
            data = json.loads(frame_text(res.layers, fmt, totals={
                **summary, "energy_breakdown_j": res.energy_breakdown}))
            text = json.dumps({**data, "loop_nests": [n.to_dict() for n in nests]}, indent=2,
                              default=float)
        else:
            if nests:
                raise AccelsimError("--show-mapping prints loop nests in table or json format, not csv")
            text = frame_text(res.layers, fmt, totals={**summary, "energy_breakdown_j": res.energy_breakdown})
        emit(text, out)


def _loop_nest(wl, name: str, arch: str, objective: str, max_candidates: int | None, memo: dict,
               model: dict):
    """The loop nest of layer ``name`` as the simulation mapped it (a memo hit: no new search);
    ``model``: the scope and tolerance the simulation used."""
    from ..cost.loopnest import loop_nest
    from ..cost.model import layer_dram_flags, map_layer

    layer = mac_layer(wl, name)
    cost = map_layer(layer, arch, objective=objective, max_candidates=max_candidates, memo=memo,
                     **layer_dram_flags(wl, name), **model)
    return loop_nest(layer, arch, cost, model["scope"])
