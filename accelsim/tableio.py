"""Result tables on disk: the format follows the file suffix (``.csv``, ``.parquet``/``.pq``, ``.json``).

Every command that writes a table (``simulate -o``, ``pareto -o``, ``rdd -o``, ``sweep -o``,
``workload show -o`` ...) goes through :func:`write_table`; an unknown suffix is one
:class:`~accelsim.errors.ConfigError` line naming the file and the allowed suffixes.
Columns keep the SI names of the in-memory frames (``latency_s``, ``energy_j``, ``area_mm2``).

Read a table back with :func:`read_table` (``accelsim.read_results``): text columns stay
text, so the full model's empty ``exec_path`` stays ``""`` (a plain ``pd.read_csv`` turns
an empty CSV field into NaN; pass it ``keep_default_na=False`` to avoid that), and the
mapping columns (``spatial_*``, ``tile_*``) come back as integers (pandas ``Int64``, empty
for layers without a mapping).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError

#: suffix -> format name
FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
#: Columns that hold text (an empty string is a value, not a missing number).
TEXT_COLUMNS = frozenset({"arch", "workload", "exec_path", "accuracy_metric", "dram_type", "tech", "name",
                          "op", "fn", "bound", "loop_order", "inputs", "description",
                          "objective", "scope", "fused_into", "error"})
#: Prefixes of integer columns that are empty where they do not apply (non-MAC layers).
INT_PREFIXES = ("spatial_", "tile_")


def table_format(path: "str | Path") -> str:
    """``"csv"``, ``"parquet"`` or ``"json"`` from the suffix of ``path`` (one-line error otherwise)."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        shown = repr(p.suffix) if p.suffix else "(none)"
        raise ConfigError(f"{p}: unknown table format {shown}; use .csv, .parquet or .json")
    return fmt


def int_columns(df: pd.DataFrame) -> list[str]:
    """The mapping columns of ``df`` (``spatial_k`` ... ``tile_q``)."""
    return [c for c in df.columns if str(c).startswith(INT_PREFIXES)]


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with :data:`TEXT_COLUMNS` as text (missing -> ``""``) and the mapping columns as
    pandas ``Int64`` (missing -> ``<NA>``)."""
    for col in TEXT_COLUMNS & set(df.columns):
        df[col] = df[col].fillna("").astype(str)
    for col in int_columns(df):
        if pd.api.types.is_numeric_dtype(df[col]) and str(df[col].dtype) != "Int64":
            vals = pd.to_numeric(df[col], errors="coerce")
            if (vals.dropna() % 1 == 0).all():
                df[col] = vals.astype("Int64")
    return df


def csv_text(df: pd.DataFrame, float_format: str | None = None) -> str:
    """``df`` as CSV text (no index); ``float_format`` e.g. ``"%.10g"`` rounds the floats."""
    return df.to_csv(index=False, float_format=float_format, lineterminator="\n")


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as plain dicts: floats at full precision (``DataFrame.to_json``
    keeps only 10 decimals, turning 4e-13 J/op into 0), missing values as ``None``."""
    plain = df.astype(object).where(df.notna(), None)
    return [{str(k): _plain(v) for k, v in row.items()} for row in plain.to_dict(orient="records")]


def json_text(df: pd.DataFrame, totals: dict | None = None, key: str = "layers") -> str:
    """``df`` as JSON: a list of records, or ``{"totals": ..., key: [...]}`` when ``totals`` is given."""
    rows = records(df)
    data: Any = rows if totals is None else {"totals": totals, key: rows}
    return json.dumps(data, indent=2, default=_plain, allow_nan=False)


def _is_number_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _plain(v: Any) -> Any:
    """A JSON-ready scalar: numpy scalars as Python numbers, NaN as ``None``."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()  # numpy scalars
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v)


def write_table(df: pd.DataFrame, path: "str | Path", *, totals: dict | None = None, key: str = "layers",
                float_format: str | None = None) -> Path:
    """Write ``df`` to ``path`` in the format of its suffix; returns the path.

    ``totals`` (JSON only) wraps the rows as ``{"totals": totals, key: rows}``;
    ``float_format`` (CSV only) rounds the floats, e.g. ``"%.10g"``.
    """
    p = Path(path)
    fmt = table_format(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        p.write_text(csv_text(df, float_format))
    elif fmt == "json":
        p.write_text(json_text(df, totals, key) + "\n")
    else:
        try:
            df.to_parquet(p, index=False)
        except ImportError:
            raise ConfigError(f"{p}: writing Parquet needs pyarrow (pip install 'accelsim[parquet]')") from None
    return p


def read_csv_table(path: "str | Path") -> pd.DataFrame:
    """A CSV written by accelsim (empty frame when the file is absent or empty); see :func:`normalise`."""
    from .safeio import MAX_TABLE_BYTES, read_text

    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return pd.DataFrame()
    content = read_text(p, MAX_TABLE_BYTES, "results CSV")  # bounded, decoding errors named
    try:
        header = pd.read_csv(io.StringIO(content), nrows=0).columns
    except pd.errors.EmptyDataError:  # no header: an empty frame was written
        return pd.DataFrame()
    text = {c: str for c in header if c in TEXT_COLUMNS}
    # pandas >= 3 parses floats exactly by default; older versions need round_trip
    exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    df = pd.read_csv(io.StringIO(content), keep_default_na=False, na_values=[""], dtype=text,
                     low_memory=False, **exact)
    return normalise(df)


def read_table(path: "str | Path") -> pd.DataFrame:
    """A table written by accelsim (CSV, Parquet or JSON, from the suffix), text and integer
    columns restored. A JSON file with totals keeps them in ``df.attrs["totals"]``.
    Unreadable files raise one :class:`~accelsim.errors.ConfigError` line."""
    p = Path(path)
    fmt = table_format(p)
    if not p.is_file():
        raise ConfigError(f"{p}: results file not found")
    try:
        if fmt == "csv":
            return read_csv_table(p)
        if fmt == "parquet":
            return normalise(pd.read_parquet(p))
        from .safeio import MAX_TABLE_BYTES, read_text

        data = json.loads(read_text(p, MAX_TABLE_BYTES, "results JSON"))
        totals = data.get("totals") if isinstance(data, dict) else None
        rows = next((v for k, v in data.items() if k != "totals" and isinstance(v, list)), []) \
            if isinstance(data, dict) else data
        cols = list(dict.fromkeys(k for row in rows for k in row))
        df = pd.DataFrame.from_records(rows, columns=cols)  # json.loads floats are exact
        for c in df.columns:  # numbers with nulls (e.g. max_candidates) become float columns
            if df[c].dtype == object and c not in TEXT_COLUMNS and df[c].map(_is_number_or_none).all():
                df[c] = pd.to_numeric(df[c])
        df = normalise(df)
        if totals is not None:
            df.attrs["totals"] = totals
        return df
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001  (any unreadable file is reported the same way)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{p}: cannot read it as {fmt} ({reason})") from None


#: the public name (``accelsim.read_results``)
read_results = read_table
