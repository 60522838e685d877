"""``accelsim pareto results.csv --min energy_per_op --max throughput_per_mm2``: print the fronts.

One front per workload, execution path and scope by default (``--by`` to choose the
columns, ``--joint`` for one front over all rows); a line on stderr says which.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import emit_table, human_table, output_format, output_option

SHOW = ["arch", "workload", "exec_path", "scope"]
#: cost columns the console front table adds after the objectives (when present)
CONTEXT = ["latency_s", "energy_j", "area_mm2"]


def read_results(path: str, columns=None):
    """A result table (CSV, Parquet or JSON written by accelsim, or a sweep's dataset folder)
    as a DataFrame, only ``columns`` when given (read by projection from Parquet); every
    error names the file."""
    from ..errors import ConfigError
    from ..gpu.tradeoff import is_measurement
    from ..safeio import MAX_TABLE_BYTES, check_input, describe, exists
    from ..tableio import TableContentError, read_table

    p = Path(path)
    if not exists(p):
        raise ConfigError(f"{p}: results file not found")
    if p.is_dir():
        from ..sweep.dataset import read_results as read_dataset

        df = read_dataset(p, columns)
        if df.empty:
            raise ConfigError(f"{p}: no rows")
        return df
    check_input(p, MAX_TABLE_BYTES, "results file")
    if is_measurement(p):
        raise ConfigError(f"{p}: a GPU measurement file, not a result table; use it with "
                          "`accelsim plot accuracy RESULTS --gpu FILE` or accelsim.gpu.load()")
    try:
        if columns is not None and p.suffix.lower() in (".parquet", ".pq"):
            from ..sweep.dataset import read_results as read_dataset

            df = read_dataset(p, columns)
        else:
            df = read_table(p)
    except TableContentError:
        raise  # a bad value or a damaged table: the message names the row, column or checksum
    except ConfigError as exc:
        raise ConfigError(f"{p}: not a sweep result file (CSV, Parquet or JSON written by accelsim): "
                          f"{str(exc).split(': ', 1)[-1]}") from None
    except Exception as exc:  # noqa: BLE001  (pandas and pyarrow raise many kinds for a bad file)
        raise ConfigError(f"{p}: not a sweep result file (CSV, Parquet or JSON written by accelsim): "
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


def _needed(objectives: "dict | None", by) -> list[str]:
    """Columns a front needs (the rest of a row is not read unless -o writes it): the
    summary columns, the objectives and the --by columns (aliases resolved later)."""
    from ..sweep.dataset import SUMMARY_COLUMNS
    from ..sweep.pareto import ALIASES

    extra = [ALIASES.get(c, c) for c in (objectives or {})] + list(objectives or {}) + list(by or ())
    return [*SUMMARY_COLUMNS, *extra]


def register(cli: click.Group) -> None:
    @cli.command("pareto")
    @click.argument("results", type=click.Path())
    @click.option("--min", "mins", multiple=True, help="objective to minimise (column or alias); repeatable")
    @click.option("--max", "maxs", multiple=True, help="objective to maximise (column or alias); repeatable")
    @click.option("--by", multiple=True,
                  help="one front per value of this column; repeatable [default: workload, exec_path, scope]")
    @click.option("--joint", is_flag=True, help="one front over all rows (no grouping)")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
                  help="format on standard output [default: table]")
    @output_option("-o", "--output", "out", default=None, metavar="FILE",
                   help="write the front rows (all columns) to FILE: .csv, .parquet or .json")
    def pareto_cmd(results: str, mins: tuple[str, ...], maxs: tuple[str, ...], by: tuple[str, ...],
                   joint: bool, fmt: str | None, out: str | None) -> None:
        """Rows of a sweep result on the Pareto front (default: min energy_per_op, max throughput_per_mm2).

        Rows are compared within one workload, execution path and scope unless --by or
        --joint says otherwise; the grouping is printed on stderr.
        """
        from ..errors import ConfigError
        from ..safeio import about
        from ..sweep.pareto import AUTO, describe_groups, pareto

        if joint and by:
            raise ConfigError("give --by or --joint, not both")
        fmt = output_format(fmt, out)
        objectives = {**{m: "min" for m in mins}, **{m: "max" for m in maxs}} or None
        df = read_results(results, None if out else _needed(objectives, by))
        obj_cols = result_columns(df, results, objectives, by=list(by) or None)
        with about(results):
            front = pareto(df, objectives, by=None if joint else (list(by) or AUTO))
        keys = front.attrs["pareto_by"]
        groups = len(df.groupby(keys, dropna=False)) if keys else 1
        click.echo(f"{len(front)} of {len(df)} rows on the front: {describe_groups(keys, groups)}", err=True)
        front = front.reset_index(drop=True)
        cols = [c for c in SHOW if c in front.columns] + keys + obj_cols + [c for c in CONTEXT if c in front.columns]
        emit_table(front, fmt, out, table=human_table(front[list(dict.fromkeys(cols))]))
