"""Pareto (non-dominated) sets over 2 or 3 objectives with min/max directions (SPEC.md section 10).

A row is on the front when no other row in its group is at least as good in every
objective and strictly better in one. By default rows are only compared within one
workload, execution path and scope (:data:`FRONT_KEYS`, those that are columns): an
architecture that wins on a light workload must not hide the front of a heavy one.
With an accuracy objective the execution paths are what is traded off, so they share
a front. ``by=None`` asks for one joint front over all rows. Rows with a missing (NaN) objective, and sweep rows with a
non-empty ``error`` (unmappable points), are never on the front;
identical rows do not dominate each other, so ties all stay.

The fronts are found by sorting, in ``O(n log n)``: the distinct points are sorted
lexicographically, so any point that dominates another comes before it. In 2-D a point is
dominated when the running minimum of the second objective before it is not larger
(numpy); in 3-D when some earlier point has both other objectives not larger, a prefix
minimum over the ranks of the second objective kept in a Fenwick tree (numba, cached on
disk). 10^6 rows take 0.5 s (2-D) and 3.6 s (3-D) on a shared 2-core machine
(``benchmarks/bench_pareto.py``).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import AccelsimError
from ..safeio import clip, short

#: Short names accepted for the result columns.
ALIASES: dict[str, str] = {
    "energy_per_op": "energy_per_op_j",
    "throughput_per_mm2": "throughput_ops_per_s_per_mm2",
    "throughput": "throughput_ops_per_s_per_mm2",
    "latency": "latency_s",
    "energy": "energy_j",
    "area": "area_mm2",
}
DEFAULT_OBJECTIVES: dict[str, str] = {"energy_per_op": "min", "throughput_per_mm2": "max"}
#: Columns that split the rows into separate fronts by default (when present). A sweep-wide
#: setting that changes what a point means (e.g. the modelled scope) belongs here.
FRONT_KEYS: tuple[str, ...] = ("workload", "exec_path", "scope")
#: Objectives that describe the execution path itself: with one of them, paths share a front.
PATH_OBJECTIVES: tuple[str, ...] = ("accuracy",)
#: ``by`` value meaning "the default groups" (:func:`front_keys`)
AUTO = "auto"


def error_rows(df: pd.DataFrame) -> pd.Series:
    """Boolean mask of the sweep rows of points that could not be mapped (non-empty ``error``)."""
    if "error" not in df.columns:
        return pd.Series(False, index=df.index)
    return df["error"].fillna("").astype(str) != ""


def mapped_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``df`` that hold costs: error rows of unmappable points left out."""
    bad = error_rows(df)
    return df[~bad] if bad.any() else df


def resolve_column(df: pd.DataFrame, name: str) -> str:
    """``name`` or its alias as a numeric column of ``df`` (error lists the choices)."""
    col = name if name in df.columns else ALIASES.get(name)
    numeric = set(df.select_dtypes("number").columns)
    if col in numeric:
        return str(col)
    what = "is not a numeric column" if col in df.columns else "is not a column"
    raise AccelsimError(f"pareto objective {short(name)} {what}; choose from "
                        f"{clip(', '.join(sorted({a for a, c in ALIASES.items() if c in numeric} | numeric)), 400)}")


def check_group_columns(df: pd.DataFrame, by: "str | list[str] | None", what: str = "--by") -> None:
    """Refuse grouping by a column ``df`` does not have (the error lists the columns)."""
    for col in [by] if isinstance(by, str) else (by or []):
        if col not in df.columns:
            raise AccelsimError(f"{what} {short(col)} is not a column; choose from "
                                f"{clip(', '.join(map(str, df.columns)), 400)}")


def pareto_mask(values: np.ndarray, maximize: "np.ndarray | list[bool]", block: int = 2048) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n x m); rows with a NaN are
    never on the front. 2 and 3 objectives are sorted (module docstring); other counts
    are compared pairwise in blocks of ``block`` rows (``O(n^2)``)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array (rows x objectives)")
    sign = np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    v = v * sign  # everything minimised
    ok = ~np.isnan(v).any(axis=1)
    mask = np.zeros(len(v), dtype=bool)
    w = v[ok]
    if len(w) == 0:
        return mask
    mask[np.flatnonzero(ok)[_front_sorted(w) if w.shape[1] in (2, 3) else _front_pairwise(w, block)]] = True
    return mask


def pareto_mask_pairwise(values: np.ndarray, maximize: "np.ndarray | list[bool]", block: int = 2048) -> np.ndarray:
    """:func:`pareto_mask` by comparing every pair of rows (``O(n^2)``, any number of
    objectives): the method before the sorted one, kept for more than 3 objectives and for
    the benchmark."""
    v = np.asarray(values, dtype=float) * np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    ok = ~np.isnan(v).any(axis=1)
    mask = np.zeros(len(v), dtype=bool)
    mask[np.flatnonzero(ok)[_front_pairwise(v[ok], block)]] = True
    return mask


def _front_pairwise(w: np.ndarray, block: int) -> np.ndarray:
    """Non-dominated mask of the rows of ``w`` (minimised, no NaN), blocks of ``block`` rows."""
    keep = np.ones(len(w), dtype=bool)
    if len(w) == 0:
        return keep
    step = max(1, min(block, 4_000_000 // max(len(w) * w.shape[1], 1)))
    for lo in range(0, len(w), step):
        cur = w[lo:lo + step]                          # (b, m)
        le = (w[None, :, :] <= cur[:, None, :]).all(axis=2)  # (b, n): j at least as good as i
        lt = (w[None, :, :] < cur[:, None, :]).any(axis=2)   # j strictly better somewhere
        keep[lo:lo + step] = ~(le & lt).any(axis=1)
    return keep


def _front_sorted(w: np.ndarray) -> np.ndarray:
    """Non-dominated mask of the rows of ``w`` (n x 2 or n x 3, minimised, no NaN)."""
    order = np.lexsort(w.T[::-1])                 # by the first column, then the second ...
    s = w[order]
    new = np.ones(len(s), dtype=bool)             # first of a run of identical points
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    first = np.flatnonzero(new)
    u = s[first]                                  # distinct points, sorted
    if u.shape[1] == 2:
        before = np.minimum.accumulate(u[:, 1])
        dominated = np.zeros(len(u), dtype=bool)
        dominated[1:] = before[:-1] <= u[1:, 1]
    else:
        yrank = np.unique(u[:, 1], return_inverse=True)[1].astype(np.int64)
        zrank = np.unique(u[:, 2], return_inverse=True)[1].astype(np.int64)
        dominated = _dominated_3d(yrank, zrank)
    keep_sorted = ~dominated[np.cumsum(new) - 1]  # identical points share their fate
    out = np.zeros(len(w), dtype=bool)
    out[order] = keep_sorted
    return out


def _dominated_3d(yrank: np.ndarray, zrank: np.ndarray) -> np.ndarray:
    """For distinct points in lexicographic order with second and third objectives given
    as ranks: True where an earlier point has both ranks not larger (it dominates)."""
    return _dominated_3d_jit()(yrank, zrank)


def _dominated_3d_kernel(yrank, zrank):  # pragma: no cover  (compiled by numba)
    n = len(yrank)
    size = n + 1
    tree = np.full(size + 1, size, dtype=np.int64)  # prefix minimum of zrank over yrank (Fenwick)
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        r = yrank[i] + 1
        best = size
        j = r
        while j > 0:
            if tree[j] < best:
                best = tree[j]
            j -= j & -j
        out[i] = best <= zrank[i]
        j = r
        while j <= size:
            if zrank[i] < tree[j]:
                tree[j] = zrank[i]
            j += j & -j
    return out


_JITTED: list = []


def _dominated_3d_jit():
    """The numba-compiled :func:`_dominated_3d_kernel` (compiled once, cached on disk)."""
    if not _JITTED:
        from pathlib import Path

        from ..cost.jit import jit

        _JITTED.append(jit(_dominated_3d_kernel, sources=Path(__file__).resolve().parent))
    return _JITTED[0]


def _parse_objectives(df: pd.DataFrame, objectives: "Mapping[str, str] | None") -> tuple[list[str], list[bool]]:
    objectives = dict(objectives or DEFAULT_OBJECTIVES)
    if not 2 <= len(objectives) <= 3:
        raise AccelsimError(f"pareto needs 2 or 3 objectives, got {len(objectives)}")
    cols, maxi = [], []
    for name, sense in objectives.items():
        s = str(sense).lower()
        if s not in ("min", "max"):
            raise AccelsimError(f"pareto objective {name!r}: direction {sense!r} must be 'min' or 'max'")
        cols.append(resolve_column(df, name))
        maxi.append(s == "max")
    if len(set(cols)) != len(cols):
        raise AccelsimError(f"pareto objectives name the same column twice: {cols}")
    return cols, maxi


def front_keys(df: pd.DataFrame, objectives: "Mapping[str, str] | None" = None) -> list[str]:
    """The columns that split ``df`` into separate fronts by default: :data:`FRONT_KEYS`
    present in ``df``, less any objective column, less ``exec_path`` when an objective
    is a property of the path (:data:`PATH_OBJECTIVES`)."""
    cols, _ = _parse_objectives(df, objectives)
    keys = [k for k in FRONT_KEYS if k in df.columns and k not in cols]
    if any(c in PATH_OBJECTIVES for c in cols) and "exec_path" in keys:
        keys.remove("exec_path")
    return keys


def resolve_by(df: pd.DataFrame, objectives: "Mapping[str, str] | None",
               by: "str | list[str] | tuple[str, ...] | None") -> list[str]:
    """``by`` as a list of columns: ``"auto"`` -> :func:`front_keys`, ``None`` -> ``[]`` (joint)."""
    if by is None:
        return []
    if isinstance(by, str) and by == AUTO:
        return front_keys(df, objectives)
    keys = [by] if isinstance(by, str) else list(by)
    check_group_columns(df, keys, "pareto by")
    return keys


def describe_groups(keys: list[str], n_groups: int) -> str:
    """One line saying how the fronts were formed (for command output)."""
    if not keys:
        return "one joint front over all rows"
    return (f"one front per {', '.join(keys)} ({n_groups} front{'s' if n_groups != 1 else ''}); "
            "a single joint front: --joint (Python: by=None)")


def pareto(df: pd.DataFrame, objectives: "Mapping[str, str] | None" = None, *,
           by: "str | list[str] | None" = AUTO, mask: bool = False) -> "pd.DataFrame | pd.Series":
    """Rows of ``df`` on the Pareto front of ``objectives`` (column or alias -> ``min``/``max``).

    ``by``: ``"auto"`` (default) forms one front per workload, execution path and scope
    (see :func:`front_keys`); a column name or list forms one front per group; ``None``
    one joint front over all rows. With ``mask=True`` a boolean Series aligned with
    ``df`` is returned instead of the rows. Default objectives: minimum
    ``energy_per_op_j``, maximum ``throughput_ops_per_s_per_mm2``. The result's
    ``attrs["pareto_by"]`` lists the grouping columns used.
    """
    cols, maxi = _parse_objectives(df, objectives)
    keys = resolve_by(df, objectives, by)
    values = df[cols].to_numpy(float, copy=True)
    values[error_rows(df).to_numpy()] = np.nan  # an unmappable point has no costs to rank, nor dominates
    out = np.zeros(len(df), dtype=bool)
    if not keys:
        out = pareto_mask(values, maxi)
    else:
        for idx in df.groupby(keys, sort=False, dropna=False).indices.values():
            out[idx] = pareto_mask(values[idx], maxi)
    series = pd.Series(out, index=df.index, name="pareto")
    result = series if mask else df[series]
    result.attrs["pareto_by"] = keys
    return result
