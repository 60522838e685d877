"""accelsim against ZigZag 3.9.1, layer by layer, on study architecture E.

Run (from the repository root; not part of CI, ZigZag takes minutes):

    python benchmarks/peers/zigzag_compare.py [--arch E] [--objective energy|latency] [--force]

Creates ``benchmarks/peers/.venv`` with ZigZag on first use (see peer_env.py). Maps the
distinct MAC layers (conv, dwconv, linear, matmul; deduplicated by shape) of SegFormer-B2
and Swin-T UPerNet at 512x512 with accelsim (this python) and with ZigZag (its venv, one
layer at a time, same architecture, same per-access energies read from accelsim now, same
spatial unrolling), and writes ``reports/zigzag_comparison.md`` (table and explanations)
and ``reports/zigzag_comparison.csv`` (raw per-layer numbers). ZigZag's raw results stay
in ``benchmarks/peers/out/`` and are reused while its inputs are unchanged; a change of
accelsim's energy model changes the inputs, so the same command reruns ZigZag.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import accelsim  # noqa: E402
from accelsim.arch.area import arch_area_mm2  # noqa: E402
from accelsim.arch.config import ArchConfig, load_arch, load_tech  # noqa: E402
from accelsim.cost import equations as eq  # noqa: E402
from accelsim.cost.model import LayerCost, energy_vector, map_layer, problem_vector  # noqa: E402
from accelsim.workload.ir import Layer  # noqa: E402

import peer_env  # noqa: E402
import zigzag_explain  # noqa: E402
import zigzag_model as zm  # noqa: E402

WORKLOADS = ("segformer-b2", "swin-t-upernet")
#: compared energy components: accelsim component -> ZigZag memories (MAC: the array)
COMPONENTS = {"mac": (), "accumulation": ("acc_collector", "accum_buffer"),
              "weight_buffer": ("w_reg", "weight_buffer"), "input_buffer": ("input_buffer",),
              "global_buffer": ("global_buffer",), "dram": ("dram",)}
#: accelsim components with no ZigZag counterpart
ACCELSIM_ONLY = ("noc", "control", "ppu", "leakage")
#: ZigZag models the global buffer and DRAM, so the comparison is in accelsim's system scope
SCOPE = "system"
TOL = 0.10  # relative difference above which a number is explained


@dataclass(frozen=True)
class Distinct:
    """One distinct MAC layer shape: its first layer and where it occurs."""

    key: str
    layer: Layer
    workload: str
    count: dict[str, int]


def distinct_layers(names: tuple[str, ...] = WORKLOADS) -> list[Distinct]:
    """The MAC layers of the workloads, deduplicated by shape (first occurrence kept)."""
    seen: dict[tuple, Distinct] = {}
    for wname in names:
        wl = accelsim.load_workload(wname)
        for layer in wl.layers:
            if not layer.is_mac:
                continue
            key = layer.shape_key()
            if key not in seen:
                seen[key] = Distinct(f"L{len(seen):03d}", layer, wname, {w: 0 for w in names})
            seen[key].count[wname] += 1
    return list(seen.values())


def shape_text(layer: Layer) -> str:
    g = f"x{layer.batch}" if layer.batch > 1 else ""
    if layer.op.value in ("conv2d", "dwconv2d"):
        return f"{layer.k}x{layer.c}{g} {layer.r}x{layer.s}/{layer.stride} -> {layer.p}x{layer.q}"
    return f"{layer.k}x{layer.c}{g} @ {layer.p * layer.q} rows"


def zigzag_job(items: list[Distinct], costs: dict[str, LayerCost], arch: ArchConfig, en,
               objective: str, lpf_limit: int) -> dict[str, Any]:
    layers = []
    for i, d in enumerate(items):
        ops, gb_bits = zm.residency(d.layer, arch)
        sm = zm.spatial_mapping(d.layer, costs[d.key].mapping, arch)
        layers.append({"key": d.key, "hardware": zm.hardware(arch, en, ops, gb_bits),
                       "mapping": [zm.mapping_entry("default", sm), zm.mapping_entry(d.layer.name, sm)],
                       "layer": zm.layer_dict(d.layer, arch, i), "gb_bits": gb_bits,
                       "dram_operands": list(ops)})
    return {"opt": objective, "lpf_limit": lpf_limit, "layers": layers}


def compute_without_ad(layer: Layer, mapping: dict[str, Any], arch: ArchConfig) -> float:
    """accelsim's compute cycles of ``mapping`` without rounding PE tiles up to whole AD
    blocks: G_pe * ceil(K_pe/K0) * ceil(C_pe/C0) * R * S * P_pe * Q (docs/cost_model.md)."""
    prob = problem_vector(layer)
    kp = eq.split_extent(prob[eq.P_K], mapping["spatial_k"], arch.k0)
    cp = eq.split_extent(prob[eq.P_C], mapping["spatial_c"], arch.c0)
    pp = eq.split_extent(prob[eq.P_P], mapping["spatial_p"], 1)
    gp = eq.split_extent(prob[eq.P_G], mapping["spatial_g"], 1)
    return float(gp * eq.cdiv(kp, arch.k0) * eq.cdiv(cp, arch.c0) * prob[eq.P_R] * prob[eq.P_S]
                 * pp * prob[eq.P_Q])


def lane_padding(layer: Layer, mapping: dict[str, Any], arch: ArchConfig) -> float:
    """Lane slots ZigZag's collector counts over existing output channels: it splits K evenly
    over the ``spatial_k`` PEs (ceil(K / pk) each) and repeats the full K0 lane unrolling for a
    partly filled last block, ceil(ceil(K/pk) / K0) x K0 x pk / K (accelsim splits K in whole
    K0 blocks and counts existing channels only)."""
    prob = problem_vector(layer)
    k, pk = int(prob[eq.P_K]), int(mapping["spatial_k"])
    return eq.cdiv(eq.cdiv(k, pk), arch.k0) * arch.k0 * pk / k


def compare_rows(items: list[Distinct], costs: dict[str, LayerCost], zz: dict[str, dict],
                 job: dict[str, Any], arch: ArchConfig, en) -> pd.DataFrame:
    """One row per distinct layer: accelsim (a_*) and ZigZag (z_*) numbers, energies in uJ."""
    n_mac = arch.num_pe * arch.k0 * arch.c0
    gb_default = arch.global_buffer_kb * 1024 * 8
    jobs = {x["key"]: x for x in job["layers"]}
    rows = []
    for d in items:
        c, z, layer = costs[d.key], zz[d.key], d.layer
        row: dict[str, Any] = {
            "key": d.key, "workload": d.workload, "layer": layer.name, "op": layer.op.value,
            "shape": shape_text(layer), "occurrences": sum(d.count.values()), "macs": layer.macs,
            "mapping": " ".join(f"{k}={v}" for k, v in c.mapping.items()),
            "a_bound": c.bound, "a_cycles": c.cycles, "a_compute": c.terms["compute"],
            "a_util": layer.macs / (c.terms["compute"] * n_mac), "a_k0": arch.k0, "a_c0": arch.c0,
            "a_compute_no_ad": compute_without_ad(layer, c.mapping, arch),
            "k_lane_pad": lane_padding(layer, c.mapping, arch),
            "a_e_rmw": c.counts["accum_rmw"] * float(en[eq.E_RMW]) * 1e-6,
            "useful_rmw": useful_rmw(layer, arch),
            "dram_operands": ",".join(jobs[d.key]["dram_operands"]),
            "gb_enlarged_kib": (jobs[d.key]["gb_bits"] - gb_default) / 8192,
        }
        row.update({f"a_{k}": c.terms[k] for k in c.terms if k != "compute"})
        row.update({f"a_e_{k}": c.energy[k] * 1e6 for k in (*COMPONENTS, *ACCELSIM_ONLY)})
        row.update({f"a_n_{k}": v for k, v in c.counts.items()})
        if "error" in z:
            row["z_error"] = z["error"]
            rows.append(row)
            continue
        row.update({"z_cycles": z["latency_total2"], "z_compute": z["ideal_temporal_cycle"],
                    "z_util": layer.macs / (z["ideal_temporal_cycle"] * n_mac),
                    "z_stall": z["stall_slack_comb"], "z_onload": z["data_onloading_cycle"],
                    "z_offload": z["data_offloading_cycle"], "z_seconds": z["seconds"],
                    "z_evaluations": z["evaluations"], "z_spatial": z["spatial_mapping"],
                    "z_temporal": z["temporal_mapping"]})
        mems = z["energy_by_memory_pj"]
        for comp, names in COMPONENTS.items():
            pj = z["mac_energy_pj"] if comp == "mac" else sum(mems.get(m, 0.0) for m in names)
            row[f"z_e_{comp}"] = pj * 1e-6
        row.update({f"z_e_mem_{m}": pj * 1e-6 for m, pj in mems.items()})
        for op, levels in z["word_accesses"].items():
            for mem, acc in levels.items():
                row[f"z_n_{op}_{mem}"] = sum(acc.values())
        rows.append(row)
    df = pd.DataFrame(rows)
    df["a_e_common"] = sum(df[f"a_e_{k}"] for k in COMPONENTS)
    if "z_e_mac" in df:
        df["z_e_common"] = sum(df[f"z_e_{k}"] for k in COMPONENTS)
    return df


def ratio(z: float, a: float) -> float:
    """ZigZag / accelsim; 1 when both are zero, inf when only accelsim's is."""
    if a == 0:
        return 1.0 if z == 0 else float("inf")
    return z / a


def useful_rmw(layer: Layer, arch) -> int:
    """Accumulation read-modify-writes of existing outputs only: outputs x R x S x C0 chunks
    (C is split over PEs in whole C0 blocks, so the chunk count is ceil(C / C0) overall)."""
    prob = problem_vector(layer)
    g, k, c, p, q, r, s = (int(prob[i]) for i in (eq.P_G, eq.P_K, eq.P_C, eq.P_P, eq.P_Q, eq.P_R, eq.P_S))
    return g * k * p * q * r * s * -(-c // arch.c0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="E")
    ap.add_argument("--objective", default="energy", choices=("latency", "energy"),
                    help="both tools' objective (default energy: see the report)")
    ap.add_argument("--lpf-limit", type=int, default=6, help="ZigZag LOMA loop-prime-factor limit")
    ap.add_argument("--force", action="store_true", help="rerun ZigZag even if its inputs are unchanged")
    ap.add_argument("--out", default=str(peer_env.ROOT / "reports" / "zigzag_comparison.md"))
    args = ap.parse_args(argv)
    arch = load_arch(args.arch)
    en = energy_vector(arch, load_tech(arch), arch_area_mm2(arch), SCOPE)
    items = distinct_layers()
    print(f"{len(items)} distinct MAC layers in {', '.join(WORKLOADS)}; accelsim mapping ...", flush=True)
    costs = {d.key: map_layer(d.layer, arch, objective=args.objective, scope=SCOPE) for d in items}
    job = zigzag_job(items, costs, arch, en, args.objective, args.lpf_limit)
    res = peer_env.run_worker("layers", job, f"compare-{arch.name}-{args.objective}", force=args.force)
    zz = {r["key"]: r for r in res["layers"]}
    df = compare_rows(items, costs, zz, job, arch, en)
    out = Path(args.out)
    df.to_csv(out.with_suffix(".csv"), index=False, float_format="%.6g")
    meta = {"arch": arch.name, "objective": args.objective, "lpf_limit": args.lpf_limit,
            "zigzag": res.get("zigzag_version", "?"), "date": dt.date.today().isoformat(),
            "costs": zm.zigzag_costs(arch, en)}
    out.write_text(zigzag_explain.report(df, meta, COMPONENTS, ACCELSIM_ONLY, TOL))
    print(f"wrote {out} and {out.with_suffix('.csv').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
