"""``accelsim sweep``: run a sweep spec, or the common case straight from options.

    accelsim sweep spec.yaml
    accelsim sweep --arch A..M --workload segformer-b2 --exec-path "" --exec-path "blocks=2-3-5-3" -o results.csv
    accelsim sweep --base E --grid num_pe=8,16,32 --grid k0=16,32 --constraint "k0 == c0" -w segformer-b2 -o r.csv
    accelsim sweep -a E -w segformer-b2 --paths b2.yaml --scope accelerator,system -o both.csv
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from .common import (CANDIDATES, CLASSES, COUNT, OBJECTIVE_CHOICES, WORKERS, emit, family_option, frame_text, note_jit,
                     scope_option, tolerance_option)

SUMMARY_COLUMNS = ["arch", "workload", "exec_path", "scope", "latency_s", "energy_j", "area_mm2", "energy_per_op_j",
                   "throughput_ops_per_s_per_mm2", "utilization", "error"]


def _grid_option(items: tuple[str, ...]) -> dict:
    from ..errors import ConfigError

    grid = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise ConfigError(f"--grid {item!r}: write PARAM=V1,V2,... (e.g. num_pe=8,16,32)")
        grid[name.strip()] = [_number(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _number(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def build_spec(spec_path: str | None, arch: tuple[str, ...], base: str | None, grid: tuple[str, ...],
               constraint: tuple[str, ...], workload: tuple[str, ...], exec_path: tuple[str, ...],
               input_size: str | None, classes: int | None, paths_file: str | None = None,
               families: tuple[str, ...] = ()) -> dict | str:
    """The spec file, or a spec dict from options (options replace the file's arch/workloads)."""
    from ..errors import ConfigError
    from ..sweep.spec import load_spec

    if (paths_file or families or exec_path) and not workload:
        raise ConfigError("--exec-path, --paths and --family apply to the --workload(s): give at least one")
    if spec_path and not (arch or base or grid or constraint or workload):
        return spec_path
    data: dict = {}
    if spec_path:
        spec, folder = load_spec(spec_path)
        data = spec.model_dump(exclude_none=True, warnings=False)  # see SweepSpec.replace
        for field in ("output", "layers", "cache"):  # still relative to the spec file
            if data.get(field) and not Path(data[field]).is_absolute():
                data[field] = str(folder / data[field])
    if arch or base or grid or constraint:
        space: dict = {"configs": list(arch)} if arch else {"base": base or "E"}
        if grid:
            space["grid"] = _grid_option(grid)
        if constraint:
            space["constraints"] = list(constraint)
        data["arch"] = space
    elif "arch" not in data:
        data["arch"] = {"configs": ["A..M"]}
    if workload:
        chosen = {"exec_paths": list(exec_path) or [""]} if exec_path or not (paths_file or families) else {}
        if paths_file:
            chosen["paths"] = os.path.abspath(paths_file)  # the name as given (a link is reported as such)
        if families:
            chosen["families"] = list(families)
        data["workloads"] = [{"name": w, "input": input_size, "classes": classes, **chosen} for w in workload]
        from ..workload.registry import named_overrides

        for w in workload:
            note = named_overrides(w, input_size, classes)
            if note:
                click.echo(f"note: {note}", err=True)
    elif "workloads" not in data:
        raise ConfigError("give a sweep spec file or at least one --workload")
    return data


def register(cli: click.Group) -> None:
    @cli.command("sweep")
    @click.argument("spec", required=False, type=click.Path(dir_okay=False))
    @click.option("--arch", "-a", multiple=True, help="labels, ranges (A..M) or arch YAMLs; repeatable")
    @click.option("--base", default=None, help="config a --grid varies (default E)")
    @click.option("--grid", multiple=True, metavar="PARAM=V1,V2", help="grid axis over an arch parameter")
    @click.option("--constraint", multiple=True, help="e.g. 'k0 == c0' or 'area_mm2 <= 10'; repeatable")
    @click.option("--workload", "-w", multiple=True, help="registry name or workload YAML; repeatable")
    @click.option("--exec-path", "exec_path", multiple=True, help="execution path ('' = full model); repeatable")
    @click.option("--paths", "paths_file", default=None, metavar="FILE",
                  help="execution paths of the --workload(s) from a path list (`accelsim paths enumerate -o FILE`)")
    @family_option
    @click.option("--input", "input_size", default=None, metavar="HxW", help="input size of the --workload(s)")
    @click.option("--classes", type=CLASSES, default=None, help="number of classes of the --workload(s)")
    @click.option("--objective", type=click.Choice(OBJECTIVE_CHOICES), default=None,
                  help="mapping-search objective (default: the spec's, else latency)")
    @scope_option(default=None, many=True)
    @tolerance_option(default=None)
    @click.option("--max-candidates", type=CANDIDATES, default=None)
    @click.option("-o", "--output", default=None,
                  help="results file (.csv, .parquet or .json, from the suffix) or folder (DIR/: a partitioned "
                       "Parquet dataset); resumes if it exists")
    @click.option("--layers", default=None,
                  help="also write per-layer rows to this file (.csv, .parquet, .json) or folder (DIR/)")
    @click.option("--executor", type=click.Choice(["local", "dask"]), default=None,
                  help="local processes, or Dask (implied by --scheduler)")
    @click.option("--workers", type=WORKERS, default=None, help="processes (default: all cores)")
    @click.option("--scheduler", default=None,
                  help="dask scheduler address tcp://HOST:PORT (implies --executor dask; without it: a LocalCluster)")
    @click.option("--worker-timeout", type=click.FloatRange(min=0, max=10**7), default=None, metavar="SECONDS",
                  help="stop a Dask sweep after this long without any worker (0: wait forever) [default: 120]")
    @click.option("--cache", default=None, help="folder of per-layer costs reused across runs")
    @click.option("--verify-cache", type=click.IntRange(min=0, max=10**9), default=0, metavar="N",
                  help="recompute the first N cache hits (all when N is at least their number); any difference "
                       "fails the sweep (exit 2)")
    @click.option("--chunk-size", type=click.IntRange(1, COUNT), default=None, help="points per task")
    @click.option("--overwrite", is_flag=True, help="discard an existing output instead of resuming")
    @click.option("--progress/--no-progress", default=True, show_default=True)
    def sweep_cmd(spec, arch, base, grid, constraint, workload, exec_path, paths_file, families, input_size,
                  classes, objective,
                  scope, tolerance, max_candidates, output, layers, executor, workers, scheduler,
                  worker_timeout, cache, verify_cache, chunk_size, overwrite, progress) -> None:
        """Evaluate every architecture x workload x execution path; one row per point."""
        from ..sweep import run_sweep

        spec_or_dict = build_spec(spec, arch, base, grid, constraint, workload, exec_path, input_size, classes,
                                  paths_file, families)
        df = run_sweep(spec_or_dict, output=output, layers=layers, executor=executor, workers=workers,
                       scheduler=scheduler, cache=cache, objective=objective, max_candidates=max_candidates,
                       overwrite=overwrite, progress=progress, chunk_size=chunk_size, scope=scope,
                       tolerance=tolerance, on_start=note_jit, verify_cache=verify_cache,
                       worker_timeout=worker_timeout, return_rows=not output)
        st = df.attrs.get("sweep", {})
        click.echo(f"{st.get('points', len(df))} points ({st.get('resumed', 0)} kept from a previous run, "
                   f"{st.get('computed', 0)} computed, {st.get('failed', 0)} unmappable) "
                   f"in {st.get('seconds', 0.0):.1f} s", err=True)
        if st.get("cache_verified"):
            click.echo(f"cache: {st['cache_verified']} hit(s) recomputed, all equal to the stored entries", err=True)
        if st.get("failed"):
            click.echo(f"warning: {st['failed']} point(s) could not be mapped (empty cost columns, reason in "
                       f"the error column), e.g. {st['first_error']}", err=True)
        if st.get("output"):
            click.echo(f"wrote {st['output']}", err=True)
        else:
            cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
            emit(frame_text(df[cols], "table"), None)
