"""Read sweep results, whatever their form, with column projection.

A sweep writes a CSV file, a single Parquet or JSON file, or a *dataset*: a folder of
``part-<first>-<last>.parquet`` files (:mod:`accelsim.sweep.stream`). This module reads
any of them into a DataFrame, keeping only ``columns`` when given: for Parquet the other
columns are never decoded (pyarrow datasets: the files are scanned in name order, which
is point order, and only the asked-for column chunks are read), so ranking or plotting
10^6 rows needs memory for the few columns used, not the 35 of a row.

pyarrow datasets rather than DuckDB: pyarrow is already the Parquet dependency (the
``parquet`` extra), its datasets do exactly the projection and file-ordered scan this
needs, and a second engine would add a large dependency for no query we run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from ..errors import ConfigError
from ..safeio import describe
from ..tableio import normalise, read_table, table_format
from .stream import _DS_PART

#: result columns that are not arch parameters: what a front or a plot needs
SUMMARY_COLUMNS = ("arch", "workload", "exec_path", "scope", "macs", "latency_s", "energy_j", "area_mm2",
                   "energy_per_op_j", "throughput_ops_per_s_per_mm2", "utilization", "accuracy",
                   "accuracy_metric", "objective", "tolerance", "max_candidates", "error")


def dataset_files(folder: Path) -> list[Path]:
    """The part files of a dataset folder, in point order (their names)."""
    return sorted(p for p in folder.iterdir() if _DS_PART.match(p.name))


def read_results(path: "str | Path", columns: "Iterable[str] | None" = None) -> pd.DataFrame:
    """The rows of a sweep result (file or dataset folder), only ``columns`` when given
    (those missing from the table are left out; the caller checks what it needs)."""
    p = Path(path)
    want = list(dict.fromkeys(columns)) if columns is not None else None
    if p.is_dir():
        files = dataset_files(p)
        if not files:
            raise ConfigError(f"{p}: a folder without result parts (part-*.parquet); not a sweep dataset")
        return _read_parquet([str(f) for f in files], want, p)
    if table_format(p) == "parquet":
        return _read_parquet(str(p), want, p)
    df = read_table(p)
    return df[[c for c in want if c in df.columns]] if want is not None else df


def _read_parquet(source, want: list[str] | None, shown: Path) -> pd.DataFrame:
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise ConfigError(f"{shown}: reading Parquet needs pyarrow (pip install 'accelsim[parquet]')") from None
    try:
        data = ds.dataset(source, format="parquet")
        names = data.schema.names
        cols = [c for c in want if c in names] if want is not None else names
        table = data.to_table(columns=cols)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001  (pyarrow raises many kinds for a bad file)
        raise ConfigError(f"{shown}: cannot read it as Parquet ({describe(exc)})") from None
    return normalise(table.to_pandas())
