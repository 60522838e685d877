"""Figures that say what they show: the accuracy plot at 384 and 2,000 paths, one front per
(workload, scope), titles naming scope, workload and input size, the layer figure of every
model family at the report's width, and ``--data`` on every plot command."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from accelsim.cli.main import main
from accelsim.plots.accuracy import accuracy_table, plot_accuracy_tradeoff
from accelsim.plots.arch import energy_throughput_table, plot_energy_throughput
from accelsim.plots.common import REPORT_WIDTH_PX, band_widths_px, part_column
from accelsim.plots.labels import renderer_of
from accelsim.plots.layers import MIN_BAND_PX, THIN_MARK, plot_layer_breakdown

#: The seven SegFormer-B2 ADE20K rows with a published mIoU (accelsim/data/accuracy.csv).
PUBLISHED = {"": 0.4651, "fuse_in=1920": 0.4565, "fuse_in=1664": 0.4510, "blocks=2-4-6-3;fuse_in=1408": 0.4374,
             "blocks=2-3-6-3;fuse_in=1024": 0.4041, "blocks=2-3-5-3;fuse_in=896": 0.3649,
             "blocks=2-3-5-3;fuse_in=512": 0.3345}


def enumerated(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` path rows like an enumerated sweep: 7 published accuracies, the rest unknown.
    Latency grows with accuracy for the published ones (a clean front), the rest spread."""
    rng = np.random.default_rng(seed)
    paths = list(PUBLISHED) + [f"blocks={a}-{b}-{c}-2;fuse_in={f}" for a, b, c, f in itertools.islice(
        itertools.product((2, 3), (3, 4), (5, 6), range(128, 3072 * 100, 128)), n - len(PUBLISHED))]
    acc = [PUBLISHED.get(p, "unknown") for p in paths]
    lat = [1.5e-3 + 2.2e-3 * (PUBLISHED[p] - 0.33) / 0.14 if p in PUBLISHED else rng.uniform(1.5e-3, 3.7e-3)
           for p in paths]
    return pd.DataFrame({"workload": "segformer-b2", "arch": "E", "scope": "accelerator", "exec_path": paths,
                         "variant": "b2", "latency_s": lat, "energy_j": np.array(lat) * 2.0,
                         "accuracy": acc, "accuracy_metric": "miou"})


def boxes_of(ax, texts):
    r = renderer_of(ax.figure)
    ax.figure.draw(r)
    return [(t.get_text(), Text.get_window_extent(t, r)) for t in texts], ax.get_window_extent(r)


@pytest.mark.parametrize("n", [384, 2000])
def test_accuracy_plot_stays_readable(tmp_path, capsys, n):
    """Only the front gets labels (here the 7 published rows form it); no label overlaps
    another or leaves its axes; the strip holds every unknown point, unlabelled; stderr is
    one line about them plus one per file written (at most 3)."""
    df = enumerated(n)
    res = tmp_path / "paths.csv"
    df.to_csv(res, index=False)
    assert main(["plot", "accuracy", str(res), "-o", str(tmp_path / "acc")]) == 0  # PNG + SVG
    err = capsys.readouterr().err.splitlines()
    assert len(err) <= 3
    assert err[0] == (f"{n - 7} of {n} accelerator point(s) have unknown accuracy (no published value): drawn "
                      "unlabelled in the 'accuracy unknown' strip")
    fig = plot_accuracy_tradeoff(df)
    main_ax, strip = fig.axes
    labels = [t for t in main_ax.texts]
    assert sorted(t.get_text() for t in labels) == sorted(["B2 (full model)", *(p for p in PUBLISHED if p)])
    boxes, frame = boxes_of(main_ax, labels)
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), f"labels {a!r} and {b!r} overlap"
    for text, box in boxes:
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5, text
        assert frame.y0 - 0.5 <= box.y0 and box.y1 <= frame.y1 + 0.5, text
    assert sum(len(c.get_offsets()) for c in strip.collections) == n - 7
    assert [t.get_text() for t in strip.texts] == [f"{n - 7} point(s) without a published accuracy, unlabelled"]
    assert main_ax.get_legend().get_texts()[1].get_text() == "B2 (full model)"
    assert "retrained model" not in [t.get_text() for t in main_ax.get_legend().get_texts()]
    table = accuracy_table(df)
    assert table["labelled"].sum() == 7 and table["pareto"].sum() == 7 and (~table["accuracy_known"]).sum() == n - 7


def test_named_and_retrained_paths_get_labels():
    df = enumerated(40)
    extra = pd.DataFrame({"workload": "segformer-b2", "arch": "E", "scope": "accelerator", "variant": "b2",
                          "exec_path": ["variant=b0", "pred_in=736"], "latency_s": [0.8e-3, 3.8e-3],
                          "energy_j": [1.6e-3, 7.6e-3], "accuracy": [0.374, 0.40], "accuracy_metric": "miou"})
    df = pd.concat([df, extra], ignore_index=True)
    fig = plot_accuracy_tradeoff(df, named=["pred_in=736"])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"B0 (retrained)", "pred_in=736"} <= texts  # pred_in=736 is dominated, named, so labelled


def test_title_names_workload_size_arch_and_scope():
    fig = plot_accuracy_tradeoff(enumerated(10).assign(scope="system"), x="energy_j")
    assert fig.axes[0].get_title() == "segformer-b2 512x512 on E, system scope: energy vs accuracy"


def two_scope_sweep() -> pd.DataFrame:
    """2 archs x 2 workloads x 2 scopes; the system scope costs ~10x the energy per op."""
    rows = []
    for (arch, tput), wl, (scope, f) in itertools.product((("D", 9e12), ("E", 11e12)), ("segformer-b0", "segformer-b2"),
                                                          (("accelerator", 1.0), ("system", 10.0))):
        rows.append({"arch": arch, "workload": wl, "exec_path": "", "scope": scope,
                     "throughput_ops_per_s_per_mm2": tput / f, "energy_per_op_j": 8e-14 * f * (1 if arch == "E" else 1.02)})
    return pd.DataFrame(rows)


def test_energy_throughput_one_front_per_workload_and_scope(tmp_path, capsys):
    """Four (workload, scope) series, each with its own front, scope named in the legend;
    the same count `accelsim pareto` reports for the file."""
    df = two_scope_sweep()
    table = energy_throughput_table(df)
    assert table["series"].nunique() == 4
    assert sorted(set(table["series"])) == ["segformer-b0, accelerator scope", "segformer-b0, system scope",
                                            "segformer-b2, accelerator scope", "segformer-b2, system scope"]
    assert table.groupby("series")["pareto"].sum().tolist() == [1, 1, 1, 1]  # E dominates D in each
    fig = plot_energy_throughput(df)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "segformer-b2, system scope" in legend and legend[-1] == "Pareto front (of each)"
    assert "accelerator and system scopes" in ax.get_title() and "512x512" in ax.get_title()
    r = renderer_of(fig)
    box = ax.get_legend().get_window_extent(r)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1  # the legend fits the figure
    res = tmp_path / "both.csv"
    df.to_csv(res, index=False)
    assert main(["pareto", str(res)]) == 0
    assert "(4 fronts)" in capsys.readouterr().err
    data = tmp_path / "et.json"
    assert main(["plot", "energy-throughput", str(res), "-o", str(tmp_path / "et.png"), "--data", str(data)]) == 0
    back = pd.read_json(data)
    assert back["series"].nunique() == 4 and back["energy_per_op_j"].max() == pytest.approx(8.16e-13)  # SI kept


def fake_result(wl) -> pd.DataFrame:
    """Per-layer rows of ``wl`` with costs proportional to MACs plus a floor (layout only)."""
    df = wl.to_frame()
    return df.assign(latency_s=df["macs"] * 1e-13 + 1e-7, energy_j=df["macs"] * 2e-13 + 1e-7)


def one_model_per_family():
    from accelsim import load_workload
    from accelsim.workload.registry import list_models

    seen = {}
    for spec in list_models():
        seen.setdefault(spec.family, spec.name)
    return [load_workload(name) if name != "detr-r50" else load_workload(name, input_size=(800, 1333))
            for name in seen.values()]


@pytest.mark.parametrize("wl", one_model_per_family(), ids=lambda wl: wl.family)
def test_layer_figure_fits_at_report_width(wl):
    """Every model family: the part legend lies inside the figure, and each part has a band
    at least 1 px wide at the report's width or is marked (and so listed in the legend)."""
    df = fake_result(wl)
    fig = plot_layer_breakdown(df, title=f"{wl.name} {wl.input_size[0]}x{wl.input_size[1]}")
    r = renderer_of(fig)
    fig.draw(r)
    for legend in fig.legends:
        box = legend.get_window_extent(r)
        assert fig.bbox.x0 - 0.5 <= box.x0 and box.x1 <= fig.bbox.x1 + 0.5, wl.name
    parts = part_column(df)
    if parts is None:
        return
    entries = [t.get_text() for t in fig.legends[-1].get_texts()]
    for ax in fig.axes[:2]:
        runs = band_widths_px(ax, parts, REPORT_WIDTH_PX)
        for p in dict.fromkeys(q for q, _, _, _ in runs):
            widest = max(w for q, _, _, w in runs if q == p)
            marked = any(e.startswith(f"{THIN_MARK} {p} (") for e in entries)
            assert widest >= 1.0 or marked, f"{wl.name}: part {p} is {widest:.2f} px wide and not listed"
            assert marked == (widest < MIN_BAND_PX), (wl.name, p, widest)


def test_detr_neck_is_marked_and_legend_fits():
    """DETR at 800x1333: 437 layers, the neck one of them (input_proj): about 1.6 px at 900 px
    wide (axes ~77 % of the figure), below the 3 px a band needs to show: it is marked."""
    from accelsim import load_workload

    wl = load_workload("detr-r50", input_size=(800, 1333))
    fig = plot_layer_breakdown(fake_result(wl), title="detr")
    entries = [t.get_text() for t in fig.legends[-1].get_texts()]
    assert [e.split(" (")[0] for e in entries] == ["backbone", f"{THIN_MARK} neck", "encoder", "decoder", "head"]
    assert any(line.get_gid() == "thin:neck" for line in fig.axes[0].get_lines())


@pytest.mark.parametrize("kind, extra, cols", [
    ("layers", ["--scope", "system"], {"name", "op", "part", "latency_s", "energy_j"}),
    ("energy-per-op", [], {"name", "energy_per_op_j", "normalised"}),
    ("macs", [], {"name", "macs"}),
])
def test_plot_data_files(tmp_path, capsys, kind, extra, cols):
    data = tmp_path / "d.csv"
    assert main(["plot", kind, "-w", "segformer-b0", "--input", "64x64", *extra, "-o", str(tmp_path / "f.png"),
                 "--data", str(data)]) == 0
    got = pd.read_csv(data)
    assert cols <= set(got.columns) and len(got) > 10


def test_plot_layers_title_names_size_and_scope(tmp_path, monkeypatch):
    seen = {}
    import accelsim.plots as plots

    real = plots.plot_layer_breakdown

    def spy(res, title=None, **kw):
        seen["title"] = title
        return real(res, title=title, **kw)

    monkeypatch.setattr(plots, "plot_layer_breakdown", spy)
    assert main(["plot", "layers", "-w", "segformer-b0", "--input", "64x64", "--scope", "system",
                 "-o", str(tmp_path / "l.png")]) == 0
    assert seen["title"] == "segformer-b0 64x64 on E, system scope"


def test_data_suffix_checked_before_work(tmp_path, capsys):
    assert main(["plot", "macs", "-w", "segformer-b0", "--data", str(tmp_path / "d.xlsx")]) == 2
    assert "d.xlsx: data file suffix '.xlsx' is not supported" in capsys.readouterr().err
