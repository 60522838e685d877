"""``accelsim pareto results.csv --min energy_per_op --max throughput_per_mm2``: print the front."""

from __future__ import annotations

from pathlib import Path

import click

from .common import emit, frame_text

SHOW = ["arch", "workload", "exec_path"]


def read_results(path: str):
    """A sweep result file (CSV or Parquet) as a DataFrame."""
    from ..errors import ConfigError
    from ..sweep.store import is_parquet, read_csv_rows

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: results file not found")
    import pandas as pd

    try:
        df = pd.read_parquet(p) if is_parquet(p) else read_csv_rows(p)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{p}: not a sweep result file (CSV or Parquet written by `accelsim sweep`): "
                          f"{reason}") from None
    if df.empty:
        raise ConfigError(f"{p}: no rows")
    return df


def register(cli: click.Group) -> None:
    @cli.command("pareto")
    @click.argument("results", type=click.Path(dir_okay=False))
    @click.option("--min", "mins", multiple=True, help="objective to minimise (column or alias); repeatable")
    @click.option("--max", "maxs", multiple=True, help="objective to maximise (column or alias); repeatable")
    @click.option("--by", default=None, help="one front per value of this column (e.g. workload)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
    @click.option("-o", "out", default=None, help="write to FILE instead of stdout")
    def pareto_cmd(results: str, mins: tuple[str, ...], maxs: tuple[str, ...], by: str | None, fmt: str,
                   out: str | None) -> None:
        """Rows of a sweep result on the Pareto front (default: min energy_per_op, max throughput_per_mm2)."""
        from ..sweep.pareto import DEFAULT_OBJECTIVES, pareto, resolve_column

        df = read_results(results)
        objectives = {**{m: "min" for m in mins}, **{m: "max" for m in maxs}} or None
        front = pareto(df, objectives, by=by)
        if fmt == "table":
            cols = [c for c in SHOW if c in front.columns]
            cols += [resolve_column(df, o) for o in (objectives or DEFAULT_OBJECTIVES)]
            front = front[list(dict.fromkeys(cols))]
        emit(frame_text(front.reset_index(drop=True), fmt), out)
