"""Plain-Python reference of the mapping search (no numba), for tests.

It enumerates the whole mapping space of :mod:`accelsim.cost.mapper` by brute force,
without the mapper's reductions: every spatial split (any numbers of PEs, product at most
``num_pe``), every tile size (any multiple of K0 / C0 up to the PE's share, the share
itself, any P_t and Q_t), every loop order (orders equal once single-iteration loops are
dropped evaluated once). It evaluates each candidate by brute force instead of closed
forms: it lists every PE's share of the layer, walks each PE's tile loop nest in the
chosen order, counts fetches by tracking which weight, input and output tile is resident,
and sums accesses per PE and tile. Only small layers are practical. Units as in :mod:`accelsim.cost.equations`
(bytes, cycles, pJ); the packed vectors are read through their index names.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from . import equations as eq

TOL = 1e-12
ORDERS = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]


def _ceil(a: int, b: int) -> int:
    return (a + b - 1) // b


def chunks(n: int, parts: int, unit: int) -> list[int]:
    """Per-PE extents of n split over parts PEs in whole unit blocks (empty PEs dropped)."""
    ext = min(n, _ceil(_ceil(n, unit), parts) * unit)
    out, start = [], 0
    while start < n:
        out.append(min(ext, n - start))
        start += ext
    return out


def pieces(n: int, t: int) -> list[int]:
    """Tile extents of n in tiles of t (last one partial)."""
    return [min(t, n - i) for i in range(0, n, t)]


def tile_options(n: int, unit: int) -> list[int]:
    """Every tile size of an extent n: the multiples of unit below n, and n, ascending."""
    return sorted({min(m * unit, n) for m in range(1, _ceil(n, unit) + 1)})


@dataclass
class RefCost:
    cycles: float
    energy: float
    compute: float
    mapping: tuple


def walk(order, nk, nc, npq, dw):
    """Fetch counts of a loop nest: per weight/input/output tile, how often it is loaded."""
    wf, inf, of = {}, {}, {}
    res_w = res_i = res_o = None
    trips = (nk, nc, npq)
    for idx in itertools.product(*(range(trips[d]) for d in order)):
        pos = dict(zip(order, idx))
        k, c, pq = pos[0], pos[1], pos[2]
        w, i, o = (k, c), ((k, pq) if dw else (c, pq)), (k, pq)
        if w != res_w:
            wf[w] = wf.get(w, 0) + 1
            res_w = w
        if i != res_i:
            inf[i] = inf.get(i, 0) + 1
            res_i = i
        if o != res_o:
            of[o] = of.get(o, 0) + 1
            res_o = o
    return wf, inf, of


def evaluate(prob, arch, en, split, tiles, order) -> tuple[float, float, float]:
    """(cycles, energy pJ, compute cycles) of one candidate by per-PE, per-tile enumeration."""
    G, K, C, P, Q, R, S, st, H, W, dw, dyn, in_dram, out_dram = (int(v) for v in prob)
    k0, c0, ad = int(arch[eq.A_K0]), int(arch[eq.A_C0]), int(arch[eq.A_AD])
    b, accb = arch[eq.A_BYTES], arch[eq.A_ACC_BYTES]
    pk, pp, pc, pg = split
    kt, ct, pt, qt = tiles
    kch, cch, pch, gch = chunks(K, pk, k0), chunks(C, pc, c0), chunks(P, pp, 1), chunks(G, pg, 1)
    ncne = len(cch)
    qpieces = pieces(Q, qt)
    pe = {}
    for (ik, ki), (ic, ci), (ip, pi), (ig, gi) in itertools.product(
            enumerate(kch), enumerate(cch), enumerate(pch), enumerate(gch)):
        ks, cs, ps = pieces(ki, kt), pieces(ci, ct), pieces(pi, pt)
        pqs = [(a, q) for a in ps for q in qpieces]
        wf, inf, of = walk(order, len(ks), len(cs), len(pqs), dw)
        d = dict(compute=0, rmw=0, ibr=0, wbr=0, ab=0, spill=0)
        for (a, kk), (c_, cc), (x, (pa, qa)) in itertools.product(enumerate(ks), enumerate(cs), enumerate(pqs)):
            d["compute"] += _ceil(kk, k0) * _ceil(cc, c0) * R * S * _ceil(pa * qa, ad) * ad
            d["rmw"] += kk * pa * qa * R * S * _ceil(cc, c0)
            d["ibr"] += pa * qa * _ceil(kk, k0) * _ceil(cc, c0) * R * S
            d["wbr"] += kk * _ceil(cc, c0) * R * S * _ceil(pa * qa, ad)
        for (a, kk), (x, (pa, qa)) in itertools.product(enumerate(ks), enumerate(pqs)):
            d["ab"] += kk * pa * qa * (len(cs) - 1)
            d["spill"] += kk * pa * qa * (of[(a, x)] - 1)
        d["w"] = sum(n * ks[k] * cs[c] * R * S for (k, c), n in wf.items())
        d["i"] = sum(n * (ks[u] if dw else cs[u]) * ((pqs[x][0] - 1) * st + R) * ((pqs[x][1] - 1) * st + S)
                     for (u, x), n in inf.items())
        d = {k_: v * gi for k_, v in d.items()}
        d["outs"] = gi * ki * pi * Q
        pe[(ik, ic, ip, ig)] = d

    def tot(key):
        return sum(d[key] for d in pe.values())

    ib_fill, wb_fill = tot("i") * b, tot("w") * b
    # multicast groups: inputs shared by the K-split PEs (not depthwise), weights by the P-split PEs
    in_groups, w_groups = {}, {}
    for (ik, ic, ip, ig), d in pe.items():
        gk = (ik, ic, ip, ig) if dw else (ic, ip, ig)
        in_groups[gk] = max(in_groups.get(gk, 0), d["i"])
        w_groups[(ik, ic, ig)] = max(w_groups.get((ik, ic, ig), 0), d["w"])
    gb_in, gb_w = sum(in_groups.values()) * b, sum(w_groups.values()) * b
    outs = G * K * P * Q
    spill = tot("spill") * accb
    psum = outs * (ncne - 1) * accb  # reduced PE to PE, one mesh hop each
    out_b = outs * b
    half = arch[eq.A_GB] / 2
    w_total = G * K * C * R * S * b
    in_total = G * (K if dw else C) * H * W * b
    dram_w = (0.0 if dyn else w_total) if w_total <= half else gb_w
    dram_in = (in_total if in_dram else 0.0) if in_total <= half else gb_in
    dram_out = out_b if (out_dram or out_b > half) else 0.0
    dram_spill = spill if outs * ncne * accb > half else 0.0
    off = arch[eq.A_OFFCHIP]  # 0: accelerator scope, no DRAM
    dram_rd, dram_wr = (dram_w + dram_in + dram_spill) * off, (dram_out + dram_spill) * off
    gb_rd = gb_w + gb_in + spill + dram_wr
    gb_wr = out_b + spill + dram_rd
    noc = gb_w + gb_in + out_b + 2 * spill
    port = c0 * b
    compute = max(d["compute"] for d in pe.values())
    terms = [compute, max(d["i"] for d in pe.values()) * b / port,
             max(d["w"] for d in pe.values()) * b / port,
             max((gb_rd + gb_wr) / arch[eq.A_GB_BW], noc / arch[eq.A_NOC_BW]),
             (dram_rd + dram_wr) / arch[eq.A_DRAM_BW],
             max(d["outs"] * (1 + (ncne - 1) / ncne) for d in pe.values()) / arch[eq.A_PPU]]
    cin = kt if dw else ct
    first = max(kt * ct * R * S * b, cin * ((pt - 1) * st + R) * ((qt - 1) * st + S) * b)
    cycles = max(terms) + first / port + kt * pt * qt / arch[eq.A_PPU]
    wf_ = en[eq.E_WRITE_FACTOR]
    lane_cycles = tot("compute") * k0  # every lane of a busy PE, every cycle
    energy = (lane_cycles * c0 * en[eq.E_MAC]
              + lane_cycles * en[eq.E_RMW] + tot("ab") * accb * 8 * en[eq.E_AB_BIT] * (1 + wf_)
              + tot("ibr") * en[eq.E_IB_READ] + ib_fill * en[eq.E_IB_READ] / port * wf_
              + tot("wbr") * en[eq.E_WB_READ] + wb_fill * en[eq.E_WB_READ] / port * wf_
              + (gb_rd + gb_wr * wf_) * 8 * en[eq.E_GB_BIT]
              + (noc * arch[eq.A_HOPS] + (wb_fill - gb_w) + (ib_fill - gb_in) + psum) * 8 * en[eq.E_NOC_BIT_HOP]
              + (dram_rd + dram_wr) * 8 * en[eq.E_DRAM_BIT]
              + tot("compute") * (k0 * c0 * en[eq.E_CTRL_SLOT] + en[eq.E_CTRL_PE]) + outs * ncne * en[eq.E_PPU_OP]
              + cycles * en[eq.E_LEAK_CYCLE])
    return cycles, energy, compute


def _value(cycles, energy, compute, objective):
    return {0: cycles, 1: energy, 2: cycles * energy, 3: compute}[objective]


def _secondary(objective: int) -> int:
    return 1 if objective == 0 else 0


def _better(a, amap, b, bmap) -> bool:
    for x, y in zip(a, b):
        if x < y * (1 - TOL):
            return True
        if x > y * (1 + TOL):
            return False
    return amap < bmap


def _argbest(cands, first: int, second: int, limit: float = float("inf")):
    """The candidate with the smallest (first, second, mapping) among those whose
    ``second`` objective is at most ``limit``."""
    best, best_key = None, None
    for mapping, cost in cands:
        key = (_value(cost.cycles, cost.energy, cost.compute, first),
               _value(cost.cycles, cost.energy, cost.compute, second))
        if key[1] > limit * (1 + TOL):
            continue
        if best is None or _better(key, mapping, best_key, best[0]):
            best, best_key = (mapping, cost), key
    return best


def reference_search(prob, arch, en, objective: int, tolerance: float = 0.0):
    """(best mapping tuple, best RefCost, candidates) by plain enumeration, with the
    tolerance rule of :func:`accelsim.cost.mapper.search` applied to the full list."""
    G, K, C, P, Q, R, S, st = (int(v) for v in prob[:8])
    dw = bool(prob[eq.P_DW])
    npe = int(arch[eq.A_NUM_PE])
    k0, c0 = int(arch[eq.A_K0]), int(arch[eq.A_C0])
    b, accb = arch[eq.A_BYTES], arch[eq.A_ACC_BYTES]
    cands = []
    for pk, pp, pc, pg in itertools.product(range(1, min(npe, _ceil(K, k0)) + 1), range(1, min(npe, P) + 1),
                                            range(1, min(npe, _ceil(C, c0)) + 1), range(1, min(npe, G) + 1)):
        if pk * pp * pc * pg > npe:
            continue
        kp, cp, ppe = max(chunks(K, pk, k0)), max(chunks(C, pc, c0)), max(chunks(P, pp, 1))
        for kt, ct, pt, qt in itertools.product(tile_options(kp, k0), tile_options(cp, c0),
                                                range(1, ppe + 1), range(1, Q + 1)):
            cin = kt if dw else ct
            if (kt * ct * R * S * b > arch[eq.A_WB]
                    or cin * ((pt - 1) * st + R) * ((qt - 1) * st + S) * b > arch[eq.A_IB]
                    or kt * pt * qt * accb > arch[eq.A_AB]):
                continue
            trips = (_ceil(kp, kt), _ceil(cp, ct), _ceil(ppe, pt) * _ceil(Q, qt))
            seen = set()
            for o, order in enumerate(ORDERS):
                reduced = tuple(d for d in order if trips[d] > 1)
                if reduced in seen:
                    continue
                seen.add(reduced)
                cyc, en_, comp = evaluate(prob, arch, en, (pk, pp, pc, pg), (kt, ct, pt, qt), order)
                mapping = (pk, pp, pc, pg, kt, ct, pt, qt, o)
                cands.append((mapping, RefCost(cyc, en_, comp, mapping)))
    sec = _secondary(objective)
    best = _argbest(cands, objective, sec)
    if best is None:
        return None, None, len(cands)
    if tolerance > 0:
        limit = _value(best[1].cycles, best[1].energy, best[1].compute, objective) * (1 + tolerance)
        best = _argbest(cands, sec, objective, limit)
    return best[0], best[1], len(cands)
