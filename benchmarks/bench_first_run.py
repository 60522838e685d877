"""First-run benchmark: the default job (``accelsim simulate``, no arguments) with an empty
numba cache against the same job with the cache filled, and the raw speed of the compiled
search (candidates per second of a full enumeration), for this branch and baseline
checkouts in the same run; appends a section to reports/benchmarks.md.

    python benchmarks/bench_first_run.py [--baseline LABEL=DIR ...] [--repeat 3]

Target: the cold default job at most 2x its warm run; the search speed kept.
"""

from __future__ import annotations

import sys
import tempfile

from common import append_report, machine_line, parser, median, run_json, sides, stamp, wall

JOB = ["-m", "accelsim.cli.main", "simulate"]

#: candidates per second of the unpruned search over SegFormer-B2's distinct MAC shapes on E,
#: and on E with one PE and AD = 1, where every side searches the very same candidates
RATE = """
import inspect, json, time
import numpy as np
import accelsim
from accelsim.arch.config import arch_from_dict
from accelsim.cost import equations as eq, mapper
from accelsim.cost.model import Packed, problem_vector
wl = accelsim.load_workload("segformer-b2")
shapes = {l.shape_key(): l for l in wl.layers if l.is_mac}
probs = [problem_vector(l) for l in shapes.values()]
e = accelsim.load_arch("E")
one = arch_from_dict(dict(e.model_dump(), name="one", pe_array_area_mm2=None, num_pe=1, accum_depth=1))
res = {}
for key, arch in (("E", e), ("one", one)):
    packed = Packed.of(arch, "system") if "scope" in inspect.signature(Packed.of).parameters else Packed.of(arch)
    out = np.zeros(eq.N_OUT)
    run = lambda p: mapper.search(p, packed.arch_vec, packed.energy_vec, 0, 0, out, False)[1]
    run(probs[0])
    best = None
    for _ in range(3):
        t = time.perf_counter(); n = sum(run(p) for p in probs); dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    res[key] = {"rate": n / best, "candidates": n, "seconds": best}
print(json.dumps(res))
"""
WARM_CHECK = "import json; from accelsim.cost import jit_cache_is_warm; print(json.dumps(jit_cache_is_warm()))"


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__, 3).parse_args(argv)
    who = sides(args.baseline)
    cold: dict[str, list[float]] = {label: [] for label, _ in who}
    warm: dict[str, list[float]] = {label: [] for label, _ in who}
    checks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):  # interleaved; each cold run gets an empty cache of its own
            for label, root in who:
                cache = f"{tmp}/{label.replace(' ', '_')}-{i}"
                if label == "this branch" and i == 0:
                    checks["before"] = run_json(WARM_CHECK, root, NUMBA_CACHE_DIR=cache)
                cold[label].append(wall([sys.executable, *JOB], root, NUMBA_CACHE_DIR=cache))
                if label == "this branch" and i == 0:
                    checks["after"] = run_json(WARM_CHECK, root, NUMBA_CACHE_DIR=cache)
                warm[label].append(wall([sys.executable, *JOB], root, NUMBA_CACHE_DIR=cache))
        rates = {label: run_json(RATE, root, NUMBA_CACHE_DIR=f"{tmp}/{label.replace(' ', '_')}-0")
                 for label, root in who}
    lines = ["", f"## First run (`benchmarks/bench_first_run.py`, {stamp()})", "", machine_line(),
             f"`accelsim simulate` (SegFormer-B2 512x512 on E, accelerator scope, plus its system-scope "
             f"line) in a fresh process; cold = empty numba cache, warm = the same cache filled; median "
             f"of {args.repeat}, interleaved. Search speed: candidates per second of the full "
             "enumeration (no pruning) over SegFormer-B2's distinct MAC shapes, system scope, best of 3, "
             "on E (each side's own space) and on E with one PE and AD = 1 (the very same candidates on "
             "every side). Target: cold at most 2x warm; search speed kept.", "",
             "| side | cold (s) | warm (s) | cold / warm | full enumeration on E | candidates/s | "
             "same candidates (1 PE, AD 1) | candidates/s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, _ in who:
        c, w, r, o = median(cold[label]), median(warm[label]), rates[label]["E"], rates[label]["one"]
        lines.append(f"| {label} | {c:.2f} | {w:.2f} | {c / w:.2f}x | {r['candidates']:,} in "
                     f"{r['seconds'] * 1e3:.0f} ms | {r['rate'] / 1e6:.2f} M | {o['candidates']:,} in "
                     f"{o['seconds'] * 1e3:.0f} ms | {o['rate'] / 1e6:.2f} M |")
    mine = rates["this branch"]["one"]["rate"]
    for label, _ in who[1:]:
        speed = mine / rates[label]["one"]["rate"]
        lines.append(f"\nAgainst {label}: cold run {median(cold[label]) / median(cold['this branch']):.2f}x "
                     f"faster, candidates per second on the same candidates {speed:.2f}x.")
    lines.append(f"\n`jit_cache_is_warm()` on this branch: {checks['before']} before the cold run, "
                 f"{checks['after']} after it (the check a CLI compile line can use).")
    append_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
