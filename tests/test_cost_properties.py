"""Property tests (hypothesis) of the cost model and mapper."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from accelsim.arch.config import arch_from_dict, load_arch, load_tech
from accelsim.cost import equations as eq
from accelsim.cost import map_layer
from accelsim.cost.mapper import search
from accelsim.cost.model import Packed, evaluate_mapping, problem_vector
from accelsim.workload import Layer, Op

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@st.composite
def layers(draw):
    op = draw(st.sampled_from([Op.CONV2D, Op.LINEAR, Op.DWCONV2D, Op.MATMUL]))
    r = draw(st.sampled_from([1, 3, 7])) if op in (Op.CONV2D, Op.DWCONV2D) else 1
    stride = draw(st.sampled_from([1, 2, 4])) if r > 1 else 1
    c = draw(st.integers(1, 200))
    k = c if op is Op.DWCONV2D else draw(st.integers(1, 200))
    return Layer("x", op, k=k, c=c, p=draw(st.integers(1, 24)), q=draw(st.integers(1, 24)),
                 r=r, s=r, stride=stride, padding=r // 2, groups=c if op is Op.DWCONV2D else 1,
                 batch=draw(st.sampled_from([1, 2, 5])))


@st.composite
def archs(draw, num_pe=None):
    base = load_arch(draw(st.sampled_from(["E", "H", "M"]))).model_dump()
    return arch_from_dict(dict(
        base, name="p", pe_array_area_mm2=None,
        num_pe=num_pe or draw(st.sampled_from([1, 2, 4, 8, 16])),
        accum_depth=draw(st.sampled_from([1, 4, 16])),
        global_buffer_kb=draw(st.sampled_from([64, 2048]))))


@SETTINGS
@given(layers(), archs(), st.sampled_from(["latency", "energy", "edp"]), st.booleans(), st.booleans(),
       st.sampled_from(["accelerator", "system"]))
def test_bounds_and_buffers(layer, arch, objective, in_dram, out_dram, scope):
    cost = map_layer(layer, arch, objective, input_from_dram=in_dram, output_to_dram=out_dram,
                     scope=scope)
    # cycles can never beat the peak MAC rate of the whole array
    assert cost.cycles >= math.ceil(layer.macs / (arch.num_pe * arch.k0 * arch.c0))
    # the chosen PE tiles fit every buffer (SPEC.md 3), checked here from the raw config
    m = cost.mapping
    dw = layer.op is Op.DWCONV2D
    kt, ct, pt, qt = m["tile_k"], m["tile_c"], m["tile_p"], m["tile_q"]
    b = arch.bits / 8
    assert kt * ct * layer.r * layer.s * b <= arch.weight_buffer_kb * 1024
    halo = ((pt - 1) * layer.stride + layer.r) * ((qt - 1) * layer.stride + layer.s)
    assert (kt if dw else ct) * halo * b <= arch.input_buffer_kb * 1024
    assert kt * pt * qt * arch.accum_bits / 8 <= arch.accum_buffer_kb * 1024
    assert m["spatial_k"] * m["spatial_p"] * m["spatial_c"] * m["spatial_g"] <= arch.num_pe
    # energy covers at least one MAC-datapath slot per MAC and, in the system scope, the
    # compulsory DRAM traffic (SPEC.md 5)
    tech = load_tech(arch)
    vs = (arch.voltage_v / tech.reference_voltage_v) ** 2
    compulsory = 0 if layer.weight_dynamic else layer.weight_bytes()
    # the whole input only when no pixel is skipped (stride <= kernel); a streamed input with a
    # larger stride reads only the pixels its windows touch
    compulsory += layer.input_bytes() if in_dram and layer.stride <= min(layer.r, layer.s) else 0
    compulsory += layer.output_bytes() if out_dram else 0
    dram_pj = compulsory * 8 * tech.e(f"dram_{arch.dram_type}_pj_per_bit") if scope == "system" else 0.0
    # control: at least the per-slot part (the per-PE part is spread over the PE's slots)
    slot_pj = tech.e("control_per_mac_slot_cycle_pj") - tech.e("control_per_pe_cycle_pj") / 1024
    floor_pj = layer.macs * (tech.e("mac_pj") + slot_pj) * vs + dram_pj
    assert cost.energy_j * 1e12 >= floor_pj * (1 - 1e-12)
    if scope == "accelerator":  # no DRAM; the GB and NoC cost energy but never bound
        assert cost.energy["dram"] == 0.0 and cost.counts["dram_read_bytes"] == 0.0
        assert cost.bound not in ("global_buffer", "dram")
    # every byte filled into a PE buffer crossed the NoC: at least one hop each (docs/cost_model.md)
    fills = cost.counts["weight_buffer_fill_bytes"] + cost.counts["input_buffer_fill_bytes"]
    noc_pj = tech.e("noc_pj_per_bit_hop") * vs
    assert cost.energy["noc"] * 1e12 >= fills * 8 * noc_pj * (1 - 1e-12)


@SETTINGS
@given(layers(), archs(), st.sampled_from(["latency", "energy", "edp"]), st.booleans(), st.booleans())
def test_accelerator_scope_never_slower_or_costlier(layer, arch, objective, in_dram, out_dram):
    """For any layer and mapping (the optimum of either scope), the accelerator scope's cycles
    and energy are at most the system scope's: it drops the GB and NoC bandwidth bounds, DRAM
    and the GB traffic to and from DRAM, and the global buffer's leakage area, and adds
    nothing (docs/cost_model.md, Scope)."""
    flags = dict(input_from_dram=in_dram, output_to_dram=out_dram)
    for scope in ("accelerator", "system"):
        mapping = map_layer(layer, arch, objective, scope=scope, **flags).mapping
        acc = evaluate_mapping(layer, arch, mapping, scope="accelerator", **flags)
        sys_ = evaluate_mapping(layer, arch, mapping, scope="system", **flags)
        assert acc.cycles <= sys_.cycles * (1 + 1e-12)
        assert acc.energy_j <= sys_.energy_j * (1 + 1e-12)
        for comp, joules in acc.energy.items():
            assert joules <= sys_.energy[comp] * (1 + 1e-12) + 1e-30, comp


@SETTINGS
@given(st.sampled_from(["eltwise", "norm", "softmax", "resize", "pool"]), st.integers(1, 512),
       st.integers(1, 64), archs(), st.booleans(), st.booleans())
def test_accelerator_scope_never_costlier_for_nonmac_layers(kind, chans, side, arch, in_dram, out_dram):
    layer = Layer("n", Op(kind), k=chans, c=chans, p=side, q=side, ops_per_element=3)
    flags = dict(input_from_dram=in_dram, output_to_dram=out_dram)
    acc = map_layer(layer, arch, scope="accelerator", **flags)
    sys_ = map_layer(layer, arch, scope="system", **flags)
    assert acc.cycles <= sys_.cycles and acc.energy_j <= sys_.energy_j * (1 + 1e-12)


def _best(layer, arch, objective):
    packed = Packed.of(arch)
    out = np.zeros(eq.N_OUT)
    search(problem_vector(layer), packed.arch_vec, packed.energy_vec, objective, 0, out, True)
    return out


@SETTINGS
@given(layers(), archs(num_pe=4))
def test_doubling_pes_never_increases_compute(layer, arch):
    # the smaller array's whole mapping space is contained in the larger one's
    big = arch_from_dict(dict(arch.model_dump(), num_pe=2 * arch.num_pe))
    small_c = _best(layer, arch, eq.OBJ_COMPUTE)[eq.O_COMPUTE]
    big_c = _best(layer, big, eq.OBJ_COMPUTE)[eq.O_COMPUTE]
    assert big_c <= small_c
    assert _best(layer, big, eq.OBJ_LATENCY)[eq.O_CYCLES] <= _best(layer, arch, eq.OBJ_LATENCY)[eq.O_CYCLES]


@SETTINGS
@given(layers(), archs(), st.sampled_from(["latency", "energy", "edp"]))
def test_deterministic(layer, arch, objective):
    a = map_layer(layer, arch, objective)
    b = map_layer(layer, arch, objective)
    assert a == b


# ------------------------------------------------------------------ the input limits keep int64 exact
@st.composite
def huge_layers(draw):
    """MAC layers with dimensions up to FIELD_LIMITS and as much work as the layer limits
    allow: the exponents of K, C, P, Q (powers of two, each <= 2^20) add up to a total
    drawn near the MAC and halo limits for the drawn kernel, stride and batch."""
    op = draw(st.sampled_from([Op.CONV2D, Op.LINEAR, Op.MATMUL, Op.DWCONV2D]))
    conv = op in (Op.CONV2D, Op.DWCONV2D)
    r = draw(st.sampled_from([1, 3, 7, 4096])) if conv else 1
    stride = draw(st.sampled_from([1, 2, 64, 4096])) if conv else 1
    eb = draw(st.integers(0, 10))
    rbits = math.ceil(2 * math.log2(r))
    cap = min(48 - rbits - eb, 60 - 2 * math.ceil(math.log2(stride + r)) - eb,
              48 - 2 * math.ceil(math.log2(stride)) - eb)  # MACs, halo reads, input elements
    total = draw(st.integers(max(0, cap - 8), max(0, cap)))
    ek = draw(st.integers(max(0, total - 60), min(20, total)))
    ec = ek if op is Op.DWCONV2D else draw(st.integers(max(0, total - ek - 40), min(20, total - ek)))
    rest = total - ek - (0 if op is Op.DWCONV2D else ec)
    ep = draw(st.integers(max(0, rest - 20), min(20, max(rest, 0))))
    eq = min(20, max(rest - ep, 0))
    return Layer("x", op, k=2**ek, c=2**ec, p=2**ep, q=2**eq, r=r, s=r, stride=stride,
                 groups=2**ec if op is Op.DWCONV2D else 1, batch=2**eb)


@st.composite
def extreme_archs(draw):
    """Architectures at the corners of arch.config.LIMITS (power-of-two arrays keep the
    split search short; every number at its limit or its smallest useful value)."""
    base = load_arch("E").model_dump()
    big = 2**20
    return arch_from_dict(dict(
        base, name="x", pe_array_area_mm2=None, num_pe=draw(st.sampled_from([1, 16, 65536])),
        k0=draw(st.sampled_from([1, 32, 1024])), c0=draw(st.sampled_from([1, 32, 1024])),
        accum_depth=draw(st.sampled_from([1, 16, 4096])), weight_buffer_kb=big, input_buffer_kb=big,
        accum_buffer_kb=big, global_buffer_kb=draw(st.sampled_from([2048, 2**24]))))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(huge_layers(), extreme_archs())
def test_largest_layers_stay_exact(layer, arch):
    """At the size limits the cost stays exact: no int64 wrap-around (which showed as cycles
    below the compute bound and utilisations of 294912). Bound: MACs / peak MACs per
    cycle, computed here with Python integers; utilisation in (0, 1]."""
    from accelsim.errors import AccelsimError

    try:
        cost = map_layer(layer, arch, max_candidates=50)
    except AccelsimError:  # a 4096 x 4096 kernel may not fit: a clean refusal, not a wrong number
        return
    bound = -(-layer.macs // arch.macs_per_cycle)
    assert cost.cycles >= bound * (1 - 1e-12)
    assert 0 < cost.utilization <= 1 + 1e-12
    assert math.isfinite(cost.energy_j) and cost.energy_j > 0
    assert all(v >= 0 and math.isfinite(v) for v in cost.counts.values())


def test_layers_beyond_the_limits_are_refused():
    """The 2^20-per-dimension layer that once wrapped around int64 is refused, naming the limit."""
    import pytest

    with pytest.raises(ValueError, match=r"MACs = 1.15e\+18 is over the limit of 2.81e\+14 \(2\^48\)"):
        Layer("x", Op.CONV2D, k=2**20, c=2**20, p=2**20)
    with pytest.raises(ValueError, match=r"field 'k' = 2097152 must be in 1..1,048,576"):
        Layer("x", Op.LINEAR, k=2**21, c=1)
    with pytest.raises(ValueError, match="must be an integer, got True"):
        Layer("x", Op.LINEAR, k=True, c=1)
    with pytest.raises(ValueError, match="dwconv2d needs groups == c == k"):
        Layer("x", Op.DWCONV2D, k=8, c=8, groups=1)
