"""``accelsim plot KIND ...``: the study's figures from the command line (PNG/SVG).

    accelsim plot energy-throughput results.csv -o fig          # fig.png + fig.svg
    accelsim plot layers -w segformer-b2 -a E -o layers.png
    accelsim plot energy-per-op -w swin-t-upernet -a E -o epo.svg
    accelsim plot macs -w segformer-b2 -o macs
    accelsim plot accuracy paths.csv --x energy_j [--gpu reports/gpu] -o acc
    accelsim plot gpu-share [--gpu reports/gpu] -o share
"""

from __future__ import annotations

import click

from .common import OBJECTIVE_CHOICES, simulate_workload, workload_options


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
    @click.option("--group-col", default="workload", show_default=True, help="one series per value")
    @click.option("--title", default=None)
    @_out
    def energy_throughput(results: str, label_col: str, group_col: str, title: str | None, out: str | None) -> None:
        """Energy per op vs throughput per mm2 of a sweep result, Pareto fronts drawn."""
        from ..plots import plot_energy_throughput
        from .pareto import read_results, result_columns

        from ..sweep.dataset import SUMMARY_COLUMNS

        df = read_results(results, [*SUMMARY_COLUMNS, label_col, *([group_col] if group_col else [])])
        result_columns(df, results, None, label_col=label_col, group_col=group_col or None)
        fig = plot_energy_throughput(df, label_col=label_col, group_col=group_col or None, title=title)
        _save(fig, out, "energy-throughput")

    def _layer_cmd(name: str, doc: str, fn_name: str):
        @plot_group.command(name, help=doc)
        @workload_options
        @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
        @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True)
        @_out
        def cmd(workload, input_size, classes, exec_path, arch, objective, out) -> None:
            from .. import plots

            wl, res = simulate_workload(workload, input_size, classes, exec_path, arch, objective)
            title = f"{wl.name}{' [' + exec_path + ']' if exec_path else ''} on {res.arch}"
            _save(getattr(plots, fn_name)(res, title=title), out, name)
        return cmd

    _layer_cmd("layers", "Per-layer execution time and energy of one workload on one arch.", "plot_layer_breakdown")
    _layer_cmd("energy-per-op", "Per-layer energy per op, sorted and normalised to the highest.",
               "plot_layer_energy_per_op")

    @plot_group.command("macs")
    @workload_options
    @_out
    def macs(workload, input_size, classes, exec_path, out) -> None:
        """MAC distribution across layers and by op kind (no simulation needed)."""
        import accelsim
        from ..plots import plot_mac_distribution

        wl = accelsim.load_workload(workload, input_size=input_size, num_classes=classes, exec_path=exec_path)
        _save(plot_mac_distribution(wl, title=f"{wl.name} {wl.input_size[0]}x{wl.input_size[1]}"), out, "macs")

    @plot_group.command("accuracy")
    @click.argument("results", type=click.Path(dir_okay=False))
    @click.option("--x", "x", type=click.Choice(["latency_s", "energy_j"]), default="latency_s", show_default=True)
    @click.option("--y", "y", default="accuracy", show_default=True)
    @click.option("--label-col", default="exec_path", show_default=True)
    @click.option("--gpu", "gpu_path", default=None, metavar="FILES",
                  help="GPU measurements of the same paths (`accelsim gpu measure` files: a file, folder or "
                       "glob), or a result table: drawn as a panel beside the accelerator's")
    @click.option("--title", default=None)
    @_out
    def accuracy(results, x, y, label_col, gpu_path, title, out) -> None:
        """Time or energy vs accuracy of execution paths (front highlighted; GPU alongside).

        Paths of unknown accuracy are drawn in an "accuracy unknown" strip and listed here.
        """
        from ..plots import plot_accuracy_tradeoff
        from ..plots.accuracy import point_labels, unknown_rows
        from .pareto import read_results, result_columns

        df = read_results(results)
        result_columns(df, results, {}, x=x, y=y, label_col=label_col)
        gpu_df = gpu_rows(gpu_path, df) if gpu_path else None
        for name, frame, col in (("accelerator", df, label_col), ("GPU", gpu_df, "label")):
            if frame is not None:
                rest = unknown_rows(frame, y) if y in frame.columns else frame.iloc[0:0]
                if len(rest):
                    click.echo(f"{name}: {len(rest)} of {len(frame)} point(s) have unknown accuracy, shown in the "
                               f"'accuracy unknown' strip: {', '.join(point_labels(rest, col))}", err=True)
        fig = plot_accuracy_tradeoff(df, x=x, y=y, label_col=label_col, gpu_df=gpu_df, title=title)
        _save(fig, out, "accuracy")

    @plot_group.command("gpu-share")
    @click.option("--gpu", "gpu_path", default=None, metavar="FILES",
                  help="GPU measurements: file, folder or glob [default: the project's reports/gpu]")
    @_out
    def gpu_share(gpu_path, out) -> None:
        """Convolution MAC share vs measured GPU time share vs input size."""
        from ..plots import plot_gpu_share

        _save(plot_gpu_share(gpu_path or default_gpu_dir()), out, "gpu-share")


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
