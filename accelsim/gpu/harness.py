"""Per-layer measurement of a workload: one timed PyTorch op per IR layer (SPEC.md section 9)."""

from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator

import pandas as pd

from ..workload.ir import Layer, Workload
from .data import Measurement
from .device import Target, require_torch
from .energy import EnergyPolicy, energy_for, nvml_power_reader
from .meta import base_meta
from .ops import OpSpec, build_op, dedup_key, make_tensors
from .timing import TimingPolicy, TimingStats, buffer_count, time_op

#: IR columns copied into every row
LAYER_COLUMNS = ("name", "op", "fn", "fused", "macs", "flops", "nonmac_ops", "n", "k", "c", "p", "q",
                 "r", "s", "stride", "padding", "groups", "batch", "in_h", "in_w")
TAG_COLUMNS = ("part", "stage", "block")


@contextlib.contextmanager
def cudnn_benchmark(flag: bool) -> Iterator[None]:
    """Set ``torch.backends.cudnn.benchmark`` for the block, restoring it afterwards."""
    torch = require_torch()
    old = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = flag
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = old


def layer_row(layer: Layer) -> dict[str, Any]:
    """The IR description of ``layer`` kept in a measurement row."""
    h, w = layer.input_hw
    derived = {"op": layer.op.value, "in_h": h, "in_w": w}  # op as text, input size resolved
    return {**{c: derived[c] if c in derived else getattr(layer, c) for c in LAYER_COLUMNS},
            **{t: layer.tag.get(t, "") for t in TAG_COLUMNS}}


def _failed_stats() -> dict[str, Any]:
    """The stats columns of a layer whose op could not run (NaN times, no energy)."""
    nan = math.nan
    return {**TimingStats(nan, nan, nan, nan, nan, 0, 0, 0, nan, False, "none").row(),
            "energy_j": nan, "power_w": nan, "energy_status": "unavailable: op failed"}


def measure_op(spec: OpSpec, target: Target, policy: TimingPolicy, energy: EnergyPolicy,
               power: Callable[[], float] | None, energy_reason: str) -> dict[str, Any]:
    """Time one op (and its energy if asked); a dict of stats and energy columns."""
    nb = buffer_count(spec.bytes_per_set, policy, target)
    argsets = [make_tensors(spec, target, seed=i) for i in range(nb)]
    stats = time_op(spec.fn, argsets, target, policy)
    e = energy_for(spec.fn, argsets, target, energy, power, energy_reason)
    del argsets
    return {**stats.row(), "energy_j": e.energy_j, "power_w": e.power_w, "energy_status": e.status}


def measure_layers(wl: Workload, target: Target, policy: TimingPolicy = TimingPolicy(),
                   energy: EnergyPolicy = EnergyPolicy(), dedup: bool = True, progress: bool = False) -> pd.DataFrame:
    """One row per layer of ``wl``: IR shape, the torch kernel used, per-call time statistics.

    Layers whose op is identical to an earlier one (same shape, function, dtype) are
    timed once when ``dedup`` and name it in ``reused_from``. A layer whose op fails
    (unsupported dtype, out of memory) keeps its row with ``status = error: ...`` and NaN
    times. Times in seconds, ``tflops`` = 2 x MACs / median time / 1e12. ``progress`` shows
    a bar on a terminal once measuring takes more than two seconds.
    """
    from ..progress import progress as bar

    torch = require_torch()
    power, reason = nvml_power_reader(target) if energy.enabled else (None, "not requested")
    producers: dict[str, Layer] = {}
    done: dict[tuple, tuple[str, dict[str, Any]]] = {}
    rows = []
    with torch.inference_mode():
        for layer in bar(wl.layers, desc="timing layers", unit="layer", enabled=progress):
            spec = build_op(layer, target, producers)
            producers[layer.name] = layer
            key = dedup_key(layer, producers)
            row = {**layer_row(layer), "kernel": spec.kernel, "timed_dtype": spec.timed_dtype,
                   "int8_kernel": spec.int8_kernel, "shape_ok": spec.shape_ok}
            if dedup and key in done:
                first, stats = done[key]
                row.update(stats, reused_from=first, status="ok")
            else:
                try:
                    stats = measure_op(spec, target, policy, energy, power, reason)
                    status = "ok"
                except (RuntimeError, MemoryError, NotImplementedError) as exc:
                    stats, status = _failed_stats(), "error: " + str(exc).splitlines()[0][:160]
                    if target.is_cuda:
                        torch.cuda.empty_cache()
                if status == "ok":
                    done[key] = (layer.name, stats)
                row.update(stats, reused_from="", status=status)
            rows.append(row)
    df = pd.DataFrame(rows)
    df["tflops"] = [2 * m / t / 1e12 if t and t > 0 and m else 0.0
                    for m, t in zip(df["macs"], df["median_s"])]
    return df


def measure_workload(wl: Workload, target: Target, policy: TimingPolicy = TimingPolicy(),
                     energy: EnergyPolicy = EnergyPolicy(), dedup: bool = True,
                     benchmark: bool = True, progress: bool = False) -> Measurement:
    """:func:`measure_layers` plus the metadata block (``kind = per-layer``)."""
    with cudnn_benchmark(benchmark):
        frame = measure_layers(wl, target, policy, energy, dedup, progress)
        status = sorted(set(frame["energy_status"]))
        meta = base_meta(target, "per-layer", wl.name, wl.input_size, wl.exec_path,
                         energy="; ".join(status),
                         family=wl.family, variant=wl.variant, num_classes=wl.num_classes,
                         layers=len(wl.layers), gmacs=wl.macs / 1e9, dedup=dedup,
                         timing=policy.__dict__, per_layer_sum_s=float(frame["median_s"].sum()))
    return Measurement(frame, meta)
