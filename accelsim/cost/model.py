"""Public cost API: :func:`simulate` a workload on an architecture, :func:`map_layer` one layer.

Units: cycles, seconds, joules, mm2, bytes. The equations are in
:mod:`accelsim.cost.equations`, the search in :mod:`accelsim.cost.mapper`; this module
packs layers and configs into vectors, memoises identical shapes and builds results.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..arch.area import scope_area_mm2
from ..arch.config import ArchConfig, TechConfig, load_arch, load_tech, sram_scale, voltage_scale
from ..arch.noc import mesh
from ..errors import AccelsimError
from ..workload.ir import INPUT, Layer, Op, Workload
from . import equations as eq
from .mapper import MAPPING_FIELDS, search
from .mapspace import check_mapping
from .settings import DEFAULT_SCOPE, DEFAULT_TOLERANCE, check_objective, check_scope, check_tolerance

#: energy components, in the order of the result columns
COMPONENTS = ("mac", "accumulation", "weight_buffer", "input_buffer", "global_buffer", "noc",
              "dram", "control", "ppu", "leakage")
_COMPONENT_INDEX = (eq.O_E_MAC, eq.O_E_ACC, eq.O_E_WB, eq.O_E_IB, eq.O_E_GB, eq.O_E_NOC,
                    eq.O_E_DRAM, eq.O_E_CTRL, eq.O_E_PPU, eq.O_E_LEAK)
_TERMS = {"compute": eq.O_COMPUTE, "input_buffer": eq.O_IB_CYC, "weight_buffer": eq.O_WB_CYC,
          "global_buffer": eq.O_GB_CYC, "dram": eq.O_DRAM_CYC, "ppu": eq.O_PPU_CYC,
          "fill_drain": eq.O_FILL_DRAIN}
_COUNTS = {"macs": eq.O_MACS, "accum_rmw": eq.O_RMW, "input_buffer_reads": eq.O_IB_READS,
           "weight_buffer_reads": eq.O_WB_READS, "accum_buffer_accesses": eq.O_AB_ACCESSES,
           "input_buffer_fill_bytes": eq.O_IB_FILL, "weight_buffer_fill_bytes": eq.O_WB_FILL,
           "gb_read_bytes": eq.O_GB_READ, "gb_write_bytes": eq.O_GB_WRITE,
           "noc_bytes": eq.O_NOC_SENT, "dram_read_bytes": eq.O_DRAM_READ,
           "dram_write_bytes": eq.O_DRAM_WRITE, "ppu_elements": eq.O_PPU_ELEMS,
           "spill_bytes": eq.O_SPILL, "psum_bytes": eq.O_PSUM, "pe_cycles": eq.O_PE_CYCLES,
           "gb_weight_read_bytes": eq.O_GB_W, "gb_input_read_bytes": eq.O_GB_IN,
           "dram_weight_read_bytes": eq.O_DRAM_W, "dram_input_read_bytes": eq.O_DRAM_IN,
           "dram_output_write_bytes": eq.O_DRAM_OUT, "refetch_weights": eq.O_MULT_W,
           "refetch_inputs": eq.O_MULT_IN, "refetch_outputs": eq.O_MULT_OUT}


# ------------------------------------------------------------------ packing
def problem_vector(layer: Layer, input_from_dram: bool = False,
                   output_to_dram: bool = False) -> np.ndarray:
    """The canonical MAC problem of ``layer`` (SPEC.md 3): G independent K x C x P x Q x R x S
    problems; depthwise convs put channels on lanes (K = channels, C = 1)."""
    h, w = layer.input_hw
    if layer.op is Op.DWCONV2D:
        g, k, c = layer.n * layer.batch, layer.k, 1
    else:
        g, k, c = layer.n * layer.batch * layer.groups, layer.k_per_group, layer.c_per_group
    vec = np.zeros(eq.N_PROB, dtype=np.int64)
    vec[[eq.P_G, eq.P_K, eq.P_C, eq.P_P, eq.P_Q, eq.P_R, eq.P_S, eq.P_ST, eq.P_H, eq.P_W]] = (
        g, k, c, layer.p, layer.q, layer.r, layer.s, layer.stride, h, w)
    vec[eq.P_DW] = layer.op is Op.DWCONV2D
    vec[eq.P_DYN] = layer.weight_dynamic
    vec[eq.P_IN_DRAM] = input_from_dram
    vec[eq.P_OUT_DRAM] = output_to_dram
    return vec


def arch_vector(arch: ArchConfig, scope: str = DEFAULT_SCOPE) -> np.ndarray:
    """Architecture numbers in bytes and bytes/cycle (SPEC.md 2); NoC hops of the PE mesh.

    In the accelerator scope the bandwidth into the PE ports is ideal (SPEC.md 4, scope of the
    study's figures): the global-buffer, NoC and DRAM bandwidths are infinite, so only the
    PEs' own compute, buffer-fill ports and PPU bound a layer, and there is no DRAM
    (``A_OFFCHIP`` = 0); docs/cost_model.md, Scope.
    """
    kib = 1024.0
    vec = np.zeros(eq.N_ARCH, dtype=np.float64)
    vec[eq.A_NUM_PE] = arch.num_pe
    vec[eq.A_K0] = arch.k0
    vec[eq.A_C0] = arch.c0
    vec[eq.A_AD] = arch.accum_depth
    vec[eq.A_BYTES] = arch.bits / 8
    vec[eq.A_ACC_BYTES] = arch.accum_bits / 8
    vec[eq.A_WB] = arch.weight_buffer_kb * kib
    vec[eq.A_IB] = arch.input_buffer_kb * kib
    vec[eq.A_AB] = arch.accum_buffer_kb * kib
    vec[eq.A_GB] = arch.global_buffer_kb * kib
    vec[eq.A_GB_BW] = arch.global_buffer_bandwidth
    vec[eq.A_NOC_BW] = arch.noc_bandwidth
    vec[eq.A_DRAM_BW] = arch.dram_bytes_per_cycle
    if scope == "accelerator":
        vec[[eq.A_GB_BW, eq.A_NOC_BW, eq.A_DRAM_BW]] = math.inf
    vec[eq.A_OFFCHIP] = 0.0 if scope == "accelerator" else 1.0
    vec[eq.A_PPU] = arch.ppu_elems_per_cycle
    # mean hops from the GB port to a PE of the PE array's mesh (accelsim.arch.noc)
    vec[eq.A_HOPS] = mesh(arch.num_pe).unicast_hops
    return vec


def energy_vector(arch: ArchConfig, tech: TechConfig, area_mm2: float,
                  scope: str = DEFAULT_SCOPE) -> np.ndarray:
    """Per-access energies in pJ from the technology file (SPEC.md 5), dynamic ones x (V/V_ref)^2.

    Each is charged per the event that causes it (docs/cost_model.md, Energy model): per MAC,
    per vector op (accumulation), per MAC slot and busy cycle (control), per buffer access of
    the PE's port width from a bank of the PE's capacity, per drained output (PPU), per bit
    (GB, NoC, DRAM), per cycle (leakage of ``area_mm2``). In the accelerator scope DRAM
    costs nothing (there is none); the GB and NoC cost per access in both scopes
    (docs/cost_model.md, Scope).
    """
    vs = voltage_scale(arch, tech)
    x = tech.sram_exponent
    width = arch.c0 * arch.bits / tech.ref("buffer_port_bits")  # port width vs the 256-bit reference
    vec = np.zeros(eq.N_EN, dtype=np.float64)
    vec[eq.E_MAC] = tech.e("mac_pj") * vs
    vec[eq.E_RMW] = tech.e("accumulation_rmw_pj") * vs
    # SPEC.md 5: a lane reads its own weight bank (capacity WB / K0) through a C0-wide port
    bank_kb = arch.weight_buffer_kb / arch.k0
    ref_bank_kb = tech.ref("weight_buffer_kb") / tech.ref("lanes")
    vec[eq.E_WB_READ] = tech.e("weight_buffer_read_pj") * width * vs * sram_scale(bank_kb, ref_bank_kb, x)
    vec[eq.E_IB_READ] = (tech.e("input_buffer_read_pj") * width * vs
                         * sram_scale(arch.input_buffer_kb, tech.ref("input_buffer_kb"), x))
    # SPEC.md 5: e_bit = 6 fJ x (C / 8 KB)^0.6
    vec[eq.E_AB_BIT] = tech.e("sram_bit_read_8kb_fj") * 1e-3 * vs * sram_scale(arch.accum_buffer_kb, 8.0, x)
    vec[eq.E_GB_BIT] = (tech.e("global_buffer_read_pj") / tech.ref("global_buffer_port_bits") * vs
                        * sram_scale(arch.global_buffer_kb, tech.ref("global_buffer_kb"), x))
    vec[eq.E_WRITE_FACTOR] = tech.sram_write_factor
    vec[eq.E_NOC_BIT_HOP] = tech.e("noc_pj_per_bit_hop") * vs
    per_slot, per_pe = control_split(tech)
    vec[eq.E_CTRL_SLOT] = per_slot * vs
    vec[eq.E_CTRL_PE] = per_pe * vs
    vec[eq.E_PPU_OP] = tech.e("ppu_op_pj") * vs
    vec[eq.E_DRAM_BIT] = tech.e(f"dram_{arch.dram_type}_pj_per_bit")  # off-chip: not V-scaled
    if scope == "accelerator":  # no DRAM; the GB and NoC still cost per access (Scope, choice 1)
        vec[eq.E_DRAM_BIT] = 0.0
    # leakage: mW/mm2 x mm2 / GHz = pJ per cycle
    vec[eq.E_LEAK_CYCLE] = tech.e("leakage_mw_per_mm2") * area_mm2 / arch.frequency_ghz
    return vec


def control_split(tech: TechConfig) -> tuple[float, float]:
    """(pJ per MAC slot and busy cycle, pJ per PE and busy cycle) of control and clocking.

    The silicon's 23 fJ per MAC (``control_per_mac_slot_cycle_pj``) was measured on a PE of
    ``lanes`` x ``buffer_port_bits`` / 8 = 1024 slots; ``control_per_pe_cycle_pj`` of it is per PE
    (sequencer, address generation, clock-tree root, idle PPU), the rest per slot. A full
    1024-slot PE thus keeps the measured total; a 256-slot PE pays the per-PE part over 4x
    fewer MACs (docs/cost_model.md, Energy model)."""
    total = tech.e("control_per_mac_slot_cycle_pj")
    slots = tech.ref("lanes") * tech.ref("buffer_port_bits") / 8
    per_pe = min(tech.e("control_per_pe_cycle_pj"), total * slots) if "control_per_pe_cycle_pj" in tech.energy \
        else 0.0
    return total - per_pe / slots, per_pe


@dataclass(frozen=True)
class Packed:
    """An architecture packed for the jitted code in one scope, with its area and fingerprint."""

    arch: ArchConfig
    arch_vec: np.ndarray
    energy_vec: np.ndarray
    area_mm2: float
    fingerprint: tuple
    scope: str = DEFAULT_SCOPE

    @classmethod
    def of(cls, arch: ArchConfig, scope: str = DEFAULT_SCOPE, tech: TechConfig | None = None) -> "Packed":
        """``arch`` in ``scope``, costed with ``tech`` (default: the file ``arch.tech`` names;
        a variant from :meth:`TechConfig.with_values` for sensitivity studies)."""
        check_scope(scope)
        tech = load_tech(arch) if tech is None else tech
        area = scope_area_mm2(arch, scope, tech)
        return cls(arch, arch_vector(arch, scope), energy_vector(arch, tech, area, scope), area,
                   (scope, *arch_fingerprint(arch, tech)), scope)


    def with_backlog(self, cycles: float) -> "Packed":
        """This architecture searched behind ``cycles`` PPU cycles queued ahead of a layer's drains
        (the latency objective's view of the fused PPU work downstream, :func:`ppu_backlogs`)."""
        vec = self.arch_vec.copy()
        vec[eq.A_BACKLOG] = cycles
        return replace(self, arch_vec=vec, fingerprint=(*self.fingerprint, ("ppu_backlog", float(cycles))))


def arch_fingerprint(arch: ArchConfig, tech: TechConfig | None = None) -> tuple:
    """Everything about ``arch`` that decides a cost: its parameters and a SHA-256 of its
    technology file's values, so an edited tech file is never mistaken for the old one
    (memo keys, the sweep's disk cache)."""
    tech = tech or load_tech(arch)
    digest = hashlib.sha256(tech.model_dump_json().encode()).hexdigest()[:20]
    return (*arch.params().items(), ("tech_sha256", digest))


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class LayerCost:
    """Cost of one layer under its best mapping. Energies in joules, time in cycles/seconds.

    ``fused_into`` names the MAC layer whose PPU pass runs this non-MAC layer in the
    accelerator scope (its ``cycles`` are then only what the host's pass could not hide).
    """

    name: str
    op: str
    macs: int
    cycles: float
    latency_s: float
    energy: dict[str, float]
    utilization: float
    bound: str
    mapping: dict[str, Any]
    candidates: int
    terms: dict[str, float] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    fused_into: str = ""

    @property
    def energy_j(self) -> float:
        return float(sum(self.energy.values()))

    def renamed(self, name: str) -> "LayerCost":
        """The same cost under another layer name (a memo hit of an identical shape)."""
        if name == self.name:
            return self
        new = copy.copy(self)
        object.__setattr__(new, "name", name)
        return new

    def row(self) -> dict[str, Any]:
        """One flat row for the per-layer table."""
        row: dict[str, Any] = {"name": self.name, "op": self.op, "macs": self.macs,
                               "cycles": self.cycles, "latency_s": self.latency_s,
                               "energy_j": self.energy_j}
        row.update({f"energy_{c}_j": self.energy[c] for c in COMPONENTS})
        row.update({"utilization": self.utilization, "bound": self.bound,
                    "fused_into": self.fused_into})
        row.update({f: self.mapping.get(f) for f in MAPPING_FIELDS})
        row["candidates"] = self.candidates
        row.update({f"cycles_{t}": v for t, v in self.terms.items()})
        return row


def _layer_cost(layer: Layer, out: np.ndarray, packed: Packed, mapping: dict, candidates: int) -> LayerCost:
    arch = packed.arch
    v = out.tolist()  # Python floats: indexing a list is several times faster than an array
    cycles = v[eq.O_CYCLES]
    macs = layer.macs
    util = macs / (cycles * arch.macs_per_cycle) if cycles > 0 else 0.0
    return LayerCost(
        name=layer.name, op=layer.op.value, macs=macs, cycles=cycles,
        latency_s=cycles / (arch.frequency_ghz * 1e9),
        energy={c: v[i] * 1e-12 for c, i in zip(COMPONENTS, _COMPONENT_INDEX)},
        utilization=util, bound=eq.BOUNDS[int(v[eq.O_BOUND])], mapping=mapping,
        candidates=candidates, terms={t: v[i] for t, i in _TERMS.items()},
        counts={c: v[i] for c, i in _COUNTS.items()})


def _map_mac(layer: Layer, packed: Packed, obj: int, max_candidates: int | None,
             in_dram: bool, out_dram: bool, tolerance: float) -> LayerCost:
    prob = problem_vector(layer, in_dram, out_dram)
    out = np.zeros(eq.N_OUT, dtype=np.float64)
    best, count = search(prob, packed.arch_vec, packed.energy_vec, obj, int(max_candidates or 0), out,
                         True, tolerance)
    if best[0] < 0:
        a = packed.arch
        raise AccelsimError(
            f"layer {layer.name!r} cannot be mapped on arch {a.name}: its smallest tile "
            f"(K0 x C0 x {layer.r}x{layer.s} weights, input halo, K0 x 1 sums) does not fit "
            f"weight_buffer_kb={a.weight_buffer_kb}, input_buffer_kb={a.input_buffer_kb}, "
            f"accum_buffer_kb={a.accum_buffer_kb}")
    mapping = {f: int(v) for f, v in zip(MAPPING_FIELDS, best)}
    mapping["loop_order"] = eq.ORDER_NAMES[int(best[8])]
    return _layer_cost(layer, out, packed, mapping, int(count))


def _map_nonmac(layer: Layer, packed: Packed, in_dram: bool, out_dram: bool) -> LayerCost:
    bits = packed.arch.bits
    n_in = max(1, len(layer.inputs)) if layer.op is Op.ELTWISE else 1
    out = np.zeros(eq.N_OUT, dtype=np.float64)
    eq.nonmac_cost(float(layer.nonmac_ops), float(layer.input_bytes(bits) * n_in),
                   float(layer.output_bytes(bits)), in_dram, out_dram, layer.op is Op.CONCAT,
                   layer.fused, packed.arch_vec, packed.energy_vec, out)
    return _layer_cost(layer, out, packed, {}, 0)


def evaluate_mapping(layer: Layer, arch: "ArchConfig | str", mapping: dict[str, Any], *,
                     input_from_dram: bool = False, output_to_dram: bool = False,
                     check: bool = True, source: str = "mapping", scope: str = DEFAULT_SCOPE,
                     packed: Packed | None = None) -> LayerCost:
    """Cost of ``layer`` under one given mapping (keys of ``MAPPING_FIELDS``; ``loop_order``
    as a name such as ``"K,C,PQ"``), without searching.

    With ``check`` (the default) the mapping must lie in the search space of
    :mod:`accelsim.cost.mapper`: every field present and a positive integer, splits within
    ``num_pe`` and the layer's extents, tiles within the PE's share and fitting the weight,
    input and accumulation buffers; otherwise a :class:`~accelsim.cost.mapspace.MappingError`
    starting with ``source`` names the field and the limit. ``check=False`` costs any
    positive integers (``loop_order`` may then also be an index of ``ORDER_NAMES``).
    ``packed`` (from :meth:`Packed.of`) replaces ``arch`` and ``scope``.
    """
    if not layer.is_mac:
        raise AccelsimError(f"layer {layer.name!r} is a {layer.op.value} layer: only MAC layers have a mapping")
    packed = packed or Packed.of(load_arch(arch), check_scope(scope))
    prob = problem_vector(layer, input_from_dram, output_to_dram)
    if check:
        mapping = check_mapping(prob, packed.arch_vec, packed.arch.name, mapping, source)
    order = mapping["loop_order"]
    o = eq.ORDER_NAMES.index(order) if isinstance(order, str) else int(order)
    vals = [int(mapping[f]) for f in MAPPING_FIELDS[:8]]
    out = np.zeros(eq.N_OUT, dtype=np.float64)
    eq.candidate_cost(prob, packed.arch_vec, packed.energy_vec, *vals, eq.ORDERS[o], out)
    full = dict(zip(MAPPING_FIELDS, vals), loop_order=eq.ORDER_NAMES[o])
    return _layer_cost(layer, out, packed, full, 1)


def map_layer(layer: Layer, arch: "ArchConfig | str", objective: str = "latency",
              max_candidates: int | None = None, *, input_from_dram: bool = False,
              output_to_dram: bool = False, memo: MutableMapping | None = None,
              packed: Packed | None = None, scope: str = DEFAULT_SCOPE,
              tolerance: float = DEFAULT_TOLERANCE) -> LayerCost:
    """Best mapping and cost of one layer (SPEC.md 3-5) in ``scope`` (``"accelerator"``:
    no DRAM, unbounded GB/NoC bandwidth, the study's scope; ``"system"``: with DRAM and bandwidths).

    ``input_from_dram`` / ``output_to_dram`` force the input to be read from / the output
    written to DRAM (network input, graph sinks); otherwise activations that fit half the
    global buffer stay on chip. ``tolerance``: candidates within this fraction of the best
    primary objective are ranked by the secondary one (docs/cost_model.md, Objectives).
    ``memo`` maps (shape, arch, scope, objective, tolerance, cap, DRAM flags) to costs so
    identical layers are mapped once. A non-MAC layer is costed alone (a standalone PPU
    pass in the accelerator scope); :func:`simulate` hides it in its host's pass.
    """
    return _lookup_or_map(layer, arch, objective, max_candidates, input_from_dram, output_to_dram,
                          memo, packed, scope, tolerance)[0]


def memo_key(layer: Layer, packed: Packed, objective: str, tolerance: float, max_candidates: int | None,
             input_from_dram: bool, output_to_dram: bool) -> tuple:
    """The key under which :func:`simulate` memoises ``layer``'s cost: its shape, the packed
    arch's fingerprint (parameters, scope, a digest of the tech values) and every setting."""
    return (layer.shape_key(), packed.fingerprint, objective, tolerance, max_candidates,
            bool(input_from_dram), bool(output_to_dram))


def _lookup_or_map(layer: Layer, arch: "ArchConfig | str", objective: str, max_candidates: int | None,
                   input_from_dram: bool, output_to_dram: bool, memo: MutableMapping | None,
                   packed: Packed | None, scope: str = DEFAULT_SCOPE,
                   tolerance: float = DEFAULT_TOLERANCE) -> tuple[LayerCost, bool]:
    """:func:`map_layer`'s cost and whether it was searched now (``False``: taken from ``memo``).

    The memo is asked once (``get``), so a mapping that loads entries lazily (the sweep's
    on-disk memo) neither counts a hit twice nor makes a lookup look like a fresh mapping.
    """
    obj = check_objective(objective)
    tol = check_tolerance(tolerance)
    packed = packed or Packed.of(load_arch(arch), check_scope(scope))
    key = memo_key(layer, packed, objective, tol, max_candidates, input_from_dram, output_to_dram)
    cached = memo.get(key) if memo is not None else None
    if cached is not None:
        return cached.renamed(layer.name), False
    if layer.is_mac:
        cost = _map_mac(layer, packed, obj, max_candidates, input_from_dram, output_to_dram, tol)
    else:
        cost = _map_nonmac(layer, packed, input_from_dram, output_to_dram)
    if memo is not None:
        memo[key] = cost
    return cost, True


@dataclass
class SimResult:
    """A workload's cost on one architecture (SPEC.md 4-5) in one scope. Energies in J,
    area in mm2 (the PE array in the accelerator scope, plus the global buffer in the system
    scope)."""

    workload: str
    arch: str
    objective: str
    exec_path: str
    macs: int
    cycles: float
    latency_s: float
    energy_j: float
    area_mm2: float
    utilization: float
    energy_breakdown: dict[str, float]
    layer_costs: tuple = field(default=(), repr=False)  # one LayerCost per layer
    candidates_evaluated: int = 0  # mapping candidates searched by this call (memo hits add none)
    scope: str = DEFAULT_SCOPE
    layer_tags: tuple = field(default=(), repr=False)  # each layer's tags, (key, value) pairs

    @cached_property
    def layers(self) -> pd.DataFrame:
        """One row per layer (columns in docs/cost_model.md), built on first use."""
        frame = pd.DataFrame([c.row() for c in self.layer_costs])
        frame = frame.astype({f: "Int64" for f in MAPPING_FIELDS if f != "loop_order" and f in frame})
        tags = pd.DataFrame([{f"tag_{k}": v for k, v in t} for t in self.layer_tags])
        return pd.concat([frame, tags], axis=1) if len(tags.columns) else frame

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def summary(self) -> dict[str, Any]:
        """One tidy row: totals, energy per op (op = 1 FLOP = half a MAC) and throughput per mm2."""
        row = {"arch": self.arch, "workload": self.workload, "exec_path": self.exec_path,
               "scope": self.scope, "objective": self.objective, "macs": self.macs,
               "flops": self.flops, "cycles": self.cycles, "latency_s": self.latency_s,
               "energy_j": self.energy_j, "area_mm2": self.area_mm2, "utilization": self.utilization,
               "energy_per_op_j": self.energy_j / self.flops if self.flops else float("nan"),
               "throughput_ops_per_s_per_mm2": (self.flops / self.latency_s / self.area_mm2
                                                if self.latency_s > 0 and self.area_mm2 > 0
                                                else float("nan"))}
        row.update({f"energy_{c}_j": self.energy_breakdown[c] for c in COMPONENTS})
        return row

    def to_json(self, **kw) -> str:
        """Totals plus the per-layer rows, as JSON (floats at full precision, missing as null)."""
        from ..tableio import json_dumps, records

        return json_dumps({"summary": self.summary(), "layers": records(self.layers)}, **kw)


def dram_flags(wl: Workload) -> tuple[set[str], set[str]]:
    """Layers reading the network input and layers whose output no layer consumes (sinks):
    :func:`simulate` maps them with ``input_from_dram`` / ``output_to_dram``."""
    layers = wl.layers
    if not any(layer.inputs for layer in layers):  # no graph: first reads, last writes
        return ({layers[0].name} if layers else set()), ({layers[-1].name} if layers else set())
    consumed = {src for layer in layers for src in layer.inputs}
    sources = {layer.name for layer in layers if INPUT in layer.inputs}
    sinks = {layer.name for layer in layers if layer.name not in consumed}
    return sources, sinks


def layer_dram_flags(wl: Workload, name: str) -> dict[str, bool]:
    """``input_from_dram`` / ``output_to_dram`` of layer ``name`` as :func:`simulate` sets
    them (keywords of :func:`map_layer` and :func:`evaluate_mapping`)."""
    sources, sinks = dram_flags(wl)
    return {"input_from_dram": name in sources, "output_to_dram": name in sinks}


def fuse_into_hosts(layers: "tuple[Layer, ...]", costs: list[LayerCost], packed: Packed) -> list[LayerCost]:
    """Accelerator scope: non-MAC layers run on the PPU, overlapped with the MAC layers.

    The PPU is a pipeline stage behind the MAC array (SPEC.md 2: drained outputs go through
    it), so its element-wise work waits in a first-in first-out queue and runs whenever the
    PPU is idle: during a MAC layer it is idle for (layer cycles - the layer's own drain
    cycles). Non-MAC layers join the queue after the MAC layer that precedes them in layer
    order (their host, ``fused_into``; those before the first MAC layer join with it), so
    they use that layer's idle PPU time first, then the next layers'. Only work still queued
    after the last MAC layer adds time (bound ``ppu``); its energy is the PPU work plus
    leakage over that exposed time. Without any MAC layer every non-MAC layer is a pass of
    its own. docs/cost_model.md, Scope, gives the reasons and the per-layer alternative.
    """
    if not any(c.macs for c in costs):
        return costs
    f_hz = packed.arch.frequency_ghz * 1e9
    leak_cycle_j = packed.energy_vec[eq.E_LEAK_CYCLE] * 1e-12
    mac_idx = [i for i, c in enumerate(costs) if c.macs]
    host_of: dict[int, int] = {}
    guests: dict[int, list[int]] = {m: [] for m in mac_idx}  # each host's non-MAC layers, in order
    last = mac_idx[0]
    for i, layer in enumerate(layers):
        if i in guests:
            last = i
        elif not layer.is_mac:
            host_of[i] = last
            guests[last].append(i)
    left = {i: costs[i].cycles for i in host_of}  # queued PPU cycles per non-MAC layer
    queue: deque[int] = deque()
    for m in mac_idx:
        queue.extend(guests[m])
        idle = max(0.0, costs[m].cycles - costs[m].terms.get("ppu", 0.0))
        while queue and idle > 0.0:
            served = min(idle, left[queue[0]])
            left[queue[0]] -= served
            idle -= served
            if left[queue[0]] <= 0.0:
                queue.popleft()
    out = list(costs)
    for i, h in host_of.items():
        c = costs[i]
        exposed = left[i]
        energy = dict(c.energy, leakage=exposed * leak_cycle_j)
        out[i] = replace(c, cycles=exposed, latency_s=exposed / f_hz, energy=energy,
                         fused_into=costs[h].name)
    return out


def _hosts(layers: "tuple[Layer, ...]", costs: list[LayerCost]) -> tuple[list[int], dict[int, float]]:
    """MAC layer indices in order and the PPU cycles of the non-MAC layers each one hosts
    (:func:`fuse_into_hosts`: a non-MAC layer joins the MAC layer before it, or the first)."""
    mac_idx = [i for i, c in enumerate(costs) if c.macs]
    work = dict.fromkeys(mac_idx, 0.0)
    last = mac_idx[0] if mac_idx else -1
    for i, layer in enumerate(layers):
        if i in work:
            last = i
        elif not layer.is_mac and last >= 0:
            work[last] += costs[i].cycles
    return mac_idx, work


def ppu_backlogs(layers: "tuple[Layer, ...]", costs: list[LayerCost]) -> dict[int, float]:
    """Accelerator scope: for each MAC layer, the PPU backlog its latency search must see.

    With the FIFO PPU queue of :func:`fuse_into_hosts`, MAC layer m taking c_m cycles of which
    its drains keep the PPU busy d_m, and hosting w_m cycles of non-MAC work, the network takes
    T = max over j of F_j, F_j = sum_{m<j} c_m + sum_{m>=j} (d_m + w_m) (Lindley's recursion
    unrolled; j = M gives sum c). With the other layers fixed, T = A_m + max(c_m, d_m + b_m),
    A_m = max_{j>m} F_j - c_m, b_m = max_{j<=m} F_j - d_m - A_m: layer m minimises the network
    latency by minimising max(c_m, d_m + b_m), the objective cycles of a search behind a
    backlog b_m (:func:`accelsim.cost.equations.objective_cycles`). Returns b_m > 0 only."""
    mac_idx, work = _hosts(layers, costs)
    if not mac_idx:
        return {}
    c = [costs[m].cycles for m in mac_idx]
    d = [costs[m].terms.get("ppu", 0.0) + work[m] for m in mac_idx]  # d_m + w_m
    n = len(mac_idx)
    f = [0.0] * (n + 1)
    prefix = 0.0
    suffix = sum(d)
    for j in range(n + 1):
        f[j] = prefix + suffix
        if j < n:
            prefix += c[j]
            suffix -= d[j]
    best_left = [0.0] * n   # max_{j<=m} F_j
    best_right = [0.0] * n  # max_{j>m} F_j
    run = -math.inf
    for m in range(n):
        run = max(run, f[m])
        best_left[m] = run
    run = -math.inf
    for m in range(n - 1, -1, -1):
        run = max(run, f[m + 1])
        best_right[m] = run
    out = {}
    for k, m in enumerate(mac_idx):
        own = costs[m].terms.get("ppu", 0.0)
        b = (best_left[k] - own) - (best_right[k] - c[k])
        if b > 1e-9 * max(1.0, c[k]):
            out[m] = b
    return out


def _remap_behind_backlogs(workload: Workload, costs: list[LayerCost], a: ArchConfig, packed: Packed,
                           objective: str, max_candidates: int | None, memo: MutableMapping,
                           sources: set[str], sinks: set[str], tolerance: float) -> tuple[list[int], int]:
    """Latency objective, accelerator scope: map again every MAC layer whose mapping changes the
    exposed PPU work downstream (:func:`ppu_backlogs`), last first, until no backlog changes a
    mapping (at most 8 rounds). Returns the indices re-mapped and the candidates searched."""
    layers = workload.layers
    fresh = 0
    changed: list[int] = []
    for _ in range(8):
        moved = False
        for m, b in sorted(ppu_backlogs(layers, costs).items(), reverse=True):
            layer = layers[m]
            cost, searched = _lookup_or_map(layer, a, objective, max_candidates, layer.name in sources,
                                            layer.name in sinks, memo, packed.with_backlog(b), "accelerator",
                                            tolerance)
            fresh += cost.candidates if searched else 0
            if cost.mapping != costs[m].mapping:
                costs[m] = cost
                changed.append(m)
                moved = True
                break  # backlogs of the other layers change with this one
        if not moved:
            break
    return changed, fresh


def simulate(workload: "Workload | str", arch: "ArchConfig | str", objective: str = "latency",
             max_candidates: int | None = None, memo: MutableMapping | None = None, *,
             scope: str = DEFAULT_SCOPE, tolerance: float = DEFAULT_TOLERANCE,
             progress: bool = False, tech: TechConfig | None = None) -> SimResult:
    """Map every layer of ``workload`` on ``arch`` and total cycles, latency, energy and area.

    ``scope``: ``"accelerator"`` (default; the study's accelerator without DRAM, unbounded GB/NoC
    supply, non-MAC layers run on the PPU overlapped with the MAC layers) or ``"system"``
    (with the global buffer's and DRAM's bandwidth and energy, non-MAC layers as separate
    passes); see docs/cost_model.md, Scope. ``tolerance``: see :func:`map_layer`. ``memo``
    (any mutable mapping, may be shared across calls) caches per-shape costs; without one,
    identical shapes are still mapped once per call. ``progress`` shows a bar on a terminal
    once mapping takes more than two seconds. ``tech`` replaces the technology file that
    ``arch`` names (a :meth:`TechConfig.with_values` variant; memo keys hold its digest).

    In :attr:`SimResult.layers` the mapping columns (``spatial_*``, ``tile_*``) are
    integers (pandas ``Int64``, ``<NA>`` for layers without a mapping); ``cycles`` is a
    float because transfer terms are bytes / (bytes per cycle).
    """
    from ..progress import progress as bar

    check_objective(objective)
    check_scope(scope)
    if isinstance(workload, str):
        from ..workload.registry import load_workload
        workload = load_workload(workload)
    a = load_arch(arch)
    packed = Packed.of(a, scope, tech)
    memo = {} if memo is None else memo
    sources, sinks = dram_flags(workload)
    costs = []
    fresh = 0  # candidates searched by this call: only layers the memo did not hold count
    for layer in bar(workload.layers, desc="mapping layers", unit="layer", enabled=progress):
        cost, searched = _lookup_or_map(layer, a, objective, max_candidates, layer.name in sources,
                                        layer.name in sinks, memo, packed, scope, tolerance)
        if searched:
            fresh += cost.candidates
        costs.append(cost)
    if scope == "accelerator" and objective == "latency" and any(c.macs for c in costs):
        fresh += _remap_behind_backlogs(workload, costs, a, packed, objective, max_candidates, memo,
                                        sources, sinks, tolerance)[1]
    if scope == "accelerator":
        costs = fuse_into_hosts(workload.layers, costs, packed)
    cycles = float(sum(c.cycles for c in costs))
    breakdown = dict.fromkeys(COMPONENTS, 0.0)
    for c in costs:
        for comp, joules in c.energy.items():
            breakdown[comp] += joules
    macs = int(workload.macs)
    return SimResult(
        workload=workload.name, arch=a.name, objective=objective, exec_path=workload.exec_path,
        macs=macs, cycles=cycles, latency_s=cycles / (a.frequency_ghz * 1e9),
        energy_j=float(sum(breakdown.values())), area_mm2=packed.area_mm2,
        utilization=macs / (cycles * a.macs_per_cycle) if cycles > 0 else 0.0,
        energy_breakdown=breakdown, layer_costs=tuple(costs), candidates_evaluated=fresh, scope=scope,
        layer_tags=tuple(layer.tags for layer in workload.layers))
