"""``accelsim simulate``: one workload on one architecture, totals first, then the top layers.

With no arguments it runs SegFormer-B2 at 512x512 (150 classes) on arch E. The console
shows the totals in engineering units (ms, mJ, fJ/op, TOPS/mm2, %), the energy by
component, then the ``--top N`` slowest layers (``--all``: every layer, in execution
order). ``--format csv|json`` and ``-o FILE`` (.csv, .parquet, .json) give the per-layer
rows with SI column names; ``--totals`` gives the one-row totals instead (the columns of
a sweep row), and JSON always carries both.
"""

from __future__ import annotations

from typing import Any

import click
import pandas as pd

from .common import OBJECTIVE_CHOICES, emit_table, frame_text, output_format, simulate_workload, workload_options

DEFAULT_TOP = 10


def _fmt(v: float, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits, no exponent for everyday magnitudes."""
    if v != v:
        return "n/a"
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
    return [
        f"{res.workload} on arch {res.arch} ({size}, {wl.num_classes} classes, {len(res.layers)} layers{path}; "
        f"mapping objective {res.objective})",
        f"  latency              {_fmt(s['latency_s'] * 1e3):>10} ms        {cycles}",
        f"  energy               {_fmt(s['energy_j'] * 1e3):>10} mJ",
        f"  energy per op        {_fmt(s['energy_per_op_j'] * 1e15):>10} fJ/op     op = 1 FLOP = half a MAC",
        f"  throughput per area  {_fmt(s['throughput_ops_per_s_per_mm2'] / 1e12):>10} TOPS/mm2  "
        f"area {_fmt(s['area_mm2'])} mm2",
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


def register(cli: click.Group) -> None:
    @cli.command("simulate")
    @workload_options
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True,
                  help="mapping-search objective")
    @click.option("--max-candidates", type=click.IntRange(min=1), default=None,
                  help="cap on mapping candidates per layer (default: exhaustive)")
    @click.option("--top", type=click.IntRange(min=0), default=DEFAULT_TOP, show_default=True,
                  help="console: the N slowest layers after the totals")
    @click.option("--all", "all_layers", is_flag=True, help="console: every layer, in execution order")
    @click.option("--totals", is_flag=True,
                  help="csv/parquet: the one-row totals (the columns of a sweep row) instead of the layers")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @click.option("-o", "--output", "out", default=None, metavar="FILE",
                  help="write the rows to FILE (.csv, .parquet or .json, from the suffix); "
                       "the totals still print")
    def simulate_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                     arch: str, objective: str, max_candidates: int | None, top: int, all_layers: bool,
                     totals: bool, fmt: str | None, out: str | None) -> None:
        """Map every layer of a workload onto an architecture: totals, then the slowest layers."""
        import accelsim

        fmt = output_format(fmt, out)  # a bad suffix fails before any work
        wl, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective,
                                    max_candidates)
        arch_cfg = accelsim.load_arch(arch)
        if fmt == "table":
            click.echo(console_text(res, wl, arch_cfg, None if all_layers else top))
            return
        if out:  # the file gets the rows, the console the totals
            click.echo("\n".join(summary_lines(res, wl, arch_cfg)))
        summary = res.summary()
        rows = pd.DataFrame([summary]) if totals and fmt != "json" else res.layers
        emit_table(rows, fmt, out, totals={**summary, "energy_breakdown_j": res.energy_breakdown}
                   if fmt == "json" else None)
