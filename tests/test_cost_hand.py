"""Hand-worked cost cases on a tiny architecture, the SPEC.md 5 energy sanity target,
breakdown consistency and objective validation.

Tiny architecture: 1 PE, K0 = C0 = 4, AD = 2, 8-bit data, 24-bit sums, 1 KiB weight,
input and accumulation buffers, 64 KiB global buffer at 16 B/cycle, NoC 8 B/cycle,
DRAM 12.5 GB/s at 1.25 GHz = 10 B/cycle, PPU 2 elements/cycle, 0.67 V (= the tech
reference, so no voltage scaling). One PE: a 1 x 1 mesh, 1 NoC hop.
"""

from __future__ import annotations

import pytest

from accelsim.arch.area import arch_area_mm2
from accelsim.arch.config import arch_from_dict, load_arch, load_tech
from accelsim.cost import COMPONENTS, OBJECTIVES, map_layer, simulate
from accelsim.cost.model import evaluate_mapping
from accelsim.errors import AccelsimError
from accelsim.workload import Layer, Op, Workload

REL = 1e-12  # every number below is exact arithmetic on the same inputs

TINY = arch_from_dict(dict(
    load_arch("E").model_dump(), name="tiny", num_pe=1, k0=4, c0=4, accum_depth=2,
    weight_buffer_kb=1, input_buffer_kb=1, accum_buffer_kb=1, global_buffer_kb=64,
    global_buffer_bandwidth=16, noc_bandwidth=8, dram_bandwidth_gbps=12.5,
    ppu_elems_per_cycle=2, pe_array_area_mm2=None))


def tech_energies() -> dict[str, float]:
    """Per-access energies of TINY in pJ, by hand from the 5 nm tech file (SPEC.md 5)."""
    t = load_tech(TINY)
    width = 4 * 8 / 256  # a C0 = 4 byte port vs the 256-bit reference
    return {
        "mac": t.e("mac_pj"), "rmw": t.e("accumulation_rmw_pj"),
        "ib": t.e("input_buffer_read_pj") * (1 / 64) ** 0.6 * width,   # 1 KiB vs 64 KiB
        # one bank per lane: 1 KiB / 4 lanes = 0.25 KiB vs the 128 KiB / 32 lanes = 4 KiB bank
        "wb": t.e("weight_buffer_read_pj") * (0.25 / 4) ** 0.6 * width,
        "gb_bit": t.e("global_buffer_read_pj") / 256 * (64 / 2048) ** 0.6,
        "noc": t.e("noc_pj_per_bit_hop"),
        # control: the measured 23 fJ per slot of the 1024-slot reference PE, less the per-PE part
        "ctrl": t.e("control_per_mac_slot_cycle_pj") - t.e("control_per_pe_cycle_pj") / 1024,
        "ctrl_pe": t.e("control_per_pe_cycle_pj"),
        "ppu_op": t.e("ppu_op_pj"),
        "dram_bit": t.e("dram_lpddr4_pj_per_bit"), "wf": t.sram_write_factor,
        "leak_cycle": t.e("leakage_mw_per_mm2") * arch_area_mm2(TINY) / 1.25,
    }


def check(cost, cycles, terms, counts, energy_pj):
    assert cost.cycles == pytest.approx(cycles, rel=REL)
    for k, v in terms.items():
        assert cost.terms[k] == pytest.approx(v, rel=REL, abs=1e-12), k
    for k, v in counts.items():
        assert cost.counts[k] == pytest.approx(v, rel=REL, abs=1e-12), k
    for k, v in energy_pj.items():
        assert cost.energy[k] * 1e12 == pytest.approx(v, rel=REL, abs=1e-12), k


ONE_TILE = dict(spatial_k=1, spatial_p=1, spatial_c=1, spatial_g=1, loop_order="K,C,PQ")


def test_1x1_conv_that_fits():
    # K = C = 8, 2 x 2 outputs; one tile holds everything: K_t = C_t = 8, P_t = Q_t = 2.
    layer = Layer("c1", Op.CONV2D, k=8, c=8, p=2, q=2)
    cost = evaluate_mapping(layer, TINY, dict(ONE_TILE, tile_k=8, tile_c=8, tile_p=2, tile_q=2),
                            scope="system")
    e = tech_energies()
    # compute = ceil(8/4) * ceil(8/4) * 1 * 1 * ceil(4/2) * 2 = 16 cycles (256 MACs / 16 per cycle)
    # fills: inputs 8*2*2 = 32 B / 4 B/cycle = 8; weights 64 B / 4 = 16
    # GB: reads 64 (W) + 32 (I) = 96, writes 32 (O) + 64 (W from DRAM) = 96 -> 192/16 = 12;
    # NoC 64 + 32 + 32 = 128 B / 8 = 16; DRAM: weights once, 64 B / 10 = 6.4; PPU 32 outs / 2 = 16
    # fill/drain: max(64, 32) / 4 = 16 + last drain 8*2*2 / 2 = 16 -> 32; cycles = 16 + 32 = 48
    terms = dict(compute=16, input_buffer=8, weight_buffer=16, global_buffer=16, dram=6.4,
                 ppu=16, fill_drain=32)
    counts = dict(macs=256, accum_rmw=32 * 2,  # 32 outputs x 2 C0 chunks
                  input_buffer_reads=4 * 2 * 2,  # 4 positions x 2 K0 blocks x 2 C0 chunks
                  weight_buffer_reads=8 * 2 * 2,  # 8 lanes x 2 chunks x 2 AD blocks
                  accum_buffer_accesses=0, input_buffer_fill_bytes=32,
                  weight_buffer_fill_bytes=64, gb_read_bytes=96, gb_write_bytes=96,
                  noc_bytes=128, dram_read_bytes=64, dram_write_bytes=0, spill_bytes=0)
    energy = dict(mac=256 * e["mac"], accumulation=64 * e["rmw"],
                  input_buffer=16 * e["ib"] + 32 * e["ib"] / 4 * e["wf"],  # per byte = read / 4 B
                  weight_buffer=32 * e["wb"] + 64 * e["wb"] / 4 * e["wf"],
                  global_buffer=(96 + 96 * e["wf"]) * 8 * e["gb_bit"],
                  noc=128 * 1 * 8 * e["noc"], dram=64 * 8 * e["dram_bit"],
                  control=16 * (16 * e["ctrl"] + e["ctrl_pe"]),  # 16 busy cycles x (16 MAC slots + the PE)
                  ppu=32 * e["ppu_op"],  # 32 outputs drained once
                  leakage=48 * e["leak_cycle"])
    check(cost, 48, terms, counts, energy)
    assert cost.bound == "compute"  # compute, weight_buffer, global_buffer, ppu tie at 16: first wins
    assert cost.utilization == pytest.approx(256 / (48 * 16), rel=REL)


def test_3x3_conv_c_not_multiple_of_c0():
    # K = 4, C = 6 (C0 = 4: chunks of 4 and 2), 3x3, stride 1, pad 1, 2 x 2 outputs (input 2 x 2)
    layer = Layer("c3", Op.CONV2D, k=4, c=6, p=2, q=2, r=3, s=3, padding=1)
    cost = evaluate_mapping(layer, TINY, dict(ONE_TILE, tile_k=4, tile_c=6, tile_p=2, tile_q=2),
                            scope="system")
    e = tech_energies()
    # compute = 1 * ceil(6/4)=2 * 9 * ceil(4/2)*2 = 72 cycles; 864 MACs -> 6 of 8 multipliers busy
    # input tile incl. halo 6 * 4 * 4 = 96 B -> 24 cycles; weights 4*6*9 = 216 B -> 54 cycles
    # GB reads 216 + 96 = 312, writes 16 + 216 = 232 -> 544/16 = 34; NoC 216+96+16 = 328/8 = 41
    # DRAM 216 / 10 = 21.6; PPU 16/2 = 8; fill/drain 216/4 + 16/2 = 62; cycles 72 + 62 = 134
    terms = dict(compute=72, input_buffer=24, weight_buffer=54, global_buffer=41, dram=21.6,
                 ppu=8, fill_drain=62)
    counts = dict(macs=864, accum_rmw=16 * 9 * 2, input_buffer_reads=4 * 1 * 2 * 9,
                  weight_buffer_reads=4 * 2 * 9 * 2, input_buffer_fill_bytes=96,
                  weight_buffer_fill_bytes=216, gb_read_bytes=312, gb_write_bytes=232,
                  noc_bytes=328, dram_read_bytes=216)
    # every MAC slot of the busy PE fires each cycle: 72 cycles x 16 slots, 72 x 4 lane RMWs
    energy = dict(mac=72 * 16 * e["mac"], accumulation=288 * e["rmw"],
                  input_buffer=72 * e["ib"] + 96 * e["ib"] / 4 * e["wf"],
                  weight_buffer=144 * e["wb"] + 216 * e["wb"] / 4 * e["wf"],
                  global_buffer=(312 + 232 * e["wf"]) * 8 * e["gb_bit"],
                  noc=328 * 8 * e["noc"], dram=216 * 8 * e["dram_bit"],
                  control=72 * (16 * e["ctrl"] + e["ctrl_pe"]), ppu=16 * e["ppu_op"],
                  leakage=134 * e["leak_cycle"])
    check(cost, 134, terms, counts, energy)
    assert cost.bound == "compute"
    assert cost.macs / (cost.terms["compute"] * 16) == pytest.approx(0.75, rel=REL)


def test_depthwise_conv():
    # 8 channels on lanes (C = 1: one active multiplier of C0 = 4 per lane), 3x3, pad 1, 2 x 2
    layer = Layer("dw", Op.DWCONV2D, k=8, c=8, p=2, q=2, r=3, s=3, padding=1, groups=8)
    cost = evaluate_mapping(layer, TINY, dict(ONE_TILE, tile_k=8, tile_c=1, tile_p=2, tile_q=2),
                            scope="system")
    e = tech_energies()
    # compute = ceil(8/4)=2 * 1 * 9 * 4 = 72 cycles for 288 MACs: 1/4 of the multipliers
    # inputs: K_t = 8 channels x 4 x 4 halo = 128 B -> 32; weights 8*9 = 72 B -> 18
    # GB reads 72 + 128 = 200, writes 32 + 72 = 104 -> 19; NoC 72+128+32 = 232/8 = 29
    # DRAM 72/10 = 7.2; PPU 32/2 = 16; fill/drain max(72, 128)/4 + 32/2 = 48; cycles 120
    terms = dict(compute=72, input_buffer=32, weight_buffer=18, global_buffer=29, dram=7.2,
                 ppu=16, fill_drain=48)
    counts = dict(macs=288, accum_rmw=288,  # one RMW per lane-cycle: 72 cycles x 4 lanes
                  input_buffer_reads=4 * 2 * 1 * 9, weight_buffer_reads=8 * 1 * 9 * 2,
                  input_buffer_fill_bytes=128, weight_buffer_fill_bytes=72,
                  gb_read_bytes=200, gb_write_bytes=104, noc_bytes=232, dram_read_bytes=72)
    # the 3 idle multipliers of each lane toggle too: 72 cycles x 16 slots
    energy = dict(mac=72 * 16 * e["mac"], accumulation=288 * e["rmw"],
                  input_buffer=72 * e["ib"] + 128 * e["ib"] / 4 * e["wf"],
                  weight_buffer=144 * e["wb"] + 72 * e["wb"] / 4 * e["wf"],
                  global_buffer=(200 + 104 * e["wf"]) * 8 * e["gb_bit"],
                  noc=232 * 8 * e["noc"], dram=72 * 8 * e["dram_bit"],
                  control=72 * (16 * e["ctrl"] + e["ctrl_pe"]), ppu=32 * e["ppu_op"],
                  leakage=120 * e["leak_cycle"])
    check(cost, 120, terms, counts, energy)
    # depthwise costs far more PE energy per MAC than the dense 1x1 case (SPEC.md 3)
    dense = evaluate_mapping(Layer("c1", Op.CONV2D, k=8, c=8, p=2, q=2), TINY,
                             dict(ONE_TILE, tile_k=8, tile_c=8, tile_p=2, tile_q=2), scope="system")
    pe = ("mac", "accumulation", "weight_buffer", "input_buffer")
    assert (sum(cost.energy[c] for c in pe) / 288) > 1.5 * (sum(dense.energy[c] for c in pe) / 256)


def test_search_never_worse_than_hand_mapping():
    # the hand mappings above are in the space: the optimum cannot be slower
    layer = Layer("c1", Op.CONV2D, k=8, c=8, p=2, q=2)
    assert map_layer(layer, TINY).cycles <= 48


def test_linear_fuse_energy_per_mac_sanity():
    # SPEC.md 5 sanity: K0 = C0 = 32, AD = 16, 128 KB WB, 64 KB IB (arch B) on SegFormer-B2
    # decode_head.linear_fuse (1x1, 3072 -> 768 at 128x128). By hand: 60 + 450/32 +
    # 4000/(32*16) + 4900/1024 + 23 = 109.8 fJ per MAC, plus small fill terms.
    layer = Layer("decode_head.linear_fuse", Op.CONV2D, k=768, c=3072, p=128, q=128)
    cost = map_layer(layer, "B")
    pe = sum(cost.energy[c] for c in ("mac", "accumulation", "weight_buffer", "input_buffer", "control",
                                      "ppu"))
    fj = pe / cost.macs * 1e15
    assert 100 <= fj <= 130
    assert fj == pytest.approx(109.8, rel=0.05)  # within 5 % of the hand sum


def test_breakdown_sums_to_total():
    layers = (Layer("a", Op.CONV2D, k=64, c=32, p=16, q=16, r=3, s=3, padding=1),
              Layer("act", Op.ELTWISE, k=64, c=64, p=16, q=16, fn="relu", fused=True),
              Layer("n", Op.NORM, k=64, c=64, p=16, q=16, fn="layernorm", ops_per_element=5))
    wl = Workload("w", "test", "t", (16, 16), 10, layers)
    res = simulate(wl, "E")
    assert sum(res.energy_breakdown.values()) == pytest.approx(res.energy_j, rel=1e-9)
    cols = [f"energy_{c}_j" for c in COMPONENTS]
    assert res.layers[cols].sum(axis=1).to_numpy() == pytest.approx(res.layers["energy_j"].to_numpy(), rel=1e-9)
    # a fused activation costs PPU energy only and no cycles
    act = res.layers.set_index("name").loc["act"]
    assert act["cycles"] == 0 and act["energy_j"] == pytest.approx(act["energy_ppu_j"], rel=1e-12)


def test_objective_validation():
    layer = Layer("a", Op.LINEAR, k=8, c=8)
    with pytest.raises(AccelsimError, match="latency, energy, edp"):
        map_layer(layer, TINY, objective="speed")
    with pytest.raises(AccelsimError, match="unknown objective"):
        simulate(Workload("w", "t", "t", (1, 1), 1, (layer,)), TINY, objective="fast")
    assert OBJECTIVES == ("latency", "energy", "edp")
