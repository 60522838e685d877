"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import click

from ..cost.settings import DEFAULT_SCOPE, DEFAULT_TOLERANCE, SCOPES

if TYPE_CHECKING:  # pandas is imported by the commands that print tables, when they do
    import pandas as pd

OBJECTIVE_CHOICES = ("latency", "energy", "edp")
SCOPE_CHOICES = SCOPES
SCOPE_HELP = ("what the numbers describe: the study's accelerator without DRAM, its global buffer and NoC "
              "with unbounded bandwidth but paid per access, or the system with DRAM and bandwidth limits")


def scope_option(default: "str | None" = DEFAULT_SCOPE, many: bool = False) -> Callable:
    """``--scope accelerator|system`` (docs/cost_model.md, Scope); with ``many`` also a
    comma-separated list of both (the value is then a list). Given twice it is an error,
    not last-wins."""
    def once(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
        if len(value) > 1:
            raise click.BadParameter(f"given {len(value)} times ({', '.join(value)}); give it once"
                                     + (", e.g. --scope accelerator,system" if many else ""))
        if not value:
            return default
        items = [v.strip() for v in value[0].split(",")] if many else [value[0]]
        for v in items:
            if v not in SCOPE_CHOICES:
                raise click.BadParameter(f"{v!r} is not one of {', '.join(SCOPE_CHOICES)}"
                                         + (" (or a comma-separated list of them)" if many else ""))
        if len(set(items)) != len(items):
            raise click.BadParameter(f"{value[0]!r} names a scope twice")
        return items if many and len(items) > 1 else items[0]

    metavar = "accelerator|system" + ("[,...]" if many else "")
    shown = f" [default: {default}]" if default is not None else ""
    return click.option("--scope", multiple=True, metavar=metavar, callback=once,
                        help=SCOPE_HELP + (" (a comma-separated list runs both)" if many else "") + shown)


def tolerance_option(default: "float | None" = DEFAULT_TOLERANCE) -> Callable:
    """``--tolerance FRACTION`` of the mapping objective (docs/cost_model.md, Objectives)."""
    return click.option("--tolerance", type=click.FloatRange(0.0, 1.0, max_open=True), default=default,
                        show_default=default is not None,
                        help="mappings within this fraction of the best objective are ranked by the "
                             "secondary one (energy for latency, latency for energy and edp)")
FORMAT_CHOICES = ("table", "csv", "json")
#: integer option ranges: every integer option is bounded, so a huge value is one line, not
#: an overflow deep in numba (classes: accelsim.workload.registry.MAX_CLASSES)
CLASSES = click.IntRange(1, 1_000_000)
#: mapping candidates per layer (the sweep spec's ``max_candidates`` allows the same)
CANDIDATES = click.IntRange(1, 2**62 - 1)
#: processes of a sweep or report
WORKERS = click.IntRange(1, 4096)
#: a count of items (chunk size, table rows, budget steps)
COUNT = 10**9


def search_options(fn: Callable) -> Callable:
    """``--objective``, ``--scope``, ``--tolerance`` and ``--max-candidates`` of one search."""
    fn = click.option("--max-candidates", type=CANDIDATES, default=None,
                      help="cap on mapping candidates per layer (default: exhaustive)")(fn)
    fn = tolerance_option()(fn)
    fn = scope_option()(fn)
    return click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency",
                        show_default=True, help="mapping-search objective")(fn)


def family_option(fn):
    """``--family NAME`` (repeatable, or comma-separated): which path families to use."""
    return click.option("--family", "families", multiple=True, metavar="NAME",
                        help="path family: grid, published, dynaseg, switch, pause, cluster, cts, ofa "
                             "(repeatable; default: all that apply to the workload)")(fn)


def workload_options(fn: Callable) -> Callable:
    """``--workload/--input/--classes/--exec-path`` (one workload)."""
    fn = click.option("--exec-path", "exec_path", default="", show_default=False,
                      help="execution path, e.g. 'blocks=2-3-5-3;fuse_in=896'")(fn)
    fn = click.option("--classes", type=CLASSES, default=None, help="number of classes (default: the model's)")(fn)
    fn = click.option("--input", "input_size", default=None, metavar="HxW",
                      help="input size, e.g. 512x512 (default: the model's)")(fn)
    fn = click.option("--workload", "-w", default="segformer-b2", show_default=True,
                      help="registry name (see `accelsim workload list`) or workload YAML")(fn)
    return fn


def table_output_options(fn: Callable) -> Callable:
    """``--format table|csv|json`` (standard output) and ``-o FILE`` (format from its suffix)."""
    fn = output_option("-o", "--output", "out", default=None, metavar="FILE",
                       help="write to FILE; .csv, .parquet or .json decides the format")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default=None,
                      help="format on standard output [default: table]")(fn)
    return fn


def output_format(fmt: str | None, out: str | None) -> str:
    """The format written: the suffix of ``out`` when given (csv, parquet, json), else
    ``fmt`` (default ``table``). A ``--format`` that contradicts the suffix is an error."""
    from ..errors import ConfigError
    from ..tableio import table_format

    if not out:
        return fmt or "table"
    file_fmt = table_format(out)
    if fmt not in (None, file_fmt):
        raise ConfigError(f"{out}: --format {fmt} contradicts the file suffix ({file_fmt}); "
                          "the suffix decides, drop --format")
    return file_fmt


def note_jit() -> None:
    """Say so on stderr when the mapper's machine code is not cached yet (first run: 10-30 s)."""
    from ..cost.jitcache import mapper_cache_cold

    if mapper_cache_cold():
        click.echo("compiling the mapper, first run only (10-30 s) ...", err=True)


def load_cli_workload(workload: str, input_size: "str | None" = None, classes: "int | None" = None,
                      exec_path: str = "", **options):
    """``accelsim.load_workload`` for a command's options, saying on stderr in one line when
    an option replaces a setting of a named workload (its input size, classes or path)."""
    import accelsim
    from ..workload.registry import named_overrides

    note = named_overrides(workload, input_size, classes, exec_path)
    if note:
        click.echo(f"note: {note}", err=True)
    return accelsim.load_workload(workload, input_size=input_size, num_classes=classes, exec_path=exec_path,
                                  **options)


def simulate_workload(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                      arch: str, objective: str, max_candidates: int | None = None,
                      scope: str = DEFAULT_SCOPE, tolerance: float = DEFAULT_TOLERANCE,
                      memo: dict | None = None):
    """(workload, SimResult) for the CLI options; the arch is validated before the workload
    is built, so a bad config fails fast. Shows the compile notice and a progress bar;
    ``memo`` receives the per-shape layer costs."""
    import accelsim

    arch_cfg = accelsim.load_arch(arch)
    wl = load_cli_workload(workload, input_size, classes, exec_path)
    note_jit()
    return wl, accelsim.simulate(wl, arch_cfg, objective=objective, max_candidates=max_candidates,
                                 scope=scope, tolerance=tolerance, memo=memo, progress=True)


def mac_layer(wl, name: str):
    """The MAC layer ``name`` of workload ``wl``; an error naming close matches otherwise."""
    import difflib

    from ..errors import AccelsimError

    if name not in wl:
        names = [layer.name for layer in wl.layers if layer.is_mac]
        near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else \
            f"; see `accelsim workload show {wl.name}` for its {len(names)} MAC layers"
        raise AccelsimError(f"workload {wl.name!r} has no layer {name!r}{hint}")
    layer = wl.layer(name)
    if not layer.is_mac:
        raise AccelsimError(f"layer {name!r} is a {layer.op.value} layer: only MAC layers "
                            "(conv2d, dwconv2d, linear, matmul) have a mapping")
    return layer


def checked_output(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of ``-o FILE`` options: the file must be writable (a folder, a
    non-regular file or an unwritable location is refused before any work)."""
    from ..safeio import check_output

    if value is not None:
        check_output(value, "output file")
    return value


def output_option(*names: str, **kw) -> Callable:
    """``-o FILE`` checked by :func:`checked_output` when the command line is parsed."""
    return click.option(*(names or ("-o", "out")), callback=checked_output, **kw)


def emit(text: str, out: str | None) -> None:
    """Print ``text`` or write it to ``out`` (one error line naming the file if that fails)."""
    from ..safeio import check_output, write_text

    if out is not None:
        write_text(check_output(out, "output file"), text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


def frame_text(df: pd.DataFrame, fmt: str = "table", totals: dict | None = None) -> str:
    """A DataFrame as an aligned table, CSV, or JSON (records; ``{"totals": ..., "layers": [...]}``
    when ``totals`` is given)."""
    import pandas as pd

    from ..tableio import csv_text, json_text

    if fmt == "csv":
        return csv_text(df)
    if fmt == "json":
        return json_text(df, totals)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 60):
        return df.to_string(index=False, float_format=lambda v: f"{v:.5g}")


def emit_table(df: pd.DataFrame, fmt: str | None, out: str | None, totals: dict | None = None,
               table: str | None = None, key: str = "layers") -> None:
    """Write ``df`` to ``out`` (format from the suffix; with ``totals`` JSON holds
    ``{"totals": ..., key: rows}``) or print it in ``fmt`` (``table`` prints ``table`` when
    given, else the aligned frame)."""
    from ..tableio import json_text, write_table

    from ..safeio import writing

    fmt = output_format(fmt, out)
    if out is not None:
        with writing(out):
            click.echo(f"wrote {write_table(df, out, totals=totals, key=key)}", err=True)
    elif fmt == "table" and table is not None:
        click.echo(table)
    elif fmt == "json":
        click.echo(json_text(df, totals, key))
    else:
        click.echo(frame_text(df, fmt).rstrip("\n"))


#: SI column -> (console header, factor): the units `accelsim simulate` prints (files keep SI)
HUMAN_UNITS: dict[str, tuple[str, float]] = {
    "budget_latency_s": ("budget (ms)", 1e3), "budget_energy_j": ("budget (mJ)", 1e3),
    "latency_s": ("latency (ms)", 1e3), "energy_j": ("energy (mJ)", 1e3),
    "energy_per_op_j": ("energy/op (fJ)", 1e15), "throughput_ops_per_s_per_mm2": ("TOPS/mm2", 1e-12),
    "area_mm2": ("area (mm2)", 1.0), "macs": ("GMACs", 1e-9), "utilization": ("utilization (%)", 100.0),
    "accuracy": ("accuracy (%)", 100.0),
}


def human_table(df: "pd.DataFrame") -> str:
    """``df`` as an aligned console table in engineering units (ms, mJ, fJ/op, TOPS/mm2,
    GMACs, %; headers say which) with 4 significant digits; the full model's empty path
    reads ``(full model)``, a budget no path fits (``feasible`` False) ``(nothing fits)``.
    For the console only: files keep SI units."""
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = df[col]
        if col in HUMAN_UNITS:
            header, factor = HUMAN_UNITS[col]
            num = pd.to_numeric(values, errors="coerce")
            out[header] = [f"{v * factor:.4g}" if v == v else ("" if str(raw) in ("nan", "None") else str(raw))
                           for v, raw in zip(num, values)]
        elif col == "exec_path":
            fits = df["feasible"] if "feasible" in df.columns else pd.Series(True, index=df.index)
            out[col] = ["(nothing fits)" if not ok else "(full model)" if str(v) in ("", "nan", "None") else str(v)
                        for v, ok in zip(values, fits)]
        else:
            out[col] = values
    return frame_text(out, "table")
