"""``accelsim workload list|show|table|import``: the model registry and named workloads."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import pandas as pd

from ..errors import WorkloadError
from ..safeio import load_yaml
from ..compose import load_workload
from ..workload import list_models, list_named_workloads
from ..workload.ir import Workload
from .common import CLASSES, emit, emit_table, frame_text, load_cli_workload, output_format, output_option

SHOW_COLUMNS = ["name", "op", "fn", "k", "c", "p", "q", "r", "s", "stride", "groups", "batch",
                "macs", "params", "nonmac_ops", "shares"]


def models_frame() -> pd.DataFrame:
    """Registry entries: name, family, variant, default input, classes, dataset, options."""
    return pd.DataFrame([{
        "name": m.name, "family": m.family, "variant": m.variant,
        "default_input": f"{m.default_input[0]}x{m.default_input[1]}",
        "classes": m.default_classes, "dataset": m.dataset, "options": ",".join(m.options),
    } for m in list_models()])


def named_frame() -> pd.DataFrame:
    """Named workloads (``workloads/*.yaml``): stem, model, input, classes, dataset, path."""
    rows = []
    for path in list_named_workloads():
        data = load_yaml(path) or {}
        rows.append({"name": path.stem, "model": data.get("model", "(layer list)"),
                     "input": data.get("input", ""), "classes": data.get("classes", ""),
                     "dataset": data.get("dataset", ""), "exec_path": data.get("exec_path", "")})
    return pd.DataFrame(rows)


def workload_totals(wl: Workload) -> dict:
    """Totals of ``wl``: layers, MACs, FLOPs (2 x MACs), params, non-MAC ops, MACs by op."""
    return {
        "workload": wl.name, "family": wl.family, "variant": wl.variant,
        "input": f"{wl.input_size[0]}x{wl.input_size[1]}", "classes": wl.num_classes,
        "dataset": wl.dataset, "exec_path": wl.exec_path, "layers": len(wl.layers),
        "macs": wl.macs, "flops": wl.flops, "params": wl.params,
        "nonmac_ops": sum(layer.nonmac_ops for layer in wl.layers),
        "macs_by_op": wl.macs_by_op(),
    }


def _totals_text(totals: dict) -> str:
    lines = ["", "totals:"]
    for key, v in totals.items():
        if key != "macs_by_op":
            lines.append(f"  {key:12s} {v}")
    total = totals["macs"] or 1
    lines.append(f"  GMACs        {totals['macs'] / 1e9:.4f}")
    lines.append("MACs by op:")
    for op, macs in sorted(totals["macs_by_op"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {op:12s} {macs:>16,d} ({macs / total:6.1%})")
    return "\n".join(lines)


def _checked_by_command(ctx: click.Context, param: click.Parameter, value: "str | None") -> "str | None":
    """An output the command checks itself before any work (a folder or a file, by ``--to``),
    so the generic output-file check does not apply."""
    return value


def _existing_folder(ctx: click.Context, param: click.Parameter, value: "str | None") -> "str | None":
    """A folder the command reads: it exists and is a folder (checked before any work)."""
    if value is None:
        return value
    import os
    import stat

    try:
        mode = os.stat(value).st_mode
    except OSError as exc:
        raise WorkloadError(f"{value}: {param.opts[0]} folder cannot be read ({exc.strerror})") from None
    if not stat.S_ISDIR(mode):
        raise WorkloadError(f"{value}: {param.opts[0]} must be a folder")
    return value


def register(cli: click.Group) -> None:
    @cli.group("workload")
    def workload_group() -> None:
        """Model registry, named workloads (workloads/*.yaml), tables and importers."""

    @workload_group.command("list")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                  show_default=True)
    def workload_list(fmt: str) -> None:
        """Registry models (family, variant, default input), then named workloads."""
        models, named = models_frame(), named_frame()
        if fmt == "json":
            from ..tableio import json_dumps

            click.echo(json_dumps({"models": models.to_dict("records"),
                                   "named_workloads": named.to_dict("records")}, indent=2))
        elif fmt == "csv":
            click.echo(pd.concat([models.assign(kind="model"), named.assign(kind="named")])
                       .to_csv(index=False))
        else:
            click.echo("models:\n" + frame_text(models, "table"))
            click.echo("\nnamed workloads (workloads/*.yaml):\n" + frame_text(named, "table"))

    @workload_group.command("show")
    @click.argument("name")
    @click.option("--input", "input_size", default=None, metavar="HxW",
                  help="input size, e.g. 512x512 (default: the model's)")
    @click.option("--classes", type=CLASSES, default=None, help="number of classes (default: the model's)")
    @click.option("--exec-path", "exec_path", default="", help="execution path string")
    @click.option("--json", "as_json", is_flag=True, help="JSON: totals plus per-layer rows")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the per-layer rows to FILE: .csv, .parquet or .json (with the totals)")
    def workload_show(name: str, input_size: str | None, classes: int | None, exec_path: str,
                      as_json: bool, fmt: str | None, out: str | None) -> None:
        """Per-layer MACs and totals (MACs by op kind) of NAME (registry name or YAML)."""
        fmt = output_format("json" if as_json and not out else fmt, out)
        wl = load_cli_workload(name, input_size, classes, exec_path)
        df = wl.to_frame()
        tags = sorted(c for c in df.columns if c.startswith("tag_"))
        df = df[[c for c in SHOW_COLUMNS if c in df.columns] + tags].fillna({t: "" for t in tags})
        totals = workload_totals(wl)
        emit_table(df, fmt, out, totals=totals, table=frame_text(df, "table") + _totals_text(totals))

    @workload_group.command("table")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write to FILE: .md (the markdown report), .csv, .parquet or .json (the table)")
    def workload_table(out: str | None) -> None:
        """Every named workload: layers, params, GMACs, conv and decoder/head MAC shares."""
        from ..workload.report import workloads_report, workloads_table

        table = workloads_table(load=load_workload)
        if out and Path(out).suffix.lower() != ".md":
            emit_table(table, None, out)
        else:
            emit(workloads_report(table), out)

    @workload_group.command("import")
    @click.argument("model_file")
    @output_option("-o", "out", required=True, help="layer-list YAML to write")
    @click.option("--name", default=None, help="workload name (default: the file stem)")
    @click.option("--include-root", "include_root", default=None, metavar="DIR", callback=_existing_folder,
                  help="folder that Timeloop include_text may read (default: the problem's folder and "
                       "the one above it)")
    @click.option("--input", "input_size", default=None, metavar="HxW",
                  help="input size of an ONNX or .pt2 model whose spatial sizes are symbolic (dynamic)")
    def workload_import(model_file: str, out: str, name: str | None, include_root: str | None,
                        input_size: str | None) -> None:
        """Import MODEL_FILE into a layer-list YAML that loads like any workload: .onnx, .pt2,
        a Timeloop problem .yaml (or a folder of them), a ZigZag/Stream workload .yaml, a
        SCALE-Sim topology .csv."""
        try:
            from ..workload.importers import import_model_file
            from ..workload.yamlio import save_workload_yaml
        except ImportError as exc:
            raise WorkloadError(f"model import is not available in this installation ({exc})") from None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from ..workload.registry import parse_size

            wl = import_model_file(model_file, name=name, include_root=include_root,
                                   input_hw=parse_size(input_size))
        for w in caught:  # one line each (missing weight data, ops kept as 'other' layers)
            click.echo(f"warning: {w.message}", err=True)
        path = save_workload_yaml(wl, out)
        click.echo(f"wrote {path}: {len(wl.layers)} layers, {wl.macs / 1e9:.4f} GMACs", err=True)
        dilated = dict(wl.meta).get("dilated")
        if dilated:
            click.echo(f"note: dilated convs run as their effective kernel: {dilated}", err=True)
        converted = dict(wl.meta).get("converted")
        if converted:
            click.echo(f"note: {converted}", err=True)

    @workload_group.command("export")
    @click.argument("name")
    @click.option("--to", "fmt", type=click.Choice(["timeloop", "zigzag"]), required=True,
                  help="timeloop: v0.4 problem files (a folder, or one .yaml with --layer); "
                       "zigzag: one ZigZag/Stream workload YAML")
    @click.option("-o", "out", required=True, metavar="PATH", callback=_checked_by_command,
                  help="folder or .yaml file to write")
    @click.option("--layer", default=None, help="Timeloop: write this layer only (then -o names one problem)")
    @click.option("--input", "input_size", default=None, metavar="HxW",
                  help="input size, e.g. 512x512 (default: the model's)")
    def workload_export(name: str, fmt: str, out: str, layer: str | None, input_size: str | None) -> None:
        """Write NAME (registry name or layer-list YAML) in a peer's format, to run the same
        problem in Timeloop or ZigZag/Stream. Layers the format cannot express are skipped
        and counted."""
        from ..safeio import check_folder, check_output
        from ..workload.importers.export import export_timeloop, export_zigzag

        if fmt == "zigzag":
            check_output(out, "ZigZag workload", (".yaml", ".yml"))
        elif Path(out).suffix.lower() in (".yaml", ".yml"):
            check_output(out, "Timeloop problem file", (".yaml", ".yml"))
        else:
            check_folder(out, "Timeloop problem folder")
        wl = load_workload(name, input_size=input_size)
        if fmt == "zigzag":
            path, skipped = export_zigzag(wl, out)
            done = f"wrote {path}: {len(wl.layers) - len(skipped)} layers"
        else:
            files, skipped = export_timeloop(wl, out, layer)
            done = f"wrote {len(files)} Timeloop problem file(s) to {out}"
        if skipped:
            done += f"; skipped {len(skipped)} layer(s) the format cannot express (e.g. {skipped[0]})"
        click.echo(done, err=True)
