"""Pareto fronts are formed per workload, execution path and scope unless a joint front is asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.cli.main import main
from accelsim.sweep import pareto, pareto_mask
from accelsim.sweep.pareto import front_keys

#: The failure seen on the study sweep, reduced: a light workload's configs beat every
#: config of a heavy one, so a joint front holds only the light workload's rows.
ROWS = pd.DataFrame({
    "arch": ["A", "B", "C", "A", "B", "C"],
    "workload": ["light"] * 3 + ["heavy"] * 3,
    "exec_path": [""] * 6,
    "energy_per_op_j": [200e-15, 240e-15, 260e-15, 450e-15, 420e-15, 500e-15],
    "throughput_ops_per_s_per_mm2": [7e12, 12e12, 3e12, 5e12, 5.2e12, 1e12],
})


def test_default_is_one_front_per_workload():
    joint = pareto(ROWS, by=None)
    assert set(joint["workload"]) == {"light"}  # the heavy workload's front vanishes
    front = pareto(ROWS)
    # light: A (lowest energy) and B (highest throughput); heavy: B dominates A, C is dominated
    assert front[["workload", "arch"]].values.tolist() == [["light", "A"], ["light", "B"], ["heavy", "B"]]
    assert front.attrs["pareto_by"] == ["workload", "exec_path"]


def test_paths_and_scope_split_fronts_but_accuracy_joins_paths():
    df = pd.concat([ROWS.assign(exec_path="", scope="accelerator"),
                    ROWS.assign(exec_path="fuse_in=896", scope="accelerator"),
                    ROWS.assign(exec_path="", scope="system")], ignore_index=True)
    assert front_keys(df) == ["workload", "exec_path", "scope"]
    assert len(pareto(df)) == 3 * 3  # the 3-row front of ROWS in each (path, scope) copy
    acc = df.assign(accuracy=np.where(df["exec_path"] == "", 0.46, 0.36), latency_s=1.0)
    # with accuracy an objective, the paths are what is traded off: one front across them
    assert front_keys(acc, {"latency": "min", "accuracy": "max"}) == ["workload", "scope"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["w1", "w2", "w3"]), st.sampled_from(["", "p"]),
                          st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=40))
def test_grouped_front_is_the_union_of_each_groups_own_front(rows):
    df = pd.DataFrame(rows, columns=["workload", "exec_path", "energy_per_op_j", "throughput_ops_per_s_per_mm2"])
    df = df.astype({"energy_per_op_j": float, "throughput_ops_per_s_per_mm2": float})
    got = pareto(df, mask=True)
    # independent: filter each (workload, path) group and run the plain mask on it alone
    want = pd.Series(False, index=df.index)
    for _, g in df.groupby(["workload", "exec_path"]):
        want[g.index] = pareto_mask(g[["energy_per_op_j", "throughput_ops_per_s_per_mm2"]].to_numpy(), [False, True])
    assert got.tolist() == want.tolist()


def test_cli_says_how_fronts_are_formed(tmp_path, capsys):
    f = tmp_path / "r.csv"
    ROWS.to_csv(f, index=False)
    assert main(["pareto", str(f), "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert "one front per workload, exec_path (2 fronts)" in out.err and "--joint" in out.err
    assert pd.read_csv(pd.io.common.StringIO(out.out))["arch"].tolist() == ["A", "B", "B"]
    assert main(["pareto", str(f), "--joint", "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert "one joint front over all rows" in out.err
    assert pd.read_csv(pd.io.common.StringIO(out.out))["arch"].tolist() == ["A", "B"]
    assert main(["pareto", str(f), "--by", "nope"]) == 2
    err = capsys.readouterr().err  # one line naming the file, the option and the columns to choose from
    assert "r.csv: --by 'nope' is not a column; choose from arch, workload" in err
