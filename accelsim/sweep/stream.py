"""Sweep outputs written as rows arrive, in point order, with bounded memory and no final rewrite.

A sweep hands its rows over in *pieces*: the rows of a run of consecutive points
(``first`` .. ``last`` in point order), in any order of completion. A sink stores them:

- :class:`CsvSink` (a ``.csv`` output, and the journal of a single ``.parquet``/``.json``
  file): the file holds a header and the rows of points ``0 .. next-1`` in point order.
  A piece that starts at ``next`` is appended at once (flushed, fsynced); one that arrives
  early is written to ``.NAME.parts/<first>-<last>.csv`` beside the file (renamed into
  place, fsynced) and appended, byte for byte, when its turn comes. So the file is in
  point order at every moment, nothing is rewritten at the end, and a kill loses only
  the pieces still being computed. Memory: one piece.
- :class:`DatasetSink` (an output folder: a partitioned Parquet dataset): every piece is
  one file ``part-<first>-<last>.parquet`` (written under a temporary name, renamed), so
  reading the files in name order gives point order.

Values are written by column type (:func:`column_kind`), never by what pandas infers
from one piece, so a row's bytes do not depend on which rows share its piece: the
output is identical whatever the executor, worker count or chunk sizes.

Resuming (:meth:`CsvSink.scan` / :meth:`DatasetSink.scan`) reads the existing rows in
slices of :data:`SCAN_ROWS` rows and classifies each against the sweep's points: a row
of a point with the same parameters is kept (once), a row of a point whose parameters
changed is dropped (recomputed), a row of another sweep's point is kept after this
sweep's rows. For a CSV file the rows already in point order at its start stay where
they are; the others move into pieces (on disk) and the file is cut after that prefix.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..arch.config import ArchConfig
from ..errors import ConfigError
from ..safeio import describe, writing
from ..tableio import INT_PREFIXES, ROWS_KEY, TEXT_COLUMNS, checksum_path, drop_checksum, normalise, table_format

#: rows read at once when an existing output is scanned or converted
SCAN_ROWS = 50_000
#: integer columns that are not mapping columns (kept integers in every piece): MAC and
#: candidate counts, the candidate cap, and every integer field of an architecture
INT_COLUMNS = frozenset({"macs", "candidates", "max_candidates"}
                        | {n for n, f in ArchConfig.model_fields.items() if f.annotation is int})
#: rows of other sweeps' points, appended after this sweep's
TAIL = "tail.csv"
#: first number of a dataset part of other sweeps' rows (sorts after every point)
FOREIGN = 10**12 - 1
_DS_PART = re.compile(r"^part-(\d{12})-(\d{12})\.parquet$")


def column_kind(name: str) -> str:
    """``"text"``, ``"int"`` or ``"float"``: how a column's values are written."""
    if name in TEXT_COLUMNS:
        return "text"
    if name in INT_COLUMNS or name.startswith(INT_PREFIXES):
        return "int"
    return "float"


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every column cast to its :func:`column_kind` (text: ``str``, missing ``""``;
    int: pandas ``Int64``; float: ``float64``)."""
    out = {}
    for col in df.columns:
        kind, s = column_kind(col), df[col]
        if kind == "text":
            out[col] = s.where(s.notna(), "").astype(str)
        elif kind == "int":
            out[col] = pd.to_numeric(s, errors="coerce").astype("Float64").round().astype("Int64")
        else:
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
    return pd.DataFrame(out, index=df.index)


def csv_rows(df: pd.DataFrame, header: bool = False) -> bytes:
    """The CSV bytes of ``df`` (after :func:`typed`)."""
    return typed(df).to_csv(index=False, header=header, lineterminator="\n").encode()


def _fsync_write(path: Path, data: bytes, mode: str = "ab") -> None:
    with open(path, mode) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    _fsync_write(tmp, data, "wb")
    os.replace(tmp, path)


def write_checksum(path: Path) -> None:
    """Write ``path``'s checksum file (``sha256sum`` format), reading the table in 1 MiB blocks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    _atomic_bytes(checksum_path(path), f"{h.hexdigest()}  {path.name}\n".encode())


def is_dataset(path: "str | Path") -> bool:
    """A dataset output: a path written with a trailing slash (``results/``), or a folder
    that holds a dataset's parts and nothing else but hidden files."""
    text = str(path)
    if text.endswith(("/", os.sep)):
        return True
    p = Path(text)
    try:
        names = [e.name for e in p.iterdir()] if p.is_dir() else []
    except OSError:
        return False
    parts = [n for n in names if _DS_PART.match(n)]
    return bool(parts) and all(_DS_PART.match(n) or n.startswith(".") for n in names)


# ------------------------------------------------------------------ what a scan decides
class Points:
    """The sweep's points as the sinks see them (arch-major, then workload, path and scope, as
    :func:`accelsim.sweep.spec.sweep_points` orders them): a row's key to its index, and
    each index's arch parameters. Two small dicts, not one entry per point."""

    def __init__(self, archs: list, pairs: list[tuple[str, str, str]], param_names: tuple[str, ...]) -> None:
        """``pairs``: the (workload, exec path, scope) of each point of one architecture."""
        self.archs = archs
        self.arch_index = {a.name: i for i, a in enumerate(archs)}
        self.pair_index = {p: i for i, p in enumerate(pairs)}
        self.param_names = param_names
        self._last: tuple[int, tuple] = (-1, ())

    def __len__(self) -> int:
        return len(self.archs) * len(self.pair_index)

    def get(self, key: tuple, default: int = -1) -> int:
        a = self.arch_index.get(key[0])
        p = self.pair_index.get(tuple(key[1:4]))
        return default if a is None or p is None else a * len(self.pair_index) + p

    def params(self, index: int) -> tuple:
        a = index // len(self.pair_index)
        if self._last[0] != a:
            vals = self.archs[a].params()
            self._last = (a, tuple(_norm(vals[n]) for n in self.param_names))
        return self._last[1]


def _norm(v: Any) -> Any:
    """A value as compared on resume: None for missing, numbers as float, the rest as text."""
    if v is None or (isinstance(v, (float, np.floating)) and v != v) or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return str(v)


@dataclass
class Scan:
    """What an existing output holds for this sweep's points."""

    kept: int = 0  # rows of this sweep kept
    dropped: int = 0  # stale or repeated rows dropped
    foreign: int = 0  # rows of other points, kept after this sweep's rows
    failed: int = 0  # kept rows of this sweep with an error
    first_failed: tuple[int, str] | None = None  # (index, "arch x workload: reason")
    columns: list[str] = field(default_factory=list)


def _keys(df: pd.DataFrame) -> list[tuple]:
    return list(df[["arch", "workload", "exec_path", "scope"]].itertuples(index=False, name=None))


def classify(df: pd.DataFrame, pts: Points, taken: np.ndarray, check_params: bool,
             allowed: "np.ndarray | None" = None, per_point: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``df``: its point index (-1: not a point of this sweep) and whether it is
    kept. ``taken`` marks points already found (a row of a taken point is a repeat and is
    dropped); ``allowed`` (when given) marks the points a row may belong to (others are
    dropped, e.g. per-layer rows of unfinished points); ``per_point``: a point has many
    rows (per-layer), which all belong to the first source that has it."""
    idx = np.array([pts.get(k) for k in _keys(df)], dtype=np.int64)
    keep = np.ones(len(df), dtype=bool)
    ours = idx >= 0
    if check_params and ours.any() and pts.param_names and set(pts.param_names) <= set(df.columns):
        vals = df[list(pts.param_names)].itertuples(index=False, name=None)
        for i, row in enumerate(vals):
            if ours[i] and tuple(_norm(v) for v in row) != pts.params(int(idx[i])):
                keep[i] = False
    if allowed is not None:  # an unmappable point's result row needs no per-layer rows
        errs = (df["error"].to_numpy() != "") if "error" in df.columns else np.zeros(len(df), dtype=bool)
        keep &= ~ours | allowed[np.maximum(idx, 0)] | errs
    fresh = set()
    for i in np.flatnonzero(ours & keep):
        j = idx[i]
        if taken[j] and j not in fresh:
            keep[i] = False
        elif not per_point and j in fresh:
            keep[i] = False
        else:
            fresh.add(j)
    taken[list(fresh)] = True
    return idx, keep


def runs(indices: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Split sorted point indices into runs of consecutive points: (first, last, positions)."""
    out = []
    if not len(indices):
        return out
    order = np.argsort(indices, kind="stable")
    s = indices[order]
    breaks = np.flatnonzero(np.diff(s) > 1) + 1
    for part in np.split(np.arange(len(s)), breaks):
        out.append((int(s[part[0]]), int(s[part[-1]]), order[part]))
    return out


# ------------------------------------------------------------------ CSV file sink
class CsvSink:
    """A CSV file kept in point order (module docstring); ``placed`` marks the points whose
    rows are in the file or need none."""

    def __init__(self, path: Path, n_points: int, checksum: bool = True) -> None:
        self.path = Path(path)
        self.checksum = checksum  # write NAME.sha256 when finished (not for a journal)
        self.parts = self.path.with_name(f".{self.path.name}.parts")
        self.placed = np.zeros(n_points, dtype=bool)
        self.next = 0
        self.pending: dict[int, tuple[int, Path]] = {}  # first -> (last, part file)
        self.columns: list[str] | None = None

    # ---------------------------------------------------------------- existing rows
    def remove(self) -> None:
        with writing(self.path):
            if self.path.exists():
                self.path.unlink()
            drop_checksum(self.path)
            shutil.rmtree(self.parts, ignore_errors=True)

    def _header(self) -> list[str] | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, newline="", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
        return next(csv.reader([first]), None) or None

    def slices(self, path: Path, columns: list[str], header: bool) -> Iterator[pd.DataFrame]:
        """``path``'s rows in slices (text columns as text, floats exact)."""
        from ..safeio import check_input

        check_input(path, 1 << 62, "sweep rows")  # a regular file (size bounded by the disk)
        text = {c: str for c in columns if column_kind(c) == "text"}
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        kw = dict(keep_default_na=False, na_values=[""], dtype=text, chunksize=SCAN_ROWS, **exact)
        if not header:
            kw.update(header=None, names=columns)
        try:
            with pd.read_csv(path, **kw) as reader:
                for part in reader:
                    yield normalise(part)
        except pd.errors.EmptyDataError:
            return
        except (ValueError, UnicodeError, pd.errors.ParserError) as exc:
            raise ConfigError(f"{path}: cannot resume from the existing rows ({describe(exc)}); remove the "
                              "file or use --overwrite") from None

    def scan(self, pts: Points, taken: np.ndarray, check: "Callable[[pd.DataFrame], None] | None" = None,
             allowed: "np.ndarray | None" = None, per_point: bool = False) -> Scan:
        """Sort the existing rows (module docstring); returns what was kept. ``check`` sees
        every slice first (it raises to refuse the file). ``taken`` marks points found (it
        is updated); ``placed`` must already mark the points that need no rows."""
        from .store import repair_tail

        res = Scan()
        old = self.parts.with_name(self.parts.name + ".old")  # pieces of earlier runs, read last
        with writing(self.path):
            drop_checksum(self.path)  # the file changes from here on
            repair_tail(self.path)
            if self.parts.is_dir():
                if old.is_dir():  # a scan was cut: keep both sets
                    for i, f in enumerate(sorted(self.parts.iterdir())):
                        os.replace(f, old / f"n{i}-{f.name}")
                    self.parts.rmdir()
                else:
                    os.replace(self.parts, old)
        header = self._header()
        tail: list[pd.DataFrame] = []
        if header is not None:
            self.columns = header
            res.columns = header
            prefix_rows, last, intact, moved = 0, -1, True, False
            for df in self.slices(self.path, header, header=True):
                if check is not None:
                    check(df)
                idx, keep = classify(df, pts, taken, True, allowed, per_point)
                self._count(res, df, idx, keep)
                beyond = np.ones(len(df), dtype=bool)
                for i in range(len(df)) if intact else ():
                    j = int(idx[i])
                    if j >= 0 and keep[i] and (j == last or (j > last and self._skippable(last, j))):
                        prefix_rows += 1
                        last = j
                        beyond[i] = False
                    else:
                        intact = False
                        break
                ours = beyond & keep & (idx >= 0)
                moved = moved or bool(beyond.any())
                for first, end, where in runs(idx[ours]):
                    self._spill(first, end, csv_rows(df.iloc[np.flatnonzero(ours)[where]][self.columns]))
                if (beyond & (idx < 0)).any():
                    tail.append(df[beyond & (idx < 0)])
            if moved:
                self._cut(prefix_rows)
            if last >= 0:
                self.placed[: last + 1] = True
        for part in sorted(old.glob("*.csv")) if old.is_dir() else []:
            self._scan_part(part, pts, taken, check, allowed, per_point, res, tail)
        if tail:  # a kill while the tail was appended leaves it twice: keep each row once
            self._write_tail(pd.concat(tail, ignore_index=True).drop_duplicates())
        shutil.rmtree(old, ignore_errors=True)
        return res

    def _skippable(self, last: int, j: int) -> bool:
        """Points strictly between ``last`` and ``j`` need no rows (already marked placed)."""
        return bool(self.placed[last + 1:j].all())

    @staticmethod
    def _count(res: Scan, df: pd.DataFrame, idx: np.ndarray, keep: np.ndarray) -> None:
        ours = idx >= 0
        res.kept += int((ours & keep).sum())
        res.dropped += int((~keep).sum())
        res.foreign += int((~ours).sum())
        if "error" in df.columns and "latency_s" in df.columns:
            bad = ours & keep & (df["error"].to_numpy() != "")
            res.failed += int(bad.sum())
            if bad.any():
                i = int(np.flatnonzero(bad)[np.argmin(idx[bad])])
                if res.first_failed is None or idx[i] < res.first_failed[0]:
                    r = df.iloc[i]
                    path = f" [{r['exec_path']}]" if r["exec_path"] else ""
                    res.first_failed = (int(idx[i]), f"{r['arch']} x {r['workload']}{path}: {r['error']}")

    def _cut(self, rows: int) -> None:
        """Truncate the file after its header and ``rows`` lines."""
        with writing(self.path), open(self.path, "rb+") as fh:
            for _ in range(rows + 1):
                if not fh.readline():
                    break
            fh.truncate(fh.tell())
            fh.flush()
            os.fsync(fh.fileno())

    def _scan_part(self, part: Path, pts, taken, check, allowed, per_point, res, tail) -> None:
        if self.columns is None:
            return
        for df in self.slices(part, self.columns, header=False):
            if check is not None:
                check(df)
            idx, keep = classify(df, pts, taken, True, allowed, per_point)
            self._count(res, df, idx, keep)
            ours = keep & (idx >= 0)
            for first, last, where in runs(idx[ours]):
                self._spill(first, last, csv_rows(df.iloc[np.flatnonzero(ours)[where]][self.columns]))
            if (idx < 0).any():
                tail.append(df[idx < 0])

    def _spill(self, first: int, last: int, data: bytes) -> None:
        with writing(self.parts):
            self.parts.mkdir(exist_ok=True)
            path = self.parts / f"{first:012d}-{last:012d}.csv"
            _atomic_bytes(path, data)
        self.pending[first] = (last, path)

    def _write_tail(self, df: pd.DataFrame) -> None:
        with writing(self.parts):
            self.parts.mkdir(exist_ok=True)
            _atomic_bytes(self.parts / TAIL, csv_rows(df[self.columns]))

    # ---------------------------------------------------------------- new rows
    def start(self, columns: list[str]) -> None:
        """Before the first piece: write the header of a new file (or check the columns)."""
        if self.columns is None:
            self.columns = list(columns)
            with writing(self.path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                drop_checksum(self.path)
                _atomic_bytes(self.path, csv_rows(pd.DataFrame(columns=self.columns), header=True))
        else:
            extra = [c for c in columns if c not in self.columns]
            if extra:
                raise ConfigError(f"{self.path}: existing rows lack column(s) {', '.join(extra)}; "
                                  "remove the file or use --overwrite")
        self._drain()

    def add(self, first: int, last: int, df: pd.DataFrame) -> None:
        """The rows of points ``first`` .. ``last`` (none for points that need no rows)."""
        if self.columns is None:
            self.start(list(df.columns))
        data = csv_rows(df.reindex(columns=self.columns)) if len(df) else b""
        if first == self._skip(self.next):
            with writing(self.path):
                _fsync_write(self.path, data)
            self.next = last + 1
            self._drain()
        else:
            self._spill(first, last, data)

    def _skip(self, i: int) -> int:
        n = len(self.placed)
        while i < n and self.placed[i]:
            i += 1
        return i

    def _drain(self) -> None:
        self.next = self._skip(self.next)
        while self.next in self.pending:
            last, path = self.pending.pop(self.next)
            with writing(self.path):
                with open(path, "rb") as src, open(self.path, "ab") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                    dst.flush()
                    os.fsync(dst.fileno())
                path.unlink()
            self.next = self._skip(last + 1)

    def finish(self) -> None:
        """Append what is left (rows of other sweeps last) and remove the parts folder."""
        self._drain()
        if self.pending:  # pieces after a gap (only when a sweep stopped early)
            for first in sorted(self.pending):
                self.next = first
                self._drain()
        tail = self.parts / TAIL
        if tail.exists():
            with writing(self.path), open(tail, "rb") as src, open(self.path, "ab") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
        shutil.rmtree(self.parts, ignore_errors=True)
        if self.columns is None and not self.path.exists():
            self.start([])
        if self.checksum:
            with writing(self.path):
                write_checksum(self.path)


# ------------------------------------------------------------------ Parquet dataset sink
def _arrow_schema(columns: list[str]):
    import pyarrow as pa

    kinds = {"text": pa.string(), "int": pa.int64(), "float": pa.float64()}
    return pa.schema([(c, kinds[column_kind(c)]) for c in columns])


def _arrow_table(df: pd.DataFrame, columns: list[str]):
    import pyarrow as pa

    return pa.Table.from_pandas(typed(df.reindex(columns=columns)), schema=_arrow_schema(columns),
                                preserve_index=False)


class DatasetSink:
    """A folder of Parquet files, one per piece (module docstring)."""

    def __init__(self, path: Path, n_points: int) -> None:
        self.path = Path(path)
        self.columns: list[str] | None = None
        self.placed = np.zeros(n_points, dtype=bool)

    def remove(self) -> None:
        with writing(self.path):
            for p in self.files():
                p.unlink()

    def files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir() if _DS_PART.match(p.name))

    def scan(self, pts: Points, taken: np.ndarray, check=None, allowed=None, per_point=False) -> Scan:
        """Keep the parts' rows of this sweep once (renamed after the points they hold, so
        name order stays point order when the sweep grew), other sweeps' rows last."""
        import pyarrow.parquet as pq

        res = Scan()
        old = self.path / ".old"
        with writing(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            for p in self.path.glob(".part-*.tmp"):
                p.unlink()
            old.mkdir(exist_ok=True)
            for i, f in enumerate(self.files()):
                os.replace(f, old / (f.name if not (old / f.name).exists() else f"n{i}-{f.name}"))
        foreign = 0
        for part in sorted(old.glob("*.parquet")):
            try:
                table = pq.read_table(part)
            except Exception as exc:  # noqa: BLE001  (a damaged part is reported like any bad file)
                raise ConfigError(f"{part}: cannot resume from the existing rows ({describe(exc)}); remove "
                                  "the file or use --overwrite") from None
            df = normalise(table.to_pandas())
            if self.columns is None:
                self.columns = list(df.columns)
                res.columns = self.columns
            if check is not None:
                check(df)
            idx, keep = classify(df, pts, taken, True, allowed, per_point)
            CsvSink._count(res, df, idx, keep)
            ours = keep & (idx >= 0)
            pieces = runs(idx[ours])
            m = _DS_PART.match(part.name)
            same = (m is not None and keep.all() and (idx >= 0).all() and len(pieces) == 1
                    and (pieces[0][0], pieces[0][1]) == (int(m.group(1)), int(m.group(2)))
                    and bool((np.diff(idx) >= 0).all()))
            with writing(self.path):
                if same:
                    os.replace(part, self.path / part.name)
                    continue
                for first, last, where in pieces:
                    self.add(first, last, df.iloc[np.flatnonzero(ours)[where]])
                if (idx < 0).any():
                    foreign += 1
                    self._write(df[idx < 0], f"part-{FOREIGN:012d}-{foreign:012d}.parquet")
                part.unlink()
        shutil.rmtree(old, ignore_errors=True)
        return res

    def start(self, columns: list[str]) -> None:
        if self.columns is None:
            self.columns = list(columns)
        with writing(self.path):
            self.path.mkdir(parents=True, exist_ok=True)

    def add(self, first: int, last: int, df: pd.DataFrame) -> None:
        if self.columns is None:
            self.start(list(df.columns))
        if not len(df):
            return
        self._write(df, f"part-{first:012d}-{last:012d}.parquet")

    def _write(self, df: pd.DataFrame, name: str) -> None:
        import pyarrow.parquet as pq

        path = self.path / name
        tmp = self.path / f".{name}.tmp"
        with writing(path):
            pq.write_table(_arrow_table(df, self.columns), tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)

    def finish(self) -> None:
        pass


def make_sink(path: Path, n_points: int, dataset: bool, checksum: bool = True) -> "CsvSink | DatasetSink":
    return DatasetSink(path, n_points) if dataset else CsvSink(path, n_points, checksum)


# ------------------------------------------------------------------ single-file conversions
def journal_of(path: Path) -> Path:
    """The CSV journal of a single Parquet or JSON output."""
    return path.with_name(path.name + ".partial.csv")


def convert(journal: Path, path: Path) -> None:
    """Write the journal's rows to ``path`` (Parquet or JSON) in slices, atomically, and
    remove the journal. Memory: one slice."""
    fmt = table_format(path)
    columns = next(csv.reader([open(journal, encoding="utf-8").readline()]), [])
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    sink = CsvSink(journal, 0, checksum=False)
    with writing(path):
        if fmt == "parquet":
            import pyarrow.parquet as pq

            schema = _arrow_schema(columns)
            with pq.ParquetWriter(tmp, schema) as writer:
                wrote = rows = 0
                for df in sink.slices(journal, columns, header=True):
                    writer.write_table(_arrow_table(df, columns))
                    wrote, rows = 1, rows + len(df)
                if not wrote:
                    writer.write_table(_arrow_table(pd.DataFrame(columns=columns), columns))
                writer.add_key_value_metadata({ROWS_KEY: str(rows).encode()})  # readers check it
        else:
            from ..tableio import json_text

            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write("[")
                sep = "\n"
                for df in sink.slices(journal, columns, header=True):
                    body = json_text(typed(df))  # "[\n  {...},\n  {...}\n]"
                    inner = body[1:-1].strip("\n")
                    if inner:
                        fh.write(sep + inner)
                        sep = ",\n"
                fh.write("\n]\n" if sep != "\n" else "]\n")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        drop_checksum(path)
        os.replace(tmp, path)
        if fmt == "json":
            write_checksum(path)
        journal.unlink()


def unconvert(path: Path, journal: Path) -> None:
    """A finished single Parquet/JSON output back into its journal (to resume or grow it)."""
    from ..tableio import read_table

    with writing(journal):
        if table_format(path) == "parquet":
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            first = True
            tmp = journal.with_name(f".{journal.name}.tmp")
            with open(tmp, "wb") as fh:
                for batch in pf.iter_batches(batch_size=SCAN_ROWS):
                    fh.write(csv_rows(normalise(batch.to_pandas()), header=first))
                    first = False
                if first:
                    fh.write(csv_rows(pd.DataFrame(columns=pf.schema_arrow.names), header=True))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, journal)
        else:
            df = read_table(path)
            _atomic_bytes(journal, csv_rows(df, header=True))
        path.unlink()
        drop_checksum(path)

