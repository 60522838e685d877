"""Smaller things a user meets: typing marker, version, suggestions, units, default paths,
workload labels, the first-run compile notice, integer mapping columns, stable report CSVs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import accelsim
from accelsim.cli.main import main
from accelsim.resources import PACKAGE_DIR, project_root


def test_package_is_marked_typed():
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert '"py.typed"' in (project_root() / "pyproject.toml").read_text()


def test_version_is_light_and_names_the_commit():
    code = ("import sys; from accelsim.cli.main import main; main(['--version']); "
            "print('loaded:', sorted(m for m in ('pandas', 'numba', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(project_root())}).stdout
    assert out.startswith(f"accelsim {accelsim.__version__}")
    assert "loaded: []" in out  # no heavy import: the subcommands load only when they run
    if (project_root() / ".git").exists():
        assert "(commit " in out


@pytest.mark.parametrize("argv, hint", [
    (["simulate", "-w", "segformer-b2x"], "did you mean 'segformer-b2'"),
    (["simulate", "-w", "swin-t"], "did you mean 'swin-t-upernet'"),
    (["simulat"], "did you mean 'simulate'"),
    (["rdd", "--budget-latency", "3"], "has no unit"),
    (["rdd", "--budget-energy", "40"], "has no unit"),
    (["gpu", "measure", "-w", "segformer-b0", "--device", "cpu", "-o", "m.parquet"], "written as .csv"),
])
def test_one_line_errors_with_a_way_forward(argv, hint, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and hint in err and len(err.splitlines()) == 1


def test_gpu_share_default_data_is_the_projects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the project folder: reports/gpu is not here
    assert main(["plot", "gpu-share", "-o", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 10_000


def test_workload_label_is_the_yaml_name(tmp_path, capsys):
    wl = tmp_path / "net_v3_final.yaml"
    wl.write_text("name: mobile-net-x\nmodel: segformer-b0\ninput: 64x64\n")
    out = tmp_path / "r.csv"
    assert main(["sweep", "--arch", "E", "-w", str(wl), "-o", str(out), "--workers", "1", "--no-progress"]) == 0
    assert accelsim.read_results(out)["workload"].tolist() == ["mobile-net-x"]
    assert main(["simulate", "-w", str(wl), "--top", "1"]) == 0
    assert capsys.readouterr().out.startswith("mobile-net-x on arch E")


def test_compile_notice_only_when_the_cache_is_cold(tmp_path, capsys, monkeypatch):
    code = "from accelsim.cost.jitcache import mapper_cache_cold; print(mapper_cache_cold())"
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(project_root())})
    assert cold.stdout.strip() == "True"  # an empty cache folder: the mapper would compile
    from accelsim.cli import common
    from accelsim.cost import jitcache

    accelsim.simulate(accelsim.load_workload("segformer-b0", input_size=(64, 64)), "E")
    assert jitcache.mapper_cache_cold() is False  # compiled (or loaded) in this process
    common.note_jit()
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(jitcache, "mapper_cache_cold", lambda: True)
    common.note_jit()
    assert "compiling the mapper, first run only" in capsys.readouterr().err


def test_mapping_columns_are_integers():
    res = accelsim.simulate(accelsim.load_workload("segformer-b0", input_size=(64, 64)), "E")
    for col in ("spatial_k", "spatial_p", "spatial_c", "spatial_g", "tile_k", "tile_c", "tile_p", "tile_q"):
        assert str(res.layers[col].dtype) == "Int64", col
    mac = res.layers["macs"] > 0
    assert res.layers.loc[~mac, "tile_k"].isna().all() and (res.layers.loc[mac, "tile_k"] >= 1).all()


def test_report_csv_is_stable_across_last_digit_differences(tmp_path):
    from accelsim.report.build import CSV_FLOAT_FORMAT
    from accelsim.tableio import write_table

    # values like a sweep's, and the same values 1-2 ulps off (another CPU's rounding)
    vals = np.array([8.426907e-3, 5.212114e-2, 4.180530e-13, 5.185e12, 0.3610123, 2.853575577817618])
    a = pd.DataFrame({"x": vals})
    b = pd.DataFrame({"x": np.nextafter(np.nextafter(vals, np.inf), np.inf)})
    fa, fb = write_table(a, tmp_path / "a.csv", float_format=CSV_FLOAT_FORMAT), \
        write_table(b, tmp_path / "b.csv", float_format=CSV_FLOAT_FORMAT)
    assert fa.read_bytes() == fb.read_bytes()
    back = pd.read_csv(fa)["x"].to_numpy()
    assert np.allclose(back, vals, rtol=5e-10, atol=0)  # 10 significant digits kept
