"""GPU baseline data layer: file round trip, loading, conv shares, table, timing statistics,
NVML energy arithmetic. None of these need torch."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import accelsim.gpu as gpu
from accelsim.errors import AccelsimError
from accelsim.gpu.data import README_END, README_START, Measurement
from accelsim.gpu.device import Target
from accelsim.gpu.energy import measure_energy
from accelsim.gpu.timing import median_ci, summarize
from accelsim.workload.registry import load_workload


def _meta(**kw):
    base = {"harness_version": "1.0", "kind": "per-layer", "label": "CPU (not a GPU measurement)",
            "device": "cpu", "device_name": "CPU test", "dtype": "fp32", "workload": "w",
            "input": "64x96", "exec_path": "none", "timing": {"rel_ci": 0.02, "graphs": True}}
    base.update(kw)
    return base


def _frame(ops, macs, times, fn=None):
    n = len(ops)
    return pd.DataFrame({"name": [f"l{i}" for i in range(n)], "op": ops, "fn": fn or [""] * n,
                         "stage": ["0"] * n, "fused": [False] * n, "macs": macs, "median_s": times,
                         "energy_j": [math.nan] * n, "rel_ci": [0.1 / 3] * n})


def test_write_read_round_trips_frame_and_meta(tmp_path):
    m = Measurement(_frame(["conv2d", "linear", "eltwise"], [10, 20, 0], [1e-6, 2.5e-7, 1 / 3],
                           fn=["", "", "gelu"]), _meta())
    back = gpu.read(gpu.write(m, tmp_path / "a.csv"))
    # exact round trip: floats are written with repr precision, text columns stay text ('0', '')
    pd.testing.assert_frame_equal(back.frame, m.frame)
    assert back.meta == m.meta


def test_load_glob_adds_metadata_columns(tmp_path):
    for size in ("64x96", "128x128"):
        gpu.write(Measurement(_frame(["conv2d"], [4], [1e-3]), _meta(input=size)), tmp_path / f"{size}.csv")
    df = gpu.load(str(tmp_path / "*.csv"))
    assert len(df) == 2 and set(df["input_h"]) == {64, 128} and set(df["input_w"]) == {96, 128}
    assert set(df["device_name"]) == {"CPU test"} and len(df.attrs["meta"]) == 2
    assert len(gpu.load(tmp_path)) == 2  # a directory loads its CSV files


def test_load_errors_are_one_line_user_errors(tmp_path):
    with pytest.raises(AccelsimError, match="no GPU measurement files match"):
        gpu.load(str(tmp_path / "*.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("name,op\nx,conv2d\n")
    with pytest.raises(AccelsimError, match="not an accelsim GPU measurement"):
        gpu.read(bad)


def test_conv_shares_hand_calculation(tmp_path):
    # conv 60 + dwconv 20 of 100 MACs -> 0.8; conv time 1 + 1 of 1 + 1 + 3 + 5 s -> 0.2
    df = _frame(["conv2d", "dwconv2d", "linear", "resize"], [60, 20, 20, 0], [1.0, 1.0, 3.0, 5.0])
    gpu.write(Measurement(df, _meta()), tmp_path / "a.csv")
    s = gpu.conv_shares(gpu.load(tmp_path / "a.csv")).iloc[0]
    assert s.conv_mac_share == pytest.approx(0.8, rel=1e-12)
    assert s.conv_time_share == pytest.approx(0.2, rel=1e-12)
    assert s.latency_s == pytest.approx(10.0) and s.tflops == pytest.approx(2 * 100 / 10 / 1e12)


@pytest.mark.parametrize("name", ["segformer-b0", "swin-t-upernet", "segmenter-vit-ti16-linear",
                                  "resnet50"])
def test_conv_share_same_rule_for_every_family(tmp_path, name):
    # Independent reference: the IR's own macs_by_op (conv2d + dwconv2d) and a synthetic time
    # per layer (1 ns per MAC + 1 us); the share must follow one rule whatever the family.
    wl = load_workload(name, input_size=(64, 64))
    ir = wl.to_frame()
    times = ir["macs"] * 1e-9 + 1e-6
    df = pd.DataFrame({"name": ir["name"], "op": ir["op"], "fused": ir["fused"], "macs": ir["macs"],
                       "median_s": times})
    gpu.write(Measurement(df, _meta(workload=name)), tmp_path / "m.csv")
    s = gpu.conv_shares(gpu.load(tmp_path / "m.csv")).iloc[0]
    by_op = wl.macs_by_op()
    conv = by_op.get("conv2d", 0) + by_op.get("dwconv2d", 0)
    assert s.conv_mac_share == pytest.approx(conv / wl.macs, rel=1e-12)
    conv_t = times[ir["op"].isin(["conv2d", "dwconv2d"])].sum()
    assert s.conv_time_share == pytest.approx(conv_t / times.sum(), rel=1e-12)


def test_table_joins_whole_model_and_replaces_readme_block(tmp_path):
    gpu.write(Measurement(_frame(["conv2d", "linear"], [3e9, 1e9], [0.002, 0.002]), _meta()), tmp_path / "l.csv")
    whole = pd.DataFrame({"name": ["w"], "op": ["model"], "macs": [4e9], "median_s": [0.003]})
    gpu.write(Measurement(whole, _meta(kind="whole-model")), tmp_path / "w.csv")
    summary = gpu.whole_vs_layers(gpu.load(tmp_path / "*.csv"))
    assert summary["ratio"].iloc[0] == pytest.approx(0.003 / 0.004)  # whole / per-layer sum
    table = gpu.render_table(summary)
    assert "| 4.00 | 4.000 | 3.000 | 0.75 | 2.000 | 75.0% | 50.0% |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"# GPU\n\n{README_START}\nold\n{README_END}\n\ntail\n")
    gpu.update_readme(readme, table)
    gpu.update_readme(readme, table)  # idempotent
    text = readme.read_text()
    assert "old" not in text and text.count(README_START) == 1 and text.endswith("tail\n")


def test_median_ci_order_statistics():
    # n=9: ranks floor(4.5 - 2.94) = 1 and ceil(4.5 + 2.94) = 8 (0-based) of the sorted sample
    lo, hi = median_ci(list(range(9, 0, -1)))
    assert (lo, hi) == (2.0, 9.0)
    s = summarize([1.0, 2.0, 3.0, 4.0, 100.0], inner=1, buffers=2, stable=False, method="m")
    assert s.median_s == 3.0 and s.p10_s == pytest.approx(1.4) and s.p90_s == pytest.approx(61.6)


def test_energy_is_mean_power_times_time_per_call():
    calls = []
    e = measure_energy(lambda x: calls.append(x), [[1], [2]], Target("cpu", "fp32", "fp32"),
                       read_power_w=lambda: 50.0, min_seconds=0.05, interval_s=0.001)
    assert e.status == "measured" and e.power_w == 50.0 and e.calls == len(calls)
    # 50 W constant: energy per call = 50 W x loop seconds / calls (hand calculation)
    assert e.energy_j == pytest.approx(50.0 * e.seconds / e.calls, rel=1e-12)
    assert set(calls) == {1, 2}  # argument sets are rotated
    none = measure_energy(lambda x: None, [[1]], Target("cpu", "fp32", "fp32"), read_power_w=None)
    assert none.status.startswith("unavailable") and np.isnan(none.energy_j)
