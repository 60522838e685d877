"""``accelsim explore``: multi-objective search over an arch space too large for a grid.

    accelsim explore spec.yaml -o results.csv                     # study in results.study.db
    accelsim explore spec.yaml -o results.csv --resume            # continue a killed or finished study
    accelsim explore spec.yaml -o r.csv --executor dask --scheduler tcp://host:8786
"""

from __future__ import annotations

import click

from .common import emit, frame_text, note_jit, scope_option


def register(cli: click.Group) -> None:
    @cli.command("explore")
    @click.argument("spec", type=click.Path(dir_okay=False))
    @click.option("-o", "--output", default=None,
                  help="results table (.csv, .parquet or .json); the front goes to NAME.front.SUFFIX")
    @click.option("--storage", default=None,
                  help="study database URL (default: sqlite:///NAME.study.db next to the output)")
    @click.option("--study", default=None, help="study name in the database (default: the spec's name)")
    @click.option("--resume", is_flag=True, help="continue the study (start it when the database has none)")
    @click.option("--overwrite", is_flag=True, help="delete the stored study and start afresh")
    @click.option("--evaluations", type=click.IntRange(1, 10**9), default=None, help="evaluation budget (whole study)")
    @click.option("--seconds", type=click.FloatRange(min=0, min_open=True), default=None,
                  help="wall-time budget of this run (s)")
    @click.option("--sampler", type=click.Choice(["tpe", "nsga2", "nsga3", "random"]), default=None)
    @click.option("--seed", type=click.IntRange(min=0, max=2**31 - 1), default=None)
    @click.option("--batch", type=click.IntRange(min=1, max=4096), default=None,
                  help="trials asked and evaluated together (a setting of the study)")
    @scope_option(default=None)
    @click.option("--executor", type=click.Choice(["local", "dask"]), default=None)
    @click.option("--workers", type=click.IntRange(1, 4096), default=None, help="processes (default: all cores)")
    @click.option("--scheduler", default=None, help="dask scheduler address tcp://host:port (with --executor dask)")
    @click.option("--cache", default=None, help="folder of per-layer costs reused across runs")
    @click.option("--progress/--no-progress", default=True, show_default=True)
    def explore_cmd(spec, output, storage, study, resume, overwrite, evaluations, seconds, sampler, seed, batch,
                    scope, executor, workers, scheduler, cache, progress) -> None:
        """Search an arch space for the Pareto front of 2-3 objectives (resumable study)."""
        import pandas as pd

        from ..errors import ConfigError
        from ..sweep.explore import run_explore

        if resume and overwrite:
            raise ConfigError("--resume and --overwrite exclude each other")
        df = run_explore(spec, resume=resume, overwrite=overwrite, progress=progress, on_start=note_jit,
                         output=output, storage=storage, study=study, evaluations=evaluations, seconds=seconds,
                         sampler=sampler, seed=seed, batch=batch, scope=scope, executor=executor, workers=workers,
                         scheduler=scheduler, cache=cache)
        st = df.attrs["explore"]
        click.echo(f"{st['evaluations']} evaluations ({st['evaluated_here']} in this run, {st['adopted']} adopted "
                   f"from a stopped run), {st['feasible']} feasible, {st['unmappable']} unmappable, "
                   f"{st['skipped']} skipped before simulating, {st['duplicates']} repeated proposals; "
                   f"front of {st['front']}; stopped: {st['stop']}; {st['seconds']:.1f} s", err=True)
        if st["output"]:
            click.echo(f"wrote {st['output']} and {st['front_output']} (study {st['study']!r} in {st['storage']})",
                       err=True)
        emit(frame_text(pd.DataFrame(df.attrs["front_table"]), "table"), None)
