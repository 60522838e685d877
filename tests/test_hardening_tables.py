"""Result tables: the sorted Pareto front against a plain pairwise reference, values checked on
read, atomic writes and truncation detected (also on a real full disk: a 2 MiB tmpfs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.errors import ConfigError
from accelsim.sweep.pareto import pareto_mask, pareto_mask_pairwise
from accelsim.tableio import checksum_path, read_table, write_table


# ------------------------------------------------------------------ Pareto front
def reference_front(values: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """The definition, row by row: i is on the front unless some j is at least as good in
    every objective and strictly better in one; a row with a NaN is never on it."""
    v = np.asarray(values, float) * np.where(maximize, -1.0, 1.0)
    out = np.zeros(len(v), dtype=bool)
    for i in range(len(v)):
        if np.isnan(v[i]).any():
            continue
        others = v[~np.isnan(v).any(axis=1)]
        dominated = ((others <= v[i]).all(axis=1) & (others < v[i]).any(axis=1)).any()
        out[i] = not dominated
    return out


# small integer grids make ties and duplicate rows common; NaN and infinities included
VALUE = st.one_of(st.integers(-3, 3).map(float), st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 3).flatmap(lambda m: st.tuples(
    st.lists(st.lists(VALUE, min_size=m, max_size=m), min_size=0, max_size=40),
    st.lists(st.booleans(), min_size=m, max_size=m))))
def test_sorted_front_equals_definition(case):
    rows, maximize = case
    values = np.array(rows, dtype=float).reshape(len(rows), len(maximize))
    expect = reference_front(values, maximize)
    assert (pareto_mask(values, maximize) == expect).all()
    assert (pareto_mask_pairwise(values, maximize) == expect).all()  # the former method agrees


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.integers(1, 3000))
def test_sorted_front_equals_pairwise_on_random_floats(seed, m, n):
    """Continuous values (few ties), larger n: the sorted and the pairwise method agree."""
    values = np.random.default_rng(seed).random((n, m))
    maximize = [bool(b) for b in np.random.default_rng(seed + 1).integers(0, 2, m)]
    assert (pareto_mask(values, maximize) == pareto_mask_pairwise(values, maximize)).all()


def test_front_of_a_hand_made_set():
    """2-D, both minimised: (1,3), (2,2), (3,1) trade off; (3,3) and (2,4) are dominated;
    the duplicate (2,2) stays (identical rows do not dominate each other)."""
    v = np.array([[1, 3], [2, 2], [3, 1], [3, 3], [2, 4], [2, 2]], float)
    assert pareto_mask(v, [False, False]).tolist() == [True, True, True, False, False, True]


# ------------------------------------------------------------------ values checked on read
def _rows(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"arch": [f"a{i}" for i in range(n)], "workload": "w", "exec_path": "", "scope": "system",
                         "energy_per_op_j": np.linspace(1e-13, 3e-13, n),
                         "throughput_ops_per_s_per_mm2": np.linspace(3e11, 1e11, n), "error": ""})


@pytest.mark.parametrize("value,shown", [("abc", "'abc'"), ("inf", "inf"), ("-1e-12", "-1e-12"),
                                         ("-inf", "-inf")])
def test_bad_number_in_csv_names_row_and_column(tmp_path, value, shown):
    path = tmp_path / "r.csv"
    df = _rows().astype({"energy_per_op_j": object})
    df.loc[1, "energy_per_op_j"] = value
    df.to_csv(path, index=False)
    with pytest.raises(ConfigError) as info:
        read_table(path)
    assert str(info.value) == f"{path}: row 2, column 'energy_per_op_j': {shown} is not a finite number >= 0"


def test_repeated_header_refused(tmp_path):
    path = tmp_path / "r.csv"
    lines = _rows().to_csv(index=False).splitlines()
    path.write_text("\n".join([lines[0], lines[0], *lines[1:]]) + "\n")
    with pytest.raises(ConfigError, match=r"r.csv: row 1 repeats the header"):
        read_table(path)


@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_json_constants_refused(tmp_path, constant):
    path = tmp_path / "r.json"
    rows = json.loads(_rows().to_json(orient="records"))
    text = json.dumps(rows).replace(json.dumps(rows[1]["energy_per_op_j"]), constant, 1)
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"JSON constant {constant} is not a number"):
        read_table(path)


def test_missing_values_and_error_rows_still_read(tmp_path):
    df = _rows()
    df.loc[2, ["energy_per_op_j", "throughput_ops_per_s_per_mm2"]] = np.nan
    df.loc[2, "error"] = "no mapping"
    for suffix in (".csv", ".json", ".parquet"):
        back = read_table(write_table(df, tmp_path / f"r{suffix}"))
        assert back["energy_per_op_j"].isna().tolist() == [False, False, True]


# ------------------------------------------------------------------ truncation and atomic writes
@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_truncated_table_detected(tmp_path, suffix):
    path = write_table(_rows(149), tmp_path / f"r{suffix}")
    assert checksum_path(path).read_text().split() == [
        __import__("hashlib").sha256(path.read_bytes()).hexdigest(), path.name]  # sha256sum format
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 5])
    with pytest.raises(ConfigError, match="does not match its checksum .* truncated"):
        read_table(path)
    checksum_path(path).unlink()  # the way out the message names: read it as it is
    if suffix == ".csv":
        assert 0 < len(read_table(path)) < 149


def test_parquet_row_count_checked(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    path = write_table(_rows(5), tmp_path / "r.parquet")
    assert pq.read_schema(path).metadata[b"accelsim.rows"] == b"5"
    table = pa.Table.from_pandas(_rows(3), preserve_index=False)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"accelsim.rows": b"5"}), path)
    with pytest.raises(ConfigError, match="holds 3 rows but was written with 5"):
        read_table(path)


def test_failed_write_leaves_old_file_and_nothing_else(tmp_path):
    path = write_table(_rows(3), tmp_path / "r.json")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    bad = _rows(3).assign(extra=[object(), 1, 2])  # json_text cannot write an object: fails mid-way
    bad["energy_per_op_j"] = [np.inf, 1, 2]
    with pytest.raises(ValueError):
        write_table(bad, path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.fixture
def full_disk(tmp_path):
    """A 2 MiB tmpfs (needs root and mount; skipped where either is missing)."""
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs Linux, root and mount")
    mnt = tmp_path / "small"
    mnt.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True,
                         text=True, timeout=30)
    if out.returncode:
        pytest.skip(f"mount not permitted here: {out.stderr.strip()[:200]}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, timeout=30)


def _big(n: int = 60_000) -> pd.DataFrame:
    return _rows(n)  # about 5 MiB as CSV: more than the disk holds


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_full_disk_leaves_nothing_behind(full_disk, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    df = _big() if suffix != ".parquet" else _big(400_000)
    with pytest.raises(ConfigError, match="no space left on the device"):
        write_table(df, full_disk / f"r{suffix}")
    assert list(full_disk.iterdir()) == []


def test_full_disk_cli_output_and_sweep_rewrite(full_disk, tmp_path, capsys):
    """``-o`` on a full disk: one line, exit 2, nothing left; a sweep store's final
    rewrite: no ``.NAME.tmp`` left."""
    from accelsim.cli.main import main
    from accelsim.sweep.store import RowStore

    src = write_table(_big().assign(throughput_ops_per_s_per_mm2=np.linspace(1e11, 3e11, 60_000)),
                      tmp_path / "big.csv")  # every row on the front: about 20 MiB of JSON
    filler = full_disk / "filler"
    filler.write_bytes(b"x" * (2 * 1024**2 - 64 * 1024))  # leave 64 KiB
    store = RowStore(full_disk / "sweep.csv")
    with pytest.raises(ConfigError, match="no space left"):
        store.rewrite(_big(2_000))
    filler.unlink()
    assert list(full_disk.iterdir()) == []
    assert main(["pareto", str(src), "-o", str(full_disk / "all.json")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"error: {full_disk / 'all.json'}: no space left on the device"
    assert list(full_disk.iterdir()) == []


def test_truncated_copy_on_full_disk_detected(full_disk, tmp_path):
    """A table copied onto a full disk (the copy stops at ENOSPC, as ``cp`` does) is
    refused on read, not read back as fewer rows."""
    src = write_table(_big(), tmp_path / "r.csv")
    shutil.copy(checksum_path(src), full_disk / "r.csv.sha256")
    dest = full_disk / "r.csv"
    data, fd = src.read_bytes(), os.open(dest, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError, match="No space left"):
            for i in range(0, len(data), 65536):
                os.write(fd, data[i:i + 65536])
    finally:
        os.close(fd)
    assert 0 < dest.stat().st_size < src.stat().st_size
    with pytest.raises(ConfigError, match="does not match its checksum r.csv.sha256 .*truncated"):
        accelsim.read_results(dest)



# ------------------------------------------------------------------ zero-MAC workloads
def test_zero_mac_workload_simulates_and_json_has_no_nan(tmp_path, capsys):
    """A workload of element-wise layers only: zero utilisation, no energy per op (null in
    JSON), never the non-standard NaN."""
    from accelsim.cli.main import main

    path = tmp_path / "zero.yaml"
    path.write_text("name: zeromac\nlayers:\n"
                    "- {name: a, op: eltwise, k: 64, c: 64, p: 16, q: 16, inputs: [input]}\n"
                    "- {name: b, op: eltwise, k: 64, c: 64, p: 16, q: 16, inputs: [a]}\n")
    res = accelsim.simulate(accelsim.load_workload(path), accelsim.load_arch("E"))
    assert res.macs == 0 and res.utilization == 0 and res.energy_j > 0
    doc = json.loads(res.to_json())
    assert doc["summary"]["energy_per_op_j"] is None
    for argv in (["simulate", "-w", str(path), "--format", "json"],
                 ["simulate", "-w", str(path), "-o", str(tmp_path / "z.json")]):
        assert main(argv) == 0
        text = (tmp_path / "z.json").read_text() if "-o" in argv else capsys.readouterr().out
        assert "NaN" not in text and json.loads(text)["totals"]["energy_per_op_j"] is None


# ------------------------------------------------------------------ the report folder lock
def test_report_folder_is_locked(tmp_path, capsys):
    """A second report on a folder a report holds fails at once, and so does a sweep
    writing into it; the lock file goes with the run."""
    from accelsim.cli.main import main
    from accelsim.safeio import FOLDER_LOCK, exclusive_folder

    out = tmp_path / "rep"
    out.mkdir()
    with exclusive_folder(out, "report folder"):  # what a running report holds
        assert main(["report", "--out", str(out), "--no-paths", "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: {out}: another process is writing this report folder (lock {FOLDER_LOCK}); "
                       "wait for it to finish or choose another output"]
        tiny = tmp_path / "tiny.yaml"
        tiny.write_text("name: tiny\nlayers:\n- {name: fc, op: linear, k: 64, c: 64, p: 16, inputs: [input]}\n")
        assert main(["sweep", "-w", str(tiny), "--arch", "E", "-o", str(out / "s.csv"), "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"the folder {out} is being written by another process" in err[0]
    assert not (out / FOLDER_LOCK).exists() and list(out.iterdir()) == []


def test_failed_report_removes_what_it_created(tmp_path, monkeypatch):
    """A report that fails part-way (here: the figures hit a full disk) leaves the folder
    as it was: no figures/, no sweep rows, no lock; the next run is not refused."""
    import errno

    from accelsim.report import build

    def full_disk(*args, **kwargs):
        raise ConfigError(f"{tmp_path}/rep/figures/x.png: {os.strerror(errno.ENOSPC)}")

    monkeypatch.setattr(build, "collect", lambda **kw: (kw["sweep_output"].parent.mkdir(parents=True),
                                                        kw["sweep_output"].write_text("rows\n"), None)[2])
    monkeypatch.setattr(build, "report_figures", full_disk)
    with pytest.raises(ConfigError, match="No space left"):
        build.build_report(tmp_path / "rep", paths=False)
    assert not (tmp_path / "rep").exists()
    cache = tmp_path / "cache_is_a_file"
    cache.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):  # --cache FILE: refused before the folder exists
        build.build_report(tmp_path / "rep2", cache=cache, paths=False)
    assert not (tmp_path / "rep2").exists()
