"""Mapping-search benchmark: search time per objective (energy and edp against latency) on
SegFormer-B2, Swin-T UPerNet and DETR-R50, the network-level gain of the wider mapping space,
and how search time grows with input resolution; for this branch and baseline checkouts in
the same run. Appends a section to reports/benchmarks.md.

    python benchmarks/bench_search.py [--baseline LABEL=DIR ...] [--repeat 3]

Search time = the mapping searches of a network's distinct MAC shapes (warm compiled code,
no memo), best of ``--repeat``; each side with its own defaults (objective rule, tolerance,
scope where it has one). Targets: energy and edp at most 2x latency; the wider space no slower.
"""

from __future__ import annotations

import json
import math
import sys

from common import append_report, machine_line, parser, run_json, sides, stamp

WORKLOADS = ("segformer-b2", "swin-t-upernet", "detr-r50")
OBJECTIVES = ("latency", "energy", "edp")
RESOLUTIONS = (256, 512, 1024, 2048)

#: search time and candidates per (workload, input, scope, objective); adapts to each side's API
SEARCH = """
import inspect, json, time
import numpy as np
import accelsim
from accelsim.cost import equations as eq, mapper
from accelsim.cost.model import Packed, problem_vector
cases = json.loads({cases!r})
has_scope = "scope" in inspect.signature(Packed.of).parameters
has_tol = "tolerance" in inspect.signature(mapper.search).parameters
arch = accelsim.load_arch("E")
out = np.zeros(eq.N_OUT)
res = []
for wl_name, size, scope, objective in cases:
    if scope == "accelerator" and not has_scope:
        res.append(None)
        continue
    kw = {{"input_size": (size, size)}} if size else {{}}
    wl = accelsim.load_workload(wl_name, **kw)
    shapes = {{l.shape_key(): l for l in wl.layers if l.is_mac}}
    probs = [problem_vector(l) for l in shapes.values()]
    packed = Packed.of(arch, scope) if has_scope else Packed.of(arch)
    obj = ("latency", "energy", "edp").index(objective)
    extra = (True, 0.01) if has_tol else (True,)
    run = lambda p: mapper.search(p, packed.arch_vec, packed.energy_vec, obj, 0, out, *extra)[1]
    run(probs[0])
    best = None
    for _ in range({repeat}):
        t = time.perf_counter(); n = sum(run(p) for p in probs); dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    res.append({{"seconds": best, "candidates": n, "shapes": len(probs)}})
print(json.dumps(res))
"""

#: network totals and MAC-layer cycles of simulate (latency objective) per workload, scope, tolerance
TOTALS = """
import json, accelsim
cases = json.loads({cases!r})
res = []
for wl_name, scope, tolerance in cases:
    r = accelsim.simulate(wl_name, "E", "latency", scope=scope, tolerance=tolerance)
    mac = r.layers[r.layers["macs"] > 0]
    res.append({{"latency_s": r.latency_s, "energy_j": r.energy_j, "cycles": mac["cycles"].tolist()}})
print(json.dumps(res))
"""


def searches(root, cases, repeat):
    code = SEARCH.format(cases=json.dumps(cases), repeat=repeat)
    return dict(zip(map(tuple, cases), run_json(code, root)))


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__, 3).parse_args(argv)
    who = sides(args.baseline)
    obj_cases = [[w, 0, s, o] for w in WORKLOADS for s in ("accelerator", "system") for o in OBJECTIVES]
    res_cases = [["segformer-b2", n, s, "latency"] for n in RESOLUTIONS for s in ("accelerator", "system")]
    timing = {label: searches(root, obj_cases + res_cases, args.repeat) for label, root in who}
    lines = ["", f"## Mapping search (`benchmarks/bench_search.py`, {stamp()})", "", machine_line(),
             f"Search time of a network's distinct MAC shapes on E (warm, no memo), best of {args.repeat}; "
             "each side with its own defaults (this branch and 611de63: two-pass objective rule at 1 % "
             "tolerance; 4471422: one pass, no scopes, its model is the system scope's). Target: energy "
             "and edp at most 2x latency on this branch.", "",
             "| workload | scope | side | latency ms (cand.) | energy ms (cand.) | edp ms (cand.) | "
             "energy / latency | edp / latency |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for w in WORKLOADS:
        for s in ("accelerator", "system"):
            for label, _ in who:
                cells = [timing[label][(w, 0, s, o)] for o in OBJECTIVES]
                if cells[0] is None:
                    continue
                ms = [f"{c['seconds'] * 1e3:.1f} ({c['candidates']:,})" for c in cells]
                lines.append(f"| {w} | {s} | {label} | " + " | ".join(ms) + f" | "
                             f"{cells[1]['seconds'] / cells[0]['seconds']:.2f}x | "
                             f"{cells[2]['seconds'] / cells[0]['seconds']:.2f}x |")
    for label, _ in who[1:]:
        mine = sum(timing["this branch"][tuple(c)]["seconds"] for c in obj_cases if timing[label][tuple(c)])
        theirs = sum(timing[label][tuple(c)]["seconds"] for c in obj_cases if timing[label][tuple(c)])
        lines.append(f"\nAll searches above that {label} also runs: {theirs / mine:.1f}x faster on this branch.")
    # growth with resolution
    lines += ["", "Growth with input resolution (SegFormer-B2, latency objective): search ms (candidates); "
              "the exponent a fits time ~ pixels^a between 256 and 2048.", "",
              "| side | scope | " + " | ".join(f"{n}x{n}" for n in RESOLUTIONS) + " | a |",
              "|---|---|" + "---:|" * (len(RESOLUTIONS) + 1)]
    for label, _ in who:
        for s in ("accelerator", "system"):
            cells = [timing[label][("segformer-b2", n, s, "latency")] for n in RESOLUTIONS]
            if cells[0] is None:
                continue
            pixels = (RESOLUTIONS[-1] / RESOLUTIONS[0]) ** 2
            a = math.log(cells[-1]["seconds"] / cells[0]["seconds"]) / math.log(pixels)
            lines.append(f"| {label} | {s} | " + " | ".join(f"{c['seconds'] * 1e3:.1f} ({c['candidates']:,})"
                                                       for c in cells) + f" | {a:.2f} |")
    # network-level gain of the wider space against baselines with the same model (scopes)
    tot_cases = [[w, s, t] for w in ("segformer-b2", "swin-t-upernet") for s in ("accelerator", "system")
                 for t in (0.0, 0.01)]
    mine = run_json(TOTALS.format(cases=json.dumps(tot_cases)), who[0][1])
    for label, root in who[1:]:
        if timing[label][("segformer-b2", 0, "accelerator", "latency")] is None:
            continue  # no scopes: another model, no like-for-like comparison
        theirs = run_json(TOTALS.format(cases=json.dumps(tot_cases)), root)
        lines += ["", f"Wider mapping space against {label} (same cost model), arch E, latency objective at "
                  "tolerance 0 (fastest mapping) and 1 % (the default: within 1 % of the fastest, least energy); "
                  "MAC layers faster by more than 1e-9, and the largest per-layer gain in cycles:", "",
                  "| workload | scope | tolerance | latency ms | change | energy mJ | change | layers faster | "
                  "largest gain |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for (w, s, tol), m, t in zip(tot_cases, mine, theirs):
            gains = [1 - a / b for a, b in zip(m["cycles"], t["cycles"]) if b > 0]
            lines.append(f"| {w} | {s} | {tol:g} | {t['latency_s'] * 1e3:.4f} -> {m['latency_s'] * 1e3:.4f} | "
                         f"{(m['latency_s'] / t['latency_s'] - 1) * 100:+.3f} % | {t['energy_j'] * 1e3:.3f} -> "
                         f"{m['energy_j'] * 1e3:.3f} | {(m['energy_j'] / t['energy_j'] - 1) * 100:+.2f} % | "
                         f"{sum(g > 1e-9 for g in gains)} of {len(gains)} | {max(gains) * 100:.2f} % |")
    append_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
