"""Board energy from NVML power samples taken during a long timed loop (SPEC.md section 9).

Energy per call = mean board power (W) x time per call (s). NVML comes from the
``nvidia-ml-py`` package (module ``pynvml``); without it, or on the CPU, energy is
reported as unavailable with the reason, never estimated.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .device import Target, require_torch, synchronize


@dataclass(frozen=True)
class EnergyPolicy:
    """Whether to measure NVML energy, the loop length in seconds and the power sampling interval in seconds."""

    enabled: bool = False
    seconds: float = 2.0
    interval_s: float = 0.01


@dataclass(frozen=True)
class EnergyResult:
    """Energy per call in joules, mean power in watts, loop length in seconds.

    ``status`` is ``measured`` or ``unavailable: <reason>`` (then the numbers are NaN).
    """

    energy_j: float
    power_w: float
    seconds: float
    calls: int
    samples: int
    status: str

    @classmethod
    def unavailable(cls, reason: str) -> "EnergyResult":
        nan = float("nan")
        return cls(nan, nan, nan, 0, 0, f"unavailable: {reason}")


def nvml_power_reader(target: Target) -> tuple[Callable[[], float] | None, str]:
    """A function returning the board power in watts, or ``(None, reason)``."""
    if not target.is_cuda:
        return None, "CPU run (NVML reads GPU board power only)"
    try:
        import pynvml
    except ImportError:
        return None, "pynvml not installed (pip install nvidia-ml-py, or the gpu extra)"
    torch = require_torch()
    index = target.index
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    try:
        pynvml.nvmlInit()
        try:  # by UUID: NVML numbers devices physically, CUDA after CUDA_VISIBLE_DEVICES
            handle = pynvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
        except Exception:  # no UUID from this torch build: fall back to the CUDA index
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetPowerUsage(handle)
    except Exception as exc:  # NVML reports driver/permission problems as its own errors
        return None, f"NVML error: {exc}"
    return (lambda: pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0), "ok"  # milliwatts -> W


class PowerSampler:
    """Context manager sampling ``read_power_w()`` every ``interval_s`` in a background thread."""

    def __init__(self, read_power_w: Callable[[], float], interval_s: float = 0.01) -> None:
        self._read = read_power_w
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.samples: list[float] = []

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(float(self._read()))
            self._stop.wait(self._interval)

    def __enter__(self) -> "PowerSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean_w(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else float("nan")


def measure_energy(fn: Callable, argsets: Sequence[Sequence[Any]], target: Target,
                   read_power_w: Callable[[], float] | None, min_seconds: float = 2.0,
                   interval_s: float = 0.01) -> EnergyResult:
    """Run ``fn`` over rotated ``argsets`` for at least ``min_seconds`` while sampling power.

    Energy per call = mean power x (loop time / calls). ``read_power_w=None`` gives an
    ``unavailable`` result.
    """
    if read_power_w is None:
        return EnergyResult.unavailable("no power reader")
    nb = len(argsets)
    calls = 0
    synchronize(target)
    with PowerSampler(read_power_w, interval_s) as sampler:
        t0 = time.perf_counter()
        while True:
            fn(*argsets[calls % nb])
            calls += 1
            if calls % max(nb, 8) == 0:
                synchronize(target)
                if time.perf_counter() - t0 >= min_seconds:
                    break
        synchronize(target)
        seconds = time.perf_counter() - t0
    if len(sampler.samples) < 2:
        return EnergyResult.unavailable("fewer than two power samples")
    per_call = seconds / calls
    return EnergyResult(sampler.mean_w * per_call, sampler.mean_w, seconds, calls,
                        len(sampler.samples), "measured")


def energy_for(fn: Callable, argsets: Sequence[Sequence[Any]], target: Target, policy: EnergyPolicy,
               read_power_w: Callable[[], float] | None, reason: str) -> EnergyResult:
    """:func:`measure_energy` when ``policy`` asks for energy and a power reader exists;
    otherwise an ``unavailable`` result saying why (``not requested``, or ``reason``)."""
    if not policy.enabled:
        return EnergyResult.unavailable("not requested")
    if read_power_w is None:
        return EnergyResult.unavailable(reason)
    return measure_energy(fn, argsets, target, read_power_w, policy.seconds, policy.interval_s)
