"""The OS-LWS mapping space of one layer (SPEC.md section 3): what a mapping means and
whether a given one is valid.

:func:`geometry` spells out a mapping of a canonical problem (the packed vectors of
:mod:`accelsim.cost.equations`): the busiest PE's share of K, C, P and G, how many PEs
get work, the tile trip counts and the bytes of one PE tile. :func:`check_mapping` checks
a user-given mapping against the space the mapper searches, one field at a time, and
raises a one-line :class:`MappingError` naming the field and the limit.
:func:`read_mapping_file` reads such a mapping from YAML (see docs/mapping.md).

Units: bytes, elements; KiB = 1024 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..arch.config import _read_yaml
from ..errors import AccelsimError
from ..safeio import short
from . import equations as eq
from .mapper import MAPPING_FIELDS

#: integer fields of a mapping, in file order
INT_FIELDS = MAPPING_FIELDS[:8]
#: optional keys of a mapping file besides the mapping fields
FILE_KEYS = ("layer",)


class MappingError(AccelsimError):
    """A user-given mapping that lies outside the mapping space."""


@dataclass(frozen=True)
class Geometry:
    """One mapping of a canonical problem, spelled out (elements unless named bytes).

    Problem: ``g`` independent ``k x c x p x q x r x s`` problems (``stride``, input
    ``h x w``; depthwise: channels on ``k``, ``c = 1``). Spatial split ``spatial_*`` over
    K (in K0 blocks), P rows, C (in C0 blocks) and G; ``k_pe, c_pe, p_pe, g_pe`` are the
    busiest PE's shares and ``pes`` the PEs that get work. Tiles ``tile_*`` of the busiest
    PE, walked ``k_tiles x c_tiles x (p_tiles * q_tiles)`` times in ``loop_order``.
    """

    g: int
    k: int
    c: int
    p: int
    q: int
    r: int
    s: int
    stride: int
    h: int
    w: int
    depthwise: bool
    k0: int
    c0: int
    accum_depth: int
    spatial_k: int
    spatial_p: int
    spatial_c: int
    spatial_g: int
    k_pe: int
    c_pe: int
    p_pe: int
    g_pe: int
    pes: int
    tile_k: int
    tile_c: int
    tile_p: int
    tile_q: int
    k_tiles: int
    c_tiles: int
    p_tiles: int
    q_tiles: int
    loop_order: str
    weight_tile_bytes: float
    input_tile_bytes: float
    sum_tile_bytes: float

    @property
    def pq_tiles(self) -> int:
        return self.p_tiles * self.q_tiles

    def trips(self, dim: str) -> int:
        """GB-level trip count of the loop over ``dim`` (``K``, ``C`` or ``PQ``)."""
        return {"K": self.k_tiles, "C": self.c_tiles, "PQ": self.pq_tiles}[dim]


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def geometry(prob, arch_vec, mapping: Mapping[str, Any]) -> Geometry:
    """The :class:`Geometry` of ``mapping`` (a checked mapping: ints and a loop-order name)
    on the packed problem ``prob`` and architecture ``arch_vec``."""
    g, k, c, p, q, r, s, st, h, w = (int(prob[i]) for i in (
        eq.P_G, eq.P_K, eq.P_C, eq.P_P, eq.P_Q, eq.P_R, eq.P_S, eq.P_ST, eq.P_H, eq.P_W))
    k0, c0, ad = (int(arch_vec[i]) for i in (eq.A_K0, eq.A_C0, eq.A_AD))
    sk, sp, sc, sg, kt, ct, pt, qt = (int(mapping[f]) for f in INT_FIELDS)
    kp = int(eq.split_extent(k, sk, k0))
    cp = int(eq.split_extent(c, sc, c0))
    ppe = int(eq.split_extent(p, sp, 1))
    gp = int(eq.split_extent(g, sg, 1))
    pes = _cdiv(k, kp) * _cdiv(c, cp) * _cdiv(p, ppe) * _cdiv(g, gp)
    wb, ib, ab = eq.tile_bytes(prob, arch_vec, kt, ct, pt, qt)
    return Geometry(g, k, c, p, q, r, s, st, h, w, bool(prob[eq.P_DW]), k0, c0, ad, sk, sp, sc,
                    sg, kp, cp, ppe, gp, pes, kt, ct, pt, qt, _cdiv(kp, kt), _cdiv(cp, ct),
                    _cdiv(ppe, pt), _cdiv(q, qt), str(mapping["loop_order"]), float(wb),
                    float(ib), float(ab))


def _kib(nbytes: float) -> str:
    return f"{nbytes / 1024:g} KiB"


#: largest value of a mapping field: the largest layer dimension accepted (2^20)
MAX_FIELD = 1 << 20


def _fields(raw: Any, source: str) -> dict[str, Any]:
    """The mapping fields of ``raw``: present, integers >= 1, a known loop order."""
    if not isinstance(raw, Mapping):
        raise MappingError(f"{source}: expected a mapping of {', '.join(MAPPING_FIELDS)}")
    unknown = sorted(str(key) for key in raw if key not in MAPPING_FIELDS and key not in FILE_KEYS)
    if unknown:
        raise MappingError(f"{source}: unknown field(s) {', '.join(unknown)}; allowed: "
                           f"{', '.join(MAPPING_FIELDS + FILE_KEYS)}")
    missing = [f for f in MAPPING_FIELDS if f not in raw]
    if missing:
        raise MappingError(f"{source}: field '{missing[0]}' is missing (a mapping needs "
                           f"{', '.join(MAPPING_FIELDS)})")
    out: dict[str, Any] = {}
    for f in INT_FIELDS:
        v = raw[f]
        if isinstance(v, bool) or not isinstance(v, int):
            raise MappingError(f"{source}: field '{f}' must be an integer >= 1, got {v!r}")
        if v < 1:
            raise MappingError(f"{source}: field '{f}' must be an integer >= 1, got {v}")
        if v > MAX_FIELD:  # larger than any layer extent (docs/cost_model.md, Input limits)
            raise MappingError(f"{source}: field '{f}' must be at most {MAX_FIELD:,} (2^20, the largest "
                               f"layer extent), got {short(v)}")
        out[f] = int(v)
    order = str(raw["loop_order"]).replace(" ", "").upper()
    if order not in eq.ORDER_NAMES:
        raise MappingError(f"{source}: field 'loop_order' is {raw['loop_order']!r}; allowed "
                           f"(outermost first): {' | '.join(eq.ORDER_NAMES)}")
    out["loop_order"] = order
    return out


def check_mapping(prob, arch_vec, arch_name: str, raw: Any, source: str = "mapping") -> dict[str, Any]:
    """``raw`` as a checked mapping (ints, canonical loop-order name), or a one-line
    :class:`MappingError` starting with ``source`` that names the field and its limit.

    The limits are those of the mapper's space (SPEC.md 3): splits within ``num_pe`` and
    the layer (K and C in whole K0/C0 blocks); tiles within the busiest PE's share, K and
    C tiles in whole K0/C0 blocks or the whole share; the weight tile, the input tile with
    its halo and the partial sums within the per-PE buffers.
    """
    m = _fields(raw, source)
    arch = f"arch {arch_name}"
    geo = geometry(prob, arch_vec, m)
    kblk, cblk = _cdiv(geo.k, geo.k0), _cdiv(geo.c, geo.c0)
    limits = {"spatial_k": (kblk, f"the layer's K0 blocks, ceil(K={geo.k} / K0={geo.k0}) = {kblk}"),
              "spatial_p": (geo.p, f"the layer's output rows, P={geo.p}"),
              "spatial_c": (cblk, f"the layer's C0 blocks, ceil(C={geo.c} / C0={geo.c0}) = {cblk}"),
              "spatial_g": (geo.g, f"the layer's independent groups, G={geo.g}")}
    for f, (lim, what) in limits.items():
        if m[f] > lim:
            raise MappingError(f"{source}: field '{f}'={m[f]} exceeds {what}")
    used = m["spatial_k"] * m["spatial_p"] * m["spatial_c"] * m["spatial_g"]
    num_pe = int(arch_vec[eq.A_NUM_PE])
    if used > num_pe:
        raise MappingError(f"{source}: fields spatial_k x spatial_p x spatial_c x spatial_g = "
                           f"{m['spatial_k']}x{m['spatial_p']}x{m['spatial_c']}x{m['spatial_g']} = "
                           f"{used} PEs exceed num_pe={num_pe} of {arch}")
    for f, share, unit, dim, split in (("tile_k", geo.k_pe, geo.k0, "K", "spatial_k"),
                                       ("tile_c", geo.c_pe, geo.c0, "C", "spatial_c"),
                                       ("tile_p", geo.p_pe, 1, "P", "spatial_p"),
                                       ("tile_q", geo.q, 1, "Q", "")):
        whose = f"the PE's {dim} share {share} ({dim}={getattr(geo, dim.lower())}" + (
            f" over {split}={m[split]})" if split else ", not split)")
        if m[f] > share:
            raise MappingError(f"{source}: field '{f}'={m[f]} exceeds {whose}")
        if unit > 1 and m[f] % unit and m[f] != share:
            raise MappingError(f"{source}: field '{f}'={m[f]} must be a multiple of {dim}0={unit} "
                               f"or equal {whose}")
    b = arch_vec[eq.A_BYTES]
    cin = "tile_k" if geo.depthwise else "tile_c"
    checks = (
        ("tile_k, tile_c", geo.weight_tile_bytes, eq.A_WB, "weight_buffer_kb",
         f"weight tile tile_k x tile_c x R x S = {geo.tile_k}x{geo.tile_c}x{geo.r}x{geo.s} x {b:g} B"),
        (f"{cin}, tile_p, tile_q", geo.input_tile_bytes, eq.A_IB, "input_buffer_kb",
         f"input tile with halo {cin} x ((tile_p-1)*stride+R) x ((tile_q-1)*stride+S) = "
         f"{m[cin]}x{(geo.tile_p - 1) * geo.stride + geo.r}x{(geo.tile_q - 1) * geo.stride + geo.s}"
         f" x {b:g} B"),
        ("tile_k, tile_p, tile_q", geo.sum_tile_bytes, eq.A_AB, "accum_buffer_kb",
         f"partial sums tile_k x tile_p x tile_q = {geo.tile_k}x{geo.tile_p}x{geo.tile_q} x "
         f"{arch_vec[eq.A_ACC_BYTES]:g} B"))
    for fields, need, cap_index, cap_name, what in checks:
        cap = arch_vec[cap_index]
        if need > cap:
            raise MappingError(f"{source}: fields {fields}: {what} = {_kib(need)} exceed "
                               f"{cap_name}={cap / 1024:g} of {arch}")
    return m


def read_mapping_file(path: "str | Path") -> dict[str, Any]:
    """The mapping in a YAML file (unchecked: pass it to :func:`check_mapping`), e.g.::

        layer: decode_head.linear_fuse   # optional: the layer it was written for
        spatial_k: 2
        spatial_p: 8
        spatial_c: 1
        spatial_g: 1
        tile_k: 384
        tile_c: 96
        tile_p: 2
        tile_q: 128
        loop_order: K,C,PQ               # GB/DRAM loops, outermost first
    """
    from ..safeio import exists

    if not exists(path):
        raise MappingError(f"{path}: mapping file not found")
    return _read_yaml(Path(path), MappingError, "mapping file",
                      f"a mapping of {', '.join(MAPPING_FIELDS)}")


def mapping_yaml(mapping: Mapping[str, Any], layer: str = "") -> str:
    """``mapping`` as the YAML :func:`read_mapping_file` reads (a file to edit and re-cost)."""
    data = ({"layer": layer} if layer else {}) | {f: mapping[f] for f in MAPPING_FIELDS}
    return yaml.safe_dump(data, sort_keys=False)
