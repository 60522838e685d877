"""Tables people read and files machines read: engineering units in `pareto` and `rdd`
(SI kept in files), rdd's `feasible` column, `validate --format`, and the one line that says
when an option replaces a named workload's setting."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from accelsim.cli.common import human_table
from accelsim.cli.main import main
from accelsim.paths.rdd import lookup_table

SWEEP = pd.DataFrame({
    "arch": ["D", "E", "D", "E"], "workload": "segformer-b2", "exec_path": "",
    "scope": ["accelerator", "accelerator", "system", "system"],
    "latency_s": [3.9e-3, 3.739e-3, 8.6e-3, 8.446e-3], "energy_j": [8.5e-3, 8.381e-3, 5.1e-2, 5.04e-2],
    "area_mm2": [1.9, 1.9, 2.744, 2.744], "energy_per_op_j": [6.8e-14, 6.7558e-14, 4.1e-13, 4.0428e-13],
    "throughput_ops_per_s_per_mm2": [1.7e13, 1.7551e13, 5.2e12, 5.3874e12]})


def test_pareto_console_in_engineering_units_files_in_si(tmp_path, capsys):
    """6.7558e-14 J/op is 67.56 fJ/op, 1.7551e13 ops/s/mm2 17.55 TOPS/mm2, 3.739e-3 s 3.739 ms
    (hand conversions); latency and area columns are shown; a CSV keeps SI values."""
    res = tmp_path / "r.csv"
    SWEEP.to_csv(res, index=False)
    assert main(["pareto", str(res)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for col in ("energy/op (fJ)", "TOPS/mm2", "latency (ms)", "energy (mJ)", "area (mm2)"):
        assert col in header
    row = next(line for line in out.splitlines() if " E " in line and "accelerator" in line)
    assert "67.56" in row and "17.55" in row and "3.739" in row and "8.381" in row and "(full model)" in row
    assert "e-14" not in out and "e+13" not in out
    assert main(["pareto", str(res), "--format", "csv"]) == 0
    front = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert front.loc[front["arch"] == "E", "energy_per_op_j"].iloc[0] == pytest.approx(6.7558e-14, rel=1e-9)


def test_human_table_units():
    df = pd.DataFrame({"budget_latency_s": [0.0022500000000000003], "feasible": [True], "exec_path": [""],
                       "accuracy": [0.4565], "macs": [6.07e10]})
    text = human_table(df)
    assert "2.25" in text and "0.00225" not in text and "45.65" in text and "60.7" in text
    assert "(full model)" in text


def evaluated() -> pd.DataFrame:
    return pd.DataFrame({"exec_path": ["", "fuse_in=1920", "variant=b0"], "latency_s": [3.7e-3, 3.0e-3, 0.8e-3],
                         "energy_j": [8.4e-3, 6.6e-3, 1.4e-3], "accuracy": [0.4651, 0.4565, 0.374]})


def test_rdd_feasible_column_tells_nothing_from_full_model(tmp_path, capsys):
    """Budgets 0.5 ms (below the cheapest, B0 at 0.8 ms: nothing fits), 2 ms (B0 fits) and
    4 ms (the full model, whose path is the empty string, fits)."""
    table = lookup_table(evaluated(), budgets=[0.5e-3, 2e-3, 4e-3])
    assert table["feasible"].tolist() == [False, True, True]
    assert table["exec_path"].tolist()[1:] == ["variant=b0", ""]
    assert lookup_table(evaluated())["feasible"].all()
    res = tmp_path / "paths.csv"
    evaluated().to_csv(res, index=False)
    out = tmp_path / "rdd.csv"
    assert main(["rdd", "--results", str(res), "--budget-latency", "4ms", "--steps", "8", "-o", str(out)]) == 0
    back = pd.read_csv(out, keep_default_na=False)
    assert back["feasible"].astype(str).tolist() == ["False"] + ["True"] * 7  # 0.5 ms: nothing fits
    assert back["exec_path"].iloc[0] == "" and back["exec_path"].iloc[-1] == ""  # told apart by feasible only
    assert float(back["budget_latency_s"].iloc[0]) == pytest.approx(0.5e-3)  # SI in the file
    capsys.readouterr()
    assert main(["rdd", "--results", str(res), "--budget-latency", "4ms", "--steps", "8"]) == 0
    text = capsys.readouterr().out
    assert "budget (ms)" in text and "(nothing fits)" in text and "(full model)" in text and "0.0005" not in text


@pytest.fixture
def few_checks(monkeypatch):
    from accelsim.report import validation

    rows = [validation._rel("model totals", "SegFormer-B2 GMACs", 62.0, 62.4, 0.01, "paper"),
            validation._rel("calibration", "E latency (ms)", 3.9, 3.7, 0.02, "paper", scope="accelerator")]
    monkeypatch.setattr(validation, "validation_rows", lambda progress=None: rows)
    return rows


def validate(*args: str) -> int:
    """The exit status of ``accelsim validate ARGS`` (a failed check exits 1 via SystemExit)."""
    try:
        return main(["validate", *args])
    except SystemExit as exc:
        return int(exc.code)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_validate_machine_readable(few_checks, capsys, tmp_path, fmt):
    """62.0 vs 62.4 within 1 % passes (0.64 % off); 3.9 vs 3.7 within 2 % fails (5.4 % off)."""
    assert validate("--format", fmt) == 1
    out = capsys.readouterr().out
    df = pd.read_csv(io.StringIO(out)) if fmt == "csv" else pd.DataFrame(json.loads(out))
    assert df["result"].tolist() == ["pass", "FAIL"]
    assert df["model_value"].tolist() == [62.0, 3.9] and df["passed"].tolist() == [True, False]
    assert df["low"].iloc[0] == pytest.approx(62.4 * 0.99)
    target = tmp_path / f"v.{fmt}"
    assert validate("-o", str(target)) == 1  # the suffix decides
    assert target.exists() and "result" in target.read_text()


def test_validate_markdown_and_bad_suffix(few_checks, capsys, tmp_path):
    assert validate("-o", str(tmp_path / "v.md")) == 1
    assert "| SegFormer-B2 GMACs |" in (tmp_path / "v.md").read_text()
    assert validate("-o", str(tmp_path / "v.xlsx")) == 2
    assert "v.xlsx: validation output suffix '.xlsx' is not supported; use .md, .csv or .json" in \
        capsys.readouterr().err
    assert validate("--format", "json", "-o", str(tmp_path / "v.csv")) == 2


@pytest.mark.parametrize("args, note", [
    (["workload", "show", "detr-r50-coco-800x1200", "--input", "1024x1024"],
     "note: --input 1024x1024 replaces input 800x1200 of named workload detr-r50-coco-800x1200 "
     "(detr-r50-coco-800x1200.yaml)"),
    (["paths", "show", "-w", "segformer-b2-ade20k-512", "--classes", "19"],
     "note: --classes 19 replaces classes 150 of named workload segformer-b2-ade20k-512 "
     "(segformer-b2-ade20k-512.yaml)"),
])
def test_overriding_a_named_workload_says_so(capsys, args, note):
    assert main(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert err.count(note) == 1


@pytest.mark.parametrize("args", [
    ["workload", "show", "detr-r50-coco-800x1200", "--input", "800x1200"],  # the same value
    ["workload", "show", "detr-r50", "--input", "1024x1024"],  # a registry name has no setting to replace
])
def test_no_note_without_an_override(capsys, args):
    assert main(args) == 0
    assert "note:" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["simulate", "-w", "segformer-b0"], ["plot", "layers", "-w", "segformer-b0"]])
def test_scope_given_twice_is_an_error_everywhere(capsys, command):
    """Not last-wins: one line, exit 2, before any work."""
    assert main([*command, "--scope", "accelerator", "--scope", "system"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "given 2 times (accelerator, system); give it once" in err[0]
