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
        rows = [{"parameter": k, "value": v} for k, v in a.params().items()]
        rows += [
            {"parameter": "macs_per_cycle", "value": a.macs_per_cycle},
            {"parameter": "peak_macs_per_s", "value": f"{a.peak_macs_per_s:.4g}"},
            {"parameter": "peak_tops_8bit", "value": round(2 * a.peak_macs_per_s / 1e12, 3)},
            {"parameter": "pe_array_area_mm2_fit", "value": round(pe_array_area_mm2(a), 4)},
            {"parameter": "global_buffer_area_mm2", "value": round(global_buffer_area_mm2(a), 4)},
            {"parameter": "area_mm2", "value": round(arch_area_mm2(a), 4)},
        ]
        click.echo(f"architecture {a.name}: {a.description}" if fmt == "table" else "", nl=fmt == "table")
        click.echo(frame_text(pd.DataFrame(rows), fmt))

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
