"""Sweep engine: spec expansion, chunking, streaming, resume after SIGKILL, executor equivalence.

The engine is tested with a fake, deterministic ``simulate`` injected through
``run_sweep(simulate=...)`` so these tests do not depend on the cost model's speed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accelsim.errors import ConfigError
from accelsim.sweep import RESULT_COLUMNS, run_sweep
from accelsim.sweep.runner import make_chunks, plan_sweep
from accelsim.sweep.store import read_csv_rows

HERE = Path(__file__).resolve().parent


@dataclass
class FakeResult:
    macs: int
    latency_s: float
    energy_j: float
    area_mm2: float
    utilization: float
    layers: pd.DataFrame


def fake_simulate(workload, arch, objective="latency", max_candidates=None, memo=None, scope="accelerator",
                  tolerance=0.01):
    """A closed-form stand-in for accelsim.simulate: one 'cost' per layer, memoised by shape."""
    rows = []
    for layer in workload.layers:
        if not layer.macs:
            continue
        key = (layer.shape_key(), arch.name, scope, objective, tolerance, max_candidates)
        if memo is not None and key in memo:
            cyc = memo[key]
        else:
            cyc = layer.macs / (arch.num_pe * min(arch.k0, layer.k) * min(arch.c0, layer.c_per_group))
            if memo is not None:
                memo[key] = cyc
        rows.append({"name": layer.name, "op": layer.op.value, "macs": layer.macs, "cycles": cyc,
                     "latency_s": cyc / (arch.frequency_ghz * 1e9), "energy_j": layer.macs * 1e-13 * arch.k0 / 32,
                     "utilization": 0.5, "bound": "compute"})
    df = pd.DataFrame(rows)
    delay = float(os.environ.get("ACCELSIM_FAKE_DELAY", "0"))
    if delay:
        time.sleep(delay)
    log = os.environ.get("ACCELSIM_FAKE_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{arch.name}|{workload.name}|{workload.exec_path}\n")
    return FakeResult(int(df["macs"].sum()), float(df["latency_s"].sum()), float(df["energy_j"].sum()),
                      arch.num_pe * 0.1, 0.5, df)


SPEC = {
    "arch": {"base": "E", "grid": {"num_pe": [4, 8, 16], "k0": [16, 32], "c0": [16, 32]},
             "constraints": ["k0 == c0"]},
    "workloads": [{"name": "segformer-b0", "input": "128x128", "classes": 19},
                  {"name": "segformer-b1", "input": "64x64"}],
    "objective": "latency",
}


def test_rows_columns_and_values(tmp_path):
    df = run_sweep(SPEC, output=tmp_path / "r.csv", workers=1, simulate=fake_simulate)
    # 3 num_pe x 2 (k0 == c0) archs x 2 workloads
    assert len(df) == 12
    assert list(df.columns) == RESULT_COLUMNS
    assert df["workload"].tolist()[:2] == ["segformer-b0@128x128/19cls", "segformer-b1@64x64"]
    row = df.iloc[0]
    # op = 2 MACs (SPEC.md section 1); exact arithmetic on the row's own numbers
    assert row["energy_per_op_j"] == pytest.approx(row["energy_j"] / (2 * row["macs"]), rel=1e-12)
    assert row["throughput_ops_per_s_per_mm2"] == pytest.approx(
        2 * row["macs"] / row["latency_s"] / row["area_mm2"], rel=1e-12)
    assert (df["exec_path"] == "").all()
    # the file on disk is what was returned
    back = read_csv_rows(tmp_path / "r.csv")
    assert len(back) == 12 and back["arch"].tolist() == df["arch"].tolist()


def test_chunks_keep_archs_together():
    plan = plan_sweep(SPEC)
    chunks = make_chunks(list(plan.points), workers=2)
    assert sum(len(c) for c in chunks) == len(plan.points)
    for c in chunks:  # an arch never straddles two chunks
        others = [p.arch.name for d in chunks if d is not c for p in d]
        assert not {p.arch.name for p in c} & set(others)


def test_identical_across_executors(tmp_path):
    """Bit-for-bit equal files: in-process, 2 local processes, Dask LocalCluster."""
    pytest.importorskip("distributed", reason="the dask executor needs the dask extra")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    outs = []
    for name, kw in [("one", dict(workers=1)), ("two", dict(workers=2, chunk_size=1)),
                     ("dask", dict(workers=2, executor="dask", chunk_size=2))]:
        out = tmp_path / f"{name}.csv"
        run_sweep(SPEC, output=out, simulate=fake_simulate, **kw)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_parquet_and_layers(tmp_path):
    df = run_sweep(SPEC, output=tmp_path / "r.parquet", layers=tmp_path / "l.csv", workers=1,
                   simulate=fake_simulate)
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back["latency_s"].tolist() == df["latency_s"].tolist()
    assert not (tmp_path / "r.parquet.partial.csv").exists()
    lay = read_csv_rows(tmp_path / "l.csv")
    # per-point layer latencies sum to the point's latency (the fake sums them); 1e-12 = float rounding
    g = lay.groupby(["arch", "workload"], sort=False)["latency_s"].sum()
    for _, r in df.iterrows():
        assert g[(r["arch"], r["workload"])] == pytest.approx(r["latency_s"], rel=1e-12)


def test_disk_cache_reused(tmp_path):
    cache = tmp_path / "cache"
    a = run_sweep(SPEC, workers=1, cache=cache, simulate=fake_simulate)
    assert a.attrs["sweep"]["memo_hits"] > 0  # repeated SegFormer blocks share shapes
    b = run_sweep(SPEC, workers=1, cache=cache, simulate=fake_simulate)
    # warm cache: every layer lookup hits, none is recomputed
    assert b.attrs["sweep"]["memo_misses"] == 0
    pd.testing.assert_frame_equal(a, b)


def test_resume_skips_finished_and_drops_stale(tmp_path):
    out = tmp_path / "r.csv"
    full = run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    # keep 5 rows, corrupt the last one's parameter, cut a line in half
    text = out.read_text().splitlines(keepends=True)
    kept = text[:6]
    kept[-1] = kept[-1].replace(",16,", ",17,", 1)  # stale: num_pe no longer matches
    out.write_text("".join(kept) + text[6][:20])
    log = tmp_path / "calls.log"
    os.environ["ACCELSIM_FAKE_LOG"] = str(log)
    try:
        again = run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    finally:
        del os.environ["ACCELSIM_FAKE_LOG"]
    assert again.attrs["sweep"]["resumed"] == 4
    assert len(log.read_text().splitlines()) == 8
    assert out.read_bytes() == _bytes_of(full, tmp_path)


def _bytes_of(df, tmp_path):
    p = tmp_path / "ref.csv"
    df.to_csv(p, index=False)
    return p.read_bytes()


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from test_sweep_engine import SPEC, fake_simulate
    from accelsim.sweep import run_sweep
    run_sweep(SPEC, output=sys.argv[1], workers=int(sys.argv[2]), chunk_size=1, simulate=fake_simulate)
""")


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_after_sigkill(tmp_path, workers):
    """Kill a running sweep with SIGKILL, re-run: one row per point, finished points not recomputed."""
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT.format(here=str(HERE)))
    out, log = tmp_path / "r.csv", tmp_path / "calls.log"
    env = {**os.environ, "ACCELSIM_FAKE_DELAY": "0.25", "ACCELSIM_FAKE_LOG": str(log)}
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(workers)], env=env,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= 4:  # header + 3 rows
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = read_csv_rows(out)
    done = {(a, w.split("@")[0]) for a, w in zip(first["arch"], first["workload"])}
    assert 3 <= len(done) < 12, "the sweep was not killed mid-way"
    log.unlink()
    env["ACCELSIM_FAKE_DELAY"] = "0"
    subprocess.run([sys.executable, str(script), str(out), str(workers)], env=env, check=True)
    final = read_csv_rows(out)
    assert len(final) == 12 and not final.duplicated(["arch", "workload", "exec_path"]).any()
    recomputed = [tuple(line.split("|")[:2]) for line in log.read_text().splitlines()]
    # exactly the unfinished points were computed again, none of the finished ones
    assert len(recomputed) == 12 - len(done)
    assert not done & set(recomputed)
    ref = run_sweep(SPEC, workers=1, simulate=fake_simulate)
    pd.testing.assert_frame_equal(final, ref)


def failing_simulate(workload, arch, objective="latency", max_candidates=None, memo=None, **settings):
    """Like fake_simulate, but 4-PE arrays cannot map SegFormer-B1 (a user-level error).

    Every call, failing or not, is logged to ``ACCELSIM_FAKE_LOG`` when set.
    """
    from accelsim.errors import AccelsimError

    if arch.num_pe == 4 and workload.variant == "b1":
        log = os.environ.get("ACCELSIM_FAKE_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{arch.name}|{workload.name}|{workload.exec_path}\n")
        raise AccelsimError(f"layer x cannot be mapped on arch {arch.name}:\n  its tile does not fit")
    return fake_simulate(workload, arch, objective, max_candidates, memo)


def _logged_run(log: Path, **kw) -> tuple[pd.DataFrame, list[str]]:
    """run_sweep with failing_simulate; the points simulate was called for."""
    if log.exists():
        log.unlink()
    os.environ["ACCELSIM_FAKE_LOG"] = str(log)
    try:
        df = run_sweep(SPEC, workers=1, simulate=failing_simulate, **kw)
    finally:
        del os.environ["ACCELSIM_FAKE_LOG"]
    return df, (log.read_text().splitlines() if log.exists() else [])


def test_unmappable_points_keep_their_row_and_reason(tmp_path):
    df = run_sweep(SPEC, output=tmp_path / "r.csv", workers=1, simulate=failing_simulate)
    bad = df["latency_s"].isna()
    # 2 archs have 4 PEs (k0 = c0 = 16 or 32), each fails on SegFormer-B1 only
    assert bad.sum() == 2 and df.attrs["sweep"]["failed"] == 2 and len(df) == 12
    assert (df.loc[bad, "num_pe"] == 4).all() and (df.loc[bad, "macs"] > 0).all()
    # the reason is kept, on one line; successful points have an empty error
    assert (df.loc[bad, "error"] == df.loc[bad, "arch"].map(
        lambda a: f"layer x cannot be mapped on arch {a}: its tile does not fit")).all()
    assert (df.loc[~bad, "error"] == "").all()
    assert (df["objective"] == "latency").all() and df["max_candidates"].isna().all()
    assert "cannot be mapped" in df.attrs["sweep"]["first_error"]
    assert df.attrs["sweep"]["first_error"].startswith(df.loc[bad, "arch"].iloc[0] + " x segformer-b1")
    # the error column survives the file round trip (text, empty for successes)
    back = read_csv_rows(tmp_path / "r.csv")
    assert back["error"].tolist() == df["error"].tolist()


@pytest.mark.parametrize("with_layers", [False, True])
def test_resume_keeps_unmappable_points(tmp_path, with_layers):
    """A finished point with an error is finished: a re-run computes nothing (no layer rows needed)."""
    out, log = tmp_path / "r.csv", tmp_path / "calls.log"
    layers = tmp_path / "l.csv" if with_layers else None
    first, calls = _logged_run(log, output=out, layers=layers)
    assert len(calls) == 12 and first.attrs["sweep"]["failed"] == 2
    before = out.read_bytes()
    again, calls = _logged_run(log, output=out, layers=layers)
    assert calls == [] and again.attrs["sweep"]["computed"] == 0 and again.attrs["sweep"]["resumed"] == 12
    assert again.attrs["sweep"]["failed"] == 2  # kept error rows are still counted
    assert out.read_bytes() == before


def test_disk_cache_remembers_unmappable_points(tmp_path):
    """Without an output file, a warm disk cache answers failing points without simulating them."""
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    cold, calls = _logged_run(log, cache=cache)
    failing = {c for c in calls if c.startswith("E[num_pe=4") and "segformer-b1" in c}
    assert len(calls) == 12 and len(failing) == 2
    # the fake simulate is called again for mappable points (it logs even on memo hits), never for failing ones
    warm, calls = _logged_run(log, cache=cache)
    assert len(calls) == 10 and not failing & set(calls)
    assert warm.attrs["sweep"]["memo_misses"] == 0 and warm.attrs["sweep"]["failed"] == 2
    pd.testing.assert_frame_equal(cold, warm)
    # another objective is another cache entry: its failing points are simulated again
    _, calls = _logged_run(log, cache=cache, objective="energy")
    assert failing <= set(calls)


@pytest.mark.parametrize("change, message", [
    (dict(objective="energy"), "computed with objective=latency, this sweep asks for objective=energy"),
    (dict(max_candidates=50), "computed with max_candidates=none, this sweep asks for max_candidates=50"),
])
def test_resume_refuses_other_settings(tmp_path, change, message):
    out = tmp_path / "r.csv"
    run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    before = out.read_bytes()
    with pytest.raises(ConfigError, match="use --overwrite") as info:
        run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate, **change)
    assert message in str(info.value) and str(out) in str(info.value) and "\n" not in str(info.value)
    assert out.read_bytes() == before  # nothing touched
    df = run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate, overwrite=True, **change)
    key = next(iter(change))
    assert (df[key] == change[key]).all() and len(df) == 12


def test_resume_refuses_a_file_without_the_settings(tmp_path):
    out = tmp_path / "r.csv"
    df = run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    df.drop(columns=["objective"]).to_csv(out, index=False)  # a file written before the column existed
    with pytest.raises(ConfigError, match="no column 'objective'"):
        run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
