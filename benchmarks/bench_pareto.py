"""Pareto benchmark: the sorted front (2-D numpy, 3-D Fenwick tree) against the former pairwise
method, and ``accelsim pareto`` end to end on big result tables; appends a section to
``reports/benchmarks.md``.

Random uniform objectives (fronts of tens of points, the common shape of a sweep);
wall seconds, best of ``--repeat``, measured in one run so the ratios compare like with
like. The pairwise method is timed at sizes it finishes (it is ``O(n^2)``).

    python benchmarks/bench_pareto.py [--repeat 3] [--out reports/benchmarks.md]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from common import ROOT, append_report, env_for, machine_line, parser, stamp

from accelsim.sweep.pareto import pareto_mask, pareto_mask_pairwise


def best(fn, repeat: int) -> float:
    """Wall seconds of ``fn()``, best of ``repeat`` calls."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"arch": [f"a{i}" for i in range(n)], "workload": "segformer-b2", "exec_path": "",
                         "scope": "system", "energy_per_op_j": rng.uniform(1e-13, 1e-12, n),
                         "throughput_ops_per_s_per_mm2": rng.uniform(1e11, 1e12, n),
                         "latency_s": rng.uniform(1e-3, 1e-2, n), "error": ""})


def main() -> None:
    args = parser(__doc__, repeat=3).parse_args()
    rng = np.random.default_rng(1)
    pareto_mask(rng.random((10, 3)), [False] * 3)  # compile (or load) the 3-D kernel first
    rows = []
    for m in (2, 3):
        for n in (5_000, 20_000, 200_000, 1_000_000):
            v = rng.random((n, m))
            sorted_s = best(lambda: pareto_mask(v, [False] * m), args.repeat)
            pair = best(lambda: pareto_mask_pairwise(v, [False] * m), 1) if n <= 20_000 else None
            front = int(pareto_mask(v, [False] * m).sum())
            rows.append((m, n, front, sorted_s, pair))
    cli = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (200_000, 1_000_000):
            path = Path(tmp) / f"r{n}.csv"
            table(n).to_csv(path, index=False)
            cmd = [sys.executable, "-m", "accelsim.cli.main", "pareto", str(path), "--format", "csv"]
            t = time.perf_counter()
            subprocess.run(cmd, env=env_for(ROOT), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cli.append((n, time.perf_counter() - t))
    lines = [f"\n## Pareto fronts (`benchmarks/bench_pareto.py`, {stamp()})\n", machine_line(),
             "Uniform random objectives, all minimised; wall seconds, best of "
             f"{args.repeat} (pairwise: one run).\n",
             "| objectives | rows | front | sorted (s) | pairwise, former (s) | pairwise / sorted |",
             "|---:|---:|---:|---:|---:|---:|"]
    for m, n, front, s, p in rows:
        lines.append(f"| {m} | {n:,} | {front} | {s:.3f} | {'' if p is None else f'{p:.2f}'} | "
                     f"{'' if p is None else f'{p / s:,.0f}x'} |")
    lines += ["", "`accelsim pareto RESULTS.csv` end to end (fresh process: start-up, reading and checking "
              "the CSV, the fronts, printing):", ""]
    lines += [f"- {n:,} rows: {t:.2f} s" for n, t in cli]
    append_report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
