"""Figures at design-space scale: labels only where they belong, never overlapping, nothing
dropped in silence, GPU paths beside the accelerator's."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.text import Text

import accelsim
from accelsim.cli.main import main
from accelsim.plots import (plot_accuracy_tradeoff, plot_energy_throughput, plot_gpu_share, plot_layer_breakdown,
                            plot_layer_energy_per_op, plot_mac_distribution)
from accelsim.plots.common import percent, unique_names
from accelsim.plots.labels import renderer_of
from accelsim.resources import project_root

GPU_DIR = project_root() / "reports" / "gpu"


def label_boxes(ax, texts=None):
    """Display boxes of the point labels of ``ax`` (the text only, not the leader line)."""
    fig = ax.figure
    r = renderer_of(fig)
    fig.draw(r)
    anns = [t for t in ax.texts if texts is None or t.get_text() in texts]
    return [(t.get_text(), Text.get_window_extent(t, r)) for t in anns], ax.get_window_extent(r)


def assert_clear(boxes, frame):
    """No two labels overlap and every label lies inside the axes."""
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), f"labels {a!r} and {b!r} overlap"
    for text, box in boxes:
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5, f"{text!r} leaves the axes"
        assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5, f"{text!r} leaves the axes"


def design_space(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` grid points split over 2 workloads, named like sweep grid points."""
    rng = np.random.default_rng(seed)
    k = -(-n // 2)
    names = [f"E[num_pe={8 * (1 + i % 8)},k0={16 * (1 + i % 3)},wb={i}]" for i in range(k)]
    return pd.DataFrame({
        "arch": [names[i % k] for i in range(n)], "workload": ["w1" if i < k else "w2" for i in range(n)],
        "exec_path": "", "throughput_ops_per_s_per_mm2": rng.uniform(0.5e12, 12e12, n),
        "energy_per_op_j": rng.uniform(200e-15, 500e-15, n)})


@pytest.mark.parametrize("n", [2, 13, 200, 2000])
def test_energy_throughput_labels_front_and_named_only(n, tmp_path):
    df = design_space(n)
    named = df["arch"].iloc[-1]
    fig = plot_energy_throughput(df, named=[named], path=tmp_path / "et.png")
    assert (tmp_path / "et.png").stat().st_size > 10_000
    ax = fig.axes[0]
    labelled = accelsim.pareto(df, mask=True) | (df["arch"] == named)
    point_labels = [t for t in ax.texts if t.get_text().isdigit()]
    assert len(point_labels) == labelled.sum() <= 40
    # long grid names are numbered; the table under the axes spells each one out once
    table = [line.split(": ", 1)[1] for t in ax.texts if ": E[" in t.get_text() for line in t.get_text().splitlines()]
    assert sorted(table) == sorted(set(df.loc[labelled, "arch"]))
    boxes, frame = label_boxes(ax, {t.get_text() for t in point_labels})
    assert_clear(boxes, frame)
    # markers shrink as points multiply, so 2000 points do not bury the front
    sizes = [c.get_sizes()[0] for c in ax.collections if len(c.get_offsets()) and c.get_facecolors().size
             and c.get_facecolors()[0][3] > 0]
    assert max(sizes) <= (26 if n <= 60 else 12 if n <= 600 else 4)


@pytest.fixture(scope="module")
def b0_result():
    return accelsim.simulate(accelsim.load_workload("segformer-b0", input_size=(128, 128)), accelsim.load_arch("E"))


def test_layer_breakdown_marks_parts_and_names_layers_unambiguously(b0_result):
    fig = plot_layer_breakdown(b0_result, title="b0")
    layers = b0_result.layers
    legend = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    for part in ("backbone", "decoder"):
        mine = layers["tag_part"] == part
        # shares computed here independently: the part's layers over the whole network
        t = layers.loc[mine, "latency_s"].sum() / layers["latency_s"].sum()
        e = layers.loc[mine, "energy_j"].sum() / layers["energy_j"].sum()
        assert f"{part} ({mine.sum()} layers): {percent(t)} of time, {percent(e)} of energy" in legend
    listed = [line.split(". ", 1)[1].rsplit(" (", 1)[0] for t in fig.axes[0].texts
              if t.get_text().startswith("largest layers") for line in t.get_text().splitlines()[1:]]
    assert len(listed) == 6 and len(set(listed)) == 6
    for short in listed:  # each names exactly one layer
        assert sum(n == short or n.endswith("." + short) for n in layers["name"]) == 1
    for ax in fig.axes:  # the rank numbers never overlap
        boxes, frame = label_boxes(ax, {str(i) for i in range(1, 7)})
        assert len(boxes) == 6
        assert_clear(boxes, frame)


@given(st.lists(st.lists(st.sampled_from(["a", "b", "0", "1", "mlp", "fc1"]), min_size=1, max_size=5)
                .map(".".join), min_size=1, max_size=30, unique=True))
def test_unique_names_are_unambiguous_suffixes(names):
    short = unique_names(names)
    assert len(set(short)) == len(names)
    for full, s in zip(names, short):
        assert full == s or full.endswith("." + s)


def test_energy_per_op_labels_tied_layers_once(b0_result):
    fig = plot_layer_energy_per_op(b0_result)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert 1 <= len(labels) <= 3
    # b0's depthwise convs tie at the top: one label counts them instead of one label each
    assert any(t.split(" x ")[0].isdigit() and "dwconv2d" in t for t in labels)
    boxes, frame = label_boxes(fig.axes[0], set(labels))
    assert_clear(boxes, frame)


def test_mac_shares_keep_their_digits(b0_result):
    fig = plot_mac_distribution(accelsim.load_workload("segformer-b2"))
    kinds = fig.axes[1]
    shares = {t.get_text() for t in kinds.texts}
    dw = accelsim.plots.mac_shares(accelsim.load_workload("segformer-b2")).set_index("op")["share"]["dwconv2d"]
    assert 0.001 < dw < 0.01 and percent(dw) in shares and "0%" not in shares
    assert [t.get_rotation() for t in kinds.get_yticklabels()] == [0.0] * len(kinds.get_yticklabels())
    assert percent(0.004) == "0.4%" and percent(0.9997) == "99.97%" and percent(0.69) == "69%"


def test_gpu_share_log_pixels_legend_off_the_data():
    fig = plot_gpu_share(GPU_DIR)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    r = renderer_of(fig)
    fig.draw(r)
    assert ax.get_legend().get_window_extent(r).y1 <= ax.get_window_extent(r).y0  # below the axes
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["128x128\n16K px", "256x256\n66K px", "384x384\n147K px"]


PATHS = pd.DataFrame({"workload": "segformer-b2", "arch": "E", "accuracy_metric": "miou",
                      "exec_path": ["", "variant=b0", "fuse_in=1920", "fuse_in=1800"],
                      "latency_s": [4e-3, 1e-3, 3e-3, 2e-3], "energy_j": [4e-2, 1e-2, 3e-2, 2e-2],
                      "accuracy": [0.4651, 0.374, 0.4565, "unknown"]})


def test_accuracy_plot_shows_unknown_points_and_names_the_metric(tmp_path):
    fig = plot_accuracy_tradeoff(PATHS, path=tmp_path / "a.png")
    main_ax, strip = fig.axes
    assert main_ax.get_ylabel() == "mIoU (%)"
    assert main_ax.get_title() == "segformer-b2 512x512 on E: latency vs accuracy"
    assert [len(c.get_offsets()) for c in strip.collections] == [1]
    # unknown points are unlabelled; one line counts them
    assert [t.get_text() for t in strip.texts] == ["1 point(s) without a published accuracy, unlabelled"]
    boxes, frame = label_boxes(main_ax, {"B2 (full model)", "B0 (retrained)", "fuse_in=1920"})
    assert len(boxes) == 3
    assert_clear(boxes, frame)
    import matplotlib.figure
    ax = matplotlib.figure.Figure().add_subplot()
    with pytest.warns(UserWarning, match="1 point\\(s\\) with unknown accuracy not plotted: fuse_in=1800"):
        plot_accuracy_tradeoff(PATHS, ax=ax)


def test_gpu_path_rows_from_the_cpu_example_data():
    from accelsim.gpu.tradeoff import path_rows

    rows = path_rows(GPU_DIR)
    assert len(rows) == 7  # per-layer files: b0@256, b2@128/256/384, swin-t@128/256/384
    f = GPU_DIR / "cpu-amd-epyc_segformer-b2_256x256_fp32.csv"
    # independent: plain pandas on the file's table
    want = pd.read_csv(f, comment="#")["median_s"].sum()
    got = rows[(rows["workload"] == "segformer-b2") & (rows["input"] == "256x256")].iloc[0]
    assert got["latency_s"] == pytest.approx(want, rel=1e-12)
    assert got["whole_model_s"] > 0 and np.isnan(got["energy_j"])  # whole-model file exists; no NVML on a CPU
    assert set(rows["accuracy"]) == {"unknown"}  # nothing is published at these input sizes


def test_gpu_path_rows_carry_published_accuracy(tmp_path):
    from accelsim import gpu
    from accelsim.gpu.tradeoff import path_rows

    for path, name, t in (("", "segformer-b2", 0.02), ("variant=b0", "segformer-b0", 0.006)):
        frame = pd.DataFrame({"name": ["a", "b"], "op": ["conv2d", "matmul"], "macs": [10, 20],
                              "median_s": [t / 2, t / 2], "status": "ok"})
        gpu.write(gpu.Measurement(frame, {"kind": "per-layer", "device_name": "GPU X", "dtype": "fp16",
                                          "label": "GPU X", "workload": name, "input": "512x512",
                                          "exec_path": path or "none", "num_classes": 150}),
                  tmp_path / f"{name}.csv")
    rows = path_rows(tmp_path).set_index("exec_path")
    # published mIoU (accelsim/data/accuracy.csv: SegFormer paper Table 2 / Sreedhar et al.)
    assert rows.loc["", "accuracy"] == 0.4651 and rows.loc["variant=b0", "accuracy"] == 0.374
    assert rows.loc["", "latency_s"] == pytest.approx(0.02) and rows.loc["variant=b0", "label"] == \
        "segformer-b0 variant=b0"


def test_cli_accuracy_with_gpu_measurements(tmp_path, capsys):
    res = tmp_path / "paths.csv"
    PATHS.to_csv(res, index=False)
    out = tmp_path / "acc.png"
    assert main(["plot", "accuracy", str(res), "--gpu", str(GPU_DIR), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    # the CPU example holds 4 SegFormer measurements (Swin is another family: left out)
    assert "1 of 4 accelerator point(s) and 4 of 4 GPU point(s) have unknown accuracy" in err
    assert "swin" not in err and "fuse_in=1800" not in err and len(err.splitlines()) == 2  # + "wrote"
    assert out.stat().st_size > 20_000
    assert main(["plot", "accuracy", str(res), "--gpu", str(GPU_DIR / "cpu-amd-epyc_swin-t-upernet_128x128_fp32.csv"),
                 "-o", str(out)]) == 2
    assert "no GPU measurement of a segformer model" in capsys.readouterr().err
