"""``accelsim paths list|show|enumerate|report`` and ``accelsim rdd`` (SPEC.md section 8)."""

from __future__ import annotations

import click
import pandas as pd

from ..errors import AccelsimError
from .common import (OBJECTIVE_CHOICES, emit, emit_table, family_option, frame_text, human_table,
                     load_cli_workload, note_jit, output_format, output_option, scope_option, workload_options)

LIST_FORMATS = ("text", "csv", "json", "yaml")


def _changes(base, wl) -> pd.DataFrame:
    """Per-layer differences between a workload and its transformed version."""
    old = {layer.name: layer for layer in base.layers}
    new = {layer.name: layer for layer in wl.layers}
    rows = []
    for name, layer in old.items():
        if name not in new:
            rows.append({"layer": name, "change": "removed", "macs_before": layer.macs, "macs_after": 0,
                         "shape_before": f"k={layer.k} c={layer.c} pq={layer.p * layer.q}", "shape_after": ""})
        elif new[name] != layer:
            n = new[name]
            rows.append({"layer": name, "change": "changed", "macs_before": layer.macs, "macs_after": n.macs,
                         "shape_before": f"k={layer.k} c={layer.c} pq={layer.p * layer.q}",
                         "shape_after": f"k={n.k} c={n.c} pq={n.p * n.q}"})
    for name, n in new.items():
        if name not in old:
            rows.append({"layer": name, "change": "added", "macs_before": 0, "macs_after": n.macs,
                         "shape_before": "", "shape_after": f"k={n.k} c={n.c} pq={n.p * n.q}"})
    return pd.DataFrame(rows, columns=["layer", "change", "macs_before", "macs_after",
                                       "shape_before", "shape_after"])


def _candidates(base, exec_paths: tuple[str, ...], table, families: tuple[str, ...] = ()) -> list[str]:
    """RDD candidates: the paths given, else those of the workload's path families (all by
    default, ``--family`` to choose) that have a known accuracy (``table``)."""
    from ..paths.families import paths_of, with_known_accuracy

    if exec_paths:
        return list(exec_paths)
    # only paths with a known accuracy can be chosen: do not simulate the others
    return with_known_accuracy(base, paths_of(base, *families), table)


def register(cli: click.Group) -> None:
    @cli.group("paths")
    def paths_group() -> None:
        """Dynamic execution paths: keys, transforms, enumeration, report."""

    @paths_group.command("list")
    @click.option("--family", default=None, help="only the keys that apply to this family")
    def list_cmd(family: str | None) -> None:
        """The path keys (key=value;... syntax), the families they apply to, what they do."""
        from ..paths import KEYS, keys_for_family

        keys = keys_for_family(family) if family else [k.name for k in KEYS]
        df = pd.DataFrame([{"key": k.name, "families": ",".join(k.families).replace("*", "all"),
                            "meaning": k.help} for k in KEYS if k.name in keys])
        click.echo(frame_text(df, "table"))

    @paths_group.command("show")
    @workload_options
    @click.option("--accuracy-csv", default=None, help="extra accuracy CSV (same columns as the shipped one)")
    def show_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str,
                 accuracy_csv: str | None) -> None:
        """What a path does to a workload: layers removed, shrunk and added; MACs; accuracy."""
        from ..paths import annotate, apply_path, load_accuracy

        base = load_cli_workload(workload, input_size, classes)
        wl = apply_path(base, exec_path)
        diff = _changes(base, wl)
        acc = annotate(wl, table=load_accuracy(accuracy_csv))
        lines = [frame_text(diff, "table") if len(diff) else "(no layer changes)", "",
                 f"workload     {wl.name} ({wl.family} {wl.variant}, {wl.input_size[0]}x{wl.input_size[1]}, "
                 f"{wl.dataset or 'no dataset'})",
                 f"exec_path    {wl.exec_path or '(full model)'}",
                 f"GMACs        {base.macs / 1e9:.4f} -> {wl.macs / 1e9:.4f}",
                 f"layers       {len(base.layers)} -> {len(wl.layers)}",
                 f"accuracy     {acc['accuracy']} {acc['accuracy_metric']} {acc['accuracy_source']}".rstrip()]
        click.echo("\n".join(lines))

    @paths_group.command("enumerate")
    @click.option("--workload", "-w", default="segformer-b2", show_default=True)
    @click.option("--input", "input_size", default=None, metavar="HxW")
    @family_option
    @click.option("--step", type=click.IntRange(1, 1_000_000), default=128, show_default=True,
                  help="channel step of the pruned input (linear_fuse / fpn_bottleneck)")
    @click.option("--max-drop", type=click.IntRange(0, 1_000), default=1, show_default=True,
                  help="blocks dropped per stage at most")
    @click.option("--budget", "budgets", type=click.FloatRange(min=0, min_open=True), multiple=True,
                  metavar="GMACS", help="OFA-ResNet50D: an extra MAC budget in GMACs (repeatable)")
    @click.option("--published/--no-published", default=True, show_default=True,
                  help="OFA-ResNet50D: include the published subnets' budgets (accuracy.csv)")
    @click.option("--format", "fmt", type=click.Choice(list(LIST_FORMATS)), default=None,
                  help="text (one path a line), csv, json, or yaml (a sweep spec's workload entry) "
                       "[default: from -o's suffix, else text]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the list to FILE (.txt, .csv, .json, .yaml); `sweep --paths FILE` reads it")
    def enumerate_cmd(workload: str, input_size: str | None, families: tuple[str, ...], step: int,
                      max_drop: int, budgets: tuple[float, ...], published: bool, fmt: str | None,
                      out: str | None) -> None:
        """The workload's execution paths, the full model first (as the empty path).

        One list for every command: `rdd`, `sweep --family` and the paths report draw
        from the same families (--family to choose; default: all that apply).
        """
        from ..paths.families import PathOptions, path_list
        from ..paths.listing import list_format, path_list_text
        from ..paths.ofa import FAMILY as OFA

        wl = load_cli_workload(workload, input_size)
        if (budgets or not published) and wl.family != OFA:
            raise AccelsimError(f"--budget/--no-published apply to OFA-ResNet50D (family {OFA}), "
                                f"not {wl.family!r}")
        if out:
            file_fmt = list_format(out)
            if fmt not in (None, file_fmt):
                raise AccelsimError(f"{out}: --format {fmt} contradicts the file suffix ({file_fmt}); "
                                    "the suffix decides, drop --format")
            fmt = file_fmt
        entries = path_list(wl, families, PathOptions(max_drop, step, tuple(budgets), published))
        text = path_list_text(entries, fmt or "text", workload, f"{wl.input_size[0]}x{wl.input_size[1]}")
        if out:
            emit(text, out)
            click.echo(f"{len(entries)} paths of {wl.name} ({', '.join(dict.fromkeys(e.family for e in entries))})",
                       err=True)
        else:
            click.echo(text, nl=False)

    @paths_group.command("report")
    @click.option("--arch", "-a", default="E", show_default=True)
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True)
    @scope_option()
    @output_option("-o", "out", default="reports/paths.md", show_default=True)
    def report_cmd(arch: str, objective: str, scope: str, out: str) -> None:
        """Regenerate reports/paths.md and its figures (reports/figures/paths_*)."""
        from ..report.paths import build_report

        path = build_report(arch, out, objective=objective, progress=lambda s: click.echo(s, err=True),
                            scope=scope)
        click.echo(f"wrote {path}", err=True)

    @cli.command("rdd")
    @workload_options
    @click.option("--arch", "-a", default="E", show_default=True, help="study label A..M or arch YAML")
    @click.option("--budget-latency", default=None, help="largest latency budget with its unit, e.g. 3ms")
    @click.option("--budget-energy", default=None, help="largest energy budget with its unit, e.g. 40mJ")
    @click.option("--steps", type=click.IntRange(2, 1_000_000), default=None,
                  help="evenly spaced budgets up to the given one (default: the breakpoints)")
    @click.option("--results", default=None,
                  help="evaluated paths instead of simulating: a result table (exec_path, cost, accuracy) "
                       "or `accelsim gpu measure` files (file, folder or glob)")
    @click.option("--accuracy-csv", default=None, help="extra accuracy CSV")
    @family_option
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default="latency", show_default=True)
    @scope_option()
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the table to FILE: .csv, .parquet or .json")
    def rdd_cmd(workload: str, input_size: str | None, classes: int | None, exec_path: str, arch: str,
                budget_latency: str | None, budget_energy: str | None, steps: int | None,
                results: str | None, accuracy_csv: str | None, families: tuple[str, ...], objective: str,
                scope: str, fmt: str | None, out: str | None) -> None:
        """Resource-dependent path selection: budget -> most accurate path that fits.

        Candidates are the paths of the workload's path families with a known accuracy
        (the list `paths enumerate` prints; --family to choose), or each --exec-path given,
        separated by '|'; paths of unknown accuracy are never chosen.
        """
        import numpy as np

        import accelsim
        from ..paths import load_accuracy
        from ..paths.evaluate import evaluate_paths
        from ..paths.rdd import lookup_table, parse_quantity

        if (budget_latency is None) == (budget_energy is None):
            raise AccelsimError("give exactly one of --budget-latency (e.g. 3ms) or --budget-energy (e.g. 40mJ)")
        by, budget = (("latency_s", parse_quantity(budget_latency, "s")) if budget_latency
                      else ("energy_j", parse_quantity(budget_energy, "J")))
        fmt = output_format(fmt, out)
        if results:
            df = _evaluated_rows(results)
            missing = {"exec_path", by, "accuracy"} - set(df.columns)
            if missing:
                raise AccelsimError(f"{results}: missing column(s) {', '.join(sorted(missing))}")
        else:
            arch_cfg = accelsim.load_arch(arch)
            base = load_cli_workload(workload, input_size, classes)
            paths = [p for p in exec_path.split("|")] if exec_path else []
            table = load_accuracy(accuracy_csv)
            cands = _candidates(base, tuple(paths), table, families)
            note_jit()
            df = evaluate_paths(base, arch_cfg, cands, objective=objective, table=table, progress=True,
                                scope=scope)
        budgets = np.linspace(budget / steps, budget, steps) if steps else None
        table = lookup_table(df, by=by, max_budget=budget, budgets=budgets)
        if table.empty or table["exec_path"].isna().all():
            full = lookup_table(df, by=by)
            if full.empty:
                raise AccelsimError("no evaluated path has a known accuracy; add one with --accuracy-csv")
            unit, scale = ("ms", 1e3) if by == "latency_s" else ("mJ", 1e3)
            click.echo(f"no path fits {by.split('_')[0]} <= {budget * scale:.4g} {unit}; the cheapest needs "
                       f"{full[by].iloc[0] * scale:.4g} {unit}. The whole table:", err=True)
            table = full
        emit_table(table, fmt, out, table=human_table(table))


def _evaluated_rows(results: str) -> pd.DataFrame:
    """Evaluated paths from a result table, or from GPU measurement files (one row per path)."""
    from ..gpu.tradeoff import is_measurement, path_rows
    from .pareto import read_results

    if is_measurement(results) or any(ch in results for ch in "*?["):
        return path_rows(results)
    return read_results(results)
