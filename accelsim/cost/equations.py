"""Cost equations of one OS-LWS mapping candidate (SPEC.md sections 3-5), numba-jitted.

Every function is pure and works on scalars or on the packed vectors built by
:mod:`accelsim.cost.model`:

- ``prob`` (int64): the canonical MAC problem, indices ``P_*``;
- ``arch`` (float64): architecture numbers, indices ``A_*`` (bytes, bytes/cycle);
- ``en`` (float64): per-access energies in pJ, already scaled by (V/V_ref)^2, ``E_*``.

:func:`candidate_cost` writes cycles (per term), energies (pJ, per component) and
access counts of one candidate into an output vector (indices ``O_*``). The mapper
and the result builder both call it, so the equations exist once. The assumptions
beyond SPEC.md are listed in docs/cost_model.md.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

# ------------------------------------------------------------------ packed layouts
# problem (int64)
(P_G, P_K, P_C, P_P, P_Q, P_R, P_S, P_ST, P_H, P_W, P_DW, P_DYN,
 P_IN_DRAM, P_OUT_DRAM) = range(14)
N_PROB = 14
# architecture (float64)
# A_HOPS: average NoC hops from the global-buffer port to a PE (accelsim.arch.noc.Mesh);
# A_OFFCHIP: 1 when DRAM exists (system scope), 0 in the accelerator scope (no DRAM traffic);
# A_BACKLOG: PPU cycles queued ahead of the layer's drains (latency search, 0 otherwise)
(A_NUM_PE, A_K0, A_C0, A_AD, A_BYTES, A_ACC_BYTES, A_WB, A_IB, A_AB, A_GB, A_GB_BW,
 A_NOC_BW, A_DRAM_BW, A_PPU, A_HOPS, A_OFFCHIP, A_BACKLOG) = range(17)
N_ARCH = 17
# energies, pJ (dynamic ones voltage-scaled)
# E_CTRL_SLOT per MAC slot and busy cycle, E_CTRL_PE per PE and busy cycle (docs/cost_model.md)
(E_MAC, E_RMW, E_WB_READ, E_IB_READ, E_AB_BIT, E_GB_BIT, E_WRITE_FACTOR, E_NOC_BIT_HOP,
 E_CTRL_SLOT, E_PPU_OP, E_DRAM_BIT, E_LEAK_CYCLE, E_CTRL_PE) = range(13)
N_EN = 13
# outputs: cycle terms, energy components (pJ), access counts (bytes or accesses)
(O_COMPUTE, O_IB_CYC, O_WB_CYC, O_GB_CYC, O_DRAM_CYC, O_PPU_CYC, O_FILL_DRAIN, O_CYCLES,
 O_E_MAC, O_E_ACC, O_E_WB, O_E_IB, O_E_GB, O_E_NOC, O_E_DRAM, O_E_CTRL, O_E_PPU, O_E_LEAK,
 O_ENERGY, O_MACS, O_RMW, O_IB_READS, O_WB_READS, O_AB_ACCESSES, O_IB_FILL, O_WB_FILL,
 O_GB_READ, O_GB_WRITE, O_NOC_SENT, O_DRAM_READ, O_DRAM_WRITE, O_PPU_ELEMS, O_SPILL, O_PSUM,
 O_PE_CYCLES, O_MULT_W, O_MULT_IN, O_MULT_OUT, O_BOUND, O_GB_W, O_GB_IN, O_DRAM_W, O_DRAM_IN,
 O_DRAM_OUT) = range(44)
N_OUT = 44

# bound context (float64): what lower_bounds leaves for refetch_bounds about one split and tile
(B_COMPUTE, B_PPU, B_PE_IN, B_PE_W, B_GB, B_NOC, B_DRAM, B_ENERGY, B_LEAK, B_DW, B_K0, B_K1, B_C0,
 B_C1, B_AB0, B_AB1, B_NCLS) = range(17)
B_CLS = 17  # then per PE class: K share, C share, P*Q tiles, and the cost of one more fetch of
B_STRIDE = 15  # its weights, inputs and spill in GB bytes, NoC bytes, DRAM bytes and pJ
N_BOUND = B_CLS + 8 * B_STRIDE

#: the bound names in the order of the cycle terms O_COMPUTE..O_PPU_CYC (ties: first wins)
BOUNDS = ("compute", "input_buffer", "weight_buffer", "global_buffer", "dram", "ppu")
#: GB/DRAM loop orders, outermost first; 0 = K tiles, 1 = C tiles, 2 = P*Q tiles
ORDERS = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]],
                  dtype=np.int64)
ORDER_NAMES = ("K,C,PQ", "K,PQ,C", "C,K,PQ", "C,PQ,K", "PQ,K,C", "PQ,C,K")
#: objectives understood by :func:`objective_keys` (3 = compute cycles, for tests)
OBJ_LATENCY, OBJ_ENERGY, OBJ_EDP, OBJ_COMPUTE = 0, 1, 2, 3
#: relative tolerance under which two objective values count as equal
TOL = 1e-12


@register_jitable
def cdiv(a, b):
    """Ceiling division of positive integers."""
    return -(-a // b)


@register_jitable
def split_extent(n, parts, unit):
    """Largest per-PE extent when ``n`` is split over ``parts`` PEs in whole ``unit`` blocks
    (SPEC.md 3: K split in K0 blocks, C in C0 blocks, P rows and G groups in units of 1)."""
    return min(n, cdiv(cdiv(n, unit), parts) * unit)


@register_jitable
def ad_blocks(pn, qn, pt, qt, ad):
    """Accumulation-depth blocks, sum over the (pt x qt) tiles of a pn x qn output patch of
    ceil(tile positions / AD); partial last tiles exact (SPEC.md 4, ceil(PQ/AD))."""
    pf = pn // pt
    pr = pn - pf * pt
    qf = qn // qt
    qr = qn - qf * qt
    s = pf * qf * cdiv(pt * qt, ad)
    if pr > 0:
        s += qf * cdiv(pr * qt, ad)
    if qr > 0:
        s += pf * cdiv(pt * qr, ad)
    if pr > 0 and qr > 0:
        s += cdiv(pr * qr, ad)
    return s


@register_jitable
def halo_sum(n, t, stride, r):
    """Input rows read over the tiles of one output axis: sum of (t_i - 1) * stride + r
    (SPEC.md 3 loop nest: I[c, p*stride + r]); partial last tile exact."""
    f = n // t
    rem = n - f * t
    s = f * ((t - 1) * stride + r)
    if rem > 0:
        s += (rem - 1) * stride + r
    return s


@register_jitable
def order_multipliers(order, nk, nc, npq):
    """Re-fetch multipliers (weights, inputs, outputs) of a GB-level loop order.

    An operand's tile is re-fetched once per iteration of every loop that lies outside
    the innermost loop relevant to it (weights: K, C; inputs: C, PQ; outputs: K, PQ);
    loops with one iteration are ignored (the tile stays resident). Depthwise inputs
    follow K instead of C; with nc == 1 the formula is the same.
    """
    trips = (nk, nc, npq)
    pos_k = 0
    pos_c = 0
    pos_pq = 0
    for i in range(3):
        if order[i] == 0:
            pos_k = i
        elif order[i] == 1:
            pos_c = i
        else:
            pos_pq = i
    mw = 1
    if (nk > 1 and pos_k > pos_pq) or (nc > 1 and pos_c > pos_pq):
        mw = trips[2]
    mi = 1
    if (nc > 1 and pos_c > pos_k) or (npq > 1 and pos_pq > pos_k):
        mi = trips[0]
    mo = 1
    if (nk > 1 and pos_k > pos_c) or (npq > 1 and pos_pq > pos_c):
        mo = trips[1]
    return mw, mi, mo


@register_jitable
def order_code(order, nk, nc, npq):
    """Code of the loop order with single-iteration loops removed (equal codes: equal cost)."""
    code = 0
    trips = (nk, nc, npq)
    for i in range(3):
        if trips[order[i]] > 1:
            code = code * 4 + order[i] + 1
    return code


@register_jitable
def tile_bytes(prob, arch, kt, ct, pt, qt):
    """Bytes of one PE tile: (weights K_t*C_t*R*S, inputs incl. halo C_t (K_t depthwise) *
    ((P_t-1)*stride+R) * ((Q_t-1)*stride+S), K_t*P_t*Q_t accumulator-wide partial sums)."""
    b = arch[A_BYTES]
    r = prob[P_R]
    s = prob[P_S]
    st = prob[P_ST]
    cin = kt if prob[P_DW] else ct
    return (kt * ct * r * s * b, cin * ((pt - 1) * st + r) * ((qt - 1) * st + s) * b,
            kt * pt * qt * arch[A_ACC_BYTES])


@register_jitable
def tiles_fit(prob, arch, kt, ct, pt, qt):
    """True when the PE tiles (:func:`tile_bytes`) fit the weight, input and accumulation
    buffers (SPEC.md 3, mapping search)."""
    w, i, a = tile_bytes(prob, arch, kt, ct, pt, qt)
    return w <= arch[A_WB] and i <= arch[A_IB] and a <= arch[A_AB]


@register_jitable
def fill_drain(prob, arch, kt, ct, pt, qt):
    """Cycles not overlapped with the tile loop (SPEC.md 4): the first tile's load (the larger
    of its weight and input tiles, :func:`tile_bytes`, through the C0-byte fill port) and the
    last tile's drain (K_t x P_t x Q_t sums through the PPU)."""
    w, i, _ = tile_bytes(prob, arch, kt, ct, pt, qt)
    return max(w, i) / (arch[A_C0] * arch[A_BYTES]) + kt * pt * qt / arch[A_PPU]


@register_jitable
def pe_classes(prob, arch, pk, pp, pc, pg):
    """A spatial split's per-PE shares (SPEC.md 3): the busiest PE's share of G, and for K, C
    and P rows the (size, count) of the two PE classes, full shares and one remainder share
    (count 0 when the split is even): (gp, k_sz, c_sz, p_sz, k_n, c_n, p_n)."""
    k_ = prob[P_K]
    c_ = prob[P_C]
    p_ = prob[P_P]
    kp = split_extent(k_, pk, np.int64(arch[A_K0]))
    cp = split_extent(c_, pc, np.int64(arch[A_C0]))
    ppe = split_extent(p_, pp, 1)
    k_full = k_ // kp
    c_full = c_ // cp
    p_full = p_ // ppe
    k_rem = k_ - k_full * kp
    c_rem = c_ - c_full * cp
    p_rem = p_ - p_full * ppe
    return (split_extent(prob[P_G], pg, 1), (kp, k_rem), (cp, c_rem), (ppe, p_rem),
            (k_full, 1 if k_rem > 0 else 0), (c_full, 1 if c_rem > 0 else 0), (p_full, 1 if p_rem > 0 else 0))


@register_jitable
def candidate_cost(prob, arch, en, pk, pp, pc, pg, kt, ct, pt, qt, order, out):
    """Cycles, energy (pJ) and access counts of one mapping candidate, written to ``out``.

    ``pk, pp, pc, pg``: PEs over K, P rows, C and independent groups; ``kt, ct, pt, qt``:
    PE tile of the busiest PE; ``order``: GB-level loop order (row of :data:`ORDERS`).
    """
    g_ = prob[P_G]
    k_ = prob[P_K]
    c_ = prob[P_C]
    p_ = prob[P_P]
    q_ = prob[P_Q]
    r = prob[P_R]
    s = prob[P_S]
    st = prob[P_ST]
    dw = prob[P_DW] != 0
    k0 = np.int64(arch[A_K0])
    c0 = np.int64(arch[A_C0])
    ad = np.int64(arch[A_AD])
    b = arch[A_BYTES]
    accb = arch[A_ACC_BYTES]

    # busiest-PE extents and the (size, count) classes of every split (SPEC.md 3), as
    # pe_classes gives them but written out: the function measured 12 % slower per candidate
    kp = split_extent(k_, pk, k0)
    cp = split_extent(c_, pc, c0)
    ppe = split_extent(p_, pp, 1)
    gp = split_extent(g_, pg, 1)
    k_n = (k_ // kp, 1 if k_ % kp > 0 else 0)
    c_n = (c_ // cp, 1 if c_ % cp > 0 else 0)
    p_n = (p_ // ppe, 1 if p_ % ppe > 0 else 0)
    k_sz = (kp, k_ - k_n[0] * kp)
    c_sz = (cp, c_ - c_n[0] * cp)
    p_sz = (ppe, p_ - p_n[0] * ppe)
    nc_ne = c_n[0] + c_n[1]
    nq = cdiv(q_, qt)
    iw = halo_sum(q_, qt, st, s)

    # per-class traffic: every PE walks its own tiles in the chosen order
    wb_fill = 0.0
    ib_fill = 0.0
    gb_w = 0.0
    gb_in = 0.0
    spill = 0.0
    ab_acc = 0.0
    adb_sum = 0.0
    ih_sum = 0.0
    pe_in = 0.0
    pe_w = 0.0
    m_w = 1
    m_i = 1
    m_o = 1
    for a in range(2):
        if k_n[a] == 0:
            continue
        ki = k_sz[a]
        nki = cdiv(ki, kt)
        for bb in range(2):
            if c_n[bb] == 0:
                continue
            ci = c_sz[bb]
            nci = cdiv(ci, ct)
            for d in range(2):
                if p_n[d] == 0:
                    continue
                pi = p_sz[d]
                npqi = cdiv(pi, pt) * nq
                mw, mi, mo = order_multipliers(order, nki, nci, npqi)
                if dw:  # depthwise inputs follow K: their irrelevant loop is C (one iteration)
                    mi = 1
                cnt = k_n[a] * c_n[bb] * p_n[d]
                ihs = halo_sum(pi, pt, st, r)
                cin = ki if dw else ci
                wbytes = mw * ki * ci * r * s
                ibytes = mi * cin * ihs * iw
                wb_fill += cnt * wbytes
                ib_fill += cnt * ibytes
                spill += cnt * (mo - 1) * ki * pi * q_
                if d == 0:  # weights multicast to the P-split PEs: GB reads once per group
                    gb_w += k_n[a] * c_n[bb] * wbytes
                if a == 0 or dw:  # inputs multicast to the K-split PEs (not depthwise)
                    gb_in += c_n[bb] * p_n[d] * ibytes * (k_n[a] if dw else 1)
                if a == 0 and bb == 0 and d == 0:
                    pe_in = gp * ibytes * b
                    pe_w = gp * wbytes * b
                    m_w = mw
                    m_i = mi
                    m_o = mo
                if a == 0 and d == 0:
                    ab_acc += c_n[bb] * (nci - 1)
                if a == 0 and bb == 0:
                    adb_sum += p_n[d] * ad_blocks(pi, q_, pt, qt, ad)
                    ih_sum += p_n[d] * ihs

    kblk = k_n[0] * cdiv(k_sz[0], k0) + k_n[1] * cdiv(k_sz[1], k0)
    cblk = c_n[0] * cdiv(c_sz[0], c0) + c_n[1] * cdiv(c_sz[1], c0)
    outs = float(g_ * k_ * p_ * q_)
    macs = float(g_ * k_ * c_ * r * s * p_ * q_)
    gf = float(g_)
    wb_fill *= gf * b
    ib_fill *= gf * b
    gb_w *= gf * b
    gb_in *= gf * b
    spill *= gf * accb  # 24-bit partial sums spilled to the GB, each way
    ab_acc *= outs  # accumulation-buffer writes (= reads) of partial sums between C tiles
    # cross-PE reduction over the mesh: each of the nc - 1 partial outputs of a C split moves
    # one hop to the neighbouring PE of the chain, whose PPU adds it (Simba-style, no GB trip)
    psum = outs * (nc_ne - 1) * accb
    out_b = outs * b

    # access counts (SPEC.md 5)
    # busy PE-cycles summed over PEs: each PE's K0 blocks x C0 chunks x R x S x AD-padded positions
    pe_cycles = gf * kblk * cblk * r * s * adb_sum * ad
    # vector ops: every lane of a busy PE does one C0-wide dot product and one 24-bit
    # accumulator read-modify-write per cycle, padded lanes and positions included (SPEC.md 2)
    rmw = pe_cycles * k0
    ib_reads = gf * p_ * q_ * kblk * cblk * r * s  # one C0 vector per position, K0 block, chunk
    wb_reads = gf * k_ * cblk * r * s * adb_sum  # one per lane per chunk per (r, s) per AD block

    # DRAM residency: an operand that fits half the GB stays on chip (docs/cost_model.md)
    half = 0.5 * arch[A_GB]
    w_total = gf * k_ * c_ * r * s * b
    in_total = gf * (k_ if dw else c_) * prob[P_H] * prob[P_W] * b
    if w_total <= half:
        dram_w = 0.0 if prob[P_DYN] else w_total
    else:
        dram_w = gb_w
    if in_total <= half:
        dram_in = in_total if prob[P_IN_DRAM] else 0.0
    else:
        dram_in = gb_in
    dram_out = out_b if (prob[P_OUT_DRAM] or out_b > half) else 0.0
    dram_spill = spill if outs * nc_ne * accb > half else 0.0
    if arch[A_OFFCHIP] == 0.0:  # accelerator scope: no DRAM, the global buffer is the source
        dram_w = 0.0
        dram_in = 0.0
        dram_out = 0.0
        dram_spill = 0.0
    dram_rd = dram_w + dram_in + dram_spill
    dram_wr = dram_out + dram_spill
    gb_rd = gb_w + gb_in + spill + dram_wr
    gb_wr = out_b + spill + dram_rd
    # NoC (mesh, accelsim.arch.noc): GB -> PE traffic and outputs travel A_HOPS on average;
    # a multicast tree adds one link per extra receiving PE; partial sums are reduced PE to PE
    noc_sent = gb_w + gb_in + out_b + 2.0 * spill
    noc_recv_extra = (wb_fill - gb_w) + (ib_fill - gb_in)

    # cycle terms of the busiest PE (SPEC.md 4)
    compute = float(gp * cdiv(kp, k0) * cdiv(cp, c0) * r * s * ad_blocks(ppe, q_, pt, qt, ad) * ad)
    port = c0 * b  # buffer fill port: one C0 vector per cycle
    ib_cyc = pe_in / port
    wb_cyc = pe_w / port
    gb_cyc = max((gb_rd + gb_wr) / arch[A_GB_BW], noc_sent / arch[A_NOC_BW])
    dram_cyc = (dram_rd + dram_wr) / arch[A_DRAM_BW]
    ppu_elems = float(gp * kp * ppe * q_) * (2.0 - 1.0 / nc_ne)
    ppu_cyc = ppu_elems / arch[A_PPU]
    fd = fill_drain(prob, arch, kt, ct, pt, qt)
    terms = (compute, ib_cyc, wb_cyc, gb_cyc, dram_cyc, ppu_cyc)
    bound = 0
    for i in range(1, 6):
        if terms[i] > terms[bound]:
            bound = i
    cycles = terms[bound] + fd

    # energy, pJ (SPEC.md 5)
    wf = en[E_WRITE_FACTOR]
    ib_bit = en[E_IB_READ] / (port * 8.0)
    wb_bit = en[E_WB_READ] / (port * 8.0)
    e_mac = rmw * c0 * en[E_MAC]  # per vector op: C0 products, adder tree, accumulate
    e_acc = rmw * en[E_RMW] + ab_acc * accb * 8.0 * en[E_AB_BIT] * (1.0 + wf)
    e_ib = ib_reads * en[E_IB_READ] + ib_fill * 8.0 * ib_bit * wf
    e_wb = wb_reads * en[E_WB_READ] + wb_fill * 8.0 * wb_bit * wf
    e_gb = (gb_rd + gb_wr * wf) * 8.0 * en[E_GB_BIT]
    e_noc = (noc_sent * arch[A_HOPS] + noc_recv_extra + psum) * 8.0 * en[E_NOC_BIT_HOP]
    e_dram = (dram_rd + dram_wr) * 8.0 * en[E_DRAM_BIT]
    # control and clocking: every MAC slot of a busy PE, every cycle it computes, idle slots
    # too, plus the PE's own sequencer, address generation, clock tree and idle PPU per cycle
    e_ctrl = pe_cycles * (k0 * c0 * en[E_CTRL_SLOT] + en[E_CTRL_PE])
    # PPU: every output is drained once, plus one addition per extra C split (cross-PE reduction)
    e_ppu = outs * nc_ne * en[E_PPU_OP]
    e_leak = cycles * en[E_LEAK_CYCLE]

    out[O_COMPUTE] = compute
    out[O_IB_CYC] = ib_cyc
    out[O_WB_CYC] = wb_cyc
    out[O_GB_CYC] = gb_cyc
    out[O_DRAM_CYC] = dram_cyc
    out[O_PPU_CYC] = ppu_cyc
    out[O_FILL_DRAIN] = fd
    out[O_CYCLES] = cycles
    out[O_E_MAC] = e_mac
    out[O_E_ACC] = e_acc
    out[O_E_WB] = e_wb
    out[O_E_IB] = e_ib
    out[O_E_GB] = e_gb
    out[O_E_NOC] = e_noc
    out[O_E_DRAM] = e_dram
    out[O_E_CTRL] = e_ctrl
    out[O_E_PPU] = e_ppu
    out[O_E_LEAK] = e_leak
    out[O_ENERGY] = e_mac + e_acc + e_wb + e_ib + e_gb + e_noc + e_dram + e_ctrl + e_ppu + e_leak
    out[O_MACS] = macs
    out[O_RMW] = rmw
    out[O_IB_READS] = ib_reads
    out[O_WB_READS] = wb_reads
    out[O_AB_ACCESSES] = ab_acc
    out[O_IB_FILL] = ib_fill
    out[O_WB_FILL] = wb_fill
    out[O_GB_READ] = gb_rd
    out[O_GB_WRITE] = gb_wr
    out[O_NOC_SENT] = noc_sent
    out[O_DRAM_READ] = dram_rd
    out[O_DRAM_WRITE] = dram_wr
    out[O_PPU_ELEMS] = ppu_elems
    out[O_SPILL] = spill
    out[O_PSUM] = psum
    out[O_PE_CYCLES] = pe_cycles
    out[O_MULT_W] = m_w
    out[O_MULT_IN] = m_i
    out[O_MULT_OUT] = m_o
    out[O_BOUND] = bound
    out[O_GB_W] = gb_w
    out[O_GB_IN] = gb_in
    out[O_DRAM_W] = dram_w
    out[O_DRAM_IN] = dram_in
    out[O_DRAM_OUT] = dram_out


@register_jitable
def objective_cycles(arch, out):
    """Cycles a candidate (cost vector ``out``) counts for the objectives: its own cycles, or
    when ``A_BACKLOG`` PPU cycles are queued ahead of its drains, the time until its PPU has
    served them too, max(cycles, PPU cycles + backlog) (docs/cost_model.md, Objectives)."""
    return max(out[O_CYCLES], out[O_PPU_CYC] + arch[A_BACKLOG])


@register_jitable
def objective_value(objective, cycles, energy, compute):
    """Value of ``objective`` (smaller is better): latency -> cycles, energy -> pJ,
    edp -> cycles x pJ, compute -> compute cycles (tests)."""
    if objective == OBJ_LATENCY:
        return cycles
    if objective == OBJ_ENERGY:
        return energy
    if objective == OBJ_EDP:
        return cycles * energy
    return compute


@register_jitable
def secondary_objective(objective):
    """The objective that decides between candidates within the tolerance of the primary one:
    energy for latency, latency for energy, edp and compute (docs/cost_model.md, Objectives)."""
    return OBJ_ENERGY if objective == OBJ_LATENCY else OBJ_LATENCY


@register_jitable
def is_better(a1, a2, amap, b1, b2, bmap):
    """True when candidate a beats b: lower primary key, then lower secondary key (values
    within 1e-12 relative count as equal), then the lexicographically smaller mapping
    vector. The optimum is thus independent of the enumeration order."""
    if a1 < b1 * (1.0 - TOL):
        return True
    if a1 > b1 * (1.0 + TOL):
        return False
    if a2 < b2 * (1.0 - TOL):
        return True
    if a2 > b2 * (1.0 + TOL):
        return False
    for i in range(amap.shape[0]):
        if amap[i] != bmap[i]:
            return amap[i] < bmap[i]
    return False


@register_jitable
def min3(a, b, c):
    """The smallest of three numbers."""
    return min(min(a, b), c)


@register_jitable
def refetch_extra(uw, ui, us, nk, nc, npq):
    """Least cost, over loop orders, of re-fetching one PE's tiles: ``uw``, ``ui`` and ``us``
    are the costs of one more fetch of all its weights, all its inputs and one more partial-sum
    spill of all its outputs; ``nk, nc, npq`` its tile trip counts.

    The innermost loop with more than one iteration decides (:func:`order_multipliers`): PQ
    innermost re-fetches inputs nk times and spills nc times, K innermost re-fetches weights
    npq times and spills nc times, C innermost re-fetches weights npq and inputs nk times.
    """
    return min3(ui * (nk - 1) + us * (nc - 1), uw * (npq - 1) + us * (nc - 1),
                uw * (npq - 1) + ui * (nk - 1))


@register_jitable
def ad_block_costs(prob, arch, en, pk, pp, pc, pg):
    """What one AD block of output positions costs a spatial split (SPEC.md 4-5): (compute
    cycles per AD block of its busiest PE, pJ per AD block summed over all its PEs). Every
    busy PE-cycle of a K0 block x C0 chunk x (r, s) costs each lane's C0-wide dot product,
    its accumulate and the control of its slots; every AD block reads each lane's weights
    once per C0 chunk and (r, s) (the busy-cycle and weight-read terms of candidate_cost)."""
    gp, k_sz, c_sz, _, k_n, c_n, _ = pe_classes(prob, arch, pk, pp, pc, pg)
    k0 = np.int64(arch[A_K0])
    c0 = np.int64(arch[A_C0])
    ad = np.int64(arch[A_AD])
    rs = prob[P_R] * prob[P_S]
    kblk = k_n[0] * cdiv(k_sz[0], k0) + cdiv(k_sz[1], k0)
    cblk = c_n[0] * cdiv(c_sz[0], c0) + cdiv(c_sz[1], c0)
    cycles = float(gp * cdiv(k_sz[0], k0) * cdiv(c_sz[0], c0) * rs * ad)
    energy = (float(prob[P_G] * kblk * cblk * rs * ad) * (k0 * (c0 * (en[E_MAC] + en[E_CTRL_SLOT]) + en[E_RMW])
                                                          + en[E_CTRL_PE])
              + float(prob[P_G] * prob[P_K] * cblk * rs) * en[E_WB_READ])
    return cycles, energy


@register_jitable
def lower_bounds(prob, arch, en, pk, pp, pc, pg, pt, qt, need_energy, ctx):
    """Lower bounds (cycles, energy pJ, compute cycles) over every candidate of a spatial
    split (``pt == 0``) or of a split and a (P_t, Q_t) tile (branch and bound: a set whose
    bound exceeds the incumbent cannot hold the optimum). The energy bound is computed only
    when ``need_energy`` (else 0). For a tile, when ``ctx`` (float64[N_BOUND]) is given,
    it receives what :func:`refetch_bounds` needs to bound subsets by their K and C tiles.

    Each term is one of :func:`candidate_cost` with every re-fetch multiplier at 1 and no
    partial-sum spill, i.e. the compulsory work that no K_t, C_t or loop order avoids:
    compute cycles and the accesses of the MAC datapath (exact for a given P_t, Q_t; for a
    split ceil(PQ / AD) blocks), every PE's buffer fills of its own share (inputs with the
    halo of its tiles, a split's fewest over all tiles), the GB, NoC and DRAM traffic of
    reading each operand once, the cross-PE reduction, the PPU drain and the smallest
    first-tile fill and drain.
    """
    g_ = prob[P_G]
    k_ = prob[P_K]
    c_ = prob[P_C]
    p_ = prob[P_P]
    q_ = prob[P_Q]
    r = prob[P_R]
    s = prob[P_S]
    st = prob[P_ST]
    dw = prob[P_DW] != 0
    k0 = np.int64(arch[A_K0])
    c0 = np.int64(arch[A_C0])
    ad = np.int64(arch[A_AD])
    b = arch[A_BYTES]
    accb = arch[A_ACC_BYTES]
    gp, k_sz, c_sz, p_sz, k_n, c_n, p_n = pe_classes(prob, arch, pk, pp, pc, pg)
    kp = k_sz[0]
    cp = c_sz[0]
    ppe = p_sz[0]
    k_full = k_n[0]
    p_full = p_n[0]
    nc_ne = c_n[0] + c_n[1]
    kblk = k_full * cdiv(kp, k0) + cdiv(k_sz[1], k0)
    cblk = c_n[0] * cdiv(cp, c0) + cdiv(c_sz[1], c0)
    # AD blocks and input rows x columns read, per P share: exact for a tile; for a split the
    # fewest over all tiles (ceil(PQ/AD); halo_sum is n*stride + tiles*(R - stride), least
    # with one tile when R >= stride, else with one row per tile)
    if pt > 0:
        adb = (ad_blocks(ppe, q_, pt, qt, ad), ad_blocks(p_sz[1], q_, pt, qt, ad) if p_n[1] else 0)
        rows = (halo_sum(ppe, pt, st, r), halo_sum(p_sz[1], pt, st, r) if p_n[1] else 0)
        cols = halo_sum(q_, qt, st, s)
        fd = fill_drain(prob, arch, min(kp, k0), min(cp, c0), pt, qt)
    else:
        adb = (cdiv(ppe * q_, ad), cdiv(p_sz[1] * q_, ad))
        rows = (min(halo_sum(ppe, ppe, st, r), halo_sum(ppe, 1, st, r)),
                min(halo_sum(p_sz[1], p_sz[1], st, r), halo_sum(p_sz[1], 1, st, r)) if p_n[1] else 0)
        cols = min(halo_sum(q_, q_, st, s), halo_sum(q_, 1, st, s))
        fd = fill_drain(prob, arch, min(kp, k0), min(cp, c0), 1, 1)
    adb_sum = p_full * adb[0] + adb[1]
    cyc_per_adb, pj_per_adb = ad_block_costs(prob, arch, en, pk, pp, pc, pg)
    compute = cyc_per_adb * adb[0]
    ppu_cyc = float(gp * kp * ppe * q_) * (2.0 - 1.0 / nc_ne) / arch[A_PPU]
    # compulsory traffic, bytes: weights once per P share (multicast to its PEs, filled in
    # each), inputs once per K share (multicast, filled in each; depthwise: per channel)
    port = c0 * b
    outs = float(g_ * k_ * p_ * q_)
    out_b = outs * b
    w_total = float(g_ * k_ * c_ * r * s) * b
    w_fill = w_total * (p_n[0] + p_n[1])
    in_gb = float(g_ * (k_ if dw else c_) * (p_full * rows[0] + rows[1]) * cols) * b
    in_fill = in_gb if dw else in_gb * (k_n[0] + k_n[1])
    pe_in = float(gp * (kp if dw else cp) * rows[0] * cols) * b
    pe_w = float(gp * kp * cp * r * s) * b
    psum = outs * (nc_ne - 1) * accb  # reduced PE to PE over the mesh, one hop each
    half = 0.5 * arch[A_GB]
    off = arch[A_OFFCHIP]
    in_total = float(g_ * (k_ if dw else c_) * prob[P_H] * prob[P_W]) * b
    w_big = off if w_total > half else 0.0  # operands streamed from DRAM on every re-fetch
    in_big = off if in_total > half else 0.0
    ps_big = off if outs * nc_ne * accb > half else 0.0
    if w_big > 0.0:
        dram_w = w_total
    else:
        dram_w = 0.0 if prob[P_DYN] else w_total * off
    if in_big > 0.0:
        dram_in = in_gb
    else:
        dram_in = in_total * off if prob[P_IN_DRAM] else 0.0
    dram_out = out_b * off if (prob[P_OUT_DRAM] or out_b > half) else 0.0
    dram_rd = dram_w + dram_in
    gb_rd = w_total + in_gb + dram_out
    gb_wr = out_b + dram_rd
    noc_sent = w_total + in_gb + out_b
    gb_cyc = max((gb_rd + gb_wr) / arch[A_GB_BW], noc_sent / arch[A_NOC_BW])
    dram_cyc = (dram_rd + dram_out) / arch[A_DRAM_BW]
    cycles = max(max(max(compute, ppu_cyc), max(pe_in, pe_w) / port), max(gb_cyc, dram_cyc)) + fd
    wf = en[E_WRITE_FACTOR]
    energy = 0.0
    if need_energy:
        energy = (pj_per_adb * adb_sum + float(g_ * p_ * q_ * kblk * cblk * r * s) * en[E_IB_READ]
                  + in_fill * (en[E_IB_READ] / port) * wf + w_fill * (en[E_WB_READ] / port) * wf
                  + (gb_rd + gb_wr * wf) * 8.0 * en[E_GB_BIT]
                  + (noc_sent * arch[A_HOPS] + (w_fill - w_total) + (in_fill - in_gb) + psum) * 8.0 * en[E_NOC_BIT_HOP]
                  + (dram_rd + dram_out) * 8.0 * en[E_DRAM_BIT] + outs * nc_ne * en[E_PPU_OP])
    if pt > 0 and ctx.shape[0] >= N_BOUND:
        ctx[B_COMPUTE] = compute
        ctx[B_PPU] = ppu_cyc
        ctx[B_PE_IN] = pe_in
        ctx[B_PE_W] = pe_w
        ctx[B_GB] = gb_rd + gb_wr
        ctx[B_NOC] = noc_sent
        ctx[B_DRAM] = dram_rd + dram_out
        ctx[B_ENERGY] = energy
        ctx[B_LEAK] = en[E_LEAK_CYCLE]
        ctx[B_DW] = 1.0 if dw else 0.0
        ctx[B_K0] = k_sz[0]
        ctx[B_K1] = k_sz[1]
        ctx[B_C0] = c_sz[0]
        ctx[B_C1] = c_sz[1]
        # partial sums between C tiles, through the accumulation buffer (write and read)
        e_ab = outs * accb * 8.0 * en[E_AB_BIT] * (1.0 + wf)
        ctx[B_AB0] = e_ab * c_n[0]
        ctx[B_AB1] = e_ab * c_n[1]
        # one more fetch of a PE class's tiles: fills in every PE, GB reads once per multicast
        # group, DRAM when the operand is streamed; energy per byte of each
        e_fw = en[E_WB_READ] / port * wf + 8.0 * en[E_NOC_BIT_HOP]
        e_fi = en[E_IB_READ] / port * wf + 8.0 * en[E_NOC_BIT_HOP]
        hop = 8.0 * en[E_NOC_BIT_HOP] * (arch[A_HOPS] - 1.0)
        e_gw = 8.0 * en[E_GB_BIT] * (1.0 + wf * w_big) + 8.0 * en[E_DRAM_BIT] * w_big + hop
        e_gi = 8.0 * en[E_GB_BIT] * (1.0 + wf * in_big) + 8.0 * en[E_DRAM_BIT] * in_big + hop
        e_sp = (8.0 * en[E_GB_BIT] * (1.0 + wf) * (1.0 + ps_big) + 16.0 * en[E_NOC_BIT_HOP] * arch[A_HOPS]
                + 16.0 * en[E_DRAM_BIT] * ps_big)
        nq = cdiv(q_, qt)
        m = 0
        for a in range(2):
            for bb in range(2):
                for d in range(2):
                    cnt = k_n[a] * c_n[bb] * p_n[d]
                    if cnt == 0:
                        continue
                    ki = k_sz[a]
                    ci = c_sz[bb]
                    uw = float(ki * ci * r * s) * g_ * b  # one fetch of the class's weights, bytes
                    ui = float((ki if dw else ci) * rows[d] * cols) * g_ * b
                    us = float(ki * p_sz[d] * q_) * g_ * accb * cnt
                    gw = k_n[a] * c_n[bb] if d == 0 else 0  # GB reads: once per multicast group
                    gi = cnt if dw else (c_n[bb] * p_n[d] if a == 0 else 0)
                    o = B_CLS + m * B_STRIDE
                    ctx[o] = a
                    ctx[o + 1] = bb
                    ctx[o + 2] = cdiv(p_sz[d], pt) * nq
                    ctx[o + 3] = uw * gw * (1.0 + w_big)
                    ctx[o + 4] = ui * gi * (1.0 + in_big)
                    ctx[o + 5] = us * 2.0 * (1.0 + ps_big)
                    ctx[o + 6] = uw * gw
                    ctx[o + 7] = ui * gi
                    ctx[o + 8] = us * 2.0
                    ctx[o + 9] = uw * gw * w_big
                    ctx[o + 10] = ui * gi * in_big
                    ctx[o + 11] = us * 2.0 * ps_big
                    ctx[o + 12] = uw * (cnt * e_fw + gw * e_gw)
                    ctx[o + 13] = ui * (cnt * e_fi + gi * e_gi)
                    ctx[o + 14] = us * e_sp
                    m += 1
        ctx[B_NCLS] = m
    # latency search behind a PPU backlog: the layer ends when its PPU has also served the
    # backlog (objective cycles; leakage stays on the layer's own cycles)
    c_obj = max(cycles, ppu_cyc + arch[A_BACKLOG])
    if not need_energy:
        return c_obj, 0.0, compute
    return c_obj, energy + cycles * en[E_LEAK_CYCLE], compute


@register_jitable
def refetch_bounds(prob, arch, ctx, pt, qt, kt_lo, kt_hi, ct_lo, ct_hi):
    """Lower bounds (cycles, energy pJ) over the candidates of the split and tile of ``ctx``
    (:func:`lower_bounds`) whose K and C tiles lie in [``kt_lo``, ``kt_hi``] and [``ct_lo``,
    ``ct_hi``]: those of :func:`lower_bounds` plus the least re-fetch traffic any loop order
    allows (:func:`refetch_extra`, per PE class, with the fewest tiles the largest K_t and C_t
    give), the accumulation-buffer traffic between C tiles and the first tile's fill and drain
    of the smallest tiles."""
    kt = np.int64(kt_hi)
    ct = np.int64(ct_hi)
    nk = (cdiv(np.int64(ctx[B_K0]), kt), cdiv(np.int64(ctx[B_K1]), kt))
    nc = (cdiv(np.int64(ctx[B_C0]), ct), cdiv(np.int64(ctx[B_C1]), ct))
    dw = ctx[B_DW] > 0.0
    x_gb = 0.0
    x_noc = 0.0
    x_dram = 0.0
    x_en = ctx[B_AB0] * (nc[0] - 1) + ctx[B_AB1] * max(nc[1] - 1, 0)
    fill_port = max(ctx[B_PE_IN], ctx[B_PE_W])
    for m in range(np.int64(ctx[B_NCLS])):
        o = B_CLS + m * B_STRIDE
        nki = 1 if dw else nk[np.int64(ctx[o])]  # depthwise inputs are fetched once per K tile
        nci = nc[np.int64(ctx[o + 1])]
        npq = np.int64(ctx[o + 2])
        x_gb += refetch_extra(ctx[o + 3], ctx[o + 4], ctx[o + 5], nki, nci, npq)
        x_noc += refetch_extra(ctx[o + 6], ctx[o + 7], ctx[o + 8], nki, nci, npq)
        x_dram += refetch_extra(ctx[o + 9], ctx[o + 10], ctx[o + 11], nki, nci, npq)
        x_en += refetch_extra(ctx[o + 12], ctx[o + 13], ctx[o + 14], nki, nci, npq)
        if m == 0:  # the busiest PE re-fetches its inputs or its weights through its fill ports
            fill_port = min(max(ctx[B_PE_IN] * nki, ctx[B_PE_W]), max(ctx[B_PE_IN], ctx[B_PE_W] * npq))
    port = arch[A_C0] * arch[A_BYTES]
    gb_cyc = max((ctx[B_GB] + x_gb) / arch[A_GB_BW], (ctx[B_NOC] + x_noc) / arch[A_NOC_BW])
    dram_cyc = (ctx[B_DRAM] + x_dram) / arch[A_DRAM_BW]
    cycles = (max(max(max(ctx[B_COMPUTE], ctx[B_PPU]), fill_port / port), max(gb_cyc, dram_cyc))
              + fill_drain(prob, arch, kt_lo, ct_lo, pt, qt))
    return max(cycles, ctx[B_PPU] + arch[A_BACKLOG]), ctx[B_ENERGY] + x_en + cycles * ctx[B_LEAK]


def nonmac_cost(ops, in_bytes, out_bytes, in_dram, out_dram, is_copy, fused, arch, en, out):
    """Cost of a non-MAC layer (eltwise, norm, softmax, resize, pool, concat), written to ``out``.

    SPEC.md 4: PPU time at ``ppu_elems_per_cycle`` per PE over all PEs, overlapped with the
    GB/NoC and DRAM traffic of reading the input and writing the output. ``fused`` work rides
    the producer's drain: PPU energy only, 0 cycles. ``is_copy`` (concat) is free: its
    producers write their outputs into channel slices of the concatenated tensor (address
    offsets, the usual accelerator-compiler lowering), so the traffic is already counted at
    the producers and the consumer; 0 cycles, 0 energy.
    """
    out[:] = 0.0
    out[O_BOUND] = 5
    if is_copy:
        return
    if fused:
        out[O_PPU_ELEMS] = ops
        out[O_E_PPU] = ops * en[E_PPU_OP]
        out[O_ENERGY] = out[O_E_PPU]
        return
    half = 0.5 * arch[A_GB]
    off = arch[A_OFFCHIP]  # 0 in the accelerator scope: no DRAM
    dram_rd = in_bytes * off if (in_dram or in_bytes > half) else 0.0
    dram_wr = out_bytes * off if (out_dram or out_bytes > half) else 0.0
    gb_rd = in_bytes + dram_wr
    gb_wr = out_bytes + dram_rd
    noc_sent = in_bytes + out_bytes
    ppu_cyc = ops / (arch[A_NUM_PE] * arch[A_PPU])
    gb_cyc = max((gb_rd + gb_wr) / arch[A_GB_BW], noc_sent / arch[A_NOC_BW])
    dram_cyc = (dram_rd + dram_wr) / arch[A_DRAM_BW]
    terms = (0.0, 0.0, 0.0, gb_cyc, dram_cyc, ppu_cyc)
    bound = 5
    for i in (3, 4):
        if terms[i] > terms[bound]:
            bound = i
    cycles = terms[bound]
    out[O_GB_CYC] = gb_cyc
    out[O_DRAM_CYC] = dram_cyc
    out[O_PPU_CYC] = ppu_cyc
    out[O_CYCLES] = cycles
    out[O_E_PPU] = ops * en[E_PPU_OP]
    out[O_E_GB] = (gb_rd + gb_wr * en[E_WRITE_FACTOR]) * 8.0 * en[E_GB_BIT]
    out[O_E_NOC] = noc_sent * arch[A_HOPS] * 8.0 * en[E_NOC_BIT_HOP]
    out[O_E_DRAM] = (dram_rd + dram_wr) * 8.0 * en[E_DRAM_BIT]
    out[O_E_LEAK] = cycles * en[E_LEAK_CYCLE]
    out[O_ENERGY] = out[O_E_PPU] + out[O_E_GB] + out[O_E_NOC] + out[O_E_DRAM] + out[O_E_LEAK]
    out[O_GB_READ] = gb_rd
    out[O_GB_WRITE] = gb_wr
    out[O_NOC_SENT] = noc_sent
    out[O_DRAM_READ] = dram_rd
    out[O_DRAM_WRITE] = dram_wr
    out[O_PPU_ELEMS] = ops
    out[O_BOUND] = bound
