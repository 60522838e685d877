"""Measurement files: CSV with a ``#`` metadata header, loading, shares and the summary table.

A file holds one device x workload x dtype (x input x execution path). Its header
lines are ``# key = <JSON value>``, followed by the CSV table (seconds in ``*_s``
columns, joules in ``energy_j``, watts in ``power_w``). :func:`load` reads one or
many files into one tidy frame with the metadata as columns; plain pandas reads one
file's table with ``pd.read_csv(path, comment="#")``.

Files are untrusted: :func:`read` goes through :mod:`accelsim.safeio` (regular files
only, size limit, UTF-8) and checks the table before it is used: the columns
:data:`REQUIRED` are present, every :func:`numeric column <numeric_columns>` holds
numbers (missing is ``nan``), times are finite and positive (a failed layer, whose
``status`` is not ``ok``, may have none), other numbers finite and not negative, and
the metadata ``kind`` and ``input`` have their allowed forms. A bad value is one line
naming the file, the line, the column and the allowed values. Folders and globs are
searched with a bound (:func:`accelsim.safeio.find_files`).
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import AccelsimError
from ..safeio import (MAX_TABLE_BYTES, describe, exists, find_files, is_pattern, read_text,
                      short, write_text)
from ..workload.ir import CONV_OPS

MAGIC = "# accelsim-gpu-measurement"
#: metadata keys copied into :func:`load`'s frame as columns
META_COLUMNS = ("kind", "label", "device", "device_name", "dtype", "workload", "input", "exec_path")
#: one table row per group of per-layer rows
GROUP = ["device_name", "dtype", "workload", "input", "input_h", "input_w", "exec_path"]
CONV_OP_NAMES = frozenset(op.value for op in CONV_OPS)
README_START = "<!-- gpu-table:start -->"
README_END = "<!-- gpu-table:end -->"
#: largest README whose table block :func:`update_readme` replaces (bytes)
README_MAX_BYTES = 16 * 1024 * 1024
#: text columns (kept as text on reading even when every value looks like a number)
TEXT_COLUMNS = ("name", "op", "fn", "part", "stage", "block", "kernel", "timed_dtype", "method",
                "reused_from", "status", "energy_status", "hf_class", "per_layer_device")
#: columns every measurement file holds (both kinds)
REQUIRED = ("name", "op", "macs", "median_s")
#: numeric columns besides the times (``*_s``): counts, joules, watts, rates, ratios
NUMBERS = ("macs", "flops", "nonmac_ops", "params", "repeats", "inner", "buffers", "rel_ci", "energy_j",
           "power_w", "tflops", "ratio")
#: allowed values of the ``kind`` metadata
KINDS = ("per-layer", "whole-model")
#: the ``input`` metadata: ``HxW`` in pixels
INPUT_RE = re.compile(r"[1-9][0-9]{0,5}x[1-9][0-9]{0,5}")


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`TEXT_COLUMNS` as text, as :func:`read` returns them."""
    cols = [c for c in TEXT_COLUMNS if c in frame]
    return frame.astype({c: str for c in cols}) if cols else frame


@dataclass
class Measurement:
    """One measurement file: the table (text columns normalised) and its metadata block."""

    frame: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frame = normalize(self.frame)


def write(m: Measurement, path: "str | Path") -> Path:
    """Write ``m`` as CSV with a ``# key = JSON`` header; returns the path."""
    path = Path(path)
    lines = [MAGIC] + [f"# {k} = {json.dumps(v, sort_keys=True)}" for k, v in m.meta.items()]
    body = m.frame.to_csv(index=False, na_rep="nan", lineterminator="\n")
    write_text(path, "\n".join(lines) + "\n" + body, "measurement file")
    return path


def read(path: "str | Path") -> Measurement:
    """Read one file written by :func:`write` (round-trips frame and metadata)."""
    path = Path(path)
    if not exists(path):
        raise AccelsimError(f"{path}: measurement file not found")
    text = read_text(path, MAX_TABLE_BYTES, "measurement file")
    lines = text.split("\n")
    if not lines or lines[0].strip() != MAGIC:
        raise AccelsimError(f"{path}: not an accelsim GPU measurement (first line must be {MAGIC!r})")
    meta: dict[str, Any] = {}
    i = 1
    while i < len(lines) and lines[i].startswith("#"):
        key, sep, value = lines[i][1:].partition("=")
        if not sep:
            raise AccelsimError(f"{path}: header line {i + 1} must look like '# key = value'")
        try:
            meta[key.strip()] = json.loads(value)
        except (ValueError, RecursionError):
            raise AccelsimError(f"{path}: header line {i + 1}: value is not JSON") from None
        i += 1
    body = "\n".join(lines[i:])
    try:
        with warnings.catch_warnings():  # a row longer than the header: refused, not cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(body), keep_default_na=False, na_values=["nan"], index_col=False,
                                dtype={c: str for c in TEXT_COLUMNS})
    except pd.errors.ParserWarning:
        raise AccelsimError(f"{path}: malformed CSV table: a row has more fields than the header") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, RecursionError) as exc:
        raise AccelsimError(f"{path}: malformed CSV table: {describe(exc)}") from None
    check_meta(meta, path)
    check_frame(frame, path, first_line=i + 2)
    return Measurement(frame, meta)


def check_meta(meta: dict[str, Any], path: "str | Path") -> None:
    """Refuse metadata that :func:`load` cannot use: ``kind`` other than :data:`KINDS`,
    ``input`` not ``HxW`` (pixels), or a list/mapping where :data:`META_COLUMNS` need text."""
    kind = meta.get("kind", "per-layer")
    if kind not in KINDS:
        raise AccelsimError(f"{path}: metadata 'kind' is {short(kind)}; allowed: {', '.join(KINDS)}")
    if "input" in meta and not (isinstance(meta["input"], str) and INPUT_RE.fullmatch(meta["input"])):
        raise AccelsimError(f"{path}: metadata 'input' is {short(meta['input'])}; allowed: a text "
                            "'HxW' in pixels, e.g. \"512x512\"")
    for key in META_COLUMNS:
        if isinstance(meta.get(key), (list, dict)):
            raise AccelsimError(f"{path}: metadata {key!r} is {short(meta[key])}; allowed: text")


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that must hold numbers: times (``*_s``) and :data:`NUMBERS`."""
    return [c for c in frame.columns if c not in TEXT_COLUMNS and (str(c).endswith("_s") or c in NUMBERS)]


def check_frame(frame: pd.DataFrame, path: "str | Path", first_line: int = 2) -> None:
    """Refuse a table :func:`conv_shares` would misread: a missing :data:`REQUIRED` column,
    text in a numeric column, a time that is not finite and positive (``median_s`` of a
    layer whose ``status`` is ``ok`` must be there), or another number that is negative
    or infinite. ``first_line`` is the file line of the first row (for the message)."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise AccelsimError(f"{path}: missing column(s) {', '.join(missing)}; a measurement file has "
                            f"{', '.join(REQUIRED)}")
    ok = (frame["status"].astype(str) == "ok").to_numpy() if "status" in frame else np.ones(len(frame), bool)
    for col in numeric_columns(frame):
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        raw = frame[col]
        text = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.lower() != "nan").to_numpy()
        time = str(col).endswith("_s")
        bad_kind = "a number"
        if text.any():
            bad = text
        else:
            bad = ~np.isnan(values) & (~np.isfinite(values) | (values <= 0 if time else values < 0))
            bad_kind = "a finite time > 0 (seconds)" if time else "a finite number >= 0"
            if col == "median_s":
                bad |= ok & np.isnan(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = raw.iloc[row]
            shown = ("missing" if np.isnan(values[row]) and not text[row] else
                     f"{values[row]:g}" if not text[row] else short(value))
            raise AccelsimError(f"{path}: line {first_line + row}, column {col!r}: {shown} is not "
                                f"{bad_kind}" + (" (a layer with status 'ok' needs its time)"
                                                 if col == "median_s" and shown == "missing" else ""))


def _expand(paths: "str | Path | Iterable[str | Path]") -> list[Path]:
    """Files named by ``paths``: files as given, folders searched recursively for ``*.csv``,
    globs expanded; both searches bounded (:func:`accelsim.safeio.find_files`)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if not is_pattern(item) and p.is_dir():
            out.extend(find_files(p, "*.csv", "measurement files"))
        elif is_pattern(item):
            out.extend(find_files(item, what="measurement files"))
        else:
            out.append(p)
    return out


def with_meta(frame: pd.DataFrame, meta: dict[str, Any], file: "str | Path") -> pd.DataFrame:
    """A copy of one file's ``frame`` with the :func:`load` columns: :data:`META_COLUMNS`,
    ``input_h``/``input_w`` (pixels) and ``file``."""
    df = frame.copy()
    for key in META_COLUMNS:
        df[key] = str(meta.get(key, ""))
    h, _, w = str(meta.get("input", "0x0")).partition("x")
    df["input_h"], df["input_w"] = int(h or 0), int(w or 0)
    df["file"] = str(file)
    return df


def load(paths: "str | Path | Iterable[str | Path]") -> pd.DataFrame:
    """Measurements from files, a directory (searched recursively) or glob(s), as one frame.

    Adds the metadata columns :data:`META_COLUMNS`, ``input_h``/``input_w`` (pixels) and
    ``file``; ``frame.attrs['meta']`` maps each file to its full metadata block.
    """
    files = _expand(paths)
    if not files:
        raise AccelsimError(f"no GPU measurement files match {paths!r}")
    frames, metas = [], {}
    for f in files:
        m = read(f)
        frames.append(with_meta(m.frame, m.meta, f))
        metas[str(f)] = m.meta
    out = pd.concat(frames, ignore_index=True)
    out.attrs["meta"] = metas
    return out


# ------------------------------------------------------------------ analysis
def conv_shares(frame: pd.DataFrame, include_fused: bool = True) -> pd.DataFrame:
    """Per (device, dtype, workload, input, path): conv share of MACs vs of measured time.

    The same rule for every family: a layer is a convolution when its IR op is
    ``conv2d`` or ``dwconv2d``; the MAC share is conv MACs / all MACs, the time share is
    conv median time / the sum of all timed layers' median times (``include_fused=False``
    leaves out element-wise layers the IR marks as fused into their producer).
    Also: ``gmacs``, ``latency_s`` (per-layer sum, seconds), ``tflops`` (2 x MACs / latency).
    """
    df = frame[frame["kind"] == "per-layer"] if "kind" in frame else frame
    if not include_fused and "fused" in df:
        df = df[~df["fused"].astype(bool)]
    df = df.assign(_conv=df["op"].isin(CONV_OP_NAMES))
    group = [g for g in GROUP if g in df]
    rows = []
    for key, g in df.groupby(group, sort=True, dropna=False):
        macs = float(g["macs"].sum())
        t = float(g["median_s"].sum())
        conv_macs = float(g.loc[g["_conv"], "macs"].sum())
        conv_t = float(g.loc[g["_conv"], "median_s"].sum())
        rows.append({**dict(zip(group, key)), "layers": len(g), "gmacs": macs / 1e9, "latency_s": t,
                     "tflops": 2 * macs / t / 1e12 if t > 0 else math.nan,
                     "conv_gmacs": conv_macs / 1e9, "conv_mac_share": conv_macs / macs if macs else math.nan,
                     "conv_time_s": conv_t, "conv_time_share": conv_t / t if t > 0 else math.nan})
    return pd.DataFrame(rows)


def whole_vs_layers(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`conv_shares` joined with whole-model times: ``whole_s`` and ``ratio`` (whole / sum)."""
    shares = conv_shares(frame)
    whole = frame[frame["kind"] == "whole-model"] if "kind" in frame else frame.iloc[0:0]
    if whole.empty or shares.empty:
        return shares.assign(whole_s=np.nan, ratio=np.nan)
    keys = [g for g in GROUP if g not in ("input_h", "input_w")]  # both follow from ``input``
    w = whole.groupby(keys, as_index=False)["median_s"].min().rename(columns={"median_s": "whole_s"})
    out = shares.merge(w, on=keys, how="left")
    out["ratio"] = out["whole_s"] / out["latency_s"]
    return out


def _fmt_time(s: float) -> str:
    return "n/a" if not np.isfinite(s) else f"{s * 1e3:.3f}"


def render_table(summary: pd.DataFrame) -> str:
    """Markdown table of :func:`whole_vs_layers` rows (latency in milliseconds)."""
    head = ("| device | dtype | workload | input | path | GMACs | per-layer sum (ms) | whole model (ms) "
            "| whole / sum | achieved TFLOP/s | conv MAC share | conv time share |")
    lines = [head, "|" + "---|" * 12]
    for r in summary.itertuples(index=False):
        ratio = getattr(r, "ratio", math.nan)
        lines.append(
            f"| {r.device_name} | {r.dtype} | {r.workload} | {r.input} | {r.exec_path} | {r.gmacs:.2f} "
            f"| {_fmt_time(r.latency_s)} | {_fmt_time(getattr(r, 'whole_s', math.nan))} "
            f"| {'n/a' if not np.isfinite(ratio) else f'{ratio:.2f}'} | {r.tflops:.3f} "
            f"| {r.conv_mac_share:.1%} | {r.conv_time_share:.1%} |")
    return "\n".join(lines)


def update_readme(readme: "str | Path", table: str) -> Path:
    """Replace the text between the table markers of ``readme`` (appending them if absent)."""
    readme = Path(readme)
    text = read_text(readme, README_MAX_BYTES, "README") if exists(readme) else ""
    block = f"{README_START}\n{table}\n{README_END}"
    if README_START in text and README_END in text:
        text = re.sub(re.escape(README_START) + ".*?" + re.escape(README_END), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    write_text(readme, text, "README")
    return readme


def default_filename(meta: dict[str, Any]) -> str:
    """``<device>_<workload>_<HxW>[_<path>]_<dtype>[_whole].csv`` with safe characters."""
    dev = str(meta.get("device_name", meta.get("device", "dev")))
    parts = [dev, str(meta.get("workload", "wl")), str(meta.get("input", ""))]
    if meta.get("exec_path") not in (None, "", "none"):
        parts.append(str(meta["exec_path"]))
    parts.append(str(meta.get("dtype", "")))
    if meta.get("kind") == "whole-model":
        parts.append("whole")
    slug = "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", p).strip("-").lower() for p in parts if p)
    return slug + ".csv"
