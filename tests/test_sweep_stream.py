"""Streamed sweep outputs: rows in point order whatever the completion order, resume from
any cut, a partitioned Parquet dataset, time-sized chunks, disk checked before work.

The fake, closed-form ``simulate`` of test_sweep_engine keeps these fast and exact.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accelsim.errors import ConfigError
from accelsim.sweep import run_sweep
from accelsim.sweep.runner import CHUNK_SECONDS, ChunkPlanner, plan_sweep
from accelsim.sweep.stream import CsvSink, Points, csv_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_sweep_engine import SPEC, fake_simulate  # noqa: E402

BIG = {**SPEC, "arch": {"base": "E", "grid": {"num_pe": [4, 8, 16, 32], "k0": [16, 32], "c0": [16, 32]}}}


def _points(n):
    class A:
        def __init__(self, i):
            self.name = f"a{i}"

        def params(self):
            return {}
    return Points([A(i) for i in range(n)], [("w", "", "accelerator")], ())


def _frame(idx):
    return pd.DataFrame({"arch": [f"a{i}" for i in idx], "workload": "w", "exec_path": "", "scope": "accelerator",
                         "latency_s": [i * 0.1 for i in idx], "error": ""})


def test_pieces_in_any_order_give_point_order(tmp_path):
    """Pieces arriving in a random order: the file is in point order at every moment (a
    prefix), early pieces wait on disk, and the end result has every row once."""
    n, out = 40, tmp_path / "r.csv"
    bounds = [0, 3, 4, 10, 11, 12, 20, 27, 33, 40]
    pieces = [(a, b - 1) for a, b in zip(bounds, bounds[1:])]
    random.Random(1).shuffle(pieces)
    sink = CsvSink(out, n)
    sink.start(list(_frame([0]).columns))
    for first, last in pieces:
        sink.add(first, last, _frame(range(first, last + 1)))
        rows = pd.read_csv(out)
        assert rows["arch"].tolist() == [f"a{i}" for i in range(len(rows))]  # always a prefix
    sink.finish()
    assert pd.read_csv(out)["arch"].tolist() == [f"a{i}" for i in range(n)]
    assert not sink.parts.exists()


def test_scan_keeps_the_prefix_and_sorts_the_rest(tmp_path):
    """A file whose rows are out of order, repeated and foreign: the in-order prefix stays,
    our other rows are kept once, foreign rows go last."""
    out = tmp_path / "r.csv"
    df = pd.concat([_frame([0, 1, 2, 5, 3, 1]), _frame([99]).assign(arch="zz")], ignore_index=True)
    out.write_bytes(csv_rows(df, header=True))
    sink = CsvSink(out, 8)
    taken = np.zeros(8, dtype=bool)
    scan = sink.scan(_points(8), taken)
    assert taken.tolist() == [True, True, True, True, False, True, False, False]
    assert (scan.kept, scan.dropped, scan.foreign) == (5, 1, 1)
    assert len(pd.read_csv(out)) == 3  # cut after the prefix a0 a1 a2
    sink.start(list(df.columns))
    for i in (4, 6, 7):
        sink.add(i, i, _frame([i]))
    sink.finish()
    assert pd.read_csv(out)["arch"].tolist() == [f"a{i}" for i in range(8)] + ["zz"]


@pytest.mark.parametrize("suffix", ["r.csv", "r.parquet", "r.json", "ds/"])
def test_grown_sweep_equals_a_fresh_one(tmp_path, suffix):
    """A sweep grown by a workload that sorts first (every old row moves) ends identical
    to a fresh run of the grown sweep."""
    from accelsim.sweep.dataset import read_results

    small = {**BIG, "workloads": BIG["workloads"][1:]}
    out = f"{tmp_path}/grown/{suffix}"
    run_sweep(small, output=out, workers=1, simulate=fake_simulate, chunk_size=3)
    grown = run_sweep(BIG, output=out, workers=2, simulate=fake_simulate, chunk_size=2)
    assert grown.attrs["sweep"]["resumed"] == 16 and grown.attrs["sweep"]["computed"] == 16
    fresh_out = f"{tmp_path}/fresh/{suffix}"
    fresh = run_sweep(BIG, output=fresh_out, workers=1, simulate=fake_simulate)
    pd.testing.assert_frame_equal(read_results(out), read_results(fresh_out))
    pd.testing.assert_frame_equal(grown, fresh)
    if suffix.endswith(".csv"):
        assert Path(out).read_bytes() == Path(fresh_out).read_bytes()


def test_dataset_resume_and_projection(tmp_path):
    """A dataset folder: one Parquet file per piece; a lost part is recomputed alone;
    pareto and plot read it (only the columns they need)."""
    from accelsim.cli.main import main

    out = tmp_path / "ds"
    full = run_sweep(BIG, output=str(out) + "/", layers=str(tmp_path / "lay") + "/", workers=1,
                     simulate=fake_simulate, chunk_size=4)
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 8  # 32 points in chunks of 4
    parts[1].unlink()
    again = run_sweep(BIG, output=out, layers=tmp_path / "lay", workers=1, simulate=fake_simulate, chunk_size=4)
    assert again.attrs["sweep"]["computed"] == 4
    pd.testing.assert_frame_equal(full, again)
    assert main(["pareto", str(out), "--format", "csv"]) == 0
    assert main(["plot", "energy-throughput", str(out), "-o", str(tmp_path / "fig.png")]) == 0


def test_planner_sizes_chunks_by_time():
    plan = plan_sweep(BIG)
    todo = np.arange(len(plan.points))
    p = ChunkPlanner(plan, todo, 2, None, {}, None, None, 0, 0)
    first = p.next()
    assert len(first.points) == 2  # before any measurement: one architecture's points (2 workloads)
    p.observe(first.first, 2, 2 * CHUNK_SECONDS / 3)  # 3 points per CHUNK_SECONDS
    assert len(p.next().points) in (3, 4)  # 3, or 4 to keep an architecture whole
    fixed = ChunkPlanner(plan, todo[[0, 1, 2, 5, 6]], 2, 4, {}, None, None, 0, 0)
    # a chunk never spans a gap: its rows must be one run of consecutive points
    assert [c.first for c in iter(fixed.next, None)] == [0, 5]


def test_disk_is_checked_before_any_work(tmp_path, monkeypatch):
    import shutil

    calls = []

    def counting(*a, **kw):
        calls.append(1)
        return fake_simulate(*a, **kw)

    class Usage:
        free = 1000
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage)
    with pytest.raises(ConfigError, match=r"r\.csv: the sweep output of 32 points needs about .* GB are free"):
        run_sweep(BIG, output=tmp_path / "r.csv", workers=1, simulate=counting)
    assert calls == []


def test_overrides_of_range_specs_print_no_warnings(tmp_path, capsys):
    """A spec with {start, stop, factor} and {values} grid entries, overridden on the command
    line: no pydantic serializer warning (they used to print about 10 lines)."""
    import warnings

    from accelsim.cli.sweep import build_spec
    from accelsim.sweep.runner import setup_sweep

    spec = tmp_path / "s.yaml"
    spec.write_text("arch:\n  base: E\n  grid:\n    num_pe: {start: 8, stop: 16, factor: 2}\n"
                    "    k0: {values: [16, 32]}\nworkloads: [segformer-b0]\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = build_spec(str(spec), (), None, (), ("k0 == 16",), ("segformer-b1",), (), None, None)
        setup = setup_sweep(str(spec), objective="energy")
    assert setup.spec.objective == "energy" and data["arch"]["constraints"] == ["k0 == 16"]


def test_scheduler_implies_dask_and_a_dead_address_fails_fast(tmp_path):
    import time

    with pytest.raises(ConfigError, match="give --executor dask or leave --executor out"):
        run_sweep(SPEC, scheduler="tcp://127.0.0.1:1", executor="local", simulate=fake_simulate)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"cannot reach the dask scheduler 'tcp://127\.0\.0\.1:1'"):
        run_sweep(SPEC, scheduler="tcp://127.0.0.1:1", simulate=fake_simulate)
    assert time.perf_counter() - t0 < 10  # refused at once (was 20 s); 10 s: a loaded CI machine


def test_rows_too_large_to_return_are_refused_before_work(tmp_path, monkeypatch):
    """A sweep whose rows would pass the 2 GiB read limit is refused before any work when
    its rows are to be returned; with return_rows=False (the CLI with -o) it runs."""
    import accelsim.sweep.runner as runner

    calls = []

    def counting(*a, **kw):
        calls.append(1)
        return fake_simulate(*a, **kw)

    monkeypatch.setattr(runner, "ROW_BYTES", 2**31 // 16)  # 32 points would pass 2 GiB
    monkeypatch.setattr(runner, "check_disk", lambda *a: None)
    with pytest.raises(ConfigError, match="too many to return in memory"):
        run_sweep(BIG, output=tmp_path / "r.csv", workers=1, simulate=counting)
    assert calls == []
    df = run_sweep(BIG, output=tmp_path / "r.csv", workers=1, simulate=counting, return_rows=False)
    assert df.empty and df.attrs["sweep"]["computed"] == 32 and len(calls) == 32


def test_other_sweeps_rows_stay_once_after_a_cut_tail(tmp_path):
    """A kill while the other sweeps' rows were appended at the end leaves them both in the
    file and beside it: the next run keeps each once, after this sweep's rows."""
    out = tmp_path / "r.csv"
    rows = pd.concat([_frame([0, 1]), _frame([7]).assign(arch="zz")], ignore_index=True)
    out.write_bytes(csv_rows(rows, header=True))
    sink = CsvSink(out, 3)
    sink.parts.mkdir()
    (sink.parts / "tail.csv").write_bytes(csv_rows(_frame([7]).assign(arch="zz")))
    sink.scan(_points(3), np.zeros(3, dtype=bool))
    sink.start(list(rows.columns))
    sink.add(2, 2, _frame([2]))
    sink.finish()
    assert pd.read_csv(out)["arch"].tolist() == ["a0", "a1", "a2", "zz"]


def test_finished_outputs_carry_a_checksum_or_row_count(tmp_path):
    """A finished CSV/JSON output has NAME.sha256 (sha256sum format) and a Parquet file its row
    count in the metadata, so a reader can refuse a table cut short; a resumed sweep drops the
    checksum before it appends and writes it again at the end."""
    import hashlib

    import pyarrow.parquet as pq

    for name in ("r.csv", "r.json"):
        out = tmp_path / name
        run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
        side = tmp_path / (name + ".sha256")
        assert side.read_text() == f"{hashlib.sha256(out.read_bytes()).hexdigest()}  {name}\n"
    out = tmp_path / "r.parquet"
    run_sweep(SPEC, output=out, workers=1, simulate=fake_simulate)
    assert pq.ParquetFile(out).metadata.metadata[b"accelsim.rows"] == b"12"
    assert not (tmp_path / "r.parquet.partial.csv.sha256").exists()
    # grown: the old checksum is replaced, never left stale
    csv = tmp_path / "r.csv"
    run_sweep(BIG, output=csv, workers=1, simulate=fake_simulate)
    assert (tmp_path / "r.csv.sha256").read_text().split()[0] == hashlib.sha256(csv.read_bytes()).hexdigest()


def test_grid_points_share_one_fields_set():
    """Grid points share pydantic's set of given field names (2.3 of an ArchConfig's 3.2 KB):
    dumps are unchanged and a copy with changes gets its own set."""
    plan = plan_sweep(BIG)
    a, b = plan.points[0].arch, plan.points[-1].arch
    assert a.model_fields_set is b.model_fields_set
    assert a.model_dump(exclude_unset=True) == a.model_dump()
    c = a.model_copy(update={"num_pe": 2})
    assert c.model_fields_set is not a.model_fields_set and c.num_pe == 2 and a.num_pe != 2
