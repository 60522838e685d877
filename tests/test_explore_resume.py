"""explore survives kill -9 at any moment, and two processes share one study.

Real subprocesses run ``tests/explore_helpers.py`` (an exploration whose evaluations are
``fake_simulate``, slowed to 30 ms each so kills land mid-run) on a SQLite study.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from accelsim.sweep.explore import run_explore  # noqa: E402

from explore_helpers import fake_simulate, spec  # noqa: E402

HELPER = Path(__file__).with_name("explore_helpers.py")
ROOT = Path(__file__).resolve().parents[1]


def _env(log: Path, delay: float) -> dict:
    env = dict(os.environ, ACCELSIM_TEST_DELAY=str(delay), ACCELSIM_TEST_LOG=str(log),
               PYTHONPATH=os.pathsep.join([str(ROOT), str(HELPER.parent)]))
    return env


def _start(out: Path, evals: int, log: Path, delay: float, resume: bool) -> subprocess.Popen:
    args = [sys.executable, str(HELPER), str(out), str(evals)] + (["--resume"] if resume else [])
    return subprocess.Popen(args, env=_env(log, delay), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _study(out: Path):
    import optuna

    return optuna.load_study(study_name="t", storage=f"sqlite:///{out.with_name(out.stem + '.study.db')}")


def _evaluated(study) -> list:
    return [t for t in study.trials if (t.user_attrs.get("meta") or {}).get("kind") == "evaluate"]


def _table(df):
    """The evaluated points in trial order. Trial numbers themselves are left out: a kill in
    the middle of an ask leaves an aborted trial (FAIL, not counted), which takes a number."""
    cols = ["arch", "energy_per_op_j", "throughput_ops_per_s_per_mm2", "feasible"]
    return [tuple(r) for r in df.sort_values("trial", kind="stable")[cols].astype(str).itertuples(index=False)]


@pytest.mark.slow
def test_kill9_resume_equals_uninterrupted(tmp_path):
    evals = 40
    whole = run_explore(spec(evals), output=tmp_path / "whole.csv", simulate=fake_simulate, workers=1)
    out, log = tmp_path / "killed.csv", tmp_path / "calls.log"
    kills = 0
    # kill points: 1 s after the start (importing, planning), then once the study has logged
    # 6, 16 and 26 finished simulations, at three different delays after that
    for lines, delay in ((0, 1.0), (6, 0.05), (16, 0.11), (26, 0.0)):
        proc = _start(out, evals, log, 0.03, resume=True)
        deadline = time.monotonic() + 120
        while lines and proc.poll() is None and time.monotonic() < deadline and _lines(log) < lines:
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
    proc = _start(out, evals, log, 0.03, resume=True)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-2000:]
    assert kills >= 3  # the run was really interrupted
    final = json.loads(stdout.strip().splitlines()[-1])
    assert final["evaluated_here"] < evals  # the killed runs had evaluated points that were kept
    study = _study(out)
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "FAIL"}  # nothing left running
    done = _evaluated(study)
    # exactly the budget evaluated, each point once
    assert len(done) == evals
    assert len({tuple(sorted(t.params.items())) for t in done}) == evals
    # simulations actually run: every evaluated point; a point runs twice only when a kill
    # hit it between its simulation and the write of its rows (at most one per kill)
    calls = Counter(line.split()[1] for line in log.read_text().splitlines())
    assert set(calls) == {r for r in whole["arch"]} - set(whole.loc[whole["error"].fillna("") != "", "arch"])
    assert sum(calls.values()) - len(calls) <= kills
    # the same points, values and front as the uninterrupted run (compared by point: see _table)
    from accelsim import read_results

    resumed = read_results(out)
    assert _table(resumed) == _table(whole)
    front = read_results(out.with_name("killed.front.csv"))
    front_of_whole = whole.loc[whole["trial"].isin(whole.attrs["front"]), "arch"]
    assert sorted(set(front["arch"])) == sorted(set(front_of_whole))
    con = sqlite3.connect(out.with_name("killed.study.db"))
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_two_processes_share_a_study(tmp_path):
    evals = 40
    out, log = tmp_path / "shared.csv", tmp_path / "calls.log"
    first = _start(out, evals, log, 0.1, resume=True)
    deadline = time.monotonic() + 120  # the second joins a study the first is running
    while first.poll() is None and _lines(log) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    procs = [first, _start(out, evals, log, 0.1, resume=True)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0, stderr[-2000:]
    study = _study(out)
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "FAIL"}
    done = _evaluated(study)
    assert len(done) == evals  # the budget is shared, not doubled
    assert len({tuple(sorted(t.params.items())) for t in done}) == evals  # no point evaluated twice
    owners = Counter(t.user_attrs["meta"]["owner"] for t in done)
    assert len(owners) == 2 and min(owners.values()) >= 4, owners  # both took trials
    calls = Counter(line.split()[1] for line in log.read_text().splitlines())
    assert max(calls.values()) == 1  # no simulation repeated
    stats = [json.loads(r[0].strip().splitlines()[-1]) for r in results]
    assert sum(s["evaluated_here"] for s in stats) == evals
    from accelsim import read_results

    table = read_results(out)
    assert table[table["error"].fillna("") == ""]["trial"].nunique() + table[
        table["error"].fillna("") != ""]["trial"].nunique() >= evals
    con = sqlite3.connect(out.with_name("shared.study.db"))
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
