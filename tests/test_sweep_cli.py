"""``accelsim sweep`` / ``pareto`` / ``plot`` / ``report --help`` end to end on a tiny workload."""

from __future__ import annotations

import pandas as pd
import pytest

from accelsim.cli.main import main
from accelsim.sweep.store import read_csv_rows


def test_sweep_resume_and_pareto(tmp_path, capsys):
    out = tmp_path / "r.csv"
    args = ["sweep", "--arch", "A..C", "-w", "segformer-b0", "--input", "64x64", "-o", str(out),
            "--workers", "1", "--no-progress"]
    assert main(args) == 0
    df = read_csv_rows(out)
    assert df["arch"].tolist() == ["A", "B", "C"] and df["workload"].unique().tolist() == ["segformer-b0@64x64"]
    before = out.read_bytes()
    capsys.readouterr()
    assert main(args) == 0  # everything is kept, nothing recomputed, same bytes
    assert "3 kept from a previous run, 0 computed" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["pareto", str(out), "--min", "energy_per_op", "--max", "throughput_per_mm2",
                 "--format", "csv"]) == 0
    front = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert set(front["arch"]) <= {"A", "B", "C"} and len(front) >= 1


def test_spec_file_and_grid(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("arch: {base: E, grid: {num_pe: [8, 16]}}\n"
                    "workloads: [{name: segformer-b0, input: 64x64}]\noutput: out.parquet\n")
    assert main(["sweep", str(spec), "--workers", "1", "--no-progress"]) == 0
    df = pd.read_parquet(tmp_path / "out.parquet")  # relative to the spec file
    assert df["arch"].tolist() == ["E[num_pe=8]", "E"]


@pytest.mark.parametrize("args, message", [
    (["sweep", "--arch", "A..Z", "-w", "segformer-b0"], "both ends must be shipped configs"),
    (["sweep", "--grid", "num_pe", "-w", "segformer-b0"], "write PARAM=V1,V2"),
    (["sweep", "--arch", "A", "-w", "no-such-model"], "unknown workload"),
    (["sweep", "--arch", "A"], "at least one --workload"),
    (["pareto", "missing.csv"], "results file not found"),
    (["plot", "energy-throughput", "missing.csv"], "results file not found"),
])
def test_errors_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_plot_commands(tmp_path):
    assert main(["plot", "macs", "-w", "segformer-b0", "--input", "64x64", "-o", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m.png").stat().st_size > 1000 and (tmp_path / "m.svg").exists()
    assert main(["plot", "energy-per-op", "-w", "segformer-b0", "--input", "64x64", "-a", "E",
                 "-o", str(tmp_path / "e.png")]) == 0
    assert (tmp_path / "e.png").stat().st_size > 1000


def test_sweep_unmappable_and_objective_guard(tmp_path, capsys):
    out = tmp_path / "r.csv"
    # a 4 KB weight buffer cannot hold SegFormer's 7x7 patch-embedding tile (K0 x C0 x 49 bytes > 4 KB)
    args = ["sweep", "--base", "E", "--grid", "weight_buffer_kb=4,64", "-w", "segformer-b0", "--input", "64x64",
            "-o", str(out), "--workers", "1", "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "2 points (0 kept from a previous run, 2 computed, 1 unmappable)" in err
    df = read_csv_rows(out)
    assert df["error"].tolist()[1] == "" and "patch_embed1.proj' cannot be mapped" in df["error"].tolist()[0]
    assert main(args) == 0
    assert "2 kept from a previous run, 0 computed, 1 unmappable" in capsys.readouterr().err
    assert main(["pareto", str(out), "--format", "csv"]) == 0
    front = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert front["arch"].tolist() == [df["arch"][1]]  # the only mappable point
    # another objective into the same file: refused, one line, exit 2
    assert main(args + ["--objective", "energy"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "objective=latency" in err and "--overwrite" in err
    assert len(err.strip().splitlines()) == 1
    assert main(args + ["--objective", "energy", "--overwrite"]) == 0
    assert (read_csv_rows(out)["objective"] == "energy").all()


def test_all_unmappable_with_layers_file_resumes(tmp_path):
    # A 4 KiB weight buffer cannot hold SegFormer's 7x7 patch-embed tile (32x32x7x7 = 49 KiB),
    # so the only point fails and the per-layer file gets no rows: both the first run and the
    # resume must finish (an empty layers file once crashed the read-back).
    out, layers = tmp_path / "r.csv", tmp_path / "l.csv"
    args = ["sweep", "--base", "E", "--grid", "weight_buffer_kb=4", "-w", "segformer-b0", "--input",
            "64x64", "--layers", str(layers), "-o", str(out), "--workers", "1", "--no-progress"]
    for _ in range(2):
        assert main(args) == 0
        df = read_csv_rows(out)
        assert len(df) == 1 and "cannot be mapped" in df["error"].iloc[0]
        assert read_csv_rows(layers).empty


def test_spec_paths_stay_relative_to_the_spec_with_options(tmp_path, monkeypatch):
    """Options added to a spec file (here -w, which replaces its workloads) keep its output and
    cache beside it."""
    folder = tmp_path / "study"
    folder.mkdir()
    spec = folder / "s.yaml"
    spec.write_text("arch: {base: E, grid: {num_pe: [8, 16]}}\nworkloads: [{name: segformer-b0, input: 64x64}]\n"
                    "output: out.csv\ncache: cache\n")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(spec), "-w", "segformer-b1", "--input", "64x64", "--workers", "1",
                 "--no-progress"]) == 0
    df = read_csv_rows(folder / "out.csv")
    assert df["num_pe"].tolist() == [8, 16] and set(df["workload"]) == {"segformer-b1@64x64"}
    assert (folder / "cache").is_dir() and not (tmp_path / "out.csv").exists()
