"""``accelsim arch list|show|area-fit``: the shipped architecture configs and the area model."""

from __future__ import annotations

import click
import pandas as pd

from ..arch import list_arch_labels, load_arch
from ..arch.area import arch_area_mm2, fit_area, global_buffer_area_mm2, pe_array_area_mm2
from .common import emit_table, frame_text, output_format, output_option


def _summary_row(label: str) -> dict:
    a = load_arch(label)
    return {
        "arch": a.name, "num_pe": a.num_pe, "k0": a.k0, "c0": a.c0,
        "weight_buffer_kb": a.weight_buffer_kb, "input_buffer_kb": a.input_buffer_kb,
        "global_buffer_kb": a.global_buffer_kb, "macs_per_cycle": a.macs_per_cycle,
        "peak_tops": round(2 * a.peak_macs_per_s / 1e12, 2),
        "area_mm2": round(arch_area_mm2(a), 3),
    }


#: the unit of every parameter ``arch show`` prints (buffers are per PE unless named global)
UNITS = {
    "num_pe": "PEs", "k0": "lanes per PE", "c0": "multipliers per lane", "weight_buffer_kb": "KiB per PE",
    "input_buffer_kb": "KiB per PE", "accum_depth": "positions", "accum_buffer_kb": "KiB per PE",
    "global_buffer_kb": "KiB", "global_buffer_bandwidth": "B/cycle", "noc_bandwidth": "B/cycle",
    "dram_bandwidth_gbps": "GB/s", "dram_type": "", "ppu_elems_per_cycle": "elements/cycle per PE",
    "frequency_ghz": "GHz", "bits": "bits", "accum_bits": "bits", "tech_node_nm": "nm", "voltage_v": "V",
    "tech": "path", "pe_array_area_mm2": "mm2 (synthesised, when known)",
}


def arch_rows(a) -> list[dict]:
    """``arch show``'s rows: every parameter with its unit, then the derived figures: peak rate,
    on-chip SRAM (per-PE buffers x num_pe, plus the global buffer), the NoC mesh and the areas,
    naming which PE-array area the costs use."""
    from ..arch.area import outside_fit_range, pe_array_area
    from ..arch.noc import mesh

    rows = [{"parameter": k, "value": v, "unit": UNITS.get(k, "")} for k, v in a.params().items()]
    if a.ppu_follows_k0:
        rows[[r["parameter"] for r in rows].index("ppu_elems_per_cycle")]["unit"] += " (not set: follows k0)"
    pe_kb = a.weight_buffer_kb + a.input_buffer_kb + a.accum_buffer_kb
    used, source = pe_array_area(a)
    extrapolated = outside_fit_range(a)
    rows += [
        {"parameter": "macs_per_cycle", "value": a.macs_per_cycle, "unit": "MACs/cycle"},
        {"parameter": "peak_macs_per_s", "value": f"{a.peak_macs_per_s:.4g}", "unit": "MACs/s"},
        {"parameter": "peak_tops_8bit", "value": round(2 * a.peak_macs_per_s / 1e12, 3), "unit": "TOPS (1 op = 1 FLOP)"},
        {"parameter": "pe_sram_total_kb", "value": round(pe_kb * a.num_pe, 3),
         "unit": f"KiB: (weight + input + accumulation buffers) {pe_kb:g} KiB x {a.num_pe} PEs"},
        {"parameter": "on_chip_sram_total_kb", "value": round(pe_kb * a.num_pe + a.global_buffer_kb, 3),
         "unit": "KiB: PE buffers of all PEs + global buffer"},
        {"parameter": "noc", "value": mesh(a.num_pe).describe(), "unit": ""},
        {"parameter": "pe_array_area_mm2_fit", "value": round(pe_array_area_mm2(a), 4),
         "unit": "mm2 (Table II fit" + (f"; extrapolated: {', '.join(extrapolated)})" if extrapolated else ")")},
        {"parameter": "pe_array_area_mm2_used", "value": round(used, 4),
         "unit": f"mm2 ({source}): the accelerator scope's area"},
        {"parameter": "global_buffer_area_mm2", "value": round(global_buffer_area_mm2(a), 4), "unit": "mm2"},
        {"parameter": "area_mm2", "value": round(arch_area_mm2(a), 4),
         "unit": "mm2: PE array used + global buffer (the system scope's area)"},
    ]
    return rows


def register(cli: click.Group) -> None:
    @cli.group("arch")
    def arch_group() -> None:
        """Architecture configs (arch_configs/*.yaml)."""

    @arch_group.command("list")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
    def arch_list(fmt: str) -> None:
        """Shipped configs with their main parameters, peak TOPS (8-bit) and area."""
        df = pd.DataFrame([_summary_row(label) for label in list_arch_labels()])
        click.echo(frame_text(df, fmt))

    @arch_group.command("show")
    @click.argument("arch")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
    def arch_show(arch: str, fmt: str) -> None:
        """Every parameter of ARCH (label or YAML), its area and peak MAC rate."""
        a = load_arch(arch)
        click.echo(frame_text(pd.DataFrame(arch_rows(a)), fmt) if fmt != "table" else
                   f"architecture {a.name}: {a.description}\n" + frame_text(pd.DataFrame(arch_rows(a)), fmt))

    @arch_group.command("area-fit")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the per-config table to FILE: .csv, .parquet or .json (with the coefficients)")
    def arch_area_fit(out: str | None) -> None:
        """The PE-array area model fitted to Table II: coefficients and per-config error."""
        output_format(None, out)  # a bad suffix fails before the fit
        fit = fit_area()
        lines = ["PE-array area = num_pe * (a0 + a_mac*k0*c0 + a_wb*WB_MB + a_ib*IB_MB)"]
        lines += [f"  {k} = {v:.4g}" for k, v in fit.coefficients().items()]
        lines += [f"  max relative error = {fit.max_rel_error:.2%}, rms = {fit.rms_rel_error:.2%}"]
        click.echo("\n".join(lines))
        emit_table(fit.table, None, out, totals={"coefficients": fit.coefficients()},
                   table="\n" + frame_text(fit.table.round(4), "table"), key="configs")
