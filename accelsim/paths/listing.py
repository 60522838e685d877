"""Path-list files: what ``accelsim paths enumerate -o FILE`` writes and ``sweep --paths FILE``
(or a sweep spec's ``paths:`` field) reads back.

Formats, from the suffix (or ``--format``):

* text (``.txt``): one path a line, the full model as ``(full model)``; ``#`` starts a comment;
* CSV (``.csv``): columns ``exec_path`` and ``family``, the full model an empty cell;
* JSON (``.json``): ``{"workload": ..., "input": "HxW", "paths": [{"exec_path": ..., "family": ...}]}``;
* YAML (``.yaml``): ``{name: ..., input: HxW, exec_paths: [...]}``, a sweep spec's workload
  entry as it stands (paste it under ``workloads:``).

Reading accepts any of them, and in JSON/YAML also a plain list of path strings. Every path is
checked (syntax and value ranges) and written canonically; the full model is ''.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..errors import WorkloadError
from ..safeio import about, exists, load_yaml, read_csv, read_text, short
from .families import PathEntry
from .syntax import FULL_MODEL, canonical_path

#: format -> file suffixes
FORMATS: dict[str, tuple[str, ...]] = {"text": (".txt", ".paths"), "csv": (".csv",), "json": (".json",),
                                       "yaml": (".yaml", ".yml")}
#: Largest path-list file read, bytes
MAX_LIST_BYTES = 64 * 1024 * 1024
#: Most paths in one list
MAX_PATHS = 1_000_000


def list_format(path: "str | Path") -> str:
    """The format of a path-list file from its suffix (one error listing the suffixes)."""
    suffix = Path(path).suffix.lower()
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            return fmt
    allowed = ", ".join(s for ss in FORMATS.values() for s in ss)
    raise WorkloadError(f"{path}: path-list format {suffix or '(no suffix)'!r} unknown; use {allowed}")


def path_list_text(entries: Sequence[PathEntry], fmt: str, workload: str = "", input_size: str = "") -> str:
    """``entries`` written in ``fmt`` (text, csv, json, yaml)."""
    if fmt == "text":
        return "".join(f"{e.exec_path or FULL_MODEL}\n" for e in entries)
    if fmt == "csv":
        import pandas as pd

        from ..tableio import csv_text

        return csv_text(pd.DataFrame([e.__dict__ for e in entries], columns=["exec_path", "family"]))
    if fmt == "json":
        doc = {"workload": workload, "input": input_size, "paths": [e.__dict__ for e in entries]}
        return json.dumps(doc, indent=1) + "\n"
    if fmt == "yaml":
        import yaml

        doc: dict[str, Any] = {"name": workload}
        if input_size:
            doc["input"] = input_size
        doc["exec_paths"] = [e.exec_path for e in entries]
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=200)
    raise WorkloadError(f"path-list format {fmt!r} unknown; use {', '.join(FORMATS)}")


def read_path_list(path: "str | Path") -> list[str]:
    """The canonical paths of a path-list file (repeats dropped, order kept); every error is
    one line naming the file (and the entry)."""
    p = Path(path)
    if not exists(p):
        raise WorkloadError(f"{p}: path list not found")
    fmt = list_format(p)
    with about(p):
        if fmt == "text":
            raw: list = [line.split("#", 1)[0].strip() for line in
                         read_text(p, MAX_LIST_BYTES, "path list").splitlines()]
            raw = [r for r in raw if r]
        elif fmt == "csv":
            df = read_csv(p, "path list", limit=MAX_LIST_BYTES, dtype=str, keep_default_na=False)
            if "exec_path" not in df.columns:
                raise WorkloadError(f"no column 'exec_path' (columns: {short(', '.join(map(str, df.columns)))})")
            raw = list(df["exec_path"])
        else:
            raw = _document_paths(load_yaml(p, "path list", MAX_LIST_BYTES))  # JSON is YAML too
        if len(raw) > MAX_PATHS:
            raise WorkloadError(f"{len(raw):,} paths; at most {MAX_PATHS:,}")
        out: dict[str, None] = {}
        for i, item in enumerate(raw):
            if not isinstance(item, str):
                raise WorkloadError(f"entry {i + 1}: {short(item)} is not a path string")
            try:
                out[canonical_path(item)] = None
            except WorkloadError as exc:
                raise WorkloadError(f"entry {i + 1}: {exc}") from None
    if not out:
        raise WorkloadError(f"{p}: no path in the list (write the full model as {FULL_MODEL} or '')")
    return list(out)


def _document_paths(doc: Any) -> list:
    """The path strings of a JSON/YAML document: a list of strings or of records with
    ``exec_path``, or a mapping holding such a list under ``exec_paths`` or ``paths``."""
    if isinstance(doc, dict):
        keys = [k for k in ("exec_paths", "paths") if k in doc]
        if not keys:
            raise WorkloadError("expected a list of paths, or a mapping with 'exec_paths' or 'paths'")
        doc = doc[keys[0]]
    if not isinstance(doc, list):
        raise WorkloadError(f"expected a list of paths, got {short(doc)}")
    out = []
    for i, item in enumerate(doc):
        if isinstance(item, dict):
            if "exec_path" not in item:
                raise WorkloadError(f"entry {i + 1}: a record needs 'exec_path'")
            item = item["exec_path"]
        out.append("" if item is None else item)
    return out
