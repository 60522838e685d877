"""accelsim's architecture and layers described in ZigZag's input format (project python).

ZigZag 3.9.1 takes an accelerator YAML (memories with per-access costs, ports, the
operational array), a mapping YAML (spatial unrolling per layer) and layers as dicts
with a loop-nest equation. This module builds those three from accelsim objects; it
imports nothing from ZigZag, so it runs in the project's python, and the worker
(:mod:`zigzag_worker`) runs ZigZag on the result in ZigZag's own environment.

The MAGNet-style PE maps onto a three-dimensional operational array:
D1 = K0 lanes, D2 = C0 multipliers per lane, D3 = the PEs. Memories, lowest first:

| memory | operand | per | served dims | size | read / write port (bits) |
|---|---|---|---|---|---|
| weight latch (``w_reg``) | W | multiplier | - | bits | bits |
| accumulation collector (``acc_collector``) | O | lane | D2 (adder tree reduces C0) | AD x accum_bits | accum_bits |
| input buffer (``input_buffer``) | I | PE | D1, D2 (broadcast to lanes) | input_buffer_kb | C0 x bits |
| weight buffer (``weight_buffer``) | W | PE | D1, D2 | weight_buffer_kb | read: C0 x bits per lane bank, K0 banks; write: C0 x bits |
| accumulation buffer (``accum_buffer``) | O | PE | D1, D2 | accum_buffer_kb | accum_bits per lane, K0 lanes |
| global buffer (``global_buffer``) | I, W, O | chip | D1, D2, D3 | global_buffer_kb | two ports (PE side, DRAM side) of min(noc_bandwidth, global_buffer_bandwidth) each |
| DRAM (``dram``) | operands that accelsim's residency rule sends off chip | chip | all | - | dram_bandwidth_gbps / frequency_ghz |

The costs come from :func:`zigzag_costs`, the ONE place where accelsim's per-event
energies become ZigZag's per-access costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.arch.config import ArchConfig
from accelsim.cost import equations as eq
from accelsim.cost.model import problem_vector
from accelsim.workload.ir import Layer

#: the memory names, lowest level first (the order of the hardware YAML)
MEMORIES = ("w_reg", "acc_collector", "input_buffer", "weight_buffer", "accum_buffer",
            "global_buffer", "dram")


def zigzag_costs(arch: ArchConfig, en: np.ndarray) -> dict[str, Any]:
    """ZigZag costs, in pJ, from accelsim's energy vector ``en`` (``accelsim.cost.model.
    energy_vector``: pJ per event, voltage-scaled) for architecture ``arch``.

    Returns ``{"mac": pJ per MAC, "<memory>": {"r": pJ per read, "w": pJ per write,
    "r_bits": bits per read access, "w_bits": bits per write access}}``. A ZigZag access is
    one port-width word (``bandwidth_max`` bits); its cost is the per-bit cost times that
    width, and ``bandwidth_min`` (the access granularity the worker sets) rounds partial
    words up. Mapping, event by event (update here when accelsim's events change):

    - MAC: ``E_MAC`` per MAC (ZigZag charges every MAC of the layer once; accelsim charges
      every MAC slot of a busy PE per cycle, so the two differ on partly filled vectors).
    - weight latch: free; accelsim's MAC energy includes the pipeline registers.
    - accumulation collector: accelsim charges one 24-bit read-modify-write ``E_RMW`` per
      lane per cycle; ZigZag counts the read and the write, so each costs ``E_RMW / 2``.
    - input / weight buffer: ``E_IB_READ`` / ``E_WB_READ`` per read of one C0-byte vector
      (the weight buffer: per lane bank); fills are writes at the same per-bit energy
      times ``E_WRITE_FACTOR``.
    - accumulation buffer: ``E_AB_BIT`` per bit read, x ``E_WRITE_FACTOR`` per bit written.
    - global buffer: ``E_GB_BIT`` per bit read, x ``E_WRITE_FACTOR`` per bit written.
    - DRAM: ``E_DRAM_BIT`` per bit, read or write.
    Not expressible as a memory access in ZigZag and left out of its total: the NoC
    (``E_NOC_BIT_HOP``), control per MAC slot and cycle (``E_CTRL_SLOT``), PPU ops and leakage; the
    comparison lists them as accelsim-only.
    """
    bits = arch.bits
    vec = arch.c0 * bits  # one C0 vector, bits
    wf = float(en[eq.E_WRITE_FACTOR])
    acc = arch.accum_bits
    dram_bits = max(8, int(arch.dram_bytes_per_cycle * 8))
    # ZigZag has one read and one write cost per memory, charged per word of the port that
    # moves the data, so both GB ports get one width: the PE side's (NoC) limit
    gb_bits = int(min(arch.global_buffer_bandwidth, arch.noc_bandwidth) * 8)

    def per_bit(e_bit: float, r_bits: int, w_bits: int) -> dict[str, float]:
        return {"r": e_bit * r_bits, "w": e_bit * wf * w_bits, "r_bits": r_bits, "w_bits": w_bits}

    return {
        "mac": float(en[eq.E_MAC]),
        "w_reg": {"r": 0.0, "w": 0.0, "r_bits": bits, "w_bits": bits},
        "acc_collector": {"r": float(en[eq.E_RMW]) / 2, "w": float(en[eq.E_RMW]) / 2,
                          "r_bits": acc, "w_bits": acc},
        "input_buffer": per_bit(float(en[eq.E_IB_READ]) / vec, vec, vec),
        "weight_buffer": per_bit(float(en[eq.E_WB_READ]) / vec, vec * arch.k0, vec),
        "accum_buffer": per_bit(float(en[eq.E_AB_BIT]), acc * arch.k0, acc * arch.k0),
        "global_buffer": per_bit(float(en[eq.E_GB_BIT]), gb_bits, gb_bits),
        "dram": {"r": float(en[eq.E_DRAM_BIT]) * dram_bits, "w": float(en[eq.E_DRAM_BIT]) * dram_bits,
                 "r_bits": dram_bits, "w_bits": dram_bits},
    }


def _port(name: str, kind: str, bw_min: int, bw_max: int, alloc: list[str]) -> dict[str, Any]:
    return {"name": name, "type": kind, "bandwidth_min": int(bw_min), "bandwidth_max": int(bw_max),
            "allocation": alloc}


def _memory(size_bits: int, cost: dict[str, Any], operands: list[str], ports: list[dict],
            served: list[str]) -> dict[str, Any]:
    return {"size": int(size_bits), "r_cost": float(cost["r"]), "w_cost": float(cost["w"]),
            "area": 0.0, "latency": 1, "operands": operands, "ports": ports,
            "served_dimensions": served}


def _o_ports(r_min: int, r_max: int, w_min: int, w_max: int) -> list[dict]:
    """Separate read and write ports for partial sums: to/from the level below and above."""
    return [_port("r_port_1", "read", r_min, r_max, ["O, tl", "O, th"]),
            _port("w_port_1", "write", w_min, w_max, ["O, fh", "O, fl"])]


def _rw(op: str, r_min: int, r_max: int, w_min: int, w_max: int) -> list[dict]:
    return [_port("r_port_1", "read", r_min, r_max, [f"{op}, tl"]),
            _port("w_port_1", "write", w_min, w_max, [f"{op}, fh"])]


def hardware(arch: ArchConfig, en: np.ndarray, dram_operands: tuple[str, ...],
             gb_bits: int | None = None) -> dict[str, Any]:
    """ZigZag accelerator dict (YAML-ready) for ``arch``; ``dram_operands`` (subset of
    ``"I1", "I2", "O"``) have DRAM as their top level, the others end in the global buffer
    of ``gb_bits`` (default: global_buffer_kb; larger when accelsim keeps more on chip
    than the GB holds, see :func:`residency`)."""
    c = zigzag_costs(arch, en)
    kib = 1024 * 8
    gb_bits = int(gb_bits or arch.global_buffer_kb * kib)
    bits, acc = arch.bits, arch.accum_bits
    vec = arch.c0 * bits
    gb = c["global_buffer"]
    mems: dict[str, Any] = {
        # one weight latch per multiplier (bits wide): it holds the weight of the current C0
        # vector for AD cycles and cannot hold other taps when a lane is partly filled
        "w_reg": _memory(bits, c["w_reg"], ["I2"], _rw("I2", bits, bits, bits, bits), []),
        "acc_collector": _memory(arch.accum_depth * acc, c["acc_collector"], ["O"],
                                 _o_ports(acc, acc, acc, acc), ["D2"]),
        "input_buffer": _memory(arch.input_buffer_kb * kib, c["input_buffer"], ["I1"],
                                _rw("I1", vec, vec, vec, vec), ["D1", "D2"]),
        "weight_buffer": _memory(arch.weight_buffer_kb * kib, c["weight_buffer"], ["I2"],
                                 _rw("I2", vec, vec * arch.k0, vec, vec), ["D1", "D2"]),
        "accum_buffer": _memory(arch.accum_buffer_kb * kib, c["accum_buffer"], ["O"],
                                _o_ports(acc, acc * arch.k0, acc, acc * arch.k0), ["D1", "D2"]),
        # PE side through the NoC (noc_bandwidth), DRAM side at the GB bandwidth
        "global_buffer": _memory(gb_bits, gb, ["I1", "I2", "O"],
                                 [_port("rw_port_1", "read_write", 8, gb["r_bits"],
                                        ["I1, tl", "I2, tl", "O, tl", "O, fl"]),
                                  _port("rw_port_2", "read_write", 8, gb["r_bits"],
                                        ["I1, fh", "I2, fh", "O, th", "O, fh"])],
                                 ["D1", "D2", "D3"]),
    }
    if dram_operands:
        alloc = []
        for op in dram_operands:
            alloc += [f"{op}, tl", f"{op}, fh"] if op != "O" else ["O, tl", "O, th", "O, fh", "O, fl"]
        d = c["dram"]
        mems["dram"] = _memory(10**12, d, list(dram_operands),
                               [_port("rw_port_1", "read_write", 8, d["r_bits"], alloc)],
                               ["D1", "D2", "D3"])
    return {"name": f"accelsim_{arch.name}", "memories": mems,
            "operational_array": {"unit_energy": c["mac"], "unit_area": 1.0,
                                  "dimensions": ["D1", "D2", "D3"],
                                  "sizes": [arch.k0, arch.c0, arch.num_pe]}}


def residency(layer: Layer, arch: ArchConfig, input_from_dram: bool = False,
              output_to_dram: bool = False) -> tuple[tuple[str, ...], int]:
    """(ZigZag operands with DRAM on top, GB size in bits) by accelsim's residency rule
    (docs/cost_model.md): static weights always come from DRAM; a dynamic (matmul)
    operand, the input and the output only when they exceed half the global buffer (or
    the flags force it). accelsim keeps each activation that fits half the GB on chip
    without checking that they fit together; ZigZag does check, so its GB is enlarged to
    the resident bytes plus the staging half when they do not (same per-bit cost)."""
    prob = problem_vector(layer, input_from_dram, output_to_dram)
    half = 0.5 * arch.global_buffer_kb * 1024
    b = arch.bits / 8
    g, k, c, r, s = (int(prob[i]) for i in (eq.P_G, eq.P_K, eq.P_C, eq.P_R, eq.P_S))
    dw = bool(prob[eq.P_DW])
    w_total = g * k * c * r * s * b
    in_total = g * (k if dw else c) * int(prob[eq.P_H]) * int(prob[eq.P_W]) * b
    out_total = g * k * int(prob[eq.P_P]) * int(prob[eq.P_Q]) * b
    ops = []
    if in_total > half or input_from_dram:
        ops.append("I1")
    if not prob[eq.P_DYN] or w_total > half:
        ops.append("I2")
    if out_total > half or output_to_dram:
        ops.append("O")
    resident = ((in_total if "I1" not in ops else 0) + (out_total if "O" not in ops else 0)
                + (w_total if "I2" not in ops else 0))
    gb_bytes = max(arch.global_buffer_kb * 1024, resident + half)
    return tuple(ops), int(gb_bytes * 8)


def layer_dict(layer: Layer, arch: ArchConfig, layer_id: int = 0) -> dict[str, Any]:
    """ZigZag layer of accelsim's canonical problem (SPEC.md 3): G independent
    K x C x P x Q x R x S problems; depthwise: channels as G (K = C = 1), which ZigZag
    unrolls on the lanes like accelsim puts channels on the lanes."""
    prob = problem_vector(layer)
    g, k, c, p, q, r, s, st, h, w = (int(prob[i]) for i in (
        eq.P_G, eq.P_K, eq.P_C, eq.P_P, eq.P_Q, eq.P_R, eq.P_S, eq.P_ST, eq.P_H, eq.P_W))
    if prob[eq.P_DW]:
        g, k = g * k, 1
    pad_y = max(0, (p - 1) * st + r - h)
    pad_x = max(0, (q - 1) * st + s - w)
    lo = int(layer.padding)
    return {
        "id": layer_id, "name": layer.name, "operator_type": "Conv",
        "equation": "O[g][k][oy][ox]+=W[g][k][c][fy][fx]*I[g][c][iy][ix]",
        "dimension_relations": [f"ix={st}*ox+1*fx", f"iy={st}*oy+1*fy"],
        "loop_dims": ["G", "K", "C", "OY", "OX", "FY", "FX"],
        "loop_sizes": [g, k, c, p, q, r, s],
        "operand_precision": {"I": arch.bits, "W": arch.bits, "O": arch.accum_bits,
                              "O_final": arch.bits},
        "operand_source": {"I": layer_id, "W": layer_id},
        "pr_loop_dims": ["IY", "IX"],
        "pr_loop_sizes": [max(h, 1), max(w, 1)],
        "padding": [[min(lo, pad_y), pad_y - min(lo, pad_y)], [min(lo, pad_x), pad_x - min(lo, pad_x)]],
    }


def spatial_mapping(layer: Layer, mapping: dict[str, Any], arch: ArchConfig) -> dict[str, list[str]]:
    """OS-LWS unrolling: K0 lanes over K (depthwise: channels), C0 multipliers over C, and
    the PEs split as accelsim's chosen mapping (``spatial_k/p/c/g``)."""
    dw = problem_vector(layer)[eq.P_DW] != 0
    lanes = "G" if dw else "K"
    d3 = []
    for field, dim in (("spatial_k", lanes), ("spatial_p", "OY"), ("spatial_c", "C"),
                       ("spatial_g", "G")):
        n = int(mapping.get(field, 1))
        if n > 1:
            d3.append(f"{dim}, {n}")
    sm = {"D1": [f"{lanes}, {arch.k0}"], "D2": [f"C, {1 if dw else arch.c0}"]}
    if d3:
        sm["D3"] = d3
    return sm


def mapping_entry(name: str, sm: dict[str, list[str]]) -> dict[str, Any]:
    return {"name": name, "spatial_mapping": sm,
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
