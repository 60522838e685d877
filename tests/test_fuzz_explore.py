"""Bad explore specs and options: each exits 2 with one line naming the spec file (or the
option), no traceback, nothing written, in bounded time.

Cases are made at test time from a valid explore spec by the same systematic mutations
as the committed corpus (``tests/fuzz/make_corpus.py``: every field replaced by values of
every wrong kind, plus file-level damage), and by explore-specific mistakes.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

pytest.importorskip("optuna")

sys.path.insert(0, str(Path(__file__).parent / "fuzz"))
from make_corpus import WRONG, _set, damaged, dump  # noqa: E402
from test_fuzz_corpus import check_one_line, replay  # noqa: E402

from explore_helpers import spec  # noqa: E402

BASE = spec(8)
FIELDS = {
    "explore": ["text", "list", "bool", "zero"],
    "explore.objectives": ["text", "null", "zero", "list", "map"],
    "explore.weights": ["text", "list", "zero"],
    "explore.constraints": ["text", "map", "zero"],
    "explore.budget": ["text", "list", "null", "map"],
    "explore.budget.evaluations": ["text", "bool", "zero", "negative", "fraction", "huge", "inf", "nan", "digits5001"],
    "explore.sampler": ["text", "list", "null", "bool"],
    "explore.seed": ["text", "negative", "huge", "fraction", "bool"],
    "explore.batch": ["zero", "negative", "huge", "text", "null"],
    "explore.init": ["negative", "huge", "text", "fraction"],
    "explore.population": ["zero", "negative", "text"],
    "explore.storage": ["list", "map", "zero"],
    "explore.study": ["list", "map"],
    "arch.grid.k0": ["text", "bool", "map", "null", "inf", "huge", "fraction"],
}


def _with(**explore):
    doc = copy.deepcopy(BASE)
    doc["explore"].update(explore)
    return doc


EXTRA = {
    "one_objective": _with(objectives={"energy": "min"}),
    "four_objectives": _with(objectives={"energy": "min", "latency": "min", "area": "min", "utilization": "max"}),
    "objective_sense": _with(objectives={"energy": "lowest", "latency": "min"}),
    "objective_unknown": _with(objectives={"speed": "max", "latency": "min"}),
    "objective_twice": _with(objectives=[{"column": "energy", "sense": "min"}, {"column": "energy", "sense": "min"}]),
    "objective_workload": _with(objectives=[{"column": "energy", "sense": "min", "workload": "resnet"},
                                            {"column": "latency", "sense": "min"}]),
    "weights_negative": _with(weights={"segformer-b0@256x256": -1}),
    "weights_unknown": _with(weights={"nosuch": 1}),
    "weights_zero": _with(weights={"segformer-b0@256x256": 0}),
    "constraint_syntax": _with(constraints=["k0 =="]),
    "constraint_name": _with(constraints=["colour == 3"]),
    "constraint_call": _with(constraints=["__import__('os').system('true') == 0"]),
    "constraint_for_unknown": _with(constraints=["latency_ms <= 4 for resnet"]),
    "constraint_unsatisfiable": _with(constraints=["k0 > c0 and c0 > k0"]),
    "constraint_power": _with(constraints=["9**9**9 > k0"]),
    "budget_empty": _with(budget={}),
    "budget_stall_window": _with(budget={"stall": {"window": 0, "growth_pct": 1}}),
    "budget_stall_growth": _with(budget={"stall": {"window": 5, "growth_pct": 200}}),
    "budget_seconds": _with(budget={"seconds": -1}),
    "budget_unknown": _with(budget={"evaluations": 5, "hours": 2}),
    "explore_unknown_key": _with(colour=1),
    "storage_scheme": _with(storage="nosuchdb://x"),
    "storage_text": _with(storage="not a url"),
    "storage_memory": _with(storage="sqlite:///:memory:"),
    "storage_driver": _with(storage="mysql+nosuchdriver://u@127.0.0.1/db"),
    "sample_given": {**copy.deepcopy(BASE), "arch": {"base": "E", "grid": {"k0": [8, 16]}, "sample": {"n": 2}}},
    "grid_empty": {**copy.deepcopy(BASE), "arch": {"base": "E"}},
    "grid_unknown": {**copy.deepcopy(BASE), "arch": {"base": "E", "grid": {"colour": [1, 2]}}},
    "range_empty": {**copy.deepcopy(BASE), "arch": {"base": "E", "grid": {"k0": {"start": 64, "stop": 8, "step": 8}}}},
    "range_huge": {**copy.deepcopy(BASE), "arch": {"base": "E", "grid": {"k0": {"start": 1, "stop": 1e9, "step": 1}}}},
    "space_too_big": {**copy.deepcopy(BASE), "arch": {"base": "E", "grid": {
        p: list(range(1, 1001)) for p in ("k0", "c0", "num_pe", "accum_depth", "bits", "accum_bits")}}},
}


def _cases() -> list[tuple[str, bytes]]:
    out = []
    for fld, wrongs in FIELDS.items():
        for w in wrongs:
            doc = copy.deepcopy(BASE)
            _set(doc, fld, WRONG[w])
            out.append((f"{fld}-{w}", dump(doc).encode()))
    out += [(name, data) for name, data in damaged(dump(BASE)).items()]
    out += [(name, dump(doc).encode()) for name, doc in EXTRA.items()]
    return out


CASES = _cases()


@pytest.mark.parametrize("name,data", CASES, ids=[c[0] for c in CASES])
def test_bad_explore_spec(name, data, tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_bytes(data)
    out = tmp_path / "out"
    rc, err, seconds = replay(["explore", str(path), "-o", str(out / "r.csv"), "--no-progress"], capsys)
    check_one_line(rc, err, seconds, [] if name.startswith("storage_") else [str(path)])
    assert not out.exists() or not any(out.iterdir())  # no study, no table


OPTIONS = {
    "evaluations_zero": (["--evaluations", "0"], "--evaluations"),
    "batch_zero": (["--batch", "0"], "--batch"),
    "seed_negative": (["--seed", "-1"], "--seed"),
    "sampler_unknown": (["--sampler", "grid"], "--sampler"),
    "scheduler_no_dask": (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    "scheduler_garbage": (["--executor", "dask", "--scheduler", "nonsense"], "--scheduler"),
    "scheduler_refused": (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    "storage_folder": (["--storage", "sqlite:///{tmp}"], "{tmp}"),
    "resume_and_overwrite": (["--resume", "--overwrite"], "--resume"),
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_bad_explore_option(name, tmp_path, capsys):
    if name.startswith("scheduler_") and "dask" in OPTIONS[name][0]:
        pytest.importorskip("distributed")
    path = tmp_path / "spec.yaml"
    path.write_text(dump(BASE))
    args, expect = OPTIONS[name]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc, err, seconds = replay(["explore", str(path), "-o", str(tmp_path / "out" / "r.csv"), "--no-progress", *args],
                              capsys)
    check_one_line(rc, err, seconds, [expect.replace("{tmp}", str(tmp_path))])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
