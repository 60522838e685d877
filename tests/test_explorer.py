"""The sweep explorer page's data (accelsim.plots.explorer) and `accelsim plot html`, without a browser.

The page itself is driven in headless Chromium by tests/test_explorer_browser.py.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.cli.main import main
from accelsim.resources import project_root
from accelsim.plots import explorer
from accelsim.sweep.pareto import pareto

pytest.importorskip("plotly", reason="the HTML explorer needs the html extra (plotly)")


def results(n: int = 12, seed: int = 0) -> pd.DataFrame:
    """Synthetic sweep rows with the result columns (values need not be physical here)."""
    rng = np.random.default_rng(seed)
    num_pe = rng.choice([8, 16, 32], n)
    df = pd.DataFrame({
        "arch": [f"P{i}" for i in range(n)], "num_pe": num_pe, "k0": 32, "c0": 32,
        "workload": ["w1"] * (n // 2) + ["w2"] * (n - n // 2), "exec_path": "", "scope": "accelerator",
        "macs": 1_000_000_000, "latency_s": rng.uniform(1e-3, 5e-3, n), "energy_j": rng.uniform(5e-3, 2e-2, n),
        "area_mm2": rng.uniform(2, 10, n), "utilization": rng.uniform(0.3, 0.9, n),
        "accuracy": 0.4651, "accuracy_metric": "miou", "objective": "latency", "error": "",
    })
    df["energy_per_op_j"] = df["energy_j"] / (2 * df["macs"])
    df["throughput_ops_per_s_per_mm2"] = 2 * df["macs"] / df["latency_s"] / df["area_mm2"]
    return df


def layer_rows(df: pd.DataFrame, n_layers: int = 15, seed: int = 1) -> pd.DataFrame:
    """Per-layer rows for every point of ``df`` (names shared across points, as in a sweep)."""
    rng = np.random.default_rng(seed)
    frames = []
    for _, r in df.iterrows():
        lat = rng.uniform(0, 1, n_layers)
        en = rng.uniform(0, 1, n_layers)
        frames.append(pd.DataFrame({
            "arch": r["arch"], "workload": r["workload"], "exec_path": r["exec_path"],
            "name": [f"backbone.block{i // 5}.{i % 5}.fc" for i in range(n_layers)],
            "op": ["linear", "conv2d", "matmul"] * (n_layers // 3), "macs": 1,
            "latency_s": lat / lat.sum() * r["latency_s"], "energy_j": en / en.sum() * r["energy_j"],
            "energy_mac_j": en / en.sum() * r["energy_j"] * 0.75, "energy_control_j": en / en.sum() * r["energy_j"] * 0.25,
            "tag_part": ["backbone"] * 10 + ["decoder"] * (n_layers - 10),
        }))
    return pd.concat(frames, ignore_index=True)


def test_columns_units_and_rounding():
    df = results()
    data = explorer.payload(df, source="r.csv")
    assert data["n"] == len(df)
    cols = data["columns"]
    # shown units: energy per op in fJ/op, throughput in TOPS/mm2, latency in ms (factors from the SI columns)
    for col, factor in (("energy_per_op_j", 1e15), ("throughput_ops_per_s_per_mm2", 1e-12), ("latency_s", 1e3)):
        np.testing.assert_allclose(cols[col]["values"], df[col] * factor, rtol=5e-6)  # 6 significant digits
    assert cols["workload"]["kind"] == "cat" and cols["workload"]["labels"] == ["w1", "w2"]
    # constant columns are stated once, in the shown unit; the settings columns are not axes
    assert data["const"]["k0"] == 32 and data["const"]["macs"] == 1.0  # 1e9 MACs = 1 G
    assert "objective" not in cols and data["settings"]["objective"] == "latency"
    assert data["params"] == ["num_pe"]
    assert data["defaults"] == {"x": "throughput_ops_per_s_per_mm2", "y": "energy_per_op_j", "logx": False,
                                "logy": False, "color": "workload"}


def test_front_is_accelsim_pareto():
    df = results(40)
    data = explorer.payload(df)
    assert data["front"] == np.flatnonzero(pareto(df, mask=True)).tolist()
    assert data["front_keys"] == ["workload", "exec_path", "scope"]


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False).filter(lambda v: abs(v) > 1e-300))  # normal floats
def test_round_keeps_six_significant_digits(v):
    r = explorer._round(np.array([v]))[0]
    assert math.isclose(r, v, rel_tol=5e-6)  # half a unit in the 6th digit
    assert len(f"{abs(r):e}".split("e")[0].replace(".", "").rstrip("0")) <= 6


def test_unmappable_rows_are_counted_not_drawn():
    df = results()
    df.loc[3, ["latency_s", "energy_j", "energy_per_op_j", "throughput_ops_per_s_per_mm2"]] = np.nan
    df.loc[3, "error"] = "layer x cannot be mapped"
    data = explorer.payload(df)
    assert data["n"] == len(df) - 1 and data["unmappable"] == 1


def test_layer_summaries_match_the_layer_rows():
    df = results(6)
    layers = layer_rows(df)
    data = explorer.payload(df, layers)
    assert data["layer_scope"] == "all" and sorted(map(int, data["layers"]["points"])) == list(range(6))
    names, ops = data["layers"]["names"], data["layers"]["ops"]
    for pos in (0, 5):
        s = data["layers"]["points"][str(pos)]
        g = layers[layers["arch"] == df["arch"][pos]]
        # independent: pandas' nlargest over the rows of this point
        top = g.nlargest(explorer.TOP_N, "latency_s")
        assert [names[n] for n, _, _ in s["time"]["top"]] == top["name"].tolist()
        assert [ops[o] for _, o, _ in s["time"]["top"]] == top["op"].tolist()
        np.testing.assert_allclose([v for *_, v in s["time"]["top"]], top["latency_s"] * 1e6, rtol=5e-6)
        # the layers add up to the point's row (the synthetic rows are scaled to it)
        assert math.isclose(s["energy"]["total"], df["energy_j"][pos] * 1e6, rel_tol=5e-6)
        assert math.isclose(s["components"]["mac"], 0.75 * df["energy_j"][pos] * 1e6, rel_tol=5e-6)
        shares = {p: t for p, t, _ in s["parts"]}
        assert math.isclose(shares["backbone"], g["latency_s"][:10].sum() / g["latency_s"].sum(), rel_tol=5e-6)
    # short names: the shortest dotted suffix no other name ends with
    assert data["layers"]["short"][0] == "block0.0.fc"


def test_large_sweeps_keep_breakdowns_of_the_front_only(monkeypatch):
    df = results(30)
    monkeypatch.setattr(explorer, "MAX_LAYER_POINTS", 10)
    data = explorer.payload(df, layer_rows(df))
    assert data["layer_scope"] == "front"
    assert sorted(map(int, data["layers"]["points"])) == data["front"]
    assert len(explorer.payload(df, layer_rows(df), layer_points="all")["layers"]["points"]) == 30


def test_workload_labels():
    assert explorer.parse_workload_label("segformer-b2") == ("segformer-b2", None, None)
    assert explorer.parse_workload_label("segformer-b2@1024x1024/19cls") == ("segformer-b2", (1024, 1024), 19)
    assert explorer.parse_workload_label("my/model.yaml") == ("my/model.yaml", None, None)


@pytest.fixture(scope="module")
def small_sweep():
    import accelsim

    return accelsim.run_sweep({"arch": "D,E", "workloads": ["resnet50"]}, workers=1)


def test_recompute_reproduces_the_sweep_row(small_sweep):
    df = small_sweep
    front = np.flatnonzero(pareto(df, mask=True))
    layers = explorer.recompute_layers(df, front)
    for pos in front:
        g = layers[layers["arch"] == df["arch"][pos]]
        # the per-layer latencies add up to the row's latency (same model, same settings)
        assert math.isclose(g["latency_s"].sum(), df["latency_s"][pos], rel_tol=1e-9)
        assert math.isclose(g["energy_j"].sum(), df["energy_j"][pos], rel_tol=1e-9)


def test_cli_writes_one_self_contained_page(tmp_path):
    df = results()
    src, lay, out = tmp_path / "r.csv", tmp_path / "l.csv", tmp_path / "sweep.html"
    df.to_csv(src, index=False)
    layer_rows(df).to_csv(lay, index=False)
    assert main(["plot", "html", str(src), "--layers", str(lay), "-o", str(out)]) == 0
    text = out.read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=", text)  # nothing to fetch: opens offline
    assert "plotly.js v" in text[:10_000]  # the library is inlined, in the head
    blob = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', text, re.S).group(1)
    assert json.loads(blob)["n"] == len(df)


def test_cli_missing_columns_is_one_line(tmp_path, capsys):
    src = tmp_path / "r.csv"
    results().drop(columns=["energy_per_op_j", "area_mm2"]).to_csv(src, index=False)
    assert main(["plot", "html", str(src), "-o", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {src}: not a sweep result table: missing column(s) area_mm2, energy_per_op_j")
    assert not (tmp_path / "p.html").exists()


def test_cli_refuses_other_suffixes(tmp_path, capsys):
    src = tmp_path / "r.csv"
    results().to_csv(src, index=False)
    assert main(["plot", "html", str(src), "-o", str(tmp_path / "p.png")]) == 2
    assert "must be an .html file" in capsys.readouterr().err


def test_report_writes_and_links_the_page(small_sweep, tmp_path):
    from accelsim.report.build import ReportData, explorer_page

    rel = explorer_page(ReportData(small_sweep, {}, {}), tmp_path / "figures")
    assert rel == "figures/study13.html"
    text = (tmp_path / rel).read_text()
    data = json.loads(re.search(r'id="explorer-data">(.*?)</script>', text, re.S).group(1))
    # the front points' breakdowns, recomputed: their layer times add up to the row's latency
    front = np.flatnonzero(pareto(small_sweep, mask=True)).tolist()
    assert sorted(map(int, data["layers"]["points"])) == front
    for pos in front:
        assert math.isclose(data["layers"]["points"][str(pos)]["time"]["total"],
                            small_sweep["latency_s"][pos] * 1e6, rel_tol=5e-6)


def test_cli_layers_file_without_layer_columns(tmp_path, capsys):
    src = tmp_path / "r.csv"
    results().to_csv(src, index=False)
    assert main(["plot", "html", str(src), "--layers", str(src), "-o", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {src}: not a sweep's per-layer file (accelsim sweep --layers): missing column(s) "
                   "name, op")


BAD_RESULTS = sorted((project_root() / "tests" / "fuzz" / "corpus" / "results").glob("*"))


@pytest.mark.parametrize("bad", BAD_RESULTS, ids=lambda p: p.name)
def test_cli_bad_results_files_from_the_fuzz_corpus(bad, tmp_path, capsys):
    # the corpus's damaged result tables, as results and as --layers: one line naming the file, exit 2
    good = tmp_path / "r.csv"
    results().to_csv(good, index=False)
    for argv in (["plot", "html", str(bad)], ["plot", "html", str(good), "--layers", str(bad)]):
        assert main(argv + ["-o", str(tmp_path / "p.html")]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"error: {bad}"), err
    assert not (tmp_path / "p.html").exists()


def test_accuracy_view_also_when_no_path_has_a_published_accuracy():
    df = results(8).assign(exec_path=["", "fuse_in=768"] * 4, accuracy=np.nan, accuracy_metric="unknown")
    data = explorer.payload(df)
    assert data["accuracy"] is True  # a path sweep: the view shows every point in the unknown strip
    assert data["columns"]["accuracy"]["values"] == [None] * 8
    assert not explorer.payload(results(8))["accuracy"]  # one path per workload: no accuracy view
