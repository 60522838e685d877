"""Exhaustive OS-LWS mapping search (SPEC.md section 3, "Mapping search"), numba-jitted.

The space, in enumeration order (deterministic; ties keep the first candidate):

1. spatial split ``(pk, pp, pc, pg)`` over K, P rows, C and groups, each a divisor of
   ``num_pe`` (ascending), product <= num_pe, none larger than useful;
2. PE tiles ``K_t`` (multiples of K0), ``C_t`` (multiples of C0), ``P_t``, ``Q_t``, each
   ascending over the sizes that give distinct tile counts; tiles that overflow the
   weight, input or accumulation buffer are pruned before the inner loops (tiles are
   ascending, so the first overflow ends the loop);
3. GB-level loop order (6 permutations of K, C, PQ); orders that are equal once the
   single-iteration loops are removed are evaluated once.

``max_candidates`` (> 0) stops after that many evaluated candidates.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .equations import (A_ACC_BYTES, A_AB, A_BYTES, A_C0, A_IB, A_K0, A_NUM_PE, A_WB, N_OUT,
                        O_COMPUTE, O_CYCLES, O_ENERGY, OBJ_EDP, OBJ_ENERGY, ORDERS, P_C, P_DW,
                        P_G, P_K, P_P, P_Q, P_R, P_S, P_ST, TOL, candidate_cost, cdiv, is_better,
                        lower_bounds, objective_value, order_code, secondary_objective,
                        split_extent, tiles_fit)

#: fields of the mapping vector returned by :func:`search`
MAPPING_FIELDS = ("spatial_k", "spatial_p", "spatial_c", "spatial_g", "tile_k", "tile_c",
                  "tile_p", "tile_q", "loop_order")


@njit(cache=True)
def divisors(n):
    """Divisors of n, ascending."""
    out = np.empty(n, dtype=np.int64)
    m = 0
    for d in range(1, n + 1):
        if n % d == 0:
            out[m] = d
            m += 1
    return out[:m]


@njit(cache=True)
def tile_sizes(n, unit):
    """Ascending tile sizes of an extent ``n`` in multiples of ``unit`` (or ``n`` itself when
    smaller): the smallest size for every distinct tile count ceil(n / size)."""
    blocks = cdiv(n, unit)
    out = np.empty(blocks, dtype=np.int64)
    m = 0
    last = -1
    for mb in range(1, blocks + 1):
        t = cdiv(blocks, mb)
        if t != last:
            out[m] = min(mb * unit, n)
            m += 1
            last = t
    return out[:m]


@njit(cache=True)
def search(prob, arch, en, objective, max_candidates, best_out, prune=True, tolerance=0.0):
    """Best mapping of one problem; returns (mapping int64[9], candidates evaluated).

    ``best_out`` (float64[N_OUT]) receives the cost vector of the best candidate; the
    mapping is all -1 when no candidate fits the buffers.

    Objective rule (docs/cost_model.md, Objectives): the first pass finds the minimum V* of
    the primary objective; with ``tolerance`` > 0 a second pass returns, among the candidates
    whose primary value is within V* x (1 + tolerance), the one with the smallest secondary
    objective (energy for latency; latency for energy and edp). Remaining ties go to the
    smaller primary value, then the lexicographically smaller mapping vector.
    ``max_candidates`` (> 0) caps the candidates evaluated over both passes.
    """
    sec = secondary_objective(objective)
    best, count, best1 = _scan(prob, arch, en, objective, sec, np.inf, max_candidates, 0,
                               best_out, prune)
    if tolerance <= 0.0 or best[0] < 0 or (max_candidates > 0 and count >= max_candidates):
        return best, count
    out2 = best_out.copy()
    best2, count, _ = _scan(prob, arch, en, sec, objective, best1 * (1.0 + tolerance),
                            max_candidates, count, out2, prune)
    if best2[0] >= 0:
        best_out[:] = out2
        return best2, count
    return best, count


@njit(cache=True)
def _scan(prob, arch, en, objective, cobj, climit, max_candidates, count, best_out, prune):
    """One branch-and-bound pass: the candidate with the smallest (``objective``, ``cobj``)
    among those whose ``cobj`` value is at most ``climit``; returns (mapping, candidates
    evaluated so far, best ``objective`` value). Splits are visited largest factors first
    so that a good incumbent is found early.
    """
    num_pe = np.int64(arch[A_NUM_PE])
    k0 = np.int64(arch[A_K0])
    c0 = np.int64(arch[A_C0])
    b = arch[A_BYTES]
    accb = arch[A_ACC_BYTES]
    g_ = prob[P_G]
    k_ = prob[P_K]
    c_ = prob[P_C]
    p_ = prob[P_P]
    q_ = prob[P_Q]
    r = prob[P_R]
    s = prob[P_S]
    st = prob[P_ST]
    dw = prob[P_DW] != 0
    need_energy = (objective == OBJ_ENERGY or objective == OBJ_EDP
                   or ((cobj == OBJ_ENERGY or cobj == OBJ_EDP) and climit < np.inf))
    limit = climit * (1.0 + TOL)
    divs = divisors(num_pe)
    nd = divs.shape[0]
    cap_k = max(1, cdiv(k_, k0))
    cap_c = max(1, cdiv(c_, c0))
    out = np.empty(N_OUT, dtype=np.float64)
    best = np.full(9, -1, dtype=np.int64)
    cand = np.empty(9, dtype=np.int64)
    best1 = np.inf
    best2 = np.inf
    codes = np.empty(6, dtype=np.int64)
    qtiles = tile_sizes(q_, 1)
    q0 = qtiles[0]
    for ik in range(nd - 1, -1, -1):
        pk = divs[ik]
        if pk > cap_k and pk > 1:
            continue
        for ip in range(nd - 1, -1, -1):
            pp = divs[ip]
            if pk * pp > num_pe or (pp > p_ and pp > 1):
                continue
            for ic in range(nd - 1, -1, -1):
                pc = divs[ic]
                if pk * pp * pc > num_pe or (pc > cap_c and pc > 1):
                    continue
                for ig in range(nd - 1, -1, -1):
                    pg = divs[ig]
                    if pk * pp * pc * pg > num_pe or (pg > g_ and pg > 1):
                        continue
                    if prune and (best[0] >= 0 or limit < np.inf):
                        lc, le, lcomp = lower_bounds(prob, arch, en, pk, pp, pc, pg, 0, 0, need_energy)
                        if (objective_value(objective, lc, le, lcomp) > best1 * (1.0 + TOL)
                                or objective_value(cobj, lc, le, lcomp) > limit):
                            continue
                    kp = split_extent(k_, pk, k0)
                    cp = split_extent(c_, pc, c0)
                    ppe = split_extent(p_, pp, 1)
                    ktiles = tile_sizes(kp, k0)
                    ctiles = tile_sizes(cp, c0)
                    ptiles = tile_sizes(ppe, 1)
                    kt0 = ktiles[0]
                    ct0 = ctiles[0]
                    for pt in ptiles:
                        if not tiles_fit(prob, arch, kt0, ct0, pt, q0):
                            break
                        rows = (pt - 1) * st + r
                        npp = cdiv(ppe, pt)
                        for qt in qtiles:
                            if not tiles_fit(prob, arch, kt0, ct0, pt, qt):
                                break
                            if prune and (best[0] >= 0 or limit < np.inf):
                                lc, le, lcomp = lower_bounds(prob, arch, en, pk, pp, pc, pg, pt, qt,
                                                             need_energy)
                                if (objective_value(objective, lc, le, lcomp) > best1 * (1.0 + TOL)
                                        or objective_value(cobj, lc, le, lcomp) > limit):
                                    continue
                            window = rows * ((qt - 1) * st + s) * b
                            npq = npp * cdiv(q_, qt)
                            for kt in ktiles:
                                if kt * pt * qt * accb > arch[A_AB] or (dw and kt * window > arch[A_IB]):
                                    break
                                nk = cdiv(kp, kt)
                                for ct in ctiles:
                                    if kt * ct * r * s * b > arch[A_WB] or (not dw and ct * window > arch[A_IB]):
                                        break
                                    nc = cdiv(cp, ct)
                                    for o in range(6):
                                        code = order_code(ORDERS[o], nk, nc, npq)
                                        dup = False
                                        for j in range(o):
                                            if codes[j] == code:
                                                dup = True
                                                break
                                        codes[o] = code
                                        if dup:
                                            continue
                                        if max_candidates > 0 and count >= max_candidates:
                                            return best, count, best1
                                        count += 1
                                        candidate_cost(prob, arch, en, pk, pp, pc, pg,
                                                       kt, ct, pt, qt, ORDERS[o], out)
                                        a1 = objective_value(objective, out[O_CYCLES], out[O_ENERGY],
                                                             out[O_COMPUTE])
                                        a2 = objective_value(cobj, out[O_CYCLES], out[O_ENERGY],
                                                             out[O_COMPUTE])
                                        if a2 > limit:
                                            continue
                                        cand[0] = pk
                                        cand[1] = pp
                                        cand[2] = pc
                                        cand[3] = pg
                                        cand[4] = kt
                                        cand[5] = ct
                                        cand[6] = pt
                                        cand[7] = qt
                                        cand[8] = o
                                        if is_better(a1, a2, cand, best1, best2, best):
                                            best1 = a1
                                            best2 = a2
                                            best[:] = cand
                                            best_out[:] = out
    return best, count, best1
