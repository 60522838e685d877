"""GPU measurement files are untrusted input: every reader refuses a bad file in one line
naming the file and the column (or metadata key), exit status 2, without hanging."""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest

import accelsim.gpu as gpu
from accelsim.cli.main import main
from accelsim.errors import AccelsimError
from accelsim.gpu.data import Measurement
from accelsim.safeio import find_files


def _good(tmp_path, **meta):
    frame = pd.DataFrame({"name": ["c", "l"], "op": ["conv2d", "linear"], "macs": [10, 20],
                          "median_s": [1e-3, 2e-3], "p10_s": [9e-4, 1.9e-3], "status": ["ok", "ok"],
                          "energy_j": [math.nan, math.nan]})
    base = {"kind": "per-layer", "device_name": "GPU X", "dtype": "fp16", "workload": "w",
            "input": "64x64", "exec_path": ""}
    return gpu.write(Measurement(frame, {**base, **meta}), tmp_path / "m.csv")


def _edit(path, col, value, row=0):
    lines = path.read_text().split("\n")
    head = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cols = lines[head].split(",")
    cells = lines[head + 1 + row].split(",")
    cells[cols.index(col)] = value
    lines[head + 1 + row] = ",".join(cells)
    path.write_text("\n".join(lines))
    return head + 2 + row  # the file line of the edited row


@pytest.mark.parametrize("col,value,expect", [
    ("median_s", "abc", "'abc' is not a number"),
    ("median_s", "-0.001", "-0.001 is not a finite time > 0"),
    ("median_s", "inf", "inf is not a finite time > 0"),
    ("median_s", "0", "0 is not a finite time > 0"),
    ("median_s", "nan", "missing is not a finite time > 0 (seconds) (a layer with status 'ok'"),
    ("p10_s", "-inf", "-inf is not a finite time > 0"),
    ("macs", "lots", "'lots' is not a number"),
    ("macs", "-5", "-5 is not a finite number >= 0"),
    ("energy_j", "inf", "inf is not a finite number >= 0"),
])
def test_bad_value_names_file_line_and_column(tmp_path, col, value, expect):
    path = _good(tmp_path)
    line = _edit(path, col, value, row=1)
    with pytest.raises(AccelsimError) as info:
        gpu.read(path)
    assert str(info.value) == f"{path}: line {line}, column {col!r}: {expect}" or \
        str(info.value).startswith(f"{path}: line {line}, column {col!r}: {expect}")


def test_failed_layer_may_have_no_time(tmp_path):
    path = _good(tmp_path)
    _edit(path, "median_s", "nan", row=1)
    _edit(path, "status", "error: out of memory", row=1)
    assert math.isnan(gpu.read(path).frame["median_s"].iloc[1])


@pytest.mark.parametrize("col", ["median_s", "macs", "op", "name"])
def test_missing_column(tmp_path, col):
    path = _good(tmp_path)
    m = gpu.read(path)
    gpu.write(Measurement(m.frame.drop(columns=col), m.meta), path)
    with pytest.raises(AccelsimError, match=f"^{path}: missing column\\(s\\) {col}; a measurement file has"):
        gpu.read(path)


@pytest.mark.parametrize("value", ["abc", 1e3, [64, 64], "0x64", "64x64x3", {"h": 1}])
def test_bad_input_metadata(tmp_path, value):
    path = _good(tmp_path, input=value)
    with pytest.raises(AccelsimError, match=f"^{path}: metadata 'input' is .*; allowed: a text 'HxW'"):
        gpu.read(path)


def test_bad_kind_metadata(tmp_path):
    path = _good(tmp_path, kind="sideways")
    with pytest.raises(AccelsimError, match="metadata 'kind' is 'sideways'; allowed: per-layer, whole-model"):
        gpu.read(path)


def _cli(argv, capsys):
    rc = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return rc, err


@pytest.mark.parametrize("argv", [
    ["gpu", "table", "--no-write", "--glob", "{bad}"],
    ["plot", "gpu-share", "--gpu", "{bad}", "-o", "{tmp}/share.png"],
    ["rdd", "--budget-latency", "3ms", "--results", "{bad}"],
])
@pytest.mark.parametrize("what", ["negative", "fifo", "folder_glob_root", "dev_zero"])
def test_commands_refuse_in_one_line(tmp_path, capsys, argv, what):
    if what == "negative":
        bad = _good(tmp_path)
        _edit(bad, "median_s", "-1")
        name = str(bad)
    elif what == "fifo":
        bad = tmp_path / "m.csv"
        os.mkfifo(bad)
        name = str(bad)
    elif what == "dev_zero":
        bad = tmp_path / "z.csv"
        bad.symlink_to("/dev/zero")
        name = str(bad)
    else:  # the whole file system: refused by the bounded search, not walked
        bad, name = "/", "'/'"
    args = [a.replace("{bad}", str(bad)).replace("{tmp}", str(tmp_path)) for a in argv]
    rc, err = _cli(args, capsys)
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and name in err[0], err


@pytest.mark.parametrize("readme", ["/dev/zero", "/dev/full", "{tmp}", "{tmp}/file/README.md", ""])
def test_gpu_table_readme_checked_before_reading(tmp_path, capsys, readme):
    (tmp_path / "file").write_text("x")
    data = _good(tmp_path)
    rc, err = _cli(["gpu", "table", "--glob", str(data), "--readme", readme.replace("{tmp}", str(tmp_path))],
                   capsys)
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: "), err


def test_update_readme_refuses_non_utf8(tmp_path, capsys):
    data = _good(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_bytes(b"caf\xe9\n")
    rc, err = _cli(["gpu", "table", "--glob", str(data), "--readme", str(readme)], capsys)
    assert rc == 2 and err == [f"error: {readme}: not UTF-8 text (byte 0xe9 at offset 3)"]


def test_find_files_matches_glob_semantics(tmp_path):
    """The bounded search returns what :mod:`glob` returns (hand-made tree)."""
    import glob

    for rel in ["a.csv", "b.txt", "s/c.csv", "s/t/d.csv", ".h/e.csv", "s/.f.csv"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    for pattern in ["*.csv", "**/*.csv", "s/*.csv", "s/**/*.csv", "*/*.csv", "s/t/d.csv", "?.csv"]:
        full = f"{tmp_path}/{pattern}"
        assert [str(p) for p in find_files(full)] == sorted(glob.glob(full, recursive=True)), pattern
    folder = [p.relative_to(tmp_path).as_posix() for p in find_files(tmp_path, "*.csv")]
    assert folder == ["a.csv", "s/c.csv", "s/t/d.csv"]  # hidden folders and files skipped


def test_find_files_is_bounded(tmp_path):
    for i in range(30):
        (tmp_path / f"{i}.csv").write_text("x")
    with pytest.raises(AccelsimError, match="looks at more than 10 folder entries"):
        find_files(tmp_path, "*.csv", max_entries=10)
    with pytest.raises(AccelsimError, match="more than 5 files match"):
        find_files(f"{tmp_path}/*.csv", max_files=5)
