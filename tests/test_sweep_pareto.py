"""Pareto sets against a brute-force dominance check (hypothesis) and the API's aliases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accelsim.errors import AccelsimError
from accelsim.sweep import error_rows, mapped_rows, pareto, pareto_mask


def brute_force(values: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """Independent O(n^2) loop: i is kept unless some j is no worse everywhere and better somewhere."""
    v = np.where(maximize, -values, values)
    keep = []
    for i in range(len(v)):
        if np.isnan(v[i]).any():
            keep.append(False)
            continue
        dominated = False
        for j in range(len(v)):
            if j != i and not np.isnan(v[j]).any() and all(v[j] <= v[i]) and any(v[j] < v[i]):
                dominated = True
                break
        keep.append(not dominated)
    return np.array(keep, dtype=bool)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), m=st.integers(2, 3), n=st.integers(0, 40))
def test_matches_brute_force(data, m, n):
    # small integer values make ties and duplicates common, the cases that break naive fronts
    vals = data.draw(arrays(np.float64, (n, m), elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, np.nan])))
    maximize = data.draw(st.lists(st.booleans(), min_size=m, max_size=m))
    got = pareto_mask(vals, maximize, block=data.draw(st.integers(1, 7)))
    assert (got == brute_force(vals, maximize)).all()


def test_aliases_groups_and_mask():
    df = pd.DataFrame({"workload": ["a"] * 3 + ["b"] * 2,
                       "energy_per_op_j": [1.0, 2.0, 3.0, 5.0, 4.0],
                       "throughput_ops_per_s_per_mm2": [1.0, 3.0, 2.0, 1.0, 1.0]})
    joint = pareto(df, {"energy_per_op": "min", "throughput_per_mm2": "max"}, by=None)
    assert joint.index.tolist() == [0, 1]   # row 2 is beaten by row 1; rows 3-4 by row 0
    per = pareto(df, by="workload", mask=True)
    assert per.tolist() == [True, True, False, False, True]
    # default: one front per workload (row 4 is b's best), default objectives the study's
    assert pareto(df).index.tolist() == [0, 1, 4] and pareto(df).attrs["pareto_by"] == ["workload"]


def test_errors():
    df = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0], "d": [4.0]})
    with pytest.raises(AccelsimError, match="2 or 3 objectives"):
        pareto(df, {"a": "min"})
    with pytest.raises(AccelsimError, match="2 or 3 objectives"):
        pareto(df, {"a": "min", "b": "min", "c": "min", "d": "min"})
    with pytest.raises(AccelsimError, match="must be 'min' or 'max'"):
        pareto(df, {"a": "min", "b": "lower"})
    with pytest.raises(AccelsimError, match="not a column"):
        pareto(df, {"a": "min", "zz": "max"})


def test_error_rows_never_rank_nor_dominate():
    """Unmappable sweep points (non-empty ``error``) are left out even where their objectives are numbers."""
    df = pd.DataFrame({"workload": ["a", "a", "a", "b"], "area_mm2": [1.0, 2.0, 3.0, 1.0],
                       "accuracy": [0.9, 0.8, 0.95, 0.7], "error": ["cannot be mapped", "", "", "x"]})
    # without row 0 (error): row 1 (area 2, 0.8) and row 2 (area 3, 0.95) are both non-dominated
    assert pareto(df, {"area": "min", "accuracy": "max"}).index.tolist() == [1, 2]
    assert pareto(df, {"area": "min", "accuracy": "max"}, by="workload", mask=True).tolist() == [
        False, True, True, False]
    # the same rows without an error column: row 0 dominates row 1 (row 3 is b's own front)
    assert pareto(df.drop(columns="error"), {"area": "min", "accuracy": "max"}).index.tolist() == [0, 2, 3]
    assert pareto(df.drop(columns="error"), {"area": "min", "accuracy": "max"}, by=None).index.tolist() == [0, 2]
    assert mapped_rows(df).index.tolist() == [1, 2] and error_rows(df).tolist() == [True, False, False, True]


def _with_errors(df: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """``df`` with ``rows`` turned into unmappable points (cost columns NaN, a reason)."""
    bad = df.copy()
    bad.loc[rows, ["latency_s", "energy_j", "energy_per_op_j", "throughput_ops_per_s_per_mm2",
                   "utilization"]] = np.nan
    bad.loc[rows, "error"] = "layer x cannot be mapped"
    return bad


def test_plots_ignore_error_rows(tmp_path):
    """A figure of rows with unmappable points is byte-identical to the one without them."""
    from accelsim.plots import plot_accuracy_tradeoff, plot_energy_throughput
    from accelsim.sweep import run_sweep

    df = run_sweep({"arch": "A..E", "workloads": [{"name": "segformer-b0", "input": "64x64"}]}, workers=1)
    bad = _with_errors(df, [1, 3])
    plot_energy_throughput(bad, path=tmp_path / "a.png")
    plot_energy_throughput(mapped_rows(bad), path=tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    # paths of one arch; the most accurate one unmappable must not join the accuracy front
    paths = df.iloc[:4].assign(arch="E", exec_path=["", "blocks=1-1-1-1", "blocks=2-2-1-1", "blocks=2-2-2-1"],
                               accuracy=[0.5, 0.4, 0.45, 0.6])
    bad = _with_errors(paths, [3])
    plot_accuracy_tradeoff(bad, path=tmp_path / "c.png")
    plot_accuracy_tradeoff(mapped_rows(bad), path=tmp_path / "d.png")
    assert (tmp_path / "c.png").read_bytes() == (tmp_path / "d.png").read_bytes()
