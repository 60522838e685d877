"""Streaming, resumable sweep output files (CSV, Parquet or JSON, from the suffix).

Rows are appended to a CSV journal as soon as a chunk of points finishes (flushed
and fsynced). For a CSV output the journal is the output file itself; for Parquet and
JSON it is ``<output>.partial.csv`` next to it, converted once the sweep completes. A journal
cut by a kill (half-written last line) is repaired on the next run by dropping the
partial line. Finalising rewrites the file atomically (temporary file + rename),
with rows in point order. Every row goes through the same CSV round trip
(``float_precision="round_trip"``), so a resumed sweep writes the same bytes as an
uninterrupted one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import ConfigError
from ..safeio import atomic_output, describe, writing
from ..tableio import drop_checksum, read_csv_table, read_table, table_format, write_table

#: a CSV journal or output as written by :class:`RowStore` (empty frame when absent)
read_csv_rows = read_csv_table


def repair_tail(path: Path) -> None:
    """Drop a partial last line (a write cut by a kill)."""
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            fh.seek(start)
            buf = fh.read(pos - start)
            i = buf.rfind(b"\n")
            if i >= 0:
                fh.truncate(start + i + 1)
                return
            pos = start
        fh.truncate(0)


class RowStore:
    """The rows of one output file: existing rows, appends, and the final sorted rewrite."""

    def __init__(self, path: "str | Path") -> None:
        self.path = Path(path)
        self.converted = table_format(self.path) != "csv"  # Parquet / JSON: written once at the end
        self.journal = self.path.with_name(self.path.name + ".partial.csv") if self.converted else self.path
        self._header: list[str] | None = None

    def remove(self) -> None:
        for p in {self.path, self.journal}:
            if p.exists():
                p.unlink()

    def read(self) -> pd.DataFrame:
        """Every row already stored: the finished Parquet/JSON file (if any) and the journal."""
        with writing(self.journal):
            repair_tail(self.journal)
        parts = []
        if self.converted and self.path.exists():
            try:
                parts.append(read_table(self.path))
            except ConfigError as exc:
                raise ConfigError(f"{exc}; remove it or use --overwrite") from None
            except Exception as exc:  # noqa: BLE001  (any unreadable file is reported the same way)
                raise ConfigError(f"{self.path}: cannot read the existing output ({describe(exc)}); remove "
                                  "it or use --overwrite") from None
        try:
            journal = read_csv_rows(self.journal)
        except (ValueError, UnicodeError, OSError, pd.errors.ParserError) as exc:  # AccelsimError too
            reason = str(exc).removeprefix(f"{self.journal}: ") if isinstance(exc, ConfigError) else describe(exc)
            raise ConfigError(f"{self.journal}: cannot resume from the existing rows ({reason}); "
                              "remove the file or use --overwrite") from None
        if len(journal.columns):
            self._header = list(journal.columns)
            parts.append(journal)
        parts = [p for p in parts if len(p.columns)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def rewrite(self, df: pd.DataFrame) -> None:
        """Replace the journal by ``df`` (used to drop stale or unfinished rows before a run)."""
        with writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.converted and self.path.exists():
                self.path.unlink()
        _atomic_csv(df, self.journal)
        self._header = list(df.columns) if len(df.columns) else None

    def append(self, df: pd.DataFrame) -> None:
        """Append rows to the journal, flushed to disk before returning."""
        if df.empty:
            return
        with writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        drop_checksum(self.journal)  # the journal grows: a checksum of the finished file no longer holds
        new = self._header is None or not self.journal.exists() or self.journal.stat().st_size == 0
        if new:
            self._header = list(df.columns)
        else:
            extra = [c for c in df.columns if c not in self._header]
            if extra:
                raise ConfigError(f"{self.journal}: existing rows lack column(s) {', '.join(extra)}; "
                                  "remove the file or use --overwrite")
            df = df.reindex(columns=self._header)
        with writing(self.journal), open(self.journal, "a", newline="") as fh:
            df.to_csv(fh, header=new, index=False)
            fh.flush()
            os.fsync(fh.fileno())

    def finalize(self, sort_key: "Callable[[pd.DataFrame], pd.Series] | None" = None) -> pd.DataFrame:
        """Rewrite the output in ``sort_key(df)`` order (stable); returns the rows as read back."""
        df = self.read()
        if sort_key is not None and len(df):
            df = df.assign(_order=sort_key(df)).sort_values("_order", kind="stable").drop(columns="_order")
            df = df.reset_index(drop=True)
        write_table(df, self.path)  # atomic, with its checksum (tableio)
        if self.converted:
            with writing(self.path):
                if self.journal.exists():
                    self.journal.unlink()
        else:
            df = read_csv_rows(self.path)
        return df


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    """Replace ``path`` by ``df`` as CSV atomically (nothing left behind on failure)."""
    drop_checksum(path)
    with atomic_output(path, "sweep rows") as tmp, open(tmp, "w", newline="") as fh:
        df.to_csv(fh, index=False)
