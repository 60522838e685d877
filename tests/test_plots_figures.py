"""Every plot function renders a non-empty image from a small sweep (real cost model, tiny workload)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import accelsim
from accelsim.errors import AccelsimError
from accelsim.plots import (mac_shares, plot_accuracy_tradeoff, plot_energy_throughput, plot_gpu_share,
                            plot_layer_breakdown, plot_layer_energy_per_op, plot_mac_distribution)
from accelsim.sweep import run_sweep


@pytest.fixture(scope="module")
def sweep():
    return run_sweep({"arch": "A..F", "workloads": [{"name": "segformer-b0", "input": "64x64"},
                                                      {"name": "segformer-b1", "input": "64x64"}]}, workers=1)


@pytest.fixture(scope="module")
def result():
    wl = accelsim.load_workload("segformer-b0", input_size=(64, 64))
    return accelsim.simulate(wl, accelsim.load_arch("E"))


def assert_image(path):
    """A PNG with more than one colour (something was drawn) and a matching SVG."""
    img = imread(path.with_suffix(".png"))
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img[..., :3].std() > 0.05
    svg = path.with_suffix(".svg").read_text()
    assert svg.startswith("<?xml") and "<path" in svg


def test_energy_throughput(sweep, tmp_path):
    fig = plot_energy_throughput(sweep, named=["C"], path=tmp_path / "et")
    assert_image(tmp_path / "et")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    # labelled: each workload's Pareto-optimal configs, and the named one in both workloads
    front = accelsim.pareto(sweep)
    named = ["C" for w in sweep["workload"].unique() if "C" not in set(front.loc[front["workload"] == w, "arch"])]
    assert texts == sorted(list(front["arch"]) + named)


def test_layer_figures(result, tmp_path):
    plot_layer_breakdown(result, title="SegFormer-B0 on E", path=tmp_path / "lb")
    assert_image(tmp_path / "lb")
    fig = plot_layer_energy_per_op(result.layers, path=tmp_path / "epo")
    assert_image(tmp_path / "epo")
    heights = [p.get_height() for p in fig.axes[0].patches]
    # sorted high to low and normalised: the first bar is exactly 1
    assert heights[0] == 1.0 and heights == sorted(heights, reverse=True)


def test_mac_distribution(tmp_path):
    wl = accelsim.load_workload("segformer-b0", input_size=(64, 64))
    plot_mac_distribution(wl, path=tmp_path / "macs")
    assert_image(tmp_path / "macs")
    shares = mac_shares(wl)
    # shares add up to one and the MACs to the workload's total (same numbers, rounding only)
    assert shares["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert shares["macs"].sum() == wl.macs


def test_accuracy_tradeoff(sweep, tmp_path):
    df = sweep.assign(accuracy=np.linspace(0.3, 0.45, len(sweep)), accuracy_metric="miou",
                      exec_path=[f"fuse_in={64 * (i + 1)}" for i in range(len(sweep))])
    plot_accuracy_tradeoff(df, path=tmp_path / "acc.png")
    assert (tmp_path / "acc.png").stat().st_size > 5000


def test_gpu_share(tmp_path):
    from accelsim import gpu

    for size in (256, 512):
        frame = pd.DataFrame({"name": ["conv", "attn"], "op": ["conv2d", "matmul"],
                              "macs": [900 * size, 100 * size], "median_s": [1e-4, 3e-4]})
        gpu.write(gpu.Measurement(frame, {"kind": "per-layer", "device_name": "test GPU", "dtype": "fp16",
                                          "workload": "toy", "input": f"{size}x{size}", "exec_path": ""}),
                  tmp_path / f"m{size}.csv")
    plot_gpu_share(tmp_path, path=tmp_path / "share")
    assert_image(tmp_path / "share")


def test_clear_errors(tmp_path):
    with pytest.raises(AccelsimError, match="need column"):
        plot_energy_throughput(pd.DataFrame({"arch": ["A"]}))
    with pytest.raises(AccelsimError, match="measurement file not found"):
        plot_gpu_share(tmp_path / "none")
    with pytest.raises(AccelsimError, match="not supported"):
        plot_mac_distribution(accelsim.load_workload("segformer-b0", input_size=(64, 64)), path=tmp_path / "x.gif")
