"""Sweeps at scale: the hazards of large sweeps before and after, and a streamed grid.

Each measurement runs in a fresh interpreter against this checkout and each baseline
(``--baseline LABEL=DIR``, a ``git worktree`` of another commit), and the results are
appended to ``reports/benchmarks.md``:

1. **Worker memory**: SegFormer-B2 (512x512, system scope), a sampled grid of 240 points
   on 2 workers, one chunk of 10 then of 120 points per task; the growth per point is the
   difference of the workers' peak RSS over the 110 extra points (the per-chunk memo).
   This branch also with a 4 MiB memo bound (``memo_bytes``), which the default 128 MiB
   bound becomes at 10^6 points.
2. **Flushing**: SegFormer-B0 (64x64), 1,200 points on 2 workers, default chunking: the
   longest time between two writes of the output and the most rows in one write.
3. **Main process**: peak RSS of a sweep of 2x10^4 and 10^5 points whose cost model is a
   closed form (so the main process's own memory shows: plan, writer, final rewrite).
4. **Per-layer cache**: 80 SegFormer-B2 points on 1 worker, CPU seconds without a cache,
   with a cold one and a warm one; the cache's bytes and files per point.
5. **Per-layer rows**: bytes per point of ``--layers`` (CSV), and where 2 GiB is reached.
6. **Dask and overrides**: seconds to report a refused scheduler address; lines of
   pydantic warnings printed by a command-line override of a spec with range entries.
7. **A streamed grid** (this branch only): ``--points`` (default 10^5) points of a small
   real workload (three conv layers) on 2 workers to a Parquet dataset: wall time, peak
   RSS of the main process and of the workers, bytes per 10^5 points (dataset and CSV).

    python benchmarks/bench_sweep_scale.py [--baseline main=/tmp/base] [--points 100000] [--only 1,2]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import append_report, machine_line, parser, run_json, sides, stamp

B2 = {"name": "segformer-b2", "input": "512x512"}
GRID = {"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64],
        "weight_buffer_kb": [32, 64, 128, 256, 512], "input_buffer_kb": [16, 32, 64, 128]}
TINY = """name: three-convs
family: test
variant: t
input: 56x56
classes: 0
dataset: ''
exec_path: ''
layers:
- {name: c1, op: conv2d, k: 64, c: 32, p: 56, q: 56, r: 3, s: 3, padding: 1, inputs: [input], in_h: 56, in_w: 56}
- {name: c2, op: conv2d, k: 128, c: 64, p: 28, q: 28, r: 3, s: 3, stride: 2, padding: 1, inputs: [c1], in_h: 56, in_w: 56}
- {name: c3, op: conv2d, k: 128, c: 128, p: 28, q: 28, r: 1, s: 1, inputs: [c2], in_h: 28, in_w: 28}
"""

WORKER_MEM = """
import json, tracemalloc
from accelsim.sweep.runner import ChunkTask, plan_sweep, run_chunk
spec = {{"arch": {{"base": "E", "grid": {grid}, "sample": {{"n": {n}, "seed": 0}}}}, "workloads": [{wl}],
        "scope": "system"}}
plan = plan_sweep(spec)
settings = tuple({{"scope": "system", "objective": "latency", "tolerance": 0.01, "max_candidates": None}}.items())
def task(points):
    keys = {{(p.workload, p.exec_path) for p in points}}
    return ChunkTask(tuple((p.arch, p.workload, p.exec_path) for p in points), {{k: plan.workloads[k] for k in keys}},
                     {{k: plan.accuracy[k] for k in keys}}, settings, None, False, None{extra})
run_chunk(task(plan.points[:1]))  # compiled code and tech files loaded
out = {{}}
for n in (10, {n} - 1):
    tracemalloc.start()
    run_chunk(task(plan.points[1:1 + n]))
    out[f"peak_mb_{{n}}"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
print(json.dumps(out))
"""

FLUSH = """
import json, os, tempfile, threading, time
from accelsim.sweep import run_sweep
spec = {{"arch": {{"base": "E", "grid": {grid}, "sample": {{"n": 1200, "seed": 1}}}},
        "workloads": [{{"name": "segformer-b0", "input": "64x64"}}]}}
d = tempfile.mkdtemp()
out = d + "/r.csv"
seen, stop = [], threading.Event()
def watch():
    last = -1
    while not stop.is_set():
        try:
            with open(out, "rb") as fh:
                n = fh.read().count(b"\\n")
        except OSError:
            n = 0
        if n != last:
            seen.append((time.perf_counter(), n))
            last = n
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()
t0 = time.perf_counter()
df = run_sweep(spec, output=out, workers=2)
t1 = time.perf_counter()
stop.set()
times = [t for t, n in seen if n > 1]
gaps = [b - a for a, b in zip([t0] + times, times + [t1])]
steps = [b[1] - a[1] for a, b in zip(seen, seen[1:]) if a[1] >= 1]
print(json.dumps({{"points": len(df), "seconds": t1 - t0, "max_gap_s": max(gaps), "writes": len(times),
                  "max_rows_per_write": max(steps) if steps else len(df)}}))
"""

MAIN_MEM = """
import json, resource, tempfile, time
from dataclasses import dataclass
import pandas as pd
from accelsim.sweep import run_sweep

@dataclass
class R:
    macs: int
    latency_s: float
    energy_j: float
    area_mm2: float
    utilization: float
    layers: object = None

def closed_form(workload, arch, memo=None, **kw):
    macs = workload.macs
    return R(macs, macs / arch.macs_per_cycle / (arch.frequency_ghz * 1e9), macs * 1e-13, arch.num_pe * 0.1, 0.5)

n_freq = {n} // 1600 + 1
spec = {{"arch": {{"base": "E", "grid": {{**{grid}, "frequency_ghz": [0.5 + 0.01 * i for i in range(n_freq)]}},
                  "sample": {{"n": {n}, "seed": 2}}}}, "workloads": [{{"name": "{tiny}"}}]}}
t0 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    df = run_sweep(spec, output=d + "/r.csv", workers=1, simulate=closed_form{extra})
    size = __import__("os").path.getsize(d + "/r.csv")
print(json.dumps({{"points": df.attrs["sweep"]["points"], "seconds": time.perf_counter() - t0,
                  "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "csv_bytes": size}}))
"""

PLAN = """
import json, resource
from accelsim.sweep.runner import plan_sweep
n_freq = {n} // 1600 + 1
spec = {{"arch": {{"base": "E", "grid": {{**{grid}, "frequency_ghz": [0.5 + 0.01 * i for i in range(n_freq)]}},
                  "sample": {{"n": {n}, "seed": 2}}}}, "workloads": [{{"name": "{tiny}"}}]}}
plan = plan_sweep(spec)
print(json.dumps({{"points": len(plan.points), "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

CACHE = """
import json, os, tempfile, time
from accelsim.sweep import run_sweep
spec = {{"arch": {{"base": "E", "grid": {{"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64]}}}},
        "workloads": [{wl}], "scope": "system"}}
run_sweep({{**spec, "arch": "E"}}, workers=1)  # compiled code loaded before the timings
out = {{}}
with tempfile.TemporaryDirectory() as d:
    for name, cache in (("none", None), ("cold", d + "/c"), ("warm", d + "/c")):
        t = time.process_time()
        df = run_sweep(spec, workers=1, cache=cache)
        out[name] = time.process_time() - t
    files = [os.path.join(r, f) for r, _, fs in os.walk(d + "/c") for f in fs]
    out["bytes"] = sum(os.path.getsize(f) for f in files)
    out["files"] = len(files)
    out["points"] = len(df)
print(json.dumps(out))
"""

LAYERS = """
import json, os, tempfile
from accelsim.sweep import run_sweep
spec = {{"arch": {{"base": "E", "grid": {{"num_pe": [8, 16], "k0": [16, 32], "c0": [16, 32]}}}}, "workloads": [{wl}]}}
with tempfile.TemporaryDirectory() as d:
    df = run_sweep(spec, output=d + "/r.csv", layers=d + "/l.csv", workers=1)
    print(json.dumps({{"points": len(df), "bytes": os.path.getsize(d + "/l.csv")}}))
"""

DASK = """
import json, subprocess, sys, tempfile, time, os
from accelsim.errors import AccelsimError
from accelsim.sweep import run_sweep
t = time.perf_counter()
try:
    run_sweep({{"arch": "E", "workloads": ["{tiny}"]}}, executor="dask", scheduler="tcp://127.0.0.1:1")
    msg = "no error"
except Exception as exc:
    msg = type(exc).__name__ + ": " + str(exc)[:120]
refused = time.perf_counter() - t
with tempfile.TemporaryDirectory() as d:
    spec = d + "/s.yaml"
    open(spec, "w").write("arch:\\n  base: E\\n  grid:\\n    num_pe: {{start: 8, stop: 16, factor: 2}}\\n"
                          "    k0: {{values: [16, 32]}}\\nworkloads: ['{tiny}']\\n")
    p = subprocess.run([sys.executable, "-m", "accelsim.cli.main", "sweep", spec, "--objective", "energy",
                        "--workers", "1", "--no-progress"], capture_output=True, text=True)
    warn = sum(1 for ln in p.stderr.splitlines() if "Pydantic" in ln or "PydanticSerialization" in ln)
    q = subprocess.run([sys.executable, "-m", "accelsim.cli.main", "sweep", spec, "--scheduler", "tcp://127.0.0.1:1",
                        "--workers", "1", "--no-progress"], capture_output=True, text=True)
print(json.dumps({{"refused_s": refused, "refused_msg": msg, "warning_lines": warn, "override_rc": p.returncode,
                  "scheduler_without_executor": (q.stderr.strip().splitlines() or [""])[-1][:160],
                  "scheduler_rc": q.returncode}}))
"""

STREAM = """
import json, os, resource, tempfile, time
from accelsim.sweep import run_sweep
n_freq = {n} // 1600 + 1
spec = {{"arch": {{"base": "E", "grid": {{**{grid}, "frequency_ghz": [0.5 + 0.01 * i for i in range(n_freq)]}},
                  "sample": {{"n": {n}, "seed": 3}}}}, "workloads": [{{"name": "{tiny}"}}]}}
d = tempfile.mkdtemp(dir="{tmp}")
t0 = time.perf_counter()
df = run_sweep(spec, output=d + "/ds/", workers=2, return_rows=False)
secs = time.perf_counter() - t0
size = sum(os.path.getsize(os.path.join(d, "ds", f)) for f in os.listdir(d + "/ds"))
files = len(os.listdir(d + "/ds"))
st = df.attrs["sweep"]
from accelsim.sweep.dataset import read_results
t1 = time.perf_counter()
front_cols = read_results(d + "/ds", ["workload", "exec_path", "scope", "energy_per_op_j",
                                      "throughput_ops_per_s_per_mm2", "error"])
read_s = time.perf_counter() - t1
print(json.dumps({{"points": st["points"], "seconds": secs, "chunks": st["chunks"], "dataset_bytes": size,
                  "files": files, "failed": st["failed"],
                  "main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "read_rows": len(front_cols), "read_s": read_s}}))
"""


def main() -> None:
    ap = parser(__doc__, 1)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--only", default="1,2,3,4,5,6,7")
    args = ap.parse_args()
    only = {int(x) for x in args.only.split(",")}
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    tiny = tmp / "three_convs.yaml"
    tiny.write_text(TINY)
    results: dict = {}
    for label, root in sides(args.baseline):
        r: dict = {}
        if 1 in only:
            r["worker_memo"] = run_json(WORKER_MEM.format(grid=GRID, wl=B2, n=121, extra=""), root)
            if label == "this branch":
                r["worker_memo_4mib"] = run_json(WORKER_MEM.format(grid=GRID, wl=B2, n=121,
                                                                   extra=", memo_bytes=4 * 2**20"), root)
        if 2 in only:
            r["flush"] = run_json(FLUSH.format(grid=GRID), root)
        if 3 in only:
            for n in (20_000, 100_000):
                r[f"main_{n}"] = run_json(MAIN_MEM.format(grid=GRID, n=n, tiny=tiny, extra=""), root)
                if label == "this branch":  # as the CLI runs it: the rows stay on disk
                    r[f"main_{n}_no_rows"] = run_json(MAIN_MEM.format(grid=GRID, n=n, tiny=tiny,
                                                                      extra=", return_rows=False"), root)
            r["plan_100000"] = run_json(PLAN.format(grid=GRID, n=100_000, tiny=tiny), root)
        if 4 in only:
            r["cache"] = run_json(CACHE.format(wl=B2), root)
        if 5 in only:
            r["layers"] = run_json(LAYERS.format(wl=B2), root)
        if 6 in only:
            r["dask"] = run_json(DASK.format(tiny=tiny), root)
        if 7 in only and label == "this branch":
            r["stream"] = run_json(STREAM.format(grid=GRID, n=args.points, tiny=tiny, tmp=tmp), root,
                                   timeout=7200)
        results[label] = r
        print(label, json.dumps(r, indent=1), file=sys.stderr)
    append_report(render(results, args.points), args.out)


def render(results: dict, points: int) -> str:
    lines = [f"\n## Sweeps at scale ({stamp()})\n", machine_line(),
             "`python benchmarks/bench_sweep_scale.py` (accelerator scope unless said; each side in fresh "
             "processes, same run).\n", "```json", json.dumps(results, indent=1), "```\n"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
