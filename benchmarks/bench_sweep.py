"""Sweep-engine benchmark; appends a section to ``reports/benchmarks.md``.

1. The study sweep, the 13 configurations A..M x SegFormer-B2, cold (empty per-layer
   cache) on 1 and 2 local workers, each in a fresh process (imports and compiled-code
   loading included), interleaved, median of ``--repeat``.
2. A random grid over num_pe, k0, c0 and buffer sizes (default 2000 points) on SegFormer-B2,
   cold, on 2 workers, for this branch and each baseline in the same run (each side with its
   own defaults; this branch also in the system scope, the model of older baselines).
3. The growth law: this branch's grid time against the number of points (a quarter, a half
   and all of them), and per distinct (layer shape, architecture) mapping.

    python benchmarks/bench_sweep.py [--baseline LABEL=DIR ...] [--points 2000] [--repeat 3]

Targets: the study sweep no slower on 2 workers than on 1; the grid at least 3x faster than
the baseline of today's main.
"""

from __future__ import annotations

import json
import sys

from common import append_report, machine_line, median, parser, run_json, sides, stamp

GRID = {"num_pe": [4, 8, 16, 32, 64], "k0": [8, 16, 32, 64], "c0": [8, 16, 32, 64],
        "weight_buffer_kb": [32, 64, 128, 256, 512], "input_buffer_kb": [16, 32, 64, 128],
        "accum_buffer_kb": [16, 32, 64]}
STUDY = {"arch": "A..M", "workloads": ["segformer-b2"]}

#: one cold sweep in a fresh process: wall seconds of the whole process after start-up
RUN = """
import json, tempfile, time
t0 = time.perf_counter()
from accelsim.sweep import run_sweep
with tempfile.TemporaryDirectory() as cache:
    df = run_sweep({spec}, workers={workers}, cache=cache, overwrite=True)
st = df.attrs["sweep"]
print(json.dumps({{"seconds": time.perf_counter() - t0, "points": len(df), "misses": st["memo_misses"],
                  "failed": st["failed"]}}))
"""


def sweep(root, spec: dict, workers: int) -> dict:
    return run_json(RUN.format(spec=repr(spec), workers=workers), root)


def grid(points: int, **extra) -> dict:
    return {"arch": {"base": "E", "grid": GRID, "sample": {"n": points, "seed": 0}},
            "workloads": ["segformer-b2"], **extra}


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, 3)
    ap.add_argument("--points", type=int, default=2000)
    args = ap.parse_args(argv)
    who = sides(args.baseline)
    mine = who[0][1]
    study = {(label, w): [] for label, _ in who for w in (1, 2)}
    for _ in range(args.repeat):
        for label, root in who:
            for w in (1, 2):
                study[(label, w)].append(sweep(root, STUDY, w)["seconds"])
    big = {label: sweep(root, grid(args.points), 2) for label, root in who}
    big["this branch, system scope"] = sweep(mine, grid(args.points, scope="system"), 2)
    one = sweep(mine, grid(args.points), 1)
    growth = {n: sweep(mine, grid(n), 2) for n in (args.points // 4, args.points // 2)}
    growth[args.points] = big["this branch"]

    lines = ["", f"## Sweep engine (`benchmarks/bench_sweep.py`, {stamp()})", "", machine_line(),
             "Local process pool; each sweep a fresh process (imports, compiled-code loading, workload "
             "building included), cold per-layer cache; mapping objective latency, each side with its own "
             "defaults. Targets: the study sweep no slower on 2 workers than on 1; the grid at least 3x "
             "faster than today's main.", "",
             f"Study sweep, 13 configurations A..M x SegFormer-B2, median of {args.repeat}:", "",
             "| side | 1 worker (s) | 2 workers (s) | 2 / 1 |", "|---|---:|---:|---:|"]
    for label, _ in who:
        a, b = median(study[(label, 1)]), median(study[(label, 2)])
        lines.append(f"| {label} | {a:.2f} | {b:.2f} | {b / a:.2f} |")
    lines += ["", f"{args.points}-point grid (num_pe, k0, c0, buffers) x SegFormer-B2, 2 workers:", "",
              "| side | seconds | points/s | unmappable | distinct mappings | speed-up of this branch |",
              "|---|---:|---:|---:|---:|---:|"]
    t_mine = big["this branch"]["seconds"]
    for label, r in big.items():
        lines.append(f"| {label} | {r['seconds']:.1f} | {r['points'] / r['seconds']:.1f} | {r['failed']} | "
                     f"{r['misses']:,} | {r['seconds'] / t_mine:.2f}x |")
    lines.append(f"\nThis branch on 1 worker: {one['seconds']:.1f} s (2 workers: "
                 f"{one['seconds'] / t_mine:.2f}x faster).")
    pts = sorted(growth)
    (n0, t0), (n1, t1) = (pts[0], growth[pts[0]]["seconds"]), (pts[-1], growth[pts[-1]]["seconds"])
    slope = (t1 - t0) / (n1 - n0)
    lines += ["", "Growth with the number of points (this branch, 2 workers):", "",
              "| points | seconds | distinct mappings | ms per distinct mapping |", "|---:|---:|---:|---:|"]
    for n in pts:
        r = growth[n]
        lines.append(f"| {n} | {r['seconds']:.1f} | {r['misses']:,} | {r['seconds'] / r['misses'] * 1e3:.2f} |")
    lines.append(f"\nFit: t = {t0 - slope * n0:.1f} s + {slope * 1e3:.1f} ms x points (start-up, then linear: "
                 "every point of this grid is a new architecture, so its layers are new mappings).")
    append_report("\n".join(lines) + "\n", args.out)
    print(json.dumps({k: v for k, v in big.items()}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
