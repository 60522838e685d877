"""``accelsim pareto results.csv --min energy_per_op --max throughput_per_mm2``: print the front."""

from __future__ import annotations

from pathlib import Path

import click

from .common import emit, frame_text, output_option

SHOW = ["arch", "workload", "exec_path"]


def read_results(path: str):
    """A sweep result file (CSV or Parquet) as a DataFrame; every error names the file."""
    import pandas as pd

    from ..errors import ConfigError
    from ..safeio import MAX_TABLE_BYTES, check_input, describe, exists
    from ..sweep.store import is_parquet, read_csv_rows

    p = Path(path)
    if not exists(p):
        raise ConfigError(f"{p}: results file not found")
    check_input(p, MAX_TABLE_BYTES, "results file")
    try:
        df = pd.read_parquet(p) if is_parquet(p) else read_csv_rows(p)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001  (pandas and pyarrow raise many kinds for a bad file)
        raise ConfigError(f"{p}: not a sweep result file (CSV or Parquet written by `accelsim sweep`): "
                          f"{describe(exc)}") from None
    if df.empty:
        raise ConfigError(f"{p}: no rows")
    return df


def result_columns(df, source: "str | Path", objectives: "dict | None", **columns: "str | None") -> list[str]:
    """Check ``df`` (read from ``source``) before plotting or ranking: the ``objectives``
    (``None``: energy per op and throughput per mm2; ``{}``: none) are numeric columns
    with at least one value, and every column named in ``columns`` (``--by``,
    ``--label-col`` ...) exists.
    Returns the objective columns; errors name ``source``."""
    from ..errors import ConfigError
    from ..safeio import about
    from ..sweep.pareto import DEFAULT_OBJECTIVES, check_group_columns, mapped_rows, resolve_column

    with about(source):
        cols = [resolve_column(df, o) for o in (DEFAULT_OBJECTIVES if objectives is None else objectives)]
        for option, col in columns.items():
            check_group_columns(df, col, "--" + option.replace("_", "-"))
    if cols and not mapped_rows(df)[cols].notna().all(axis=1).any():
        raise ConfigError(f"{source}: no row has values for {', '.join(cols)} (all missing, or every "
                          "point unmappable)")
    return cols


def register(cli: click.Group) -> None:
    @cli.command("pareto")
    @click.argument("results", type=click.Path(dir_okay=False))
    @click.option("--min", "mins", multiple=True, help="objective to minimise (column or alias); repeatable")
    @click.option("--max", "maxs", multiple=True, help="objective to maximise (column or alias); repeatable")
    @click.option("--by", default=None, help="one front per value of this column (e.g. workload)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
    @output_option("-o", "out", default=None, help="write to FILE instead of stdout")
    def pareto_cmd(results: str, mins: tuple[str, ...], maxs: tuple[str, ...], by: str | None, fmt: str,
                   out: str | None) -> None:
        """Rows of a sweep result on the Pareto front (default: min energy_per_op, max throughput_per_mm2)."""
        from ..safeio import about
        from ..sweep.pareto import pareto

        df = read_results(results)
        objectives = {**{m: "min" for m in mins}, **{m: "max" for m in maxs}} or None
        obj_cols = result_columns(df, results, objectives, by=by)
        with about(results):
            front = pareto(df, objectives, by=by)
        if fmt == "table":
            cols = [c for c in SHOW if c in front.columns] + obj_cols
            front = front[list(dict.fromkeys(cols))]
        emit(frame_text(front.reset_index(drop=True), fmt), out)
