"""GPU measurements as execution-path rows: one row per measured model and path, with its
measured latency (and energy) and the published accuracy, ready to plot beside the
accelerator's paths (``accelsim plot accuracy RESULTS --gpu DIR``) or to feed RDD
(``accelsim rdd --results DIR``).

Latency is the sum of the per-layer medians, the one measure every path has (``gpu
measure`` times each path layer by layer), so the paths of a model compare like with
like (NaN when a layer failed to run); ``whole_model_s`` adds the whole-model median
where a whole-model file of the same device, dtype, model, input and path exists (NaN
otherwise). Energy is the sum of the per-layer NVML energies when
every layer has one, else NaN. Accuracy comes from :func:`accelsim.paths.annotate` on the
measured workload (``"unknown"`` when nothing is published for it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .data import GROUP, MAGIC, load

#: columns of :func:`path_rows`
COLUMNS = ("label", "arch", "device_name", "dtype", "family", "workload", "input", "exec_path", "macs", "latency_s",
           "energy_j", "whole_model_s", "accuracy", "accuracy_metric", "accuracy_source")


def is_measurement(path: "str | Path") -> bool:
    """True for a GPU measurement file, or a folder holding at least one."""
    from ..safeio import find_files, read_head

    p = Path(path)
    files = find_files(p, "*.csv", "measurement files") if p.is_dir() else [p]
    return any(read_head(f, len(MAGIC)) == MAGIC.encode() for f in files)


def _meta_of(frame: pd.DataFrame, file: str) -> dict[str, Any]:
    return dict(frame.attrs.get("meta", {}).get(file, {}))


def _accuracy(workload: str, input_size: str, classes: Any, exec_path: str) -> dict[str, Any]:
    """The published accuracy of the measured model and path (``unknown`` when none)."""
    from ..errors import AccelsimError
    from ..paths import annotate
    from ..compose import load_workload

    try:
        n = int(classes) if classes not in (None, "", "none") else None
        wl = load_workload(workload, input_size=input_size, num_classes=n, exec_path=exec_path)
    except (AccelsimError, ValueError, TypeError):
        return {"family": "", "accuracy": "unknown", "accuracy_metric": "", "accuracy_source": ""}
    return {"family": wl.family, **annotate(wl)}


def path_rows(gpu: "pd.DataFrame | str | Path") -> pd.DataFrame:
    """One row per (device, dtype, model, input, path) of GPU measurements (a frame from
    :func:`accelsim.gpu.load`, or files/folders/globs it accepts); see the module docstring.
    ``arch`` holds the device label so the rows read like accelerator results."""
    frame = gpu if isinstance(gpu, pd.DataFrame) else load(gpu)
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame = frame.assign(exec_path=frame["exec_path"].replace("none", ""))
    keys = [k for k in GROUP if k in frame]
    kind = frame["kind"] if "kind" in frame else pd.Series("per-layer", index=frame.index)
    whole = frame[kind == "whole-model"].groupby(keys, dropna=False)["median_s"].min()
    rows = []
    for key, g in frame[kind == "per-layer"].groupby(keys, sort=True, dropna=False):
        ident = dict(zip(keys, key))
        meta = _meta_of(frame, str(g["file"].iloc[0])) if "file" in g else {}
        ok = g["status"].eq("ok") if "status" in g else pd.Series(True, index=g.index)
        energies = pd.to_numeric(g.get("energy_j", pd.Series(np.nan, index=g.index)), errors="coerce")
        whole_s = whole.get(key, math.nan) if len(whole) else math.nan
        rows.append({
            "arch": str(g["label"].iloc[0]) if "label" in g else ident.get("device_name", ""),
            "device_name": ident.get("device_name", ""), "dtype": ident.get("dtype", ""),
            "workload": ident.get("workload", ""), "input": ident.get("input", ""),
            "exec_path": ident.get("exec_path", ""), "macs": int(g["macs"].sum()),
            "latency_s": float(g["median_s"].sum()) if ok.all() else math.nan,  # a failed layer: no total
            "energy_j": float(energies.sum()) if ok.all() and energies.notna().all() else math.nan,
            "whole_model_s": float(whole_s),
            **_accuracy(ident.get("workload", ""), ident.get("input", ""), meta.get("num_classes"),
                        ident.get("exec_path", "")),
        })
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "label"])
    out.insert(0, "label", distinct_labels(out))
    return out


def distinct_labels(rows: pd.DataFrame) -> list[str]:
    """A point label per row: its path (``full model`` when empty), preceded by the workload
    and followed by ``@HxW`` and the device only where those differ between rows."""
    def varies(col: str) -> bool:
        return col in rows and rows[col].nunique() > 1

    out = []
    for _, r in rows.iterrows():
        text = str(r["exec_path"]) or "full model"
        if varies("workload"):
            text = f"{r['workload']} {text}"
        if varies("input"):
            text += f" @{r['input']}"
        if varies("device_name") or varies("dtype"):
            text += f" ({r['device_name']}, {r['dtype']})"
        out.append(text)
    return out
