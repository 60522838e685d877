"""Output files take their format from the suffix, keep SI names and read back intact;
``simulate`` prints its totals first, in engineering units."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import accelsim
from accelsim.cli.main import main
from accelsim.tableio import read_table, write_table

SMALL = ["-w", "segformer-b0", "--input", "64x64", "-a", "E"]


@pytest.fixture(scope="module")
def result():
    wl = accelsim.load_workload("segformer-b0", input_size=(64, 64))
    return accelsim.simulate(wl, accelsim.load_arch("E"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_simulate_output_round_trips(tmp_path, capsys, result, suffix):
    out = tmp_path / f"layers{suffix}"
    assert main(["simulate", *SMALL, "-o", str(out)]) == 0
    console = capsys.readouterr().out
    assert console.startswith("segformer-b0 on arch E") and "latency" in console  # totals still shown
    back = read_table(out)
    # SI column names, every layer, the same numbers (CSV floats round-trip exactly)
    assert "latency_s" in back and "energy_j" in back and "latency_us" not in back
    assert len(back) == len(result.layers)
    assert back["energy_j"].tolist() == pytest.approx(result.layers["energy_j"].tolist(), rel=1e-15)
    # mapping columns are integers, empty for non-MAC layers
    assert str(back["spatial_k"].dtype) == "Int64"
    mac = result.layers["macs"] > 0
    assert back.loc[mac.to_numpy(), "tile_k"].notna().all() and back.loc[~mac.to_numpy(), "tile_k"].isna().all()
    if suffix == ".json":  # totals travel with the rows
        assert back.attrs["totals"]["energy_per_op_j"] == pytest.approx(result.summary()["energy_per_op_j"], rel=1e-15)


def test_unknown_suffix_is_one_line_before_any_work(tmp_path, capsys):
    for argv in (["simulate", *SMALL, "-o", str(tmp_path / "x.txt")],
                 ["pareto", str(tmp_path / "r.csv"), "-o", str(tmp_path / "f.xlsx")],
                 ["sweep", "--arch", "E", *SMALL[:4], "-o", str(tmp_path / "r.tsv")],
                 ["simulate", *SMALL, "--format", "csv", "-o", str(tmp_path / "x.json")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
        # the allowed suffixes are named (checked before any work), or the contradiction
        assert all(x in err for x in (".csv", ".parquet", ".json")) or "contradicts" in err, err
    assert not any(tmp_path.iterdir())  # nothing written


def test_full_model_path_is_text_not_nan(tmp_path):
    df = pd.DataFrame({"arch": ["E", "E"], "exec_path": ["", "fuse_in=896"], "latency_s": [1e-3, 2e-3]})
    for suffix in (".csv", ".parquet", ".json"):
        back = read_table(write_table(df, tmp_path / f"r{suffix}"))
        assert back["exec_path"].tolist() == ["", "fuse_in=896"], suffix
    # plain pandas turns the empty field into NaN: the reason accelsim.read_results exists
    assert pd.read_csv(tmp_path / "r.csv")["exec_path"].isna().tolist() == [True, False]


def test_json_keeps_full_float_precision(tmp_path):
    # DataFrame.to_json rounds to 10 decimals: 4.18e-13 J/op would become 0
    df = pd.DataFrame({"energy_per_op_j": [4.180530123456789e-13]})
    data = json.loads((write_table(df, tmp_path / "x.json")).read_text())
    assert data[0]["energy_per_op_j"] == 4.180530123456789e-13


def test_sweep_json_output_resumes(tmp_path, capsys):
    args = ["sweep", "--arch", "A..B", *SMALL[:4], "-o", str(tmp_path / "r.json"), "--workers", "1", "--no-progress"]
    assert main(args) == 0
    first = (tmp_path / "r.json").read_bytes()
    assert main(args) == 0
    assert "2 kept from a previous run, 0 computed" in capsys.readouterr().err
    assert (tmp_path / "r.json").read_bytes() == first
    assert accelsim.read_results(tmp_path / "r.json")["arch"].tolist() == ["A", "B"]


def test_pareto_writes_the_front_by_suffix(tmp_path, capsys):
    res = tmp_path / "r.csv"
    assert main(["sweep", "--arch", "A..C", *SMALL[:4], "-o", str(res), "--workers", "1", "--no-progress"]) == 0
    assert main(["pareto", str(res), "-o", str(tmp_path / "front.parquet")]) == 0
    front = pd.read_parquet(tmp_path / "front.parquet")
    assert list(front["arch"]) == list(accelsim.pareto(read_table(res))["arch"])
    assert "num_pe" in front.columns  # every column, not the console's selection


def test_console_totals_first_in_engineering_units(capsys, result):
    assert main(["simulate", *SMALL, "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    s = result.summary()
    assert lines[0].startswith("segformer-b0 on arch E, accelerator scope (64x64")

    def value(label: str, unit: str) -> float:
        line = next(x.strip() for x in lines[1:8] if x.strip().startswith(label + " "))
        number, got_unit = line[len(label):].split()[:2]
        assert got_unit == unit, line
        return float(number.replace(",", ""))

    # the same numbers as the result, in ms, mJ, fJ/op, TOPS/mm2 and % (4 significant digits)
    assert value("latency", "ms") == pytest.approx(s["latency_s"] * 1e3, rel=5e-4)
    assert value("energy", "mJ") == pytest.approx(s["energy_j"] * 1e3, rel=5e-4)
    assert value("energy per op", "fJ/op") == pytest.approx(s["energy_per_op_j"] * 1e15, rel=5e-4)
    assert value("throughput per area", "TOPS/mm2") == pytest.approx(s["throughput_ops_per_s_per_mm2"] / 1e12,
                                                                     rel=5e-4)
    assert value("utilization", "%") == pytest.approx(s["utilization"] * 100, rel=5e-3)
    # then the 3 slowest layers, slowest first
    head = next(i for i, line in enumerate(lines) if line.startswith("top 3 of"))
    rows = lines[head + 2:head + 5]
    slowest = result.layers.sort_values("latency_s", ascending=False, kind="stable")["name"].head(3).tolist()
    assert [r.split()[1] for r in rows] == slowest
    # and one line on what the system scope (global buffer, NoC, DRAM) adds, so it is never hidden
    assert lines[head + 5:] == ["", lines[-1]] and lines[-1].startswith("system scope (adds the 2 MiB")


def test_console_all_layers_and_totals_row(capsys, result):
    assert main(["simulate", *SMALL, "--all"]) == 0
    out = capsys.readouterr().out
    assert f"all {len(result.layers)} layers in execution order" in out
    assert main(["simulate", *SMALL, "--totals", "--format", "csv"]) == 0
    row = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert len(row) == 1
    for key, value in result.summary().items():
        got = row[key].iloc[0]
        assert (got == pytest.approx(value, rel=1e-15)) if isinstance(value, float) else str(got) == str(value)
