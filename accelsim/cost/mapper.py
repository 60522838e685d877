"""Exhaustive OS-LWS mapping search (SPEC.md section 3, "Mapping search"), branch and bound.

The space (docs/cost_model.md, Mapping space):

1. spatial split ``(pk, pp, pc, pg)`` over K (in K0 blocks), P rows, C (in C0 blocks) and
   groups: any numbers of PEs whose product is at most ``num_pe`` (imperfect splits
   included). Splits that give every PE the same share are the same mapping, so each
   distinct share is searched once, under the fewest PEs that give it;
2. PE tiles ``K_t`` (multiples of K0), ``C_t`` (multiples of C0), ``P_t``, ``Q_t`` of any
   size that fits the weight, input and accumulation buffers. A tile size is left out only
   when a smaller size of the same dimension is at least as good for every objective: the
   same number of tiles on every PE and, for P_t x Q_t, no more AD blocks on any PE (every
   other term of the cost grows with the tile size, :func:`tile_options`, :func:`tile_pairs`);
3. GB-level loop order (6 permutations of K, C, PQ); orders that are equal once the
   single-iteration loops are removed are evaluated once.

Branch and bound, best first: every split gets a lower bound of its objective
(:func:`~accelsim.cost.equations.lower_bounds`), splits are visited in increasing bound
and the scan stops at the first bound above the incumbent. Inside a split the (P_t, Q_t)
tiles are visited in increasing AD blocks (the split's bound with a tile's own AD blocks
only grows along that order, so the first tile above the incumbent ends the split); a
visited tile, each of its K tiles and each K x C tile pair are bounded in full, re-fetches
included (:func:`~accelsim.cost.equations.refetch_bounds`), before their loop orders are
evaluated. The optimum does not depend on the visiting order (ties go to the
lexicographically smaller mapping), so pruning never changes the result.

Only :func:`_search` is compiled (numba, cached on disk by :mod:`.jit`); every function it
calls is plain Python that numba compiles into it, and stays callable from Python.
``max_candidates`` (> 0) stops after that many evaluated candidates.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .equations import (A_ACC_BYTES, A_AB, A_AD, A_BYTES, A_C0, A_IB, A_K0, A_NUM_PE, A_WB, N_ARCH,
                        N_BOUND, N_EN, N_OUT, N_PROB, O_COMPUTE, O_ENERGY, OBJ_EDP, OBJ_ENERGY,
                        ORDERS, P_C, P_DW, P_G, P_K, P_P, P_Q, P_R, P_S, P_ST, TOL, ad_block_costs,
                        ad_blocks, candidate_cost, cdiv, fill_drain, is_better, lower_bounds,
                        objective_cycles, objective_value, order_code, refetch_bounds, secondary_objective, split_extent,
                        tiles_fit)
from .jit import is_cached, jit

#: fields of the mapping vector returned by :func:`search`
MAPPING_FIELDS = ("spatial_k", "spatial_p", "spatial_c", "spatial_g", "tile_k", "tile_c",
                  "tile_p", "tile_q", "loop_order")


@register_jitable
def split_options(n, unit, cap, out):
    """PE counts to split an extent ``n`` over (in whole ``unit`` blocks, at most ``cap``
    PEs): for every distinct per-PE share, the fewest PEs that give it, ascending. Writes
    them to ``out``; returns how many."""
    blocks = cdiv(n, unit)
    m = 0
    last = -1
    for parts in range(1, min(blocks, cap) + 1):
        share = cdiv(blocks, parts)
        if share != last:
            out[m] = parts
            m += 1
            last = share
    return m


@register_jitable
def tile_options(n, rem, unit, out):
    """Tile sizes of a PE share ``n`` (multiples of ``unit``, or ``n`` itself) when another
    PE holds a remainder share ``rem`` (0: none): the smallest size of every distinct pair of
    tile counts (ceil(n / size), ceil(rem / size)), ascending. Writes them to ``out``;
    returns how many."""
    m = 0
    last_n = -1
    last_r = -1
    for mb in range(1, cdiv(n, unit) + 1):
        size = min(mb * unit, n)
        tn = cdiv(n, size)
        tr = cdiv(rem, size)
        if tn != last_n or tr != last_r:
            out[m] = size
            m += 1
            last_n = tn
            last_r = tr
    return m


@register_jitable
def tile_pairs(ppe, prem, q, ad, max_pt, max_area, pts, qts, adb):
    """(P_t, Q_t) tiles of a PE's ``ppe`` x ``q`` outputs worth searching, when another PE
    holds ``prem`` rows (0: none): within each class of equal tile counts (ceil(ppe/P_t),
    ceil(prem/P_t), ceil(q/Q_t)), the pairs that no smaller pair (P_t' <= P_t, Q_t' <= Q_t)
    matches with no more AD blocks on both PEs. Only P_t <= ``max_pt`` and P_t x Q_t <=
    ``max_area`` (what any tile of the layer can fit) are listed. Writes to ``pts``, ``qts``
    (``adb``: work space, twice as long); returns how many, or -1 when they do not fit."""
    m = 0
    lo1 = cdiv(ppe * q, ad)  # the fewest AD blocks any tiling gives each P share
    lo2 = cdiv(prem * q, ad)
    pa = 1
    while pa <= ppe and pa <= max_pt:
        # P class [pa, pb]: sizes with the same tile counts on both P shares
        tn = cdiv(ppe, pa)
        tr = cdiv(prem, pa)
        pb = pa
        while pb < ppe and cdiv(ppe, pb + 1) == tn and cdiv(prem, pb + 1) == tr:
            pb += 1
        qa = 1
        while qa <= q and pa * qa <= max_area:
            tq = cdiv(q, qa)
            qb = qa
            while qb < q and cdiv(q, qb + 1) == tq:
                qb += 1
            start = m
            for pt in range(pa, min(pb, max_pt) + 1):
                for qt in range(qa, qb + 1):
                    if pt * qt > max_area:
                        break
                    a1 = ad_blocks(ppe, q, pt, qt, ad)
                    a2 = ad_blocks(prem, q, pt, qt, ad) if prem > 0 else 0
                    keep = True
                    for j in range(start, m):
                        if qts[j] <= qt and adb[2 * j] <= a1 and adb[2 * j + 1] <= a2:
                            keep = False
                            break
                    if keep:
                        if m >= pts.shape[0]:
                            return -1
                        pts[m] = pt
                        qts[m] = qt
                        adb[2 * m] = a1
                        adb[2 * m + 1] = a2
                        m += 1
                    if a1 == lo1 and a2 == lo2:  # larger Q_t in this row: matched by this pair
                        break
            qa = qb + 1
        pa = pb + 1
    return m


@register_jitable
def sort_by(keys, n, order):
    """``order[:n]`` = 0..n-1 sorted by ``keys`` ascending, ties by index (shell sort)."""
    for i in range(n):
        order[i] = i
    gap = n // 2
    while gap > 0:
        for i in range(gap, n):
            t = order[i]
            kt = keys[t]
            j = i
            while j >= gap:
                u = order[j - gap]
                if keys[u] > kt or (keys[u] == kt and u > t):
                    order[j] = u
                    j -= gap
                else:
                    break
            order[j] = t
        gap //= 2


def search(prob, arch, en, objective, max_candidates, best_out, prune=True, tolerance=0.0):
    """Best mapping of one problem; returns (mapping int64[9], candidates evaluated).

    ``prob``, ``arch``, ``en``: the packed vectors of :mod:`accelsim.cost.equations`;
    ``objective``: an ``OBJ_*`` index; ``best_out`` (float64[N_OUT]) receives the cost vector
    of the best candidate; the mapping is all -1 when no candidate fits the buffers.

    Objective rule (docs/cost_model.md, Objectives): the first pass finds the minimum V* of
    the primary objective; with ``tolerance`` > 0 a second pass returns, among the candidates
    whose primary value is within V* x (1 + tolerance), the one with the smallest secondary
    objective (energy for latency; latency for energy and edp). Remaining ties go to the
    smaller primary value, then the lexicographically smaller mapping vector.
    ``max_candidates`` (> 0) caps the candidates evaluated over both passes; ``prune=False``
    evaluates every candidate (for tests). Arguments are converted to the one signature
    that is compiled.
    """
    out = np.zeros(N_OUT, dtype=np.float64)
    best, count = _search(np.ascontiguousarray(prob, dtype=np.int64),
                          np.ascontiguousarray(arch, dtype=np.float64),
                          np.ascontiguousarray(en, dtype=np.float64), int(objective),
                          int(max_candidates), out, bool(prune), float(tolerance))
    best_out[:] = out
    return best, count


def jit_cache_is_warm() -> bool:
    """True when the compiled search is in the on-disk cache for this machine and these
    sources, so the first search of a process loads it (about a second); False when that
    search compiles it first (about 10 s on one core, once per installation and source change)."""
    from numba import typeof

    args = (np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1), 0, 0, np.zeros(1), True, 0.0)
    return is_cached(_search, tuple(typeof(a) for a in args))


def load_search() -> None:
    """Load (or compile) the compiled search now, e.g. before forking worker processes, so
    that they inherit it instead of each loading it."""
    prob = np.ones(N_PROB, dtype=np.int64)  # a 1 x 1 x 1 problem on one PE
    search(prob, np.ones(N_ARCH), np.zeros(N_EN), 0, 1, np.zeros(N_OUT), True, 0.0)


@jit
def _search(prob, arch, en, objective, max_candidates, best_out, prune, tolerance):
    """:func:`search`, compiled. Each pass finds the candidate with the smallest (``obj``,
    ``cobj``) among those whose ``cobj`` value is at most ``climit``: pass 1 (primary,
    secondary, no limit), pass 2 (secondary, primary, V* x (1 + tolerance)), seeded with the
    first pass's optimum, which lies within the tolerance."""
    num_pe = np.int64(arch[A_NUM_PE])
    k0 = np.int64(arch[A_K0])
    c0 = np.int64(arch[A_C0])
    ad = np.int64(arch[A_AD])
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
    zero = np.int64(0)  # split-level bounds (a variable: literals would compile a second version)
    # arrays are made with np.empty(n, int64 or float64) only: each other allocator or
    # dtype form compiles one more implementation on the first run
    best = np.empty(9, dtype=np.int64)
    for x in range(9):
        best[x] = -1  # no candidate yet
    vals = np.empty(2, dtype=np.float64)  # the incumbent's (obj, cobj) values
    vals[0] = np.inf
    vals[1] = np.inf
    count = np.int64(0)
    # ------------------------------------------------ spatial splits
    opt_k = np.empty(num_pe, dtype=np.int64)
    opt_p = np.empty(num_pe, dtype=np.int64)
    opt_c = np.empty(num_pe, dtype=np.int64)
    opt_g = np.empty(num_pe, dtype=np.int64)
    nk_opt = split_options(k_, k0, num_pe, opt_k)
    np_opt = split_options(p_, 1, num_pe, opt_p)
    nc_opt = split_options(c_, c0, num_pe, opt_c)
    ng_opt = split_options(g_, 1, num_pe, opt_g)
    splits = np.empty(5 * nk_opt * np_opt * nc_opt * ng_opt, dtype=np.int64)  # pk, pp, pc, pg, pp index
    nsplit = 0
    for ik in range(nk_opt):
        for ip in range(np_opt):
            if opt_k[ik] * opt_p[ip] > num_pe:
                break
            for ic in range(nc_opt):
                if opt_k[ik] * opt_p[ip] * opt_c[ic] > num_pe:
                    break
                for ig in range(ng_opt):
                    if opt_k[ik] * opt_p[ip] * opt_c[ic] * opt_g[ig] > num_pe:
                        break
                    splits[5 * nsplit] = opt_k[ik]
                    splits[5 * nsplit + 1] = opt_p[ip]
                    splits[5 * nsplit + 2] = opt_c[ic]
                    splits[5 * nsplit + 3] = opt_g[ig]
                    splits[5 * nsplit + 4] = ip
                    nsplit += 1
    # ------------------------------------------------ (P_t, Q_t) tiles per P split, listed on demand
    # what the smallest K and C tiles need of the buffers bounds every tile's rows and area
    kt_min = min(k_, k0)
    cin_min = kt_min if dw else min(c_, c0)
    max_area = np.int64(arch[A_AB] // (kt_min * accb))
    max_pt = 0
    while max_pt < p_ and cin_min * (max_pt * st + r) * s * b <= arch[A_IB]:
        max_pt += 1
    cap = max(16, 4 * (p_ + q_))
    pts = np.empty(cap, dtype=np.int64)
    qts = np.empty(cap, dtype=np.int64)
    adb = np.empty(2 * cap, dtype=np.int64)
    pair_start = np.empty(np_opt, dtype=np.int64)
    pair_n = np.empty(np_opt, dtype=np.int64)
    for ip in range(np_opt):
        pair_start[ip] = -1  # not listed yet
    by_adb = np.empty(cap, dtype=np.int64)  # each P split's tiles in increasing AD blocks of
    by_adb_sum = np.empty(cap, dtype=np.int64)  # its busiest PE and of all its PEs
    used = 0
    skey = np.empty(nsplit, dtype=np.float64)
    s_cyc = np.empty(nsplit, dtype=np.float64)  # each split's bounds (cycles, energy)
    s_en = np.empty(nsplit, dtype=np.float64)
    sorder = np.empty(nsplit, dtype=np.int64)
    for i in range(nsplit):
        skey[i] = 0.0
        sorder[i] = i
    ktiles = np.empty(cdiv(k_, k0) + 1, dtype=np.int64)
    ctiles = np.empty(cdiv(c_, c0) + 1, dtype=np.int64)
    codes = np.empty(6, dtype=np.int64)
    cand = np.empty(9, dtype=np.int64)
    out = np.empty(N_OUT, dtype=np.float64)
    ctx = np.empty(N_BOUND, dtype=np.float64)  # a tile's bound context (lower_bounds -> refetch_bounds)
    no_ctx = np.empty(0, dtype=np.float64)
    obj = objective
    cobj = secondary_objective(objective)
    climit = np.inf
    for pass_ in range(2):
        if pass_ == 1:
            if tolerance <= 0.0 or best[0] < 0:
                break
            climit = vals[0] * (1.0 + tolerance)
            cobj = objective
            obj = secondary_objective(objective)
            vals[0], vals[1] = vals[1], vals[0]
        need_energy = (obj == OBJ_ENERGY or obj == OBJ_EDP
                       or ((cobj == OBJ_ENERGY or cobj == OBJ_EDP) and climit < np.inf))
        limit = climit * (1.0 + TOL)
        if prune:  # best first: splits in increasing bound
            for i in range(nsplit):
                lc, le, lcomp = lower_bounds(prob, arch, en, splits[5 * i], splits[5 * i + 1],
                                             splits[5 * i + 2], splits[5 * i + 3], zero, zero, need_energy,
                                             no_ctx)
                skey[i] = objective_value(obj, lc, le, lcomp)
                s_cyc[i] = lc
                s_en[i] = le
                if objective_value(cobj, lc, le, lcomp) > limit:
                    skey[i] = np.inf
            sort_by(skey, nsplit, sorder)
        for si in range(nsplit):
            i = sorder[si]
            if prune and (skey[i] == np.inf or skey[i] > vals[0] * (1.0 + TOL)):
                break
            pk = splits[5 * i]
            pp = splits[5 * i + 1]
            pc = splits[5 * i + 2]
            pg = splits[5 * i + 3]
            ip = splits[5 * i + 4]
            kp = split_extent(k_, pk, k0)
            cp = split_extent(c_, pc, c0)
            ppe = split_extent(p_, pp, 1)
            nkt = tile_options(kp, k_ - (k_ // kp) * kp, k0, ktiles)
            nct = tile_options(cp, c_ - (c_ // cp) * cp, c0, ctiles)
            kt0 = ktiles[0]
            ct0 = ctiles[0]
            if pair_start[ip] < 0:  # this P split's tiles, listed once for every split sharing it
                prem = p_ - (p_ // ppe) * ppe
                while True:
                    n = tile_pairs(ppe, prem, q_, ad, max_pt, max_area, pts[used:], qts[used:], adb[2 * used:])
                    if n >= 0:
                        break
                    cap *= 2  # full: grow and list again
                    pts = _grown(pts, used, cap)
                    qts = _grown(qts, used, cap)
                    adb = _grown(adb, 2 * used, 2 * cap)
                    by_adb = _grown(by_adb, used, cap)
                    by_adb_sum = _grown(by_adb_sum, used, cap)
                keys = np.empty(n, dtype=np.float64)
                for j in range(n):
                    keys[j] = adb[2 * (used + j)]
                sort_by(keys, n, by_adb[used:])
                for j in range(n):
                    keys[j] = (p_ // ppe) * adb[2 * (used + j)] + adb[2 * (used + j) + 1]
                sort_by(keys, n, by_adb_sum[used:])
                pair_start[ip] = used
                pair_n[ip] = n
                used += n
            p0 = pair_start[ip]
            p_full = p_ // ppe
            adb_sum_lo = p_full * cdiv(ppe * q_, ad) + cdiv((p_ - p_full * ppe) * q_, ad)  # the split's bound's
            # bounds of a tile from the split's: its exact AD blocks (the order's key) in place
            # of the split's fewest; they only grow along the order, so the first above the
            # incumbent ends the split
            cyc_adb, pj_adb = ad_block_costs(prob, arch, en, pk, pp, pc, pg)
            fd_min = fill_drain(prob, arch, kt0, ct0, 1, 1)
            order = by_adb_sum if obj == OBJ_ENERGY else by_adb
            for tj in range(pair_n[ip]):
                j = p0 + order[p0 + tj] if prune else p0 + tj
                pt = pts[j]
                qt = qts[j]
                if prune:
                    a1 = adb[2 * j]
                    comp = cyc_adb * a1
                    c_key = max(s_cyc[i], comp + fd_min)
                    e_key = s_en[i] + pj_adb * (p_full * a1 + adb[2 * j + 1] - adb_sum_lo)
                    if obj == OBJ_ENERGY:
                        if e_key > vals[0] * (1.0 + TOL):
                            break
                    elif objective_value(obj, c_key, s_en[i], comp) > vals[0] * (1.0 + TOL):
                        break
                    if (objective_value(obj, c_key, e_key, comp) > vals[0] * (1.0 + TOL)
                            or objective_value(cobj, c_key, e_key, comp) > limit):
                        continue
                if not tiles_fit(prob, arch, kt0, ct0, pt, qt):
                    continue
                window = ((pt - 1) * st + r) * ((qt - 1) * st + s) * b
                npq = cdiv(ppe, pt) * cdiv(q_, qt)
                if prune:  # with the fewest re-fetches the largest K and C tiles allow
                    kt_hi = _largest(ktiles, nkt, pt * qt * accb, arch[A_AB], window if dw else 0.0,
                                     arch[A_IB], ct0 * r * s * b, arch[A_WB])
                    ct_hi = _largest(ctiles, nct, kt0 * r * s * b, arch[A_WB], 0.0 if dw else window,
                                     arch[A_IB], 0.0, 1.0)
                    _, _, lcomp = lower_bounds(prob, arch, en, pk, pp, pc, pg, pt, qt, need_energy, ctx)
                    lc, le = refetch_bounds(prob, arch, ctx, pt, qt, kt0, kt_hi, ct0, ct_hi)
                    if (objective_value(obj, lc, le, lcomp) > vals[0] * (1.0 + TOL)
                            or objective_value(cobj, lc, le, lcomp) > limit):
                        continue
                for ik in range(nkt):
                    kt = ktiles[ik]
                    if kt * pt * qt * accb > arch[A_AB] or (dw and kt * window > arch[A_IB]):
                        break
                    nk = cdiv(kp, kt)
                    if prune:  # every C tile and order with this K tile
                        ct_hi = _largest(ctiles, nct, kt * r * s * b, arch[A_WB], 0.0 if dw else window,
                                         arch[A_IB], 0.0, 1.0)
                        lc, le = refetch_bounds(prob, arch, ctx, pt, qt, kt, kt, ct0, ct_hi)
                        if (objective_value(obj, lc, le, lcomp) > vals[0] * (1.0 + TOL)
                                or objective_value(cobj, lc, le, lcomp) > limit):
                            continue
                    for ic in range(nct):
                        ct = ctiles[ic]
                        if kt * ct * r * s * b > arch[A_WB] or (not dw and ct * window > arch[A_IB]):
                            break
                        if prune and nct > 1:  # every order with these K and C tiles
                            lc, le = refetch_bounds(prob, arch, ctx, pt, qt, kt, kt, ct, ct)
                            if (objective_value(obj, lc, le, lcomp) > vals[0] * (1.0 + TOL)
                                    or objective_value(cobj, lc, le, lcomp) > limit):
                                continue
                        nc = cdiv(cp, ct)
                        for o in range(6):
                            code = order_code(ORDERS[o], nk, nc, npq)
                            dup = False
                            for jj in range(o):
                                if codes[jj] == code:
                                    dup = True
                                    break
                            codes[o] = code
                            if dup:
                                continue
                            if max_candidates > 0 and count >= max_candidates:
                                return best, count
                            count += 1
                            candidate_cost(prob, arch, en, pk, pp, pc, pg, kt, ct, pt, qt, ORDERS[o], out)
                            cyc = objective_cycles(arch, out)
                            a2 = objective_value(cobj, cyc, out[O_ENERGY], out[O_COMPUTE])
                            if a2 > limit:
                                continue
                            a1 = objective_value(obj, cyc, out[O_ENERGY], out[O_COMPUTE])
                            cand[0] = pk
                            cand[1] = pp
                            cand[2] = pc
                            cand[3] = pg
                            cand[4] = kt
                            cand[5] = ct
                            cand[6] = pt
                            cand[7] = qt
                            cand[8] = o
                            if is_better(a1, a2, cand, vals[0], vals[1], best):
                                vals[0] = a1
                                vals[1] = a2
                                for x in range(9):
                                    best[x] = cand[x]
                                for x in range(N_OUT):
                                    best_out[x] = out[x]
    return best, count


@register_jitable
def _largest(tiles, n, per1, have1, per2, have2, per3, have3):
    """The largest of the ascending tile sizes ``tiles[:n]`` whose needs (``per*`` per unit
    of size) fit ``have*``; ``tiles[0]`` when none but the first does. Lenient by 1e-12, so
    rounding can only make a bound from it looser."""
    best = tiles[0]
    for i in range(1, n):
        t = tiles[i]
        if t * per1 > have1 * (1.0 + TOL) or t * per2 > have2 * (1.0 + TOL) or t * per3 > have3 * (1.0 + TOL):
            break
        best = t
    return best


@register_jitable
def _grown(a, n, size):
    """A new int64 array of ``size`` holding ``a[:n]``."""
    g = np.empty(size, dtype=np.int64)
    for i in range(n):
        g[i] = a[i]
    return g
