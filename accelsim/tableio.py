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

Files are written atomically (a temporary file in the same folder, fsynced, renamed; a
full disk leaves nothing behind). A CSV or JSON table gets a checksum file beside it,
``NAME.sha256`` in ``sha256sum`` format (``sha256sum -c results.csv.sha256`` checks it);
a Parquet table holds its row count in its key-value metadata (``accelsim.rows``; Parquet
checks its own pages). :func:`read_table` refuses a file that does not match: a table cut
short by a full disk or an interrupted copy is one error line, never a shorter table.
A table without a checksum (written by another program, or edited by hand after its
checksum file was deleted) is read as it is. A Parquet *folder* (a partitioned dataset)
is read whole, without a file checksum.

On reading, every numeric result column (:func:`numeric_columns`: costs, times,
areas, counts) must hold finite numbers that are not negative (empty = missing); a CSV
row that repeats the header, text in a numeric column, ``inf`` or JSON ``Infinity`` /
``NaN`` constants are one error line naming the file, the row and the column.
"""

from __future__ import annotations

import hashlib
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
#: Numeric result columns by name, besides the unit suffixes of :data:`NUMERIC_SUFFIXES`.
NUMERIC_COLUMNS = frozenset({"macs", "cycles", "utilization", "candidates", "layers", "params", "flops"})
#: Unit suffixes of numeric result columns (seconds, joules, mm2, watts, per second, bytes).
NUMERIC_SUFFIXES = ("_s", "_j", "_mm2", "_w", "_hz", "_bytes", "_ops")
#: suffix of the checksum file written beside a CSV or JSON table
CHECKSUM_SUFFIX = ".sha256"
#: Parquet key-value metadata key holding the row count
ROWS_KEY = b"accelsim.rows"


class TableContentError(ConfigError):
    """A readable table whose content is refused: a bad value, a repeated header, a checksum
    or row count that does not match (the message names the row and the column)."""


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
    return json_dumps(data, indent=2)


def json_dumps(data: Any, **kw: Any) -> str:
    """``json.dumps`` for every JSON accelsim writes: numpy scalars as numbers, NaN (a value
    that does not apply, e.g. energy per op of a workload without MACs) as ``null``; an
    infinity is an error, never the non-standard ``Infinity``."""
    return json.dumps(_plain(data), default=_plain, allow_nan=False, **kw)


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
    from .safeio import atomic_output, writing

    p = Path(path)
    fmt = table_format(p)
    if fmt == "parquet":
        _write_parquet(df, p)
        return p
    data = (csv_text(df, float_format) if fmt == "csv" else json_text(df, totals, key) + "\n").encode("utf-8")
    line = f"{hashlib.sha256(data).hexdigest()}  {p.name}\n"
    # both files are written in full before either is renamed: the checksum first, then the
    # table, so a failure leaves the old pair, never a new table with an old checksum
    with atomic_output(p, "table") as tmp, atomic_output(checksum_path(p), "checksum") as tmp_sum:
        with writing(p):
            tmp.write_bytes(data)
        tmp_sum.write_text(line)
    return p


def _write_parquet(df: pd.DataFrame, p: Path) -> None:
    """``df`` as Parquet with its row count in the metadata (:data:`ROWS_KEY`), atomically."""
    from .safeio import atomic_output

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(f"{p}: writing Parquet needs pyarrow (pip install 'accelsim[parquet]')") from None
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), ROWS_KEY: str(len(df)).encode()})
    with atomic_output(p, "table") as tmp:
        pq.write_table(table, tmp)
    drop_checksum(p)  # a Parquet file carries its own check


def checksum_path(path: "str | Path") -> Path:
    """The checksum file of the table ``path`` (``NAME.sha256`` beside it)."""
    p = Path(path)
    return p.with_name(p.name + CHECKSUM_SUFFIX)


def drop_checksum(path: "str | Path") -> None:
    """Remove the checksum file of ``path`` (before a program appends to the table)."""
    try:
        checksum_path(path).unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        from .safeio import describe

        raise ConfigError(f"{checksum_path(path)}: cannot remove the stale checksum ({describe(exc)})") from None


def verify_checksum(path: "str | Path", data: bytes) -> None:
    """Refuse ``data`` (the bytes of the table ``path``) when its checksum file exists and
    does not match: the table is truncated or changed since it was written."""
    from .safeio import exists, read_text

    side = checksum_path(path)
    if not exists(side):
        return
    text = read_text(side, 4096, "checksum file").split()
    if not text or len(text[0]) != 64:
        raise ConfigError(f"{side}: not a checksum file (expected '<64 hex digits>  NAME', as sha256sum "
                          "writes); delete it to read the table as it is")
    if hashlib.sha256(data).hexdigest() != text[0].lower():
        raise TableContentError(f"{path}: does not match its checksum {side.name} ({len(data):,} bytes now): "
                          "the file is truncated or was changed after it was written; write it again, "
                          f"or delete {side.name} to read it as it is")


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """The result columns of ``df`` that hold numbers: :data:`NUMERIC_COLUMNS`, names ending
    in a unit suffix (:data:`NUMERIC_SUFFIXES`) and the mapping columns; never a text column."""
    return [c for c in df.columns if str(c) not in TEXT_COLUMNS
            and (str(c) in NUMERIC_COLUMNS or str(c).endswith(NUMERIC_SUFFIXES) or str(c).startswith(INT_PREFIXES))]


def check_numbers(df: pd.DataFrame, path: "str | Path") -> None:
    """Refuse a table whose numeric result columns (:func:`numeric_columns`) hold text,
    infinities or negative values (missing values pass); the error names the row (1 =
    first data row) and the column."""
    import numpy as np

    from .safeio import short

    for col in numeric_columns(df):
        raw = df[col]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values, text = raw.to_numpy(float, na_value=np.nan), np.zeros(len(raw), dtype=bool)
        else:  # text among the numbers (or booleans): find the first value that is not one
            values = pd.to_numeric(raw, errors="coerce").to_numpy(float, na_value=np.nan)
            text = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
            if pd.api.types.is_bool_dtype(raw):
                text[:] = True
        bad = text | (~np.isnan(values) & (~np.isfinite(values) | (values < 0)))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            shown = short(raw.iloc[row]) if text[row] else f"{values[row]:g}"
            raise TableContentError(f"{path}: row {row + 1}, column {col!r}: {shown} is not a finite number >= 0")


def check_header_rows(df: pd.DataFrame, path: "str | Path") -> None:
    """Refuse a CSV table with a row that repeats the header (two files concatenated)."""
    import numpy as np

    cols = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])][:8]
    if not cols or len(cols) < min(2, len(df.columns)):
        return
    same = np.ones(len(df), dtype=bool)
    for c in cols:
        same &= (df[c].astype(str) == str(c)).to_numpy()
    if same.any():
        raise TableContentError(f"{path}: row {int(np.flatnonzero(same)[0]) + 1} repeats the header "
                          "(two tables pasted together?)")


class _Constant(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _Constant(f"JSON constant {name} is not a number (JSON has no infinities or NaN)")


def read_csv_table(path: "str | Path", verify: bool = False) -> pd.DataFrame:
    """A CSV written by accelsim (empty frame when the file is absent or empty); see
    :func:`normalise`. ``verify``: check it against its checksum file."""
    from .safeio import MAX_TABLE_BYTES, read_bytes, reading

    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return pd.DataFrame()
    data = read_bytes(p, MAX_TABLE_BYTES, "results CSV")  # bounded
    if verify:
        verify_checksum(p, data)
    with reading(p):
        content = data.decode("utf-8-sig")
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
    if fmt == "parquet" and p.is_dir():  # a partitioned dataset: no single-file checksum
        df = _read_or_explain(p, fmt, lambda: normalise(pd.read_parquet(p)))
    elif not p.is_file():
        raise ConfigError(f"{p}: results file not found")
    else:
        df = _read_or_explain(p, fmt, lambda: _read_file(p, fmt))
    if fmt == "csv":
        check_header_rows(df, p)
    check_numbers(df, p)
    return df


def _read_or_explain(p: Path, fmt: str, read: Any) -> pd.DataFrame:
    try:
        return read()
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001  (any unreadable file is reported the same way)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{p}: cannot read it as {fmt} ({reason})") from None


def _read_parquet_file(p: Path) -> pd.DataFrame:
    """A Parquet file, its row count checked against :data:`ROWS_KEY` when present."""
    df = pd.read_parquet(p)
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(p).metadata or {}
    except ImportError:
        meta = {}
    rows = meta.get(ROWS_KEY)
    if rows is not None and rows.decode(errors="replace") != str(len(df)):
        raise TableContentError(f"{p}: holds {len(df):,} rows but was written with {rows.decode(errors='replace')}: "
                          "the file is truncated or was changed after it was written; write it again")
    return normalise(df)


def _read_file(p: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return read_csv_table(p, verify=True)
    if fmt == "parquet":
        return _read_parquet_file(p)
    from .safeio import MAX_TABLE_BYTES, read_bytes, reading

    raw = read_bytes(p, MAX_TABLE_BYTES, "results JSON")
    verify_checksum(p, raw)
    try:
        with reading(p, "JSON"):
            data = json.loads(raw.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except ConfigError as exc:
        if "JSON constant" in str(exc):
            raise TableContentError(str(exc)) from None
        raise
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


#: the public name (``accelsim.read_results``)
read_results = read_table
