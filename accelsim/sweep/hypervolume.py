"""Hypervolume of a set of points in 2 or 3 objectives (each minimised or maximised).

The hypervolume is the volume of objective space that the points dominate, bounded by
a reference point that every counted point must beat in each objective. It is the
standard single number for the quality of a Pareto front (Zitzler and Thiele, 1999):
a larger value means a front closer to the ideal and spread more widely.

2 objectives: sort by the first objective and sum the rectangles (``O(n log n)``).
3 objectives: sweep over the third objective and add the 2-D hypervolume of each slab
(``O(n^2 log n)``, ample for the fronts of an exploration). Points that are NaN, or do
not beat the reference in every objective, add nothing.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: reference margin: the worst value of each objective, moved away from the front by 10 %
#: of its magnitude (energy x 1.1 when minimised, throughput x 0.9 when maximised)
REFERENCE_MARGIN = 0.1


def _minimised(points: "np.ndarray | Sequence", maximize: Sequence[bool]) -> np.ndarray:
    v = np.asarray(points, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(maximize):
        raise ValueError(f"points must be n x {len(maximize)}")
    return v * np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)


def reference_point(points: "np.ndarray | Sequence", maximize: Sequence[bool],
                    margin: float = REFERENCE_MARGIN) -> np.ndarray:
    """The worst value of each objective over ``points`` (NaN rows ignored), moved by
    ``margin`` of its magnitude away from the front: ``worst * (1 + margin)`` for a
    minimised objective, ``worst * (1 - margin)`` for a maximised one (positive values)."""
    v = np.asarray(points, dtype=float)
    v = v[~np.isnan(v).any(axis=1)]
    if len(v) == 0:
        raise ValueError("no point without NaN to take a reference from")
    maxi = np.asarray(maximize, dtype=bool)
    worst = np.where(maxi, v.min(axis=0), v.max(axis=0))
    return np.where(maxi, worst - margin * np.abs(worst), worst + margin * np.abs(worst))


def _hv2(w: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume of minimised points ``w`` (all strictly better than ``ref``)."""
    order = np.lexsort((w[:, 1], w[:, 0]))
    total, best_y = 0.0, ref[1]
    for x, y in w[order]:
        if y < best_y:
            total += (ref[0] - x) * (best_y - y)
            best_y = y
    return total


def hypervolume(points: "np.ndarray | Sequence", reference: "np.ndarray | Sequence",
                maximize: Sequence[bool]) -> float:
    """Volume dominated by ``points`` (n x m, m = 2 or 3) up to ``reference`` (same units)."""
    if len(maximize) not in (2, 3):
        raise ValueError("hypervolume needs 2 or 3 objectives")
    w = _minimised(np.asarray(points, dtype=float).reshape(-1, len(maximize)), maximize)
    ref = _minimised(np.asarray(reference, dtype=float).reshape(1, -1), maximize)[0]
    w = w[~np.isnan(w).any(axis=1)]
    w = w[(w < ref).all(axis=1)]
    if len(w) == 0:
        return 0.0
    if w.shape[1] == 2:
        return _hv2(w, ref)
    zs = np.unique(w[:, 2])
    total = 0.0
    for i, z in enumerate(zs):  # slab [z, next z) is dominated by the points with third value <= z
        top = zs[i + 1] if i + 1 < len(zs) else ref[2]
        total += _hv2(w[w[:, 2] <= z][:, :2], ref[:2]) * (top - z)
    return total
