"""Sensitivity benchmark (``accelsim sensitivity``); appends a section to ``reports/benchmarks.md``.

In one fresh process, one thread, compiled search code loaded first (warm):

1. the nominal searches of the 13 configurations A..M on SegFormer-B2;
2. ``--samples`` (default 256) Latin-hypercube samples of every ranged tech constant, A..M on
   SegFormer-B2, re-costing the nominal mappings (the default);
3. the same with ``--remap`` (every sample searched afresh) on ``--remap-samples`` (default 32)
   samples, against re-costing those same samples: time per sample, extrapolated to
   ``--samples``, and the largest difference in energy per op, latency and membership;
4. re-costing on Swin-T UPerNet and OFA-ResNet-50 on ``--other-samples`` (default 32)
   samples each, extrapolated to ``--samples`` (``--other-samples 256`` measures them fully).

    python benchmarks/bench_sensitivity.py [--samples 256] [--remap-samples 32] [--other-samples 32]

Wall and CPU seconds are both given: the CPU seconds do not count time lost to other jobs.
"""

from __future__ import annotations

import sys

from common import append_report, machine_line, parser, run_json, stamp, ROOT

RUN = """
import json, time
import accelsim
from accelsim.sweep.sensitivity import Settings, pareto_membership, sample_costs, membership, shared_constants

archs = [accelsim.load_arch(a) for a in "ABCDEFGHIJKLM"]
names = {{"segformer-b2": "segformer-b2", "swin-t-upernet": "swin-t-upernet", "ofa-resnet50": "ofa-resnet50"}}
wls = {{w: accelsim.load_workload(w) for w in names}}
from accelsim.cost.mapper import load_search
load_search()
accelsim.simulate(wls["segformer-b2"], archs[4])  # warm: compiled code in memory

def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c

out = {{"constants": len(shared_constants(archs))}}
b2 = {{"segformer-b2": wls["segformer-b2"]}}
memo = {{}}
_, out["nominal_wall"], out["nominal_cpu"] = timed(lambda: [accelsim.simulate(wls["segformer-b2"], a, memo=memo) for a in archs])
full, out["recost_wall"], out["recost_cpu"] = timed(lambda: pareto_membership(b2, archs, {samples}, 0, Settings(), memo=memo))
t = full.table
out["front"] = {{r.arch: [bool(r.on_front_nominal), r.front_frequency] for r in t.itertuples()}}
out["front_change"] = float(t["front_change_frequency"].iloc[0])
rc, out["rc_small_wall"], out["rc_small_cpu"] = timed(lambda: pareto_membership(b2, archs, {remap}, 0, Settings(), memo=memo))
rm, out["remap_wall"], out["remap_cpu"] = timed(lambda: pareto_membership(b2, archs, {remap}, 0, Settings(remap=True), memo=memo))
a, b = rc.costs, rm.costs
out["d_energy"] = float(((a.energy_per_op_j - b.energy_per_op_j).abs() / b.energy_per_op_j).max())
out["d_latency"] = float(((a.latency_s - b.latency_s).abs() / b.latency_s).max())
cols = ["on_front_nominal", "front_frequency", "flip_frequency", "front_change_frequency"]
out["same_membership"] = bool(rc.table[cols].equals(rm.table[cols]))
out["d_front"] = float((rc.table["front_frequency"] - rm.table["front_frequency"]).abs().max())
for w in ("swin-t-upernet", "ofa-resnet50"):
    m = {{}}
    _, nw, nc = timed(lambda: [accelsim.simulate(wls[w], a, memo=m) for a in archs])
    r, sw, sc = timed(lambda: pareto_membership({{w: wls[w]}}, archs, {other}, 0, Settings(), memo=m))
    out[w] = {{"nominal_wall": nw, "nominal_cpu": nc, "wall": sw, "cpu": sc,
              "front": sorted(r.table.arch[r.table.on_front_nominal]),
              "change": float(r.table["front_change_frequency"].iloc[0])}}
print(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, 1)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--remap-samples", type=int, default=32)
    ap.add_argument("--other-samples", type=int, default=32)
    args = ap.parse_args(argv)
    n, nr, no = args.samples, args.remap_samples, args.other_samples
    r = run_json(RUN.format(samples=n, remap=nr, other=no), ROOT)
    per_rc = r["rc_small_cpu"] / nr
    per_rm = r["remap_cpu"] / nr
    lines = [f"\n## Sensitivity (`benchmarks/bench_sensitivity.py`, {stamp()})\n", machine_line(),
             f"One process, one thread, compiled search loaded; {r['constants']} ranged constants of "
             "`arch_configs/tech/5nm.yaml`, 13 configurations A..M, accelerator scope, latency objective. "
             "Re-cost = the nominal mappings costed with each sample's constants (the default); remap = "
             "every sample searched afresh (`--remap`). Seconds wall / CPU.\n",
             "| run | samples | wall s | CPU s | CPU ms per sample x config |", "|---|---:|---:|---:|---:|",
             f"| nominal search, SegFormer-B2 x A..M | - | {r['nominal_wall']:.2f} | {r['nominal_cpu']:.2f} | - |",
             f"| re-cost, SegFormer-B2 x A..M | {n} | {r['recost_wall']:.1f} | {r['recost_cpu']:.1f} | "
             f"{r['recost_cpu'] / n / 13 * 1e3:.2f} |",
             f"| re-cost, SegFormer-B2 x A..M | {nr} | {r['rc_small_wall']:.1f} | {r['rc_small_cpu']:.1f} | "
             f"{per_rc / 13 * 1e3:.2f} |",
             f"| remap, SegFormer-B2 x A..M | {nr} | {r['remap_wall']:.1f} | {r['remap_cpu']:.1f} | "
             f"{per_rm / 13 * 1e3:.2f} |"]
    for w in ("swin-t-upernet", "ofa-resnet50"):
        x = r[w]
        lines.append(f"| re-cost, {w} x A..M (nominal search {x['nominal_cpu']:.1f} s CPU) | {no} | "
                     f"{x['wall']:.1f} | {x['cpu']:.1f} | {x['cpu'] / no / 13 * 1e3:.2f} |")
    other = sum(r[w]["cpu"] / no * n + r[w]["nominal_cpu"] for w in ("swin-t-upernet", "ofa-resnet50"))
    total_rc = r["recost_cpu"] + r["nominal_cpu"] + other
    # remap: SegFormer-B2's measured remap / re-cost ratio applied to the other workloads too
    total_rm = per_rm * n + r["nominal_cpu"] + sum(
        r[w]["cpu"] / no * n * per_rm / per_rc + r[w]["nominal_cpu"] for w in ("swin-t-upernet", "ofa-resnet50"))
    front = ", ".join(a for a, (nom, _) in r["front"].items() if nom)
    lines += ["",
              f"{n} samples of A..M on SegFormer-B2, re-costed: {r['recost_cpu']:.1f} s CPU "
              f"({r['recost_wall']:.1f} s wall) after a {r['nominal_cpu']:.1f} s nominal search. "
              f"All three study workloads at {n} samples"
              + (f" (Swin-T and OFA measured at {no} samples, extrapolated linearly: each sample costs the same)"
                 if no != n else "")
              + f": about {total_rc:.0f} s CPU re-costed, about {total_rm:.0f} s CPU remapped "
              f"(remap / re-cost per sample on SegFormer-B2: {per_rm / per_rc:.1f}x, {nr} samples, extrapolated).",
              "",
              f"Remap against re-cost on the same {nr} samples: energy per op differs by at most "
              f"{r['d_energy'] * 100:.2f} %, latency by at most {r['d_latency'] * 100:.2f} %; membership table "
              f"{'identical' if r['same_membership'] else 'differs (largest front-frequency difference ' + format(r['d_front'], '.3f') + ')'}.",
              "",
              f"Nominal fronts: SegFormer-B2 {front} (front changes in {r['front_change'] * 100:.0f} % of samples); "
              + "; ".join(f"{w} {', '.join(r[w]['front'])} ({r[w]['change'] * 100:.0f} %)"
                          for w in ("swin-t-upernet", "ofa-resnet50")) + ".", ""]
    append_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
