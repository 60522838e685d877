"""``accelsim simulate``: one workload on one architecture, totals first, then the top layers.

With no arguments it runs SegFormer-B2 at 512x512 (150 classes) on arch E in the accelerator
scope (the reference study's), and adds one line on what the system scope (global buffer, NoC
and DRAM) changes. The console
shows the totals in engineering units (ms, mJ, fJ/op, TOPS/mm2, %), the energy by
component, then the ``--top N`` slowest layers (``--all``: every layer, in execution
order). ``--format csv|json`` and ``-o FILE`` (.csv, .parquet, .json) give the per-layer
rows with SI column names; ``--totals`` gives the one-row totals instead (the columns of
a sweep row), and JSON always carries both. ``--show-mapping LAYER`` adds that layer's mapping
as a loop nest (see ``accelsim map``).
"""

from __future__ import annotations

import json
from typing import Any

import click
import pandas as pd

from ..errors import AccelsimError
from ..tableio import json_dumps
from .common import (COUNT, emit, emit_table, frame_text, mac_layer, output_format, output_option, search_options,
                     simulate_workload, workload_options)

DEFAULT_TOP = 10


def _fmt(v: float, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits, no exponent for everyday magnitudes."""
    if v != v:
        return "n/a"
    if v == 0:
        return "0"
    return f"{v:,.{max(0, digits - 1 - _magnitude(v))}f}" if 1e-3 <= abs(v) < 1e6 else f"{v:.{digits - 1}e}"


def _magnitude(v: float) -> int:
    import math

    return int(math.floor(math.log10(abs(v)))) if v else 0


def summary_lines(res: Any, wl: Any, arch: Any) -> list[str]:
    """The totals block: a header naming the run, then one line per quantity in the units
    architects compare (ms, mJ, fJ/op, TOPS/mm2, %). Each later line is independent, so a
    new quantity is one more line."""
    s = res.summary()
    size = f"{wl.input_size[0]}x{wl.input_size[1]}"
    path = f", exec path {res.exec_path}" if res.exec_path else ""
    cycles = f"{res.cycles / 1e6:,.4g} M cycles at {arch.frequency_ghz:g} GHz"
    from ..arch.area import pe_array_area

    source = pe_array_area(arch)[1]  # which PE-array area the costs use: "synthesised" or "fit"
    area = f"PE array, {source}" + (" + global buffer" if res.scope == "system" else "")
    return [
        f"{res.workload} on arch {res.arch}, {res.scope} scope ({size}, {wl.num_classes} classes, "
        f"{len(res.layers)} layers{path}; mapping objective {res.objective})",
        f"  latency              {_fmt(s['latency_s'] * 1e3):>10} ms        {cycles}",
        f"  energy               {_fmt(s['energy_j'] * 1e3):>10} mJ",
        f"  energy per op        {_fmt(s['energy_per_op_j'] * 1e15):>10} fJ/op     op = 1 FLOP = half a MAC",
        f"  throughput per area  {_fmt(s['throughput_ops_per_s_per_mm2'] / 1e12):>10} TOPS/mm2  "
        f"area {_fmt(s['area_mm2'])} mm2 ({area})",
        f"  utilization          {_fmt(s['utilization'] * 100, 3):>10} %",
        f"  work                 {_fmt(s['macs'] / 1e9):>10} GMACs",
    ]


def component_lines(breakdown: dict[str, float]) -> list[str]:
    """Energy by component, largest first: mJ and share of the total."""
    total = sum(breakdown.values()) or 1.0
    lines = ["energy by component:"]
    for comp, joules in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {comp:20s} {_fmt(joules * 1e3):>10} mJ  {joules / total:6.1%}")
    return lines


def layer_table(layers: pd.DataFrame, top: int | None) -> pd.DataFrame:
    """Per-layer rows for the console: the ``top`` slowest (``None``: all, in execution order),
    in us, uJ and % with the mapping in one column each for spatial split and tile."""
    df = layers.reset_index(drop=True)
    t, e = df["latency_s"].sum() or 1.0, df["energy_j"].sum() or 1.0
    order = df.index if top is None else df["latency_s"].sort_values(ascending=False, kind="stable").index[:top]
    sel = df.loc[order]

    def joined(cols: list[str]) -> list[str]:
        have = [c for c in cols if c in sel]
        return ["" if pd.isna(r[0]) else ",".join(str(int(v)) for v in r) for r in sel[have].itertuples(index=False)]

    return pd.DataFrame({
        "#": sel.index, "layer": sel["name"], "op": sel["op"],
        "MMACs": (sel["macs"] / 1e6).round(2),
        "time_us": (sel["latency_s"] * 1e6).round(2), "time_%": (sel["latency_s"] / t * 100).round(1),
        "energy_uJ": (sel["energy_j"] * 1e6).round(2), "energy_%": (sel["energy_j"] / e * 100).round(1),
        "util_%": (sel["utilization"] * 100).round(1), "bound": sel["bound"],
        "spatial_kpcg": joined(["spatial_k", "spatial_p", "spatial_c", "spatial_g"]),
        "tile_kcpq": joined(["tile_k", "tile_c", "tile_p", "tile_q"]),
        "loop_order": sel["loop_order"].fillna("") if "loop_order" in sel else "",
    })


def console_text(res: Any, wl: Any, arch: Any, top: int | None) -> str:
    """Totals, energy by component, then the layer table (``top`` rows, or all)."""
    n = len(res.layers)
    if top is None or top >= n:
        head = f"all {n} layers in execution order (# = position):"
        top = None
    else:
        head = (f"top {top} of {n} layers by latency (--top N for more, --all for every layer; "
                "# = position in execution order):")
    lines = summary_lines(res, wl, arch) + [""] + component_lines(res.energy_breakdown) + ["", head]
    return "\n".join(lines) + "\n" + frame_text(layer_table(res.layers, top), "table")


def system_scope_line(wl: Any, arch: Any, acc: Any, objective: str, max_candidates: int | None,
                      tolerance: float) -> str:
    """One line on what the system scope (DRAM, global-buffer and NoC bandwidth) adds to ``acc``, an
    accelerator-scope result, so that view is never hidden."""
    import accelsim

    sys_ = accelsim.simulate(wl, arch, objective=objective, max_candidates=max_candidates, scope="system",
                             tolerance=tolerance)
    dram = sys_.energy_breakdown["dram"] / sys_.energy_j if sys_.energy_j else 0.0
    return (f"system scope (adds the {arch.global_buffer_kb / 1024:g} MiB global buffer's and the NoC's "
            f"bandwidth limits and {arch.dram_type.upper()} DRAM at {arch.dram_bandwidth_gbps:g} GB/s): "
            f"{_fmt(sys_.latency_s * 1e3)} ms ({sys_.latency_s / acc.latency_s:.2f}x), "
            f"{_fmt(sys_.energy_j * 1e3)} mJ ({sys_.energy_j / acc.energy_j:.2f}x), DRAM {dram:.1%} of its "
            "energy; --scope system shows its breakdown")


def _loop_nest(wl: Any, name: str, arch: Any, objective: str, max_candidates: int | None, memo: dict,
               model: dict) -> Any:
    """The loop nest of layer ``name`` as the simulation mapped it (a memo hit: no new search);
    ``model``: the scope and tolerance the simulation used."""
    from ..cost.loopnest import loop_nest
    from ..cost.model import layer_dram_flags, map_layer

    layer = mac_layer(wl, name)
    cost = map_layer(layer, arch, objective=objective, max_candidates=max_candidates, memo=memo,
                     **layer_dram_flags(wl, name), **model)
    return loop_nest(layer, arch, cost, model["scope"])


def register(cli: click.Group) -> None:
    @cli.command("simulate")
    @workload_options
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @search_options
    @click.option("--top", type=click.IntRange(0, COUNT), default=DEFAULT_TOP, show_default=True,
                  help="console: the N slowest layers after the totals")
    @click.option("--all", "all_layers", is_flag=True, help="console: every layer, in execution order")
    @click.option("--totals", is_flag=True,
                  help="csv/parquet: the one-row totals (the columns of a sweep row) instead of the layers")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the rows to FILE (.csv, .parquet or .json, from the suffix); "
                        "the totals still print")
    @click.option("--show-mapping", "show", multiple=True, metavar="LAYER",
                  help="also print LAYER's mapping as a loop nest (repeatable; see `accelsim map`)")
    def simulate_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                     arch: str, objective: str, scope: str, tolerance: float, max_candidates: int | None,
                     top: int, all_layers: bool, totals: bool, fmt: str | None, out: str | None,
                     show: tuple[str, ...]) -> None:
        """Map every layer of a workload onto an architecture: totals, then the slowest layers."""
        import accelsim

        fmt = output_format(fmt, out)  # a bad suffix fails before any work
        if show and fmt in ("csv", "parquet"):
            raise AccelsimError("--show-mapping prints loop nests in table or json format, not " + fmt)
        memo: dict = {}
        wl, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective,
                                    max_candidates, scope, tolerance, memo=memo)
        arch_cfg = accelsim.load_arch(arch)
        model = {"scope": scope, "tolerance": tolerance}
        nests = [_loop_nest(wl, name, arch_cfg, objective, max_candidates, memo, model) for name in show]
        if fmt == "table":
            text = console_text(res, wl, arch_cfg, None if all_layers else top)
            if scope == "accelerator":
                text += "\n\n" + system_scope_line(wl, arch_cfg, res, objective, max_candidates, tolerance)
            click.echo(text + "".join("\n\n" + nest.text() for nest in nests))
            return
        if out:  # the file gets the rows, the console the totals
            click.echo("\n".join(summary_lines(res, wl, arch_cfg)))
        summary = res.summary()
        if nests:  # json: the loop nests join the totals and rows
            data = {"totals": {**summary, "energy_breakdown_j": res.energy_breakdown},
                    "layers": json.loads(res.layers.to_json(orient="records", double_precision=15)),
                    "loop_nests": [n.to_dict() for n in nests]}
            emit(json_dumps(data, indent=2), out)
            return
        rows = pd.DataFrame([summary]) if totals and fmt != "json" else res.layers
        emit_table(rows, fmt, out, totals={**summary, "energy_breakdown_j": res.energy_breakdown}
                   if fmt == "json" else None)
