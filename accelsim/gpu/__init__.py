"""Measured GPU baseline (SPEC.md section 9): per-layer and whole-model timing, NVML energy,
stored as CSV files with a metadata header.

Reading stored data needs only pandas::

    import accelsim.gpu as gpu
    df = gpu.load("reports/gpu/*.csv")     # one row per layer (or whole model) per file
    gpu.conv_shares(df)                     # conv share of MACs vs of measured time

Measuring needs PyTorch (``measure_workload``, ``measure_whole``); ``--device cuda``
on a machine without CUDA is an error, never a silent CPU run.
"""

from __future__ import annotations

from importlib import import_module

from .data import (Measurement, conv_shares, default_filename, load, read, render_table, update_readme,
                   whole_vs_layers, write)

_LAZY = {
    "measure_workload": "accelsim.gpu.harness", "measure_layers": "accelsim.gpu.harness",
    "EnergyPolicy": "accelsim.gpu.harness", "TimingPolicy": "accelsim.gpu.timing",
    "resolve_target": "accelsim.gpu.device", "measure_whole": "accelsim.gpu.whole",
    "HF_MODELS": "accelsim.gpu.whole", "REQUIRED_META": "accelsim.gpu.meta",
    "missing_meta": "accelsim.gpu.meta",
}

__all__ = sorted(["Measurement", "conv_shares", "default_filename", "load", "read", "render_table",
                  "update_readme", "whole_vs_layers", "write", *_LAZY])


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'accelsim.gpu' has no attribute {name!r}")
