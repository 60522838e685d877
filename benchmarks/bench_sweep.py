"""Sweep-engine benchmark; appends a section to ``reports/benchmarks.md``.

1. The 13 study configs x the study's segmentation workloads (SegFormer-B2, Swin-T
   UPerNet) on 2 local workers, cold (empty per-layer cache) and warm (cache filled).
2. A random grid over num_pe, k0, c0 and buffer sizes (default 2000 points) on
   SegFormer-B2 at 1 and 2 workers (points per second, scaling ratio), then again on
   2 workers with the on-disk cache warm.

    python benchmarks/bench_sweep.py [--points 2000] [--out reports/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from accelsim.sweep import run_sweep

GRID = {"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64],
        "weight_buffer_kb": [32, 64, 128, 256, 512], "input_buffer_kb": [16, 32, 64, 128],
        "accum_buffer_kb": [16, 32, 64]}
STUDY = {"arch": "A..M", "workloads": ["segformer-b2", "swin-t-upernet"]}


def timed(spec: dict, **kw) -> dict:
    t0 = time.perf_counter()
    df = run_sweep(spec, overwrite=True, **kw)
    dt = time.perf_counter() - t0
    st = df.attrs["sweep"]
    return {"points": len(df), "seconds": dt, "pps": len(df) / dt, "failed": st["failed"],
            "hits": st["memo_hits"], "misses": st["memo_misses"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "reports" / "benchmarks.md"))
    args = ap.parse_args()
    grid = {"arch": {"base": "E", "grid": GRID, "sample": {"n": args.points, "seed": 0}},
            "workloads": ["segformer-b2"]}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "study-cache"
        rows.append(("13 configs x SegFormer-B2 + Swin-T, 2 workers, cold", timed(STUDY, workers=2, cache=cache)))
        rows.append(("13 configs x SegFormer-B2 + Swin-T, 2 workers, warm cache", timed(STUDY, workers=2, cache=cache)))
        gcache = Path(tmp) / "grid-cache"
        one = timed(grid, workers=1)
        rows.append((f"{args.points}-point grid, SegFormer-B2, 1 worker", one))
        two = timed(grid, workers=2, cache=gcache)
        rows.append((f"{args.points}-point grid, SegFormer-B2, 2 workers", two))
        rows.append((f"{args.points}-point grid, SegFormer-B2, 2 workers, warm cache", timed(grid, workers=2, cache=gcache)))
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = ["", f"## Sweep engine (`benchmarks/bench_sweep.py`, {stamp})", "",
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; local process pool, mapping objective latency. "
             "Cold = empty per-layer cache; warm = on-disk cache filled by the previous run. "
             "Unmappable points (a layer's smallest tile does not fit the buffers) count as points.", "",
             "| run | points | seconds | points/s | unmappable | memo hits | memo misses |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['points']} | {r['seconds']:.1f} | {r['pps']:.2f} | {r['failed']} | "
                     f"{r['hits']} | {r['misses']} |")
    lines += ["", f"Scaling 1 -> 2 workers on the grid: {two['pps'] / one['pps']:.2f}x. "
              f"{args.points} points on 2 workers: {two['seconds']:.0f} s (target < 120 s).", ""]
    text = "\n".join(lines)
    with open(args.out, "a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
