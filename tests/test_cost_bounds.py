"""Branch-and-bound bounds and the mapper's space reductions (accelsim.cost.equations,
accelsim.cost.mapper), checked against the cost of every candidate they stand for.

Each bound of :func:`~accelsim.cost.equations.lower_bounds` (a split; a split and a P_t x
Q_t tile) and :func:`~accelsim.cost.equations.refetch_bounds` (a tile's candidates with K and
C tiles in a range) must be at most the cycles, energy and compute cycles of every candidate
of its set, computed by :func:`candidate_cost` on each one. The comparison allows 1e-12
relative: the two sum the same terms in a different order. The space reductions are checked
against brute force, and on layers of SegFormer-B2, Swin-T UPerNet and DETR-R50 the pruned
search returns the unpruned search's optimum under every objective.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from accelsim.arch.config import arch_from_dict, load_arch
from accelsim.cost import equations as eq
from accelsim.cost.mapper import split_options, tile_options, tile_pairs
from accelsim.cost.model import Packed, problem_vector
from accelsim.errors import ConfigError
from accelsim.workload import Layer, Op

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def cases(draw):
    """A small layer on a small architecture in one scope, with DRAM flags."""
    op = draw(st.sampled_from([Op.CONV2D, Op.LINEAR, Op.DWCONV2D, Op.MATMUL]))
    r = draw(st.sampled_from([1, 3])) if op in (Op.CONV2D, Op.DWCONV2D) else 1
    stride = draw(st.sampled_from([1, 2])) if r > 1 else draw(st.sampled_from([1, 2])) if op is Op.CONV2D else 1
    c = draw(st.integers(1, 20))
    k = c if op is Op.DWCONV2D else draw(st.integers(1, 20))
    layer = Layer("x", op, k=k, c=c, p=draw(st.integers(1, 7)), q=draw(st.integers(1, 7)), r=r, s=r,
                  stride=stride, padding=r // 2, groups=c if op is Op.DWCONV2D else 1,
                  batch=draw(st.sampled_from([1, 2])))
    d = dict(load_arch("E").model_dump(), name="b", pe_array_area_mm2=None,
             num_pe=draw(st.sampled_from([1, 2, 3, 4, 6])), k0=draw(st.sampled_from([2, 4])),
             c0=draw(st.sampled_from([2, 4])), accum_depth=draw(st.sampled_from([1, 3, 4])),
             weight_buffer_kb=draw(st.sampled_from([0.25, 1.0])),
             input_buffer_kb=draw(st.sampled_from([0.125, 1.0])),
             accum_buffer_kb=draw(st.sampled_from([0.0625, 1.0])),
             global_buffer_kb=draw(st.sampled_from([0.5, 64.0])))
    try:
        arch = arch_from_dict(d)
    except ConfigError:  # a buffer too small for one tile
        arch = load_arch("E")
    packed = Packed.of(arch, draw(st.sampled_from(["accelerator", "system"])))
    prob = problem_vector(layer, draw(st.booleans()), draw(st.booleans()))
    return prob, packed.arch_vec, packed.energy_vec


def _sizes(n: int, unit: int) -> list[int]:
    return sorted({min(m * unit, n) for m in range(1, -(-n // unit) + 1)})


def _candidates(prob, arch, en, split, pt=None, qt=None):
    """(kt, ct, pt, qt, cycles, energy, compute) of every fitting candidate of ``split``
    (and tile ``pt`` x ``qt`` when given), every loop order."""
    k0, c0 = int(arch[eq.A_K0]), int(arch[eq.A_C0])
    kp = eq.split_extent(int(prob[eq.P_K]), split[0], k0)
    cp = eq.split_extent(int(prob[eq.P_C]), split[2], c0)
    ppe = eq.split_extent(int(prob[eq.P_P]), split[1], 1)
    pts = [pt] if pt else range(1, ppe + 1)
    qts = [qt] if qt else range(1, int(prob[eq.P_Q]) + 1)
    out = np.zeros(eq.N_OUT)
    for kt, ct, p_, q_ in itertools.product(_sizes(kp, k0), _sizes(cp, c0), pts, qts):
        if not eq.tiles_fit(prob, arch, kt, ct, p_, q_):
            continue
        for order in eq.ORDERS:
            eq.candidate_cost(prob, arch, en, *split, kt, ct, p_, q_, order, out)
            yield kt, ct, p_, q_, out[eq.O_CYCLES], out[eq.O_ENERGY], out[eq.O_COMPUTE]


def _splits(prob, arch):
    npe = int(arch[eq.A_NUM_PE])
    caps = [-(-int(prob[eq.P_K]) // int(arch[eq.A_K0])), int(prob[eq.P_P]),
            -(-int(prob[eq.P_C]) // int(arch[eq.A_C0])), int(prob[eq.P_G])]
    for split in itertools.product(*(range(1, min(npe, c) + 1) for c in caps)):
        if np.prod(split) <= npe:
            yield split


def _le(bound, value):
    return bound <= value * (1 + 1e-12)


@SETTINGS
@given(cases(), st.data())
def test_split_bounds_hold(case, data):
    prob, arch, en = case
    split = data.draw(st.sampled_from(list(_splits(prob, arch))))
    lc, le, lcomp = eq.lower_bounds(prob, arch, en, *split, 0, 0, True, np.zeros(0))
    for *_, cyc, energy, comp in _candidates(prob, arch, en, split):
        assert _le(lc, cyc) and _le(le, energy) and _le(lcomp, comp)


@SETTINGS
@given(cases(), st.data())
def test_tile_bounds_hold(case, data):
    """Bounds of a split, a P_t x Q_t tile and K / C tile ranges (the mapper's tile, K-tile
    and K x C-tile levels use such ranges) hold for every candidate in the set."""
    prob, arch, en = case
    split = data.draw(st.sampled_from(list(_splits(prob, arch))))
    cands = list(_candidates(prob, arch, en, split))
    if not cands:
        return
    pt, qt = data.draw(st.sampled_from(sorted({(c[2], c[3]) for c in cands})))
    ks = sorted({c[0] for c in cands if c[2:4] == (pt, qt)})
    cs = sorted({c[1] for c in cands if c[2:4] == (pt, qt)})
    kt_lo, kt_hi = sorted(data.draw(st.lists(st.sampled_from(ks), min_size=2, max_size=2)))
    ct_lo, ct_hi = sorted(data.draw(st.lists(st.sampled_from(cs), min_size=2, max_size=2)))
    ctx = np.zeros(eq.N_BOUND)
    tc, te, lcomp = eq.lower_bounds(prob, arch, en, *split, pt, qt, True, ctx)
    lc, le = eq.refetch_bounds(prob, arch, ctx, pt, qt, kt_lo, kt_hi, ct_lo, ct_hi)
    inside = [c for c in cands if c[2:4] == (pt, qt) and kt_lo <= c[0] <= kt_hi and ct_lo <= c[1] <= ct_hi]
    assert inside
    for *_, cyc, energy, comp in inside:
        assert _le(lc, cyc) and _le(le, energy) and _le(lcomp, comp)
    for *_, cyc, energy, comp in (c for c in cands if c[2:4] == (pt, qt)):
        assert _le(tc, cyc) and _le(te, energy)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 300), st.integers(1, 8), st.integers(1, 64))
def test_split_options_give_every_share_once(n, unit, cap):
    """One split per distinct per-PE share, with the fewest PEs that give it (hand rule:
    share = ceil(blocks / parts))."""
    out = np.zeros(cap, dtype=np.int64)
    got = list(out[:split_options(n, unit, cap, out)])
    blocks = -(-n // unit)
    want = {}
    for parts in range(1, min(blocks, cap) + 1):
        want.setdefault(-(-blocks // parts), parts)
    assert got == sorted(want.values())


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 200), st.integers(0, 200), st.integers(1, 8))
def test_tile_options_keep_the_smallest_size_per_tile_counts(n, rem, unit):
    rem = min(rem, n - 1)
    out = np.zeros(n + 1, dtype=np.int64)
    got = list(out[:tile_options(n, rem, unit, out)])
    want = {}
    for size in _sizes(n, unit):
        want.setdefault((-(-n // size), -(-rem // size)), size)
    assert got == sorted(want.values())


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(1, 40), st.integers(0, 40), st.integers(1, 40), st.sampled_from([1, 3, 16]))
def test_tile_pairs_keep_every_pair_no_smaller_pair_matches(ppe, prem, q, ad):
    """Every (P_t, Q_t) is listed or matched by a listed pair no larger in either size, with
    the same tile counts and no more AD blocks on both P shares (brute force)."""
    prem = min(prem, ppe - 1)
    cap = ppe * q + 1
    pts, qts, adb = (np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64),
                     np.zeros(2 * cap, dtype=np.int64))
    n = tile_pairs(ppe, prem, q, ad, ppe, ppe * q, pts, qts, adb)
    listed = set(zip(pts[:n].tolist(), qts[:n].tolist()))
    assert len(listed) == n

    def key(pt, qt):
        return (-(-ppe // pt), -(-prem // pt), -(-q // qt))

    def blocks(pt, qt):
        return eq.ad_blocks(ppe, q, pt, qt, ad), eq.ad_blocks(prem, q, pt, qt, ad) if prem else 0

    for pt, qt in itertools.product(range(1, ppe + 1), range(1, q + 1)):
        a = blocks(pt, qt)
        assert any(key(p2, q2) == key(pt, qt) and p2 <= pt and q2 <= qt
                   and all(x <= y for x, y in zip(blocks(p2, q2), a)) for p2, q2 in listed)
    # and none is matched by another listed pair (nothing redundant)
    for pt, qt in listed:
        a = blocks(pt, qt)
        assert not any((p2, q2) != (pt, qt) and key(p2, q2) == key(pt, qt) and p2 <= pt and q2 <= qt
                       and all(x <= y for x, y in zip(blocks(p2, q2), a)) for p2, q2 in listed)


def _shapes(name: str, count: int) -> list:
    """``count`` distinct MAC layer shapes of a named workload, spread over its range of sizes
    (the unpruned search of the largest would take seconds)."""
    import accelsim

    wl = accelsim.load_workload(name)
    shapes = sorted({layer.shape_key(): layer for layer in wl.layers if layer.is_mac}.values(),
                    key=lambda layer: layer.macs)
    small = shapes[: len(shapes) // 2]
    return [small[i * (len(small) - 1) // (count - 1)] for i in range(count)]


@pytest.mark.parametrize("name", ["segformer-b2", "swin-t-upernet", "detr-r50"])
def test_pruned_search_keeps_the_optimum_on_real_layers(name):
    """Energy and edp (and latency) objectives on layers of the three networks the search
    benchmark uses, both scopes: branch and bound returns the unpruned search's mapping."""
    from accelsim.arch.config import load_arch
    from accelsim.cost.mapper import search

    arch = load_arch("E")
    for layer in _shapes(name, 3):
        prob = problem_vector(layer)
        for scope in ("accelerator", "system"):
            packed = Packed.of(arch, scope)
            for obj in (eq.OBJ_LATENCY, eq.OBJ_ENERGY, eq.OBJ_EDP):
                a = search(prob, packed.arch_vec, packed.energy_vec, obj, 0, np.zeros(eq.N_OUT), True, 0.01)[0]
                b = search(prob, packed.arch_vec, packed.energy_vec, obj, 0, np.zeros(eq.N_OUT), False, 0.01)[0]
                assert a.tolist() == b.tolist(), (name, layer.name, scope, obj)
