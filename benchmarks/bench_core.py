"""Benchmarks of the mapping search; appends a section to reports/benchmarks.md.

Run: ``python benchmarks/bench_core.py``. Everything runs on one core (the search is
single-threaded numba). Measures candidate evaluations per second, SegFormer-B2 at
512x512 on arch E cold (fresh process, empty JIT cache), warm, memoised, exhaustive
without branch and bound, and all 13 study configurations A..M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from common import append_report, cpu_model

COLD_SNIPPET = """
import time
t0 = time.perf_counter()
import accelsim
from accelsim.cost import simulate
wl = accelsim.load_workload("segformer-b2", input_size=(512, 512), num_classes=150)
t1 = time.perf_counter()
simulate(wl, "E")
print(time.perf_counter() - t1, t1 - t0)
"""


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def timed(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls, seconds."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cold_run() -> tuple[float, float]:
    """(first simulate call, import + workload build) in a fresh process, empty JIT cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS="1")
        out = subprocess.run([sys.executable, "-c", COLD_SNIPPET], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def unique_mac_layers(wl):
    seen, out = set(), []
    for layer in wl.layers:
        if layer.is_mac and layer.shape_key() not in seen:
            seen.add(layer.shape_key())
            out.append(layer)
    return out


def exhaustive(layers, packed) -> tuple[float, int]:
    """Map every layer with the full enumeration (no branch and bound): (seconds, candidates)."""
    from accelsim.cost import equations as eq
    from accelsim.cost.mapper import search
    from accelsim.cost.model import problem_vector

    probs = [problem_vector(layer) for layer in layers]
    out = np.zeros(eq.N_OUT)
    total = 0
    t = time.perf_counter()
    for prob in probs:
        total += search(prob, packed.arch_vec, packed.energy_vec, 0, 0, out, False)[1]
    return time.perf_counter() - t, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-report", action="store_true", help="print only, do not append")
    args = ap.parse_args(argv)
    pin_one_core()
    import numba

    import accelsim
    from accelsim.arch import list_arch_labels
    from accelsim.cost import simulate
    from accelsim.cost.model import Packed

    cold_s, import_s = cold_run()
    wl = accelsim.load_workload("segformer-b2", input_size=(512, 512), num_classes=150)
    simulate(wl, "E")  # compile / load the JIT cache
    warm_s = timed(lambda: simulate(wl, "E"))
    cands = simulate(wl, "E").candidates_evaluated
    memo: dict = {}
    simulate(wl, "E", memo=memo)
    memo_s = timed(lambda: simulate(wl, "E", memo=memo))
    packed = Packed.of(accelsim.load_arch("E"))
    layers = unique_mac_layers(wl)
    exhaustive(layers[:1], packed)
    full_s, full_n = exhaustive(layers, packed)
    rate = full_n / full_s
    labels = [lab for lab in list_arch_labels() if len(lab) == 1]
    t = time.perf_counter()
    for lab in labels:
        simulate(wl, lab)
    all_s = time.perf_counter() - t
    res = simulate(wl, "E")

    rows = [
        ("candidate evaluations per second, one core (full enumeration)", f"{rate / 1e6:.2f} M/s"),
        ("SegFormer-B2 @512 on E, cold (fresh process, empty JIT cache)",
         f"{cold_s:.2f} s (+ {import_s:.2f} s import and workload build)"),
        ("SegFormer-B2 @512 on E, warm (branch and bound, default)",
         f"{warm_s * 1e3:.1f} ms, {cands:,} candidates, {len(layers)} distinct MAC shapes"),
        ("SegFormer-B2 @512 on E, full enumeration (no pruning)",
         f"{full_s * 1e3:.1f} ms, {full_n:,} candidates"),
        ("SegFormer-B2 @512 on E, memoised (all shapes cached)", f"{memo_s * 1e3:.2f} ms"),
        (f"SegFormer-B2 @512 on all {len(labels)} configs {labels[0]}..{labels[-1]} (warm)",
         f"{all_s:.2f} s"),
        ("SegFormer-B2 @512 on E: latency, energy, energy/MAC",
         f"{res.latency_s * 1e3:.3f} ms, {res.energy_j * 1e3:.2f} mJ, "
         f"{res.energy_j / res.macs * 1e15:.0f} fJ/MAC"),
    ]
    text = (f"\n## Mapping search ({dt.datetime.now().strftime('%Y-%m-%d %H:%M')})\n\n"
            f"Machine: {cpu_model()}, {os.cpu_count()} cores (benchmark pinned to one); "
            f"Python {platform.python_version()}, numba {numba.__version__}, "
            f"numpy {np.__version__}. Targets: >= 4 M candidates/s, network < 0.5 s warm.\n\n"
            "| measurement | result |\n|---|---|\n"
            + "".join(f"| {a} | {b} |\n" for a, b in rows))
    if args.no_report:
        print(text)
    else:
        append_report(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
