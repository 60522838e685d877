"""The local executor runs small sweeps in this process and larger ones on a pool whose
workers are forked after the compiled mapper is loaded (accelsim.sweep.runner)."""

from __future__ import annotations

import concurrent.futures

import pytest

from accelsim.sweep import run_sweep
from accelsim.sweep.runner import IN_PROCESS_POINTS

SPEC = {"arch": "A..F", "workloads": ["segformer-b0"]}  # 6 points: a small sweep


class NoPool:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a small sweep started a process pool")


def test_small_sweep_runs_in_process(monkeypatch):
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoPool)
    assert 6 < IN_PROCESS_POINTS * 2
    two = run_sweep(SPEC, workers=2)
    one = run_sweep(SPEC, workers=1)
    assert two.attrs["sweep"]["computed"] == 6
    assert two["latency_s"].tolist() == one["latency_s"].tolist()


def test_larger_sweep_uses_the_pool(monkeypatch):
    """An explicit chunk size asks for the pool whatever the size; its workers return the
    numbers of the in-process run (exact: the same compiled code, the same inputs)."""
    started = []
    real = concurrent.futures.ProcessPoolExecutor

    def counting(*args, **kwargs):
        started.append(kwargs.get("max_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counting)
    pooled = run_sweep(SPEC, workers=2, chunk_size=3)
    assert started == [2]
    assert pooled["latency_s"].tolist() == pytest.approx(run_sweep(SPEC, workers=1)["latency_s"].tolist(),
                                                         rel=0)
