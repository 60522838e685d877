"""Mapping speed: ZigZag 3.9.1 on its bundled ResNet-18 against accelsim on the same layers.

Run (from the repository root; not part of CI):

    python benchmarks/peers/zigzag_speed.py [--arch E] [--repeat 3]

Creates ``benchmarks/peers/.venv`` with ZigZag on first use (see peer_env.py). ZigZag maps
``zigzag/inputs/workload/resnet18.onnx`` (21 MAC layers plus its Add and pooling layers)
on architecture E described in ZigZag's format (zigzag_model.py; all operands through
DRAM, spatial unrolling K0 x C0 per PE fixed, the PE dimension chosen by ZigZag's
generator from K and OY; LOMA temporal search, latency objective). accelsim imports
the same ONNX file (its weights are not shipped: shapes only) and maps the same 21 MAC
layers on E, each searched afresh (no memo), latency objective, after one warm-up run
that compiles or loads the numba code. Both count every evaluated mapping (ZigZag: cost
model evaluations; accelsim: candidates). Appends a section to reports/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from accelsim.arch.area import arch_area_mm2  # noqa: E402
from accelsim.arch.config import load_arch, load_tech  # noqa: E402
from accelsim.cost.model import Packed, energy_vector, map_layer  # noqa: E402
from accelsim.workload import from_onnx  # noqa: E402

import peer_env  # noqa: E402
import zigzag_model as zm  # noqa: E402

REPORT = peer_env.ROOT / "reports" / "benchmarks.md"


def zigzag_mapping(arch) -> list[dict]:
    """ZigZag mapping: lanes over K, multipliers over C, the PE dimension left to ZigZag's
    generator (hint K or OY); Add and pooling layers (no weights) unroll channels."""
    mac = {"name": "default", "spatial_mapping": {"D1": [f"K, {arch.k0}"], "D2": [f"C, {arch.c0}"]},
           "spatial_mapping_hint": {"D3": ["K", "OY"]},
           "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    other = [{"name": n, "spatial_mapping": {"D1": [f"G, {arch.k0}"], "D2": ["C, 1"]},
              "spatial_mapping_hint": {"D3": ["OY"]},
              "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}} for n in ("Add", "Pooling")]
    return [mac, *other]


def accelsim_times(onnx_path: Path, arch_name: str, repeat: int) -> dict:
    """Best-of-``repeat`` wall time to map the MAC layers one by one, and the candidates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing-weights warning is expected here
        wl = from_onnx(onnx_path)
    layers = [layer for layer in wl.layers if layer.is_mac]
    packed = Packed.of(load_arch(arch_name), "system")  # ZigZag models the GB and DRAM too
    for layer in layers:  # warm-up: JIT compile or cache load
        map_layer(layer, packed.arch, packed=packed)
    best, per_layer, cand = float("inf"), {}, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        cand = 0
        times = {}
        for layer in layers:
            t = time.perf_counter()
            cand += map_layer(layer, packed.arch, packed=packed).candidates
            times[layer.name] = time.perf_counter() - t
        total = time.perf_counter() - t0
        if total < best:
            best, per_layer = total, times
    return {"seconds": best, "candidates": cand, "layers": len(layers), "macs": sum(x.macs for x in layers),
            "per_layer": per_layer}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="E")
    ap.add_argument("--repeat", type=int, default=3, help="accelsim timing repeats (best kept)")
    ap.add_argument("--force", action="store_true", help="rerun ZigZag even if a result is kept")
    args = ap.parse_args(argv)
    arch = load_arch(args.arch)
    en = energy_vector(arch, load_tech(arch), arch_area_mm2(arch), "system")
    onnx_path = peer_env.zigzag_package_dir() / "inputs" / "workload" / "resnet18.onnx"
    job = {"opt": "latency", "lpf_limit": 6, "onnx": str(onnx_path),
           "hardware": zm.hardware(arch, en, ("I1", "I2", "O")), "mapping": zigzag_mapping(arch)}
    print("ZigZag on resnet18.onnx ...", flush=True)
    zz = peer_env.run_worker("onnx", job, f"speed-resnet18-{arch.name}", force=args.force)
    print("accelsim on the same MAC layers ...", flush=True)
    acc = accelsim_times(onnx_path, arch.name, args.repeat)
    zz_mac = [t for t in zz["layer_times"] if t["macs"] > 0 and t["type"] in ("Conv", "Gemm")]
    z_s = sum(t["seconds"] for t in zz_mac)
    z_n = sum(t["evaluations"] for t in zz_mac)
    a_s, a_n = acc["seconds"], acc["candidates"]
    z_per, a_per = z_s / z_n, a_s / a_n
    per_layer = sorted(t["seconds"] / acc["per_layer"].get(t["name"], float("nan")) for t in zz_mac
                       if t["name"] in acc["per_layer"])
    import numba
    import numpy as np

    others = len(zz["layer_times"]) - len(zz_mac)
    extra = (f"the 21 MAC layers; ZigZag's whole run incl. its {others} other layers: "
             f"{zz['seconds']:.2f} s" if others else
             f"ZigZag's ONNX parser keeps only the MAC layers of this file; its whole run: {zz['seconds']:.2f} s")
    load = f"load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""

    lines = [
        f"\n## Peer speed: ZigZag {zz.get('zigzag_version', '?')} against accelsim on ResNet-18 "
        f"(`benchmarks/peers/zigzag_speed.py`, {dt.datetime.now():%Y-%m-%d %H:%M})\n",
        f"{platform.machine()}, {peer_env.cpu_count()} cores, Python {platform.python_version()}, "
        f"numba {numba.__version__}, numpy {np.__version__}, {load}; one process each, arch {arch.name}. "
        "ZigZag: its bundled `resnet18.onnx` (224x224), its own mapping pipeline (parsers, "
        "spatial mapping generation, LOMA temporal search with lpf_limit 6, cost model, latency "
        "reduction; no result saving or plotting), in its own venv. accelsim: the same ONNX "
        "imported from shapes alone, the same MAC layers each searched afresh (no memo), "
        "latency objective, warm numba code, best of "
        f"{args.repeat}. Mappings = cost-model evaluations (ZigZag) and candidates (accelsim).\n",
        "| tool | MAC layers | MACs | evaluated mappings | seconds (MAC layers) | us per mapping |",
        "|---|---:|---:|---:|---:|---:|",
        f"| ZigZag | {len(zz_mac)} | {sum(t['macs'] for t in zz_mac) / 1e9:.3f} G | {z_n:,} | "
        f"{z_s:.2f} | {z_per * 1e6:.1f} |",
        f"| accelsim | {acc['layers']} | {acc['macs'] / 1e9:.3f} G | {a_n:,} | {a_s:.4f} | "
        f"{a_per * 1e6:.3f} |",
        "",
        f"Ratios (ZigZag / accelsim): **{z_s / a_s:,.0f}x per network** ({extra}), "
        f"**{z_per / a_per:,.0f}x per "
        f"evaluated mapping**; per layer the time ratio ranges "
        f"{per_layer[0]:,.0f}x-{per_layer[-1]:,.0f}x (median {statistics.median(per_layer):,.0f}x). "
        f"accelsim evaluates {a_n / z_n:,.1f}x as many mappings (exhaustive with branch and bound "
        "over its template's space, against ZigZag's LOMA loop orders for the spatial mappings "
        "its generator keeps).",
    ]
    text = "\n".join(lines) + "\n"
    REPORT.write_text(REPORT.read_text().rstrip("\n") + "\n" + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
