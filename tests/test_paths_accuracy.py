"""Accuracy annotations and RDD selection (issue 4 items 4-5)."""

import pandas as pd
import pytest

from accelsim.errors import AccelsimError, WorkloadError
from accelsim.paths import annotate, apply_path, load_accuracy, load_paumer_curve, lookup
from accelsim.paths.rdd import lookup_table, pareto_front, parse_quantity, select_path
from accelsim import load_workload


def test_lookup_published_rows():
    # Sreedhar et al. Table III B2_e, copied verbatim into accuracy.csv
    assert lookup("segformer", "b2", "ade20k", "512x512", "fuse_in=896;blocks=2-3-5-3")[0] == 0.3649
    # blocks=3-4-6-3 is B2's full depth: the path matches with or without it (B2_a)
    assert lookup("segformer", "b2", "ade20k", (512, 512), "fuse_in=1920")[0] == 0.4565
    assert lookup("segformer", "b2", "ade20k", "512x512", "")[1] == "miou"
    assert lookup("segformer", "b2", "ade20k", "512x512", "fuse_in=1800") is None


def test_annotate_unknown_is_never_invented():
    wl = load_workload("segformer-b2", exec_path="fuse_in=1800")
    assert annotate(wl)["accuracy"] == "unknown"
    b1 = apply_path(load_workload("segformer-b2"), "variant=b1")
    assert annotate(b1)["accuracy"] == 0.422  # SegFormer paper, B1 ADE20K


def test_user_csv_adds_and_overrides(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("family,variant,dataset,input,path,metric,value,source\n"
                 "segformer,b2,ade20k,512x512,fuse_in=1800,miou,0.44,my run\n"
                 "segformer,b2,ade20k,512x512,,miou,0.47,my run\n")
    table = load_accuracy(f)
    assert lookup("segformer", "b2", "ade20k", "512x512", "fuse_in=1800", table=table) == (0.44, "miou", "my run")
    assert lookup("segformer", "b2", "ade20k", "512x512", "", table=table)[0] == 0.47
    bad = tmp_path / "bad.csv"
    bad.write_text("family,variant,dataset,input,path,metric,value,source\n"
                   "segformer,b2,ade20k,512x512,,miou,46.5,percent\n")
    with pytest.raises(WorkloadError, match="row 1: value 46.5 must be a fraction"):
        load_accuracy(bad)


def test_paumer_curve_is_separate():
    df = load_paumer_curve()
    assert df["miou_paumer"].max() == pytest.approx(0.7704)  # 77.04 % in the CSV
    assert "throughput" in df["label"].iloc[0] and "not per pause" in df["label"].iloc[0]


@pytest.fixture
def evaluated():
    # a hand-made evaluation: three paths, one unknown accuracy, one dominated
    return pd.DataFrame({
        "exec_path": ["", "fuse_in=1920", "fuse_in=896", "fuse_in=1800", "fuse_in=1024"],
        "latency_s": [3.0e-3, 2.5e-3, 1.5e-3, 2.0e-3, 2.6e-3],
        "energy_j": [30e-3, 25e-3, 15e-3, 20e-3, 26e-3],
        "accuracy": [0.4651, 0.4565, 0.3649, "unknown", 0.40],
    })


def test_rdd_selection(evaluated):
    front = pareto_front(evaluated)
    assert list(front.exec_path) == ["fuse_in=896", "fuse_in=1920", ""]  # 1024 is dominated
    assert select_path(evaluated, 2.9e-3).exec_path == "fuse_in=1920"
    assert select_path(evaluated, 3.0e-3).exec_path == ""
    assert select_path(evaluated, 1.0e-3) is None
    table = lookup_table(evaluated, by="energy_j", max_budget=26e-3)
    assert list(table.exec_path) == ["fuse_in=896", "fuse_in=1920"]
    grid = lookup_table(evaluated, budgets=[1e-3, 2e-3, 3e-3])
    assert grid.exec_path.isna().tolist() == [True, False, False]  # nothing fits 1 ms
    assert list(grid.exec_path[1:]) == ["fuse_in=896", ""]
    assert pd.isna(grid.accuracy[0])


def test_parse_budget():
    assert parse_quantity("3ms", "s") == pytest.approx(3e-3)
    assert parse_quantity("40mJ", "J") == pytest.approx(0.04)
    assert parse_quantity("0.5 s", "s") == 0.5
    assert parse_quantity("250us", "s") == pytest.approx(250e-6)
    assert parse_quantity(0.5, "s") == 0.5  # a Python number is in base units
    with pytest.raises(AccelsimError, match="expected a number"):
        parse_quantity("3 parsecs", "s")
    with pytest.raises(AccelsimError, match="has no unit"):
        parse_quantity("3", "s")  # 3 s or 3 ms? the unit is required
    with pytest.raises(AccelsimError, match="must be positive"):
        parse_quantity("0ms", "s")
