"""``accelsim sensitivity``: how robust a result is to the tech file's uncertain constants.

    accelsim sensitivity -w segformer-b2 -a E --figure tornado.png -o tornado.csv
    accelsim sensitivity -w segformer-b2 -w swin-t-upernet -a A..M --samples 256 --seed 0 \\
        --figure membership.png -o membership.csv

One configuration: a tornado (each constant from its low to its high end, others nominal).
Two or more: all constants sampled together by a seeded Latin hypercube, and how often
each configuration is on each workload's Pareto front (docs/sweeps.md, Sensitivity).
"""

from __future__ import annotations

import click

from .common import emit_table, frame_text, note_jit, output_format, output_option, search_options

DEFAULT_SAMPLES = 256
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def check_figure(ctx: click.Context, param: click.Parameter, value: "str | None") -> "str | None":
    """``--figure FILE``: a .png/.svg/.pdf file that can be written, checked before any work."""
    from pathlib import Path

    from ..errors import ConfigError
    from ..safeio import check_output

    if value:
        if Path(value).suffix.lower() not in FIGURE_SUFFIXES:
            raise ConfigError(f"{value}: figure format {Path(value).suffix or '(none)'!r} not supported; "
                              f"use {', '.join(FIGURE_SUFFIXES)}")
        check_output(value, "figure file")
    return value


def tornado_text(df) -> str:
    """The console table of a tornado: each constant's range and swings in percent."""
    view = df[["constant", "low", "value", "high"]].copy()
    for m, name in (("latency_s", "latency"), ("energy_j", "energy"), ("energy_per_op_j", "energy/op")):
        view[f"{name} swing %"] = df[f"{m}_swing"] * 100
    return frame_text(view, "table")


def membership_text(df) -> str:
    """The console table of a membership study, percentages."""
    view = df[["workload", "arch", "on_front_nominal"]].copy()
    view["on front %"] = df["front_frequency"] * 100
    view["flips %"] = df["flip_frequency"] * 100
    view["front changes %"] = df["front_change_frequency"] * 100
    view["fJ/op nominal"] = df["energy_per_op_j_nominal"] * 1e15
    view["fJ/op p05"] = df["energy_per_op_j_p05"] * 1e15
    view["fJ/op p95"] = df["energy_per_op_j_p95"] * 1e15
    return frame_text(view, "table")


def register(cli: click.Group) -> None:
    @cli.command("sensitivity")
    @click.option("--workload", "-w", "workloads", multiple=True,
                  help="registry name or workload YAML; repeatable [default: segformer-b2]")
    @click.option("--arch", "-a", "archs", multiple=True,
                  help="labels, ranges (A..M) or arch YAMLs; repeatable. One: tornado; more: Pareto "
                       "membership [default: E]")
    @search_options
    @click.option("--samples", type=click.IntRange(min=1, max=100_000), default=None,
                  help=f"Latin-hypercube samples (two or more configurations) [default: {DEFAULT_SAMPLES}]")
    @click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
                  help="seed of the Latin hypercube: the same seed gives the same samples")
    @click.option("--remap", is_flag=True,
                  help="search every layer's mapping afresh for each sampled technology "
                       "(default: re-cost the mappings chosen with the nominal constants)")
    @click.option("--cache", default=None, metavar="DIR",
                  help="folder of per-layer costs reused across runs (nominal search, and --remap)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the table to FILE: .csv, .parquet or .json")
    @click.option("--figure", default=None, metavar="FILE", callback=check_figure,
                  help="draw the tornado or the membership map to FILE (.png, .svg or .pdf)")
    @click.option("--progress/--no-progress", default=True, show_default=True)
    def sensitivity_cmd(workloads, archs, objective, scope, tolerance, max_candidates, samples, seed, remap,
                        cache, fmt, out, figure, progress) -> None:
        """How robust a result is to the tech file's uncertain constants (tornado or Pareto membership)."""
        from pathlib import Path

        import accelsim
        from ..errors import ConfigError
        from ..safeio import check_folder
        from ..sweep.cache import DiskMemo, model_tag
        from ..sweep.sensitivity import Settings, pareto_membership, shared_constants, tornado
        from ..sweep.spec import expand_arch_names

        fmt = output_format(fmt, out)  # a bad suffix fails before any work
        names = expand_arch_names(list(archs) or ["E"])
        arch_cfgs = [accelsim.load_arch(a) for a in dict.fromkeys(names)]
        if len({a.name for a in arch_cfgs}) != len(arch_cfgs):
            raise ConfigError("two configurations share a name; give each arch YAML its own name")
        settings = Settings(scope=scope, objective=objective, tolerance=tolerance, max_candidates=max_candidates,
                            remap=remap)
        shared_constants(arch_cfgs)  # a tech file without ranges fails before the workloads are built
        cache_dir = check_folder(cache, "cache folder") if cache else None
        wl_names = list(dict.fromkeys(workloads or ("segformer-b2",)))
        if len(arch_cfgs) == 1:
            if samples is not None:
                raise ConfigError("--samples applies to two or more configurations (one configuration: "
                                  "a tornado over each constant's range)")
            if len(wl_names) != 1:
                raise ConfigError("a tornado is for one design: give one --workload with one --arch "
                                  "(or several --arch for Pareto membership)")
        wls = {w: accelsim.load_workload(w) for w in wl_names}
        if len({wl.name for wl in wls.values()}) != len(wls):
            raise ConfigError("two --workload values build the same workload name; give each once")
        wls = {wl.name: wl for wl in wls.values()}
        note_jit()
        memo = DiskMemo(str(cache_dir / model_tag())) if cache_dir else {}
        from .. import plots  # noqa: F401  (matplotlib set up before the work when a figure is asked)
        from ..plots.sensitivity import plot_membership, plot_tornado

        if len(arch_cfgs) == 1:
            df = tornado(next(iter(wls.values())), arch_cfgs[0], settings, memo=memo, progress=progress)
            text = tornado_text(df)
            if figure:
                plot_tornado(df, path=figure)
        else:
            res = pareto_membership(wls, arch_cfgs, samples or DEFAULT_SAMPLES, seed, settings, memo=memo,
                                    cache=(cache_dir if remap else None), progress=progress)
            df = res.table
            text = membership_text(df)
            click.echo(f"{samples or DEFAULT_SAMPLES} Latin-hypercube samples (seed {seed}) of "
                       f"{res.samples.shape[1] - 1} constants; "
                       f"{'mappings searched afresh per sample' if remap else 'nominal mappings re-costed'}",
                       err=True)
            if figure:
                plot_membership(df, path=figure)
        if hasattr(memo, "flush"):
            memo.flush()
        if figure:
            click.echo(f"wrote {Path(figure)}", err=True)
        emit_table(df, fmt, out, table=text)
