"""The chosen mapping of one layer as a loop nest, like Timeloop's ``map.txt``.

:func:`loop_nest` turns a layer, an architecture and the layer's :class:`LayerCost` (from
:func:`~accelsim.cost.model.map_layer` or :func:`~accelsim.cost.model.evaluate_mapping`)
into a :class:`LoopNest`: the memory levels from DRAM to the vector MAC with what each
holds and its loops (trip counts, spatial fan-out), the bytes moved between levels per
operand, every cycle term with how it was computed and which one bounds the layer, and
the energy by component. :meth:`LoopNest.text` renders it; :meth:`LoopNest.to_dict` is
the JSON form. Nothing is recomputed here that the cost model computed: traffic and cycle
terms are read from the cost, and only the loop structure is derived from the mapping
(:mod:`accelsim.cost.mapspace`). docs/mapping.md works an example through by hand.

Units: bytes, elements, cycles; energies in joules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..arch.config import ArchConfig, load_arch
from ..workload.ir import Layer
from . import equations as eq
from .mapspace import Geometry, geometry
from .model import COMPONENTS, LayerCost, arch_vector, problem_vector

#: operands of the traffic table, in column order
OPERANDS = ("weights", "inputs", "outputs", "partial_sums")
#: cycle terms in the model's order (ties: first wins), then the non-overlapped fill/drain
TERMS = (*eq.BOUNDS, "fill_drain")


@dataclass(frozen=True)
class Loop:
    """One loop: ``for dim in [0:trips)``; ``spatial`` loops run on parallel hardware."""

    dim: str
    trips: int
    spatial: bool = False
    note: str = ""


@dataclass(frozen=True)
class Held:
    """A tile an operand keeps at a level: ``elements`` of ``bytes``, within ``capacity_bytes``
    (``None``: not a capacity the mapping must respect)."""

    operand: str
    elements: int
    bytes: float
    capacity_bytes: float | None = None


@dataclass(frozen=True)
class Level:
    """A storage level (or a spatial fan-out) with the loops that run at it, outermost first."""

    name: str
    held: tuple[Held, ...]
    loops: tuple[Loop, ...]
    note: str = ""


@dataclass(frozen=True)
class Traffic:
    """Bytes (or accesses, see ``unit``) moved along one path, per operand (``None``: n/a)."""

    path: str
    weights: float | None
    inputs: float | None
    outputs: float | None
    partial_sums: float | None
    unit: str = "B"


@dataclass(frozen=True)
class Term:
    """One cycle term of the busiest PE (SPEC.md 4) and how it was computed."""

    name: str
    cycles: float
    detail: str
    bound: bool = False


@dataclass(frozen=True)
class LoopNest:
    """A layer's mapping as a loop nest with its traffic, cycle terms and energy."""

    layer: str
    op: str
    arch: str
    problem: dict[str, Any]
    mapping: dict[str, Any]
    pes_used: int
    num_pe: int
    levels: tuple[Level, ...]
    traffic: tuple[Traffic, ...]
    terms: tuple[Term, ...]
    cycles: float
    bound: str
    macs: int
    utilization: float
    latency_s: float
    energy_j: dict[str, float]
    scope: str = "accelerator"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (tuples become lists)."""
        return asdict(self)

    def text(self) -> str:
        """The Timeloop-style printout (see :func:`render_text`)."""
        return render_text(self)


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _blocks_note(tile: int, unit: int, what: str) -> str:
    """``"K_t = 96 = 3 x K0"``-style note; the last block may be partial."""
    last = tile - (_cdiv(tile, unit) - 1) * unit
    return f"{what} of {unit}" + (f" (last {last})" if last != unit else "")


def _last(share: int, tile: int, dim: str = "") -> str:
    """`` (last 32)`` when the last of the tiles of ``share`` is partial, else nothing."""
    last = share - (_cdiv(share, tile) - 1) * tile
    return f" (last {dim}{' ' if dim else ''}{last})" if last != tile else ""


def _tiles_note(share: int, tile: int, name: str) -> str:
    return f"{name} = {tile} of {share}" + _last(share, tile)


def _levels(geo: Geometry, arch: ArchConfig, avec) -> tuple[Level, ...]:
    b = avec[eq.A_BYTES]
    accb = avec[eq.A_ACC_BYTES]
    g = geo
    outs = g.g * g.k * g.p * g.q
    cin = g.k if g.depthwise else g.c
    dram = Level("DRAM", (Held("weights", g.g * g.k * g.c * g.r * g.s, g.g * g.k * g.c * g.r * g.s * b),
                          Held("inputs", g.g * cin * g.h * g.w, g.g * cin * g.h * g.w * b),
                          Held("outputs", outs, outs * b)), (),
                 "whole tensors; DRAM traffic follows the global-buffer loops (bytes moved below)")
    order = g.loop_order.split(",")
    gb_loops = [Loop("G", g.g_pe, note=f"{g.g_pe} independent problems per PE")] if g.g_pe > 1 else []
    notes = {"K": _tiles_note(g.k_pe, g.tile_k, "K_t"), "C": _tiles_note(g.c_pe, g.tile_c, "C_t"),
             "PQ": f"{g.p_tiles} P tiles x {g.q_tiles} Q tiles of P_t x Q_t = {g.tile_p} x {g.tile_q}"
                   + _last(g.p_pe, g.tile_p, "P") + _last(g.q, g.tile_q, "Q")}
    gb_loops += [Loop(d, g.trips(d), note=notes[d]) for d in order if g.trips(d) > 1]
    gb = Level("GlobalBuffer", (), tuple(gb_loops),
               f"{_size(arch.global_buffer_kb * 1024)}; loop order {g.loop_order} (outermost first), "
               "walked by every PE over its own share")
    spatial = []
    if g.spatial_k > 1:
        spatial.append(Loop("K", g.spatial_k, True, f"K_pe = {g.k_pe} (K0 blocks); inputs multicast"))
    if g.spatial_p > 1:
        spatial.append(Loop("P", g.spatial_p, True, f"P_pe = {g.p_pe} rows; weights multicast"))
    if g.spatial_c > 1:
        spatial.append(Loop("C", g.spatial_c, True, f"C_pe = {g.c_pe} (C0 blocks); partial sums "
                                                      "reduced PE to PE over the mesh"))
    if g.spatial_g > 1:
        spatial.append(Loop("G", g.spatial_g, True, f"G_pe = {g.g_pe}"))
    fan = Level("inter_PE_spatial", (), tuple(spatial),
                f"{g.pes} of {arch.num_pe} PEs get work" + ("" if spatial else " (no split)"))
    rows = (g.tile_p - 1) * g.stride + g.r
    cols = (g.tile_q - 1) * g.stride + g.s
    cin_t = g.tile_k if g.depthwise else g.tile_c
    kib = 1024.0
    pe = Level("PE", (Held("weights", g.tile_k * g.tile_c * g.r * g.s, g.weight_tile_bytes,
                           arch.weight_buffer_kb * kib),
                      Held("inputs", cin_t * rows * cols, g.input_tile_bytes, arch.input_buffer_kb * kib),
                      Held("partial_sums", g.tile_k * g.tile_p * g.tile_q, g.sum_tile_bytes,
                           arch.accum_buffer_kb * kib)),
               tuple(lp for lp in (
                   Loop("K", _cdiv(g.tile_k, g.k0), note=_blocks_note(g.tile_k, g.k0, "K0 lane blocks")),
                   Loop("PQ", _cdiv(g.tile_p * g.tile_q, g.accum_depth),
                        note=_blocks_note(g.tile_p * g.tile_q, g.accum_depth, "blocks of AD positions")),
                   Loop("C", _cdiv(g.tile_c, g.c0), note=_blocks_note(g.tile_c, g.c0, "C0 chunks")),
                   Loop("R", g.r), Loop("S", g.s)) if lp.trips > 1),
               f"busiest PE's tile: input rows {rows} x cols {cols} with halo; "
               f"{accb:g}-byte sums")
    lanes = min(g.tile_k, g.k0)
    mults = 1 if g.depthwise else min(g.tile_c, g.c0)
    collector = Level("collectors", (Held("weights", lanes * mults, lanes * mults * b),
                                     Held("partial_sums", lanes * min(g.accum_depth, g.tile_p * g.tile_q),
                                          lanes * min(g.accum_depth, g.tile_p * g.tile_q) * accb)),
                      (Loop("PQ", min(g.accum_depth, g.tile_p * g.tile_q),
                            note="positions; one input vector per cycle, weights held"),
                       Loop("K", lanes, True, f"lanes ({lanes} of K0={g.k0})"),
                       Loop("C", mults, True, f"multipliers per lane ({mults} of C0={g.c0})")),
                      "weight collector K0 x C0, accumulation collector K0 x AD")
    return dram, gb, fan, pe, collector


def _traffic(cost: LayerCost, geo: Geometry, bytes_per: float) -> tuple[Traffic, ...]:
    c = cost.counts
    out_b = geo.g * geo.k * geo.p * geo.q * bytes_per
    psum = c["spill_bytes"]  # partial-sum spills through the GB; the cross-PE reduction is PE to PE
    dram_spill = c["dram_read_bytes"] - c["dram_weight_read_bytes"] - c["dram_input_read_bytes"]
    return (
        Traffic("DRAM -> global buffer", c["dram_weight_read_bytes"], c["dram_input_read_bytes"],
                None, dram_spill),
        Traffic("global buffer -> DRAM", None, None, c["dram_output_write_bytes"],
                c["dram_write_bytes"] - c["dram_output_write_bytes"]),
        Traffic("global buffer -> PEs", c["gb_weight_read_bytes"], c["gb_input_read_bytes"], None, psum),
        Traffic("PEs -> global buffer", None, None, out_b, psum),
        Traffic("NoC sent (multicast once)", c["gb_weight_read_bytes"], c["gb_input_read_bytes"],
                out_b, 2 * psum),
        Traffic("PE -> neighbour PE (C-split reduction, 1 hop)", None, None, None, c["psum_bytes"]),
        Traffic("PE buffer fills (all PEs)", c["weight_buffer_fill_bytes"],
                c["input_buffer_fill_bytes"], None, None),
        Traffic("PE buffer reads", c["weight_buffer_reads"], c["input_buffer_reads"], None,
                c["accum_buffer_accesses"], "accesses"),
        Traffic("accumulator read-modify-writes", None, None, None, c["accum_rmw"], "accesses"),
    )


def _terms(cost: LayerCost, geo: Geometry, arch: ArchConfig, avec, scope: str) -> tuple[Term, ...]:
    t, c = cost.terms, cost.counts
    port = geo.c0 * avec[eq.A_BYTES]
    adb = int(eq.ad_blocks(geo.p_pe, geo.q, geo.tile_p, geo.tile_q, geo.accum_depth))
    gb_bw, noc_bw = arch.global_buffer_bandwidth, arch.noc_bandwidth
    detail = {
        "compute": (f"G_pe x ceil(K_pe/K0) x ceil(C_pe/C0) x R x S x AD blocks x AD = {geo.g_pe} x "
                    f"{_cdiv(geo.k_pe, geo.k0)} x {_cdiv(geo.c_pe, geo.c0)} x {geo.r} x {geo.s} x "
                    f"{adb} x {geo.accum_depth}"),
        "input_buffer": f"{t['input_buffer'] * port:,.0f} B into the busiest PE / {port:g} B/cycle",
        "weight_buffer": f"{t['weight_buffer'] * port:,.0f} B into the busiest PE / {port:g} B/cycle",
        "global_buffer": (f"max(({c['gb_read_bytes']:,.0f} + {c['gb_write_bytes']:,.0f}) B / {gb_bw:g} "
                          f"B/cycle, NoC {c['noc_bytes']:,.0f} B / {noc_bw:g} B/cycle)"),
        "dram": (f"({c['dram_read_bytes']:,.0f} + {c['dram_write_bytes']:,.0f}) B / "
                 f"{arch.dram_bytes_per_cycle:g} B/cycle"),
        "ppu": (f"{t['ppu'] * arch.ppu_elems_per_cycle:,.0f} elements drained by the busiest PE / "
                f"{arch.ppu_elems_per_cycle:g} per cycle"),
        "fill_drain": "first tile load + last tile drain, not overlapped: added to the largest term",
    }
    if scope == "accelerator":  # docs/cost_model.md, Scope: the supply into the PE ports is ideal
        for name in ("global_buffer", "dram"):
            detail[name] = "ideal supply in the accelerator scope (traffic above is not a bound)"
    return tuple(Term(name, t[name], detail[name], name == cost.bound) for name in TERMS)


def loop_nest(layer: Layer, arch: "ArchConfig | str", cost: LayerCost,
              scope: str = "accelerator") -> LoopNest:
    """The loop nest of ``layer`` on ``arch`` under ``cost.mapping`` (a MAC layer's cost,
    computed in ``scope``)."""
    a = load_arch(arch)
    avec = arch_vector(a)
    geo = geometry(problem_vector(layer), avec, cost.mapping)
    problem = {"G": geo.g, "K": geo.k, "C": geo.c, "P": geo.p, "Q": geo.q, "R": geo.r, "S": geo.s,
               "stride": geo.stride, "H": geo.h, "W": geo.w, "depthwise": geo.depthwise}
    return LoopNest(layer.name, layer.op.value, a.name, problem, dict(cost.mapping), geo.pes,
                    a.num_pe, _levels(geo, a, avec), _traffic(cost, geo, avec[eq.A_BYTES]),
                    _terms(cost, geo, a, avec, scope), cost.cycles, cost.bound, cost.macs,
                    cost.utilization, cost.latency_s, dict(cost.energy), scope)


# ------------------------------------------------------------------ text
def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def _size(nbytes: float) -> str:
    """Bytes as ``288 B``, ``13.13 KiB`` or ``4 MiB`` (1 KiB = 1024 B)."""
    for unit, scale in (("MiB", 1024.0 ** 2), ("KiB", 1024.0)):
        if nbytes >= scale:
            return f"{nbytes / scale:.4g} {unit}"
    return f"{nbytes:g} B"


def _held_text(h: Held) -> str:
    cap = f" of {_size(h.capacity_bytes)}" if h.capacity_bytes is not None else ""
    return f"{h.operand}:{h.elements} ({_size(h.bytes)}{cap})"


def render_text(nest: LoopNest) -> str:
    """Header, the loop nest level by level (Timeloop ``map.txt`` style: one-trip loops are
    left out), the bytes moved per path and operand, the cycle terms and the energy."""
    p = nest.problem
    lines = [f"{nest.layer} ({nest.op}) on arch {nest.arch}, {nest.scope} scope",
             f"problem: G={p['G']} K={p['K']} C={p['C']} P={p['P']} Q={p['Q']} R={p['R']} S={p['S']} "
             f"stride={p['stride']} input {p['H']}x{p['W']}" + (" depthwise" if p["depthwise"] else "")
             + f"; {nest.macs:,} MACs",
             "mapping: " + " ".join(f"{k}={v}" for k, v in nest.mapping.items()), ""]
    depth = 0
    for level in nest.levels:
        head = f"{level.name} [ {' '.join(_held_text(h) for h in level.held)} ]" if level.held \
            else f"{level.name} [ ]"
        lines += [head, "-" * len(head)]
        if level.note:
            lines.append(f"  ({level.note})")
        for loop in level.loops:
            text = "| " + "  " * depth + f"for {loop.dim} in [0:{loop.trips})" + (
                " (Spatial)" if loop.spatial else "")
            lines.append(f"{text:<44s} {loop.note}".rstrip())
            depth += 1
        lines.append("")
    lines[-1] = "| " + "  " * depth + "<< Compute >>"
    labels = [row.path + (f" ({row.unit})" if row.unit != "B" else "") for row in nest.traffic]
    width = max(len(lb) for lb in labels) + 2
    lines += ["", f"{'bytes moved':<{width + 2}s}" + "".join(f"{o:>15s}" for o in OPERANDS)]
    for label, row in zip(labels, nest.traffic):
        lines.append(f"  {label:<{width}s}" + "".join(f"{_num(getattr(row, o)):>15s}" for o in OPERANDS))
    lines += ["", "cycle terms (busiest PE)"]
    for term in nest.terms:
        mark = "  <- bound" if term.bound else ""
        lines.append(f"  {term.name:<14s} {_num(term.cycles):>16s}  {term.detail}{mark}")
    largest = max(t.cycles for t in nest.terms if t.name != "fill_drain")
    fill = next(t.cycles for t in nest.terms if t.name == "fill_drain")
    lines.append(f"  cycles = {nest.bound} {_num(largest)} + fill_drain {_num(fill)} = "
                 f"{_num(nest.cycles)} ({nest.latency_s * 1e6:.4g} us); utilization "
                 f"{nest.utilization:.1%} on {nest.pes_used} of {nest.num_pe} PEs")
    total = sum(nest.energy_j.values())
    lines += ["", f"energy {total * 1e6:.6g} uJ ({total / nest.macs * 1e12:.4g} pJ/MAC)"
              if nest.macs else f"energy {total * 1e6:.6g} uJ"]
    for comp in COMPONENTS:
        joules = nest.energy_j[comp]
        lines.append(f"  {comp:<14s} {joules * 1e6:>12.6g} uJ  {joules / total if total else 0:6.1%}")
    return "\n".join(lines)


# ------------------------------------------------------------------ vs the searched optimum
def ratios(cost: LayerCost, best: LayerCost) -> dict[str, float]:
    """How far ``cost`` (a given mapping) is from ``best`` (the searched optimum): ratios of
    cycles, energy and energy-delay product (1.0 = as good; > 1 = worse)."""
    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    return {"cycles": ratio(cost.cycles, best.cycles), "energy": ratio(cost.energy_j, best.energy_j),
            "edp": ratio(cost.cycles * cost.energy_j, best.cycles * best.energy_j)}


def comparison_text(cost: LayerCost, best: LayerCost, objective: str) -> str:
    """Lines comparing a given mapping with the searched optimum under ``objective``."""
    r = ratios(cost, best)
    return "\n".join([
        f"vs the searched optimum (objective {objective}, {best.candidates:,} candidates evaluated):",
        "  searched mapping: " + " ".join(f"{k}={v}" for k, v in best.mapping.items()),
        f"  cycles  {_num(cost.cycles):>16s} vs {_num(best.cycles):>16s}   x{r['cycles']:.4f}",
        f"  energy  {cost.energy_j * 1e6:>13.6g} uJ vs {best.energy_j * 1e6:>13.6g} uJ   "
        f"x{r['energy']:.4f}",
        f"  energy-delay product{'':>36s}x{r['edp']:.4f}"])
