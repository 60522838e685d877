"""accelsim explore: hypervolume, spec checks, constraints, budgets, determinism and resume.

Evaluations use ``explore_helpers.fake_simulate`` (closed-form costs, about a millisecond),
so these tests exercise the search, the study and the output, not the cost model.
"""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("optuna")

from accelsim.cli.main import main  # noqa: E402
from accelsim.errors import ConfigError  # noqa: E402
from accelsim.sweep.explore import run_explore  # noqa: E402
from accelsim.sweep.hypervolume import hypervolume, reference_point  # noqa: E402

from explore_helpers import fake_simulate, spec  # noqa: E402


# ------------------------------------------------------------------ hypervolume
def test_hypervolume_hand_calculation():
    # staircase (1,3) (2,2) (3,1) under reference (4,4), both minimised: 3 + 2 + 1 = 6
    pts = [[1, 3], [2, 2], [3, 1], [3.5, 3.5]]
    assert hypervolume(pts, [4, 4], [False, False]) == pytest.approx(6.0, rel=1e-12)
    # the same with the second objective maximised (negated): identical area
    assert hypervolume([[1, -3], [2, -2], [3, -1]], [4, -4], [False, True]) == pytest.approx(6.0, rel=1e-12)
    # 3-D unit cubes: (0,0,1) and (1,1,0) under (2,2,2): 4 + 2 - 1 (overlap [1,2]^2x[1,2]) = 5
    assert hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2], [False] * 3) == pytest.approx(5.0, rel=1e-12)
    # points not better than the reference, and NaN rows, add nothing
    assert hypervolume([[5, 1], [np.nan, 0]], [4, 4], [False, False]) == 0.0


def test_reference_point_margins():
    # worst energy 2 -> 2.2 (x1.1); worst throughput 10 -> 9 (x0.9)
    ref = reference_point([[1, 30], [2, 10], [np.nan, 5]], [False, True])
    assert ref == pytest.approx([2.2, 9.0], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(0, 1, allow_nan=False)] * 3), min_size=1, max_size=25),
       st.integers(2, 3))
def test_hypervolume_matches_optuna(points, m):
    """Independent implementation: Optuna's WFG hypervolume (minimisation), to 1e-9 relative."""
    from optuna._hypervolume import compute_hypervolume

    pts = np.array(points)[:, :m]
    ref = np.full(m, 1.1)
    ours = hypervolume(pts, ref, [False] * m)
    theirs = compute_hypervolume(pts, ref)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ runs
def _front(df: pd.DataFrame) -> list:
    return sorted(df.attrs["front"])


def _trials(df: pd.DataFrame) -> list:
    cols = ["trial", "arch", "energy_per_op_j", "throughput_ops_per_s_per_mm2", "feasible"]
    return [tuple(r) for r in df[cols].astype(str).itertuples(index=False)]


def test_explore_runs_budget_and_output(tmp_path):
    df = run_explore(spec(24), output=tmp_path / "r.csv", simulate=fake_simulate, workers=1)
    st_ = df.attrs["explore"]
    # the budget is counted in evaluations: exactly 24 points simulated or unmappable
    assert st_["evaluations"] == 24
    assert df["trial"].nunique() == 24 + st_["skipped"]
    assert (tmp_path / "r.study.db").is_file() and (tmp_path / "r.front.csv").is_file()
    back = pd.read_csv(tmp_path / "r.csv")
    assert len(back) == len(df) and {"trial", "feasible", "violated"} <= set(back.columns)
    # unmappable points are kept, marked infeasible, with their reason
    bad = df[df["error"].fillna("") != ""]
    assert (~bad["feasible"]).all() and st_["unmappable"] == len(bad)
    # the front is the Pareto set of the feasible rows (same objectives)
    from accelsim import pareto

    feas = df[df["feasible"]]
    assert sorted(pareto(feas, by=None)["trial"]) == _front(df)


def test_constraints_kept_and_marked(tmp_path):
    s = spec(30, constraints=["k0 == c0", "area_mm2 <= 3", "latency_ms <= 1 for segformer-b0"])
    df = run_explore(s, simulate=fake_simulate, workers=1)  # in-memory study
    # parameter constraints are checked before simulating: such rows have no costs
    skipped = df[df["error"].fillna("").str.startswith("not simulated")]
    assert (skipped["k0"] != skipped["c0"]).sum() + (skipped["area_mm2"] > 3).sum() >= len(skipped) > 0
    assert skipped["latency_s"].isna().all() and (~skipped["feasible"]).all()
    assert set(skipped["violated"]) <= {"k0 == c0", "area_mm2 <= 3"}
    sim = df[~df.index.isin(skipped.index) & (df["error"].fillna("") == "")]
    assert (sim["k0"] == sim["c0"]).all() and (sim["area_mm2"] <= 3).all()
    # the result constraint marks, never drops: rows over 1 ms stay, infeasible, named
    slow = sim[sim["latency_s"] > 1e-3]
    assert (~slow["feasible"]).all() and slow["violated"].str.contains("latency_ms <= 1 for segformer-b0@256x256").all()
    fast = sim[sim["latency_s"] <= 1e-3]
    assert fast["feasible"].all()
    assert set(df.attrs["front"]) <= set(fast["trial"])


def test_weighted_and_per_workload_objectives(tmp_path):
    s = spec(12)
    s["workloads"] = [{"name": "segformer-b0", "input": "256x256"}, {"name": "segformer-b0", "input": "128x128"}]
    s["explore"]["objectives"] = [
        {"column": "latency_ms", "sense": "min", "workload": "segformer-b0@128x128"},
        {"column": "energy_uj", "sense": "min", "weights": {"segformer-b0@256x256": 3, "segformer-b0@128x128": 1}}]
    df = run_explore(s, simulate=fake_simulate, workers=1)
    ft = pd.DataFrame(df.attrs["front_table"])
    t = ft.iloc[0]
    rows = df[df["trial"] == t["trial"]].set_index("workload")
    # per workload: that workload's latency in ms; weighted: (3 E_256 + 1 E_128) / 4 in uJ
    assert t["latency_ms[segformer-b0@128x128]"] == pytest.approx(rows.loc["segformer-b0@128x128", "latency_s"] * 1e3,
                                                                  rel=1e-12)
    want = (3 * rows.loc["segformer-b0@256x256", "energy_j"] + rows.loc["segformer-b0@128x128", "energy_j"]) / 4 * 1e6
    assert t["energy_uj"] == pytest.approx(want, rel=1e-12)


def test_resume_equals_uninterrupted(tmp_path):
    """A study stopped by its budget at a batch boundary (16 = 4 batches of 4) and resumed to 40
    proposes the same points as an uninterrupted one (kills: tests/test_explore_resume.py)."""
    whole = run_explore(spec(40), output=tmp_path / "a.csv", simulate=fake_simulate, workers=1)
    run_explore(spec(16), output=tmp_path / "b.csv", simulate=fake_simulate, workers=1)
    with pytest.raises(ConfigError, match="exists; add --resume"):
        run_explore(spec(40), output=tmp_path / "b.csv", simulate=fake_simulate, workers=1)
    resumed = run_explore(spec(40), output=tmp_path / "b.csv", simulate=fake_simulate, workers=1, resume=True)
    assert resumed.attrs["explore"]["evaluations"] == 40
    assert _trials(resumed) == _trials(whole)
    assert _front(resumed) == _front(whole)


def test_resume_refuses_another_space(tmp_path):
    run_explore(spec(8), output=tmp_path / "r.csv", simulate=fake_simulate, workers=1)
    s = spec(8)
    s["arch"]["grid"]["num_pe"] = [4, 8]
    with pytest.raises(ConfigError, match="made with another axes"):
        run_explore(s, output=tmp_path / "r.csv", simulate=fake_simulate, workers=1, resume=True)


def test_stall_budget_stops(tmp_path):
    s = spec(10_000, batch=4)
    s["explore"]["budget"] = {"stall": {"window": 30, "growth_pct": 0.5}, "evaluations": 400}
    df = run_explore(s, simulate=fake_simulate, workers=1)
    st_ = df.attrs["explore"]
    assert "hypervolume grew" in st_["stop"] and st_["evaluations"] < 400


def test_seconds_budget(tmp_path):
    s = spec(10_000)
    s["explore"]["budget"] = {"seconds": 0.5}
    df = run_explore(s, simulate=fake_simulate, workers=1)
    assert df.attrs["explore"]["stop"] == "0.5 s wall time"


# ------------------------------------------------------------------ bad input: one line, exit 2, nothing written
def _write(tmp_path, s):
    import yaml

    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(s))
    return p


BAD = [
    ("unknown parameter", lambda s: s["arch"]["grid"].update(num_pes=[1, 2]), [], "unknown arch parameter(s) num_pes"),
    ("empty range", lambda s: s["arch"]["grid"].update(k0={"start": 64, "stop": 8, "step": 8}), [],
     "stop=8.0 is below start=64.0"),
    ("empty list", lambda s: s["arch"]["grid"].update(k0=[]), [], "arch.grid.k0: no values"),
    ("unsatisfiable", lambda s: s["explore"].update(constraints=["k0 > 64"]), [],
     "no point meets the parameter constraints (k0 > 64): checked every one of 1,600 points"),
    ("unknown objective", lambda s: s["explore"].update(objectives={"speed": "max", "energy": "min"}), [],
     "unknown result column 'speed'"),
    ("constraint workload", lambda s: s["explore"].update(constraints=["latency_ms <= 4 for resnet"]), [],
     "workload 'resnet' is not in the spec"),
    ("bad url", lambda s: None, ["--storage", "nosuchdb://x"], "unknown database kind 'nosuchdb'"),
    ("not a url", lambda s: None, ["--storage", "not a url"], "not a database URL"),
    ("memory sqlite", lambda s: None, ["--storage", "sqlite://"], "give a SQLite file"),
    ("scheduler without dask", lambda s: None, ["--scheduler", "tcp://127.0.0.1:9"], "--scheduler needs --executor dask"),
]


@pytest.mark.parametrize("name,edit,args,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line(tmp_path, capsys, name, edit, args, message):
    s = spec(8)
    edit(s)
    path = _write(tmp_path, s)
    rc = main(["explore", str(path), "-o", str(tmp_path / "r.csv"), "--no-progress", *args])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]  # no study, no output


def test_not_a_database_file(tmp_path, capsys):
    path = _write(tmp_path, spec(8))
    (tmp_path / "x.db").write_text("hello")
    rc = main(["explore", str(path), "--storage", f"sqlite:///{tmp_path / 'x.db'}", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "not a SQLite database" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_scheduler_that_does_not_answer(tmp_path, capsys):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = _write(tmp_path, spec(8))
    rc = main(["explore", str(path), "-o", str(tmp_path / "r.csv"), "--executor", "dask",
               "--scheduler", f"tcp://127.0.0.1:{port}", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "cannot reach the dask scheduler" in err and "does not answer" in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_study_database_content(tmp_path):
    """The study is an ordinary Optuna RDB: readable with optuna, every trial finished."""
    import optuna

    run_explore(spec(12), output=tmp_path / "r.csv", simulate=fake_simulate, workers=1)
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'r.study.db'}")
    states = {t.state.name for t in study.trials}
    assert states <= {"COMPLETE", "FAIL"}
    meta = json.loads(json.dumps(study.user_attrs["accelsim-explore"]))
    assert meta["batch"] == 4 and meta["sampler"] == "tpe"
    con = sqlite3.connect(tmp_path / "r.study.db")
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert math.isfinite(study.trials[0].values[0]) if study.trials[0].values else True


def test_table_works_with_plots_and_report(tmp_path):
    """The results table is a sweep table: read back, plotted and tabulated unchanged."""
    from accelsim import pareto, read_results
    from accelsim.plots import plot_energy_throughput
    from accelsim.report.build import pareto_table, sweep_table

    run_explore(spec(12), output=tmp_path / "r.csv", simulate=fake_simulate, workers=1)
    df = read_results(tmp_path / "r.csv")
    fig = plot_energy_throughput(df, path=tmp_path / "p.png")
    assert fig is not None and (tmp_path / "p.png").stat().st_size > 1000
    on_front = pareto(df, mask=True)
    assert on_front.sum() >= 1
    assert len(sweep_table(df, on_front)) == len(df)
    cell = pareto_table(df, on_front).iloc[0, 1]
    assert sorted(cell.split(", ")) == sorted(df.loc[on_front, "arch"])


def test_progress_bar_fields(capsys):
    """The bar shows evaluations (of the budget), feasible points, front size and hypervolume."""
    run_explore(spec(8), simulate=fake_simulate, workers=1, progress=True)
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert "8/8" in last and "feasible=" in last and "front=" in last and "hv=" in last, last


def test_world_writable_cache_folder_is_refused(tmp_path, capsys):
    """As for sweeps (docs/sweeps.md, cache): a folder anyone may write could hold planted costs."""
    from accelsim.cli.main import main

    cache = tmp_path / "open"
    cache.mkdir()
    cache.chmod(0o777)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\narch: {base: E, grid: {num_pe: [8, 16]}}\nworkloads: [segformer-b0]\n"
                    f"cache: {cache}\nexplore: {{objectives: {{energy_per_op: min, throughput_per_mm2: max}}, "
                    "budget: {evaluations: 2}}\n")
    assert main(["explore", str(spec), "-o", str(tmp_path / "r.csv")]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and "writable by every user and not sticky" in err[0]
    assert not (tmp_path / "r.csv").exists()
