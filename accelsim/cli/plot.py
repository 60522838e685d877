"""``accelsim plot KIND ...``: the study's figures from the command line (PNG/SVG).

    accelsim plot energy-throughput results.csv -o fig          # fig.png + fig.svg
    accelsim plot layers -w segformer-b2 -a E -o layers.png
    accelsim plot energy-per-op -w swin-t-upernet -a E -o epo.svg
    accelsim plot macs -w segformer-b2 -o macs
    accelsim plot accuracy paths.csv --x energy_j [--gpu reports/gpu] -o acc
    accelsim plot gpu-share [--gpu reports/gpu] -o share
    accelsim plot html results.csv --layers layers.csv -o sweep.html   # interactive explorer
"""

from __future__ import annotations

import click

from .common import OBJECTIVE_CHOICES, load_cli_workload, output_option, scope_option, simulate_workload, workload_options


def _checked_figure(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``-o PATH``: a .png/.svg/.pdf file, or a stem that gets PNG and SVG; checked before any work."""
    from pathlib import Path

    from ..plots.common import FIG_FORMATS
    from ..safeio import check_output

    if value:
        p = Path(value)
        for target in [p] if p.suffix else [p.with_suffix(".png"), p.with_suffix(".svg")]:
            check_output(target, "figure", tuple(FIG_FORMATS))
    return value


def _out(fn):
    return click.option("-o", "out", default=None, metavar="PATH", callback=_checked_figure,
                        help="figure file (.png/.svg/.pdf; no suffix = PNG and SVG) [default: KIND]")(fn)


def _checked_data(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--data FILE``: a writable .csv/.parquet/.json file, checked before any work."""
    from ..safeio import check_output
    from ..tableio import FORMATS

    if value:
        check_output(value, "data file", tuple(FORMATS))
    return value


def _data(fn):
    return click.option("--data", "data", default=None, metavar="FILE", callback=_checked_data,
                        help="also write the table this figure plots to FILE (.csv, .parquet or .json; "
                             "SI units)")(fn)


def _write_data(df, data: str | None) -> None:
    if data:
        from ..safeio import writing
        from ..tableio import write_table

        with writing(data):
            click.echo(f"wrote {write_table(df, data)}", err=True)


def _done(paths) -> None:
    for p in paths:
        click.echo(f"wrote {p}", err=True)


def _save(fig, out: str | None, kind: str) -> None:
    from ..plots import save_figure

    _done(save_figure(fig, out or kind))


def register(cli: click.Group) -> None:
    @cli.group("plot")
    def plot_group() -> None:
        """Render one of the study's figures."""

    @plot_group.command("energy-throughput")
    @click.argument("results", type=click.Path())
    @click.option("--label-col", default="arch", show_default=True, help="column labelling the points")
    @click.option("--group-col", default="auto", show_default=True,
                  help="one series and front per value ('auto': per workload, execution path and scope, "
                       "like `accelsim pareto`; '' for one series)")
    @click.option("--title", default=None)
    @_out
    @_data
    def energy_throughput(results: str, label_col: str, group_col: str, title: str | None, out: str | None,
                          data: str | None) -> None:
        """Energy per op vs throughput per mm2 of a sweep result, Pareto fronts drawn."""
        from ..plots import plot_energy_throughput
        from ..plots.arch import energy_throughput_table
        from ..sweep.pareto import AUTO
        from .pareto import read_results, result_columns

        from ..sweep.dataset import SUMMARY_COLUMNS

        group = group_col if group_col == AUTO else (group_col or None)
        wanted = [*SUMMARY_COLUMNS, label_col, *([group] if group and group != AUTO else [])]
        df = read_results(results, wanted)
        result_columns(df, results, None, label_col=label_col, group_col=None if group == AUTO else group)
        fig = plot_energy_throughput(df, label_col=label_col, group_col=group, title=title)
        _save(fig, out, "energy-throughput")
        _write_data(energy_throughput_table(df, group), data)

    def _layer_cmd(name: str, doc: str, fn_name: str, table_fn: str):
        @plot_group.command(name, help=doc)
        @workload_options
        @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
        @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True)
        @scope_option()
        @click.option("--title", default=None)
        @_out
        @_data
        def cmd(workload, input_size, classes, exec_path, arch, objective, scope, title, out, data) -> None:
            from .. import plots

            wl, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective, scope=scope)
            title = title or (f"{wl.name} {wl.input_size[0]}x{wl.input_size[1]}"
                              f"{' [' + exec_path + ']' if exec_path else ''} on {res.arch}, {scope} scope")
            _save(getattr(plots, fn_name)(res, title=title), out, name)
            _write_data(getattr(plots, table_fn)(res), data)
        return cmd

    _layer_cmd("layers", "Per-layer execution time and energy of one workload on one arch.", "plot_layer_breakdown",
               "layer_table")
    _layer_cmd("energy-per-op", "Per-layer energy per op, sorted and normalised to the highest.",
               "plot_layer_energy_per_op", "energy_per_op_table")

    @plot_group.command("macs")
    @workload_options
    @_out
    @_data
    def macs(workload, input_size, classes, exec_path, out, data) -> None:
        """MAC distribution across layers and by op kind (no simulation needed)."""
        from ..plots import plot_mac_distribution
        from ..plots.macs import mac_table

        wl = load_cli_workload(workload, input_size, classes, exec_path)
        _save(plot_mac_distribution(wl, title=f"{wl.name} {wl.input_size[0]}x{wl.input_size[1]}"), out, "macs")
        _write_data(mac_table(wl), data)

    @plot_group.command("accuracy")
    @click.argument("results", type=click.Path(dir_okay=False))
    @click.option("--x", "x", type=click.Choice(["latency_s", "energy_j"]), default="latency_s", show_default=True)
    @click.option("--y", "y", default="accuracy", show_default=True)
    @click.option("--label-col", default="exec_path", show_default=True)
    @click.option("--name", "named", multiple=True, metavar="PATH",
                  help="also label this path (a --label-col value); repeatable. The front and the full and "
                       "retrained models are always labelled")
    @click.option("--gpu", "gpu_path", default=None, metavar="FILES",
                  help="GPU measurements of the same paths (`accelsim gpu measure` files: a file, folder or "
                       "glob), or a result table: drawn as a panel beside the accelerator's")
    @click.option("--title", default=None)
    @_out
    @_data
    def accuracy(results, x, y, label_col, named, gpu_path, title, out, data) -> None:
        """Time or energy vs accuracy of execution paths (front highlighted; GPU alongside).

        Paths of unknown accuracy are drawn unlabelled in an "accuracy unknown" strip; one
        line here says how many.
        """
        from ..plots import plot_accuracy_tradeoff
        from ..plots.accuracy import accuracy_table, unknown_rows
        from .pareto import read_results, result_columns

        df = read_results(results)
        result_columns(df, results, {}, x=x, y=y, label_col=label_col)
        gpu_df = gpu_rows(gpu_path, df) if gpu_path else None
        counts = []
        for name, frame in (("accelerator", df), ("GPU", gpu_df)):
            if frame is not None:
                rest = unknown_rows(frame, y) if y in frame.columns else frame.iloc[0:0]
                if len(rest):
                    counts.append(f"{len(rest)} of {len(frame)} {name} point(s)")
        if counts:
            click.echo(f"{' and '.join(counts)} have unknown accuracy (no published value): drawn unlabelled "
                       "in the 'accuracy unknown' strip", err=True)
        fig = plot_accuracy_tradeoff(df, x=x, y=y, label_col=label_col, gpu_df=gpu_df, title=title, named=named)
        _save(fig, out, "accuracy")
        _write_data(accuracy_table(df, x, y, label_col, named), data)

    @plot_group.command("html")
    @click.argument("results", type=click.Path(dir_okay=False))
    @click.option("--layers", "layers_path", default=None, metavar="FILE",
                  help="the sweep's per-layer rows (`accelsim sweep --layers FILE`): click breakdowns")
    @click.option("--layer-points", type=click.Choice(["auto", "front", "all"]), default="auto", show_default=True,
                  help="points whose breakdown the page holds: all, the Pareto front, or auto "
                       "(all up to 2,000 points, else the front)")
    @click.option("--recompute", is_flag=True,
                  help="without --layers: simulate the Pareto-front points again for their breakdowns")
    @click.option("--title", default=None)
    @output_option("-o", "out", default="sweep.html", show_default=True, metavar="FILE",
                   help="the page (.html)")
    def html(results, layers_path, layer_points, recompute, title, out) -> None:
        """Interactive explorer of a sweep: one self-contained HTML page (opens offline).

        Scatter of any two result columns with Pareto fronts, hover for a point's parameters
        and costs, click for its per-layer breakdown, filters, and the accuracy view of path
        sweeps."""
        from ..errors import ConfigError
        from ..plots.explorer import check_columns, check_layer_columns, write_explorer
        from .pareto import read_results

        if not str(out).lower().endswith((".html", ".htm")):
            raise ConfigError(f"{out}: the page must be an .html file")
        df = read_results(results)
        layers = read_results(layers_path) if layers_path else None  # both files read before any check
        check_columns(df, results)
        if layers is not None:
            check_layer_columns(layers, layers_path)
        path = write_explorer(df, out, layers, layer_points=layer_points, recompute=recompute, title=title,
                              source=str(results), log=lambda s: click.echo(s, err=True))
        click.echo(f"wrote {path}", err=True)

    @plot_group.command("gpu-share")
    @click.option("--gpu", "gpu_path", default=None, metavar="FILES",
                  help="GPU measurements: file, folder or glob [default: the project's reports/gpu]")
    @_out
    @_data
    def gpu_share(gpu_path, out, data) -> None:
        """Convolution MAC share vs measured GPU time share vs input size."""
        from ..plots import gpu_share_table, plot_gpu_share

        _save(plot_gpu_share(gpu_path or default_gpu_dir()), out, "gpu-share")
        _write_data(gpu_share_table(gpu_path or default_gpu_dir()), data)


def default_gpu_dir() -> str:
    """The project's ``reports/gpu`` folder (wherever the command runs from)."""
    from ..resources import project_root

    return str(project_root() / "reports" / "gpu")


def gpu_rows(gpu_path: str, accel):
    """Path rows for the GPU panel: ``accelsim gpu measure`` files (a file, folder or glob)
    turned into one row per measured path, limited to the model families of ``accel``; or
    a result table with ``exec_path``, the cost column and ``accuracy``."""
    from ..errors import ConfigError
    from ..gpu.tradeoff import distinct_labels, is_measurement, path_rows
    from .pareto import read_results

    if not is_measurement(gpu_path) and not any(ch in gpu_path for ch in "*?["):
        table = read_results(gpu_path)
        return table.assign(label=table["exec_path"] if "exec_path" in table else "")
    rows = path_rows(gpu_path)
    families = model_families(accel)
    if families:
        mine = rows[rows["family"].isin(families)]
        if mine.empty:
            found = ", ".join(sorted(set(rows["workload"]))) or "none"
            raise ConfigError(f"{gpu_path}: no GPU measurement of a {'/'.join(sorted(families))} model "
                              f"(measured: {found}); record one with `accelsim gpu measure -w ...`")
        rows = mine.reset_index(drop=True)
        rows["label"] = distinct_labels(rows)  # what differs within this family only
    return rows


def model_families(df) -> set[str]:
    """Model families of result rows (``family`` column, else looked up from ``workload``)."""
    import accelsim
    from ..errors import AccelsimError

    if "family" in df.columns:
        return set(df["family"].astype(str)) - {""}
    out = set()
    for name in dict.fromkeys(df.get("workload", [])):
        try:
            out.add(accelsim.load_workload(str(name).split("@")[0].split("/")[0]).family)
        except AccelsimError:
            continue
    return out
