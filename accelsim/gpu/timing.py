"""Timing loop: warm-up, rotated argument sets, repeat until the median is stable.

CPU runs use ``time.perf_counter_ns`` (wall clock), or with ``cpu_clock="thread"``
``time.thread_time_ns`` (CPU time of the calling thread: with one torch thread the ops
run in it, and time the scheduler gives to other processes on a shared host is left
out); CUDA runs use CUDA events around a run of
``inner`` calls, or the replay of a CUDA graph holding those calls for layers
faster than ``graph_below_s`` (so launch overhead does not hide the kernel time).
Argument sets (inputs and weights) are rotated so consecutive calls do not find
their operands in the last-level cache.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .device import Target, require_torch, synchronize

#: last-level cache flushed on the CPU when the size is unknown, bytes
CPU_FLUSH_BYTES = 64 * 2**20


@dataclass(frozen=True)
class TimingPolicy:
    """When to stop repeating, how much to rotate; times in seconds, sizes in bytes."""

    warmup: int = 3
    warmup_s: float = 0.02
    min_repeats: int = 5
    max_repeats: int = 200
    rel_ci: float = 0.02
    budget_s: float = 1.0
    min_sample_s: float = 1e-4
    graph_below_s: float = 2e-5
    cuda_graphs: bool = True
    flush_bytes: int | None = None
    cpu_clock: str = "wall"
    max_buffers: int = 8
    max_buffer_bytes: int = 2 * 2**30


@dataclass(frozen=True)
class TimingStats:
    """Per-call time statistics in seconds over ``repeats`` samples of ``inner`` calls each.

    ``rel_ci`` is the 95 % confidence interval of the median divided by the median;
    ``stable`` says whether it reached the policy's target before the repeat or time cap.
    ``method``: ``perf_counter_ns``, ``thread_time_ns``, ``cuda_event`` or ``cuda_graph``.
    """

    median_s: float
    p10_s: float
    p90_s: float
    mean_s: float
    min_s: float
    repeats: int
    inner: int
    buffers: int
    rel_ci: float
    stable: bool
    method: str

    def row(self) -> dict:
        return dict(self.__dict__)


def median_ci(samples: Sequence[float], z: float = 1.96) -> tuple[float, float]:
    """Distribution-free ~95 % CI of the median from order statistics.

    Ranks n/2 -/+ z*sqrt(n)/2 (normal approximation of the binomial(n, 1/2) count;
    W. J. Conover, Practical Nonparametric Statistics, 3rd ed., section 3.2).
    """
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    half = z * math.sqrt(n) / 2
    lo = max(int(math.floor(n / 2 - half)), 0)
    hi = min(int(math.ceil(n / 2 + half)), n - 1)
    return float(x[lo]), float(x[hi])


def summarize(samples: Sequence[float], inner: int, buffers: int, stable: bool, method: str) -> TimingStats:
    """Statistics of per-call sample times (seconds)."""
    x = np.asarray(samples, dtype=float)
    med = float(np.median(x))
    lo, hi = median_ci(x)
    return TimingStats(median_s=med, p10_s=float(np.percentile(x, 10)), p90_s=float(np.percentile(x, 90)),
                       mean_s=float(x.mean()), min_s=float(x.min()), repeats=len(x), inner=inner,
                       buffers=buffers, rel_ci=(hi - lo) / med if med > 0 else math.inf,
                       stable=stable, method=method)


def default_flush_bytes(target: Target) -> int:
    """Bytes to stream through between reuses: twice the GPU L2, or :data:`CPU_FLUSH_BYTES`."""
    if target.is_cuda:
        torch = require_torch()
        l2 = getattr(torch.cuda.get_device_properties(target.device), "L2_cache_size", 0)
        return 2 * int(l2 or 50 * 2**20)
    return CPU_FLUSH_BYTES


def buffer_count(bytes_per_set: int, policy: TimingPolicy, target: Target) -> int:
    """Argument sets to rotate: enough to stream ``flush_bytes``, within the caps."""
    flush = policy.flush_bytes if policy.flush_bytes is not None else default_flush_bytes(target)
    n = math.ceil(flush / max(bytes_per_set, 1))
    n = min(n, policy.max_buffers, max(policy.max_buffer_bytes // max(bytes_per_set, 1), 1))
    return max(n, 1)


def _calls(fn: Callable, argsets: Sequence[Sequence[Any]], count: int, start: int) -> None:
    nb = len(argsets)
    for i in range(count):
        fn(*argsets[(start + i) % nb])


def _cpu_sampler(fn, argsets, inner, clock=time.perf_counter_ns):
    state = {"i": 0}

    def sample() -> float:
        t0 = clock()
        _calls(fn, argsets, inner, state["i"])
        t1 = clock()
        state["i"] += inner
        return (t1 - t0) * 1e-9 / inner

    return sample


def _event_sampler(fn, argsets, inner):
    torch = require_torch()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    state = {"i": 0}

    def sample() -> float:
        start.record()
        _calls(fn, argsets, inner, state["i"])
        end.record()
        end.synchronize()
        state["i"] += inner
        return start.elapsed_time(end) * 1e-3 / inner  # elapsed_time is in milliseconds

    return sample


def _graph_sampler(fn, argsets, inner):
    """Capture ``inner`` rotated calls in one CUDA graph (PyTorch 'CUDA Graphs' recipe)."""
    torch = require_torch()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        _calls(fn, argsets, len(argsets), 0)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        _calls(fn, argsets, inner, 0)
    graph.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def sample() -> float:
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e-3 / inner

    return sample


def warm_up(fn: Callable, argsets: Sequence[Sequence[Any]], target: Target, policy: TimingPolicy) -> float:
    """Run at least ``warmup`` calls and ``warmup_s`` seconds; returns one call's time (s)."""
    t0 = time.perf_counter()
    n = 0
    while n < policy.warmup or time.perf_counter() - t0 < policy.warmup_s:
        _calls(fn, argsets, 1, n)
        n += 1
    synchronize(target)
    singles = []
    for i in range(3):
        t = time.perf_counter_ns()
        _calls(fn, argsets, 1, i)
        synchronize(target)
        singles.append((time.perf_counter_ns() - t) * 1e-9)
    return float(np.median(singles))


def time_op(fn: Callable, argsets: Sequence[Sequence[Any]], target: Target,
            policy: TimingPolicy = TimingPolicy()) -> TimingStats:
    """Time ``fn`` over rotated ``argsets`` until the median is stable (see the module docstring)."""
    one = warm_up(fn, argsets, target, policy)
    inner = int(min(max(math.ceil(policy.min_sample_s / max(one, 1e-9)), 1), 10_000))
    method = "perf_counter_ns"
    if target.is_cuda:
        method, sample = "cuda_event", _event_sampler(fn, argsets, inner)
        if policy.cuda_graphs and one < policy.graph_below_s:
            try:
                sample, method = _graph_sampler(fn, argsets, inner), "cuda_graph"
            except RuntimeError:  # some ops cannot be captured; events still measure them
                require_torch().cuda.synchronize()
    elif policy.cpu_clock == "thread":
        method, sample = "thread_time_ns", _cpu_sampler(fn, argsets, inner, time.thread_time_ns)
    else:
        sample = _cpu_sampler(fn, argsets, inner)
    samples: list[float] = []
    stable = False
    t0 = time.perf_counter()
    while len(samples) < policy.max_repeats:
        samples.append(sample())
        if len(samples) >= policy.min_repeats:
            lo, hi = median_ci(samples)
            med = float(np.median(samples))
            if med > 0 and (hi - lo) / med <= policy.rel_ci:
                stable = True
                break
            if time.perf_counter() - t0 > policy.budget_s:
                break
    return summarize(samples, inner, len(argsets), stable, method)
