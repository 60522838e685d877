"""The mapping as a loop nest (`accelsim map`, `simulate --show-mapping`) and user-given
mappings (`--mapping FILE.yaml`).

The hand-worked case is docs/mapping.md's: ResNet-50 layer3.1.conv2 (3x3, 256 -> 256,
14 x 14, stride 1, padding 1) on arch E (16 PEs, K0 = C0 = 32, AD = 16, 8-bit data,
24-bit sums, 128/32/32 KiB weight/input/accumulation buffers, 2 MiB global buffer at
256 B/cycle, NoC 128 B/cycle, DRAM 68.3 GB/s / 1.25 GHz = 54.64 B/cycle, PPU 32 per
cycle) under the mapping below. Every number is integer arithmetic on those inputs, so
the tolerance is exact except for the one division by 54.64 (relative 1e-12).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelsim
from accelsim.arch.config import load_arch
from accelsim.cli.main import main
from accelsim.cost.loopnest import loop_nest
from accelsim.cost.mapspace import MappingError, check_mapping, mapping_yaml
from accelsim.cost.model import Packed, evaluate_mapping, layer_dram_flags, map_layer, problem_vector
from accelsim.workload import Layer, Op

LAYER = Layer("layer3.1.conv2", Op.CONV2D, k=256, c=256, p=14, q=14, r=3, s=3, padding=1)
MAPPING = dict(spatial_k=2, spatial_p=8, spatial_c=1, spatial_g=1, tile_k=32, tile_c=32,
               tile_p=2, tile_q=14, loop_order="K,C,PQ")
DRAM_BPC = 68.3 / 1.25  # bytes per cycle


def _hand_cycles() -> dict[str, float]:
    return {
        # 1 group x ceil(128/32) K0 blocks x ceil(256/32) C0 chunks x 3 x 3 x one 2x14 tile of
        # 28 positions = 2 AD blocks x 16
        "compute": 1 * 4 * 8 * 3 * 3 * 2 * 16,                      # 9,216
        # weights of the PE's 128 K x 256 C x 9 taps, each (K, C) tile once, 32 B per cycle
        "weight_buffer": 128 * 256 * 9 / 32,                          # 9,216
        # inputs: C_t x 4 halo rows x 16 halo columns per tile, fetched again for each of
        # the 4 K tiles (K is outside C): 4 x 256 x 4 x 16 B
        "input_buffer": 4 * 256 * 4 * 16 / 32,                        # 2,048
        # GB reads 589,824 (weights) + 458,752 (7 row groups x 65,536 input B) and writes
        # 50,176 (outputs) + 589,824 (weights staged from DRAM): 1,688,576 / 256 = 6,596;
        # NoC 589,824 + 458,752 + 50,176 = 1,098,752 / 128 = 8,584 (the larger)
        "global_buffer": 1_098_752 / 128,
        # weights (576 KiB) fit half the 2 MiB GB: read once; activations stay on chip
        "dram": 589_824 / DRAM_BPC,
        "ppu": 128 * 2 * 14 / 32,                                     # 112
        # first tile: max(9,216 B weights, 2,048 B inputs) / 32 + last drain 32 x 28 / 32
        "fill_drain": 9216 / 32 + 32 * 28 / 32,                       # 316
    }


def test_hand_worked_3x3_conv_loop_nest():
    # the system scope: with the global buffer and DRAM, as docs/mapping.md works it by hand
    cost = evaluate_mapping(LAYER, "E", MAPPING, scope="system")
    nest = loop_nest(LAYER, "E", cost, "system")
    hand = _hand_cycles()
    for term in nest.terms:
        assert term.cycles == pytest.approx(hand[term.name], rel=1e-12, abs=0), term.name
    assert nest.bound == "dram" and [t.name for t in nest.terms if t.bound] == ["dram"]
    assert nest.cycles == pytest.approx(hand["dram"] + hand["fill_drain"], rel=1e-12)
    assert nest.utilization == pytest.approx(115_605_504 / (nest.cycles * 16384), rel=1e-12)
    assert nest.pes_used == 14  # 2 K shares of 128 x 7 groups of 2 output rows
    levels = {lv.name: lv for lv in nest.levels}
    loops = lambda name: [(lp.dim, lp.trips, lp.spatial) for lp in levels[name].loops]  # noqa: E731
    assert loops("GlobalBuffer") == [("K", 4, False), ("C", 8, False)]  # PQ: 1 trip, left out
    assert loops("inter_PE_spatial") == [("K", 2, True), ("P", 8, True)]
    assert loops("PE") == [("PQ", 2, False), ("R", 3, False), ("S", 3, False)]
    assert loops("collectors") == [("PQ", 16, False), ("K", 32, True), ("C", 32, True)]
    held = {h.operand: (h.elements, h.bytes) for h in levels["PE"].held}
    assert held == {"weights": (32 * 32 * 9, 9216), "inputs": (32 * 4 * 16, 2048),
                    "partial_sums": (32 * 2 * 14, 32 * 2 * 14 * 3)}
    traffic = {t.path: t for t in nest.traffic}
    assert (traffic["DRAM -> global buffer"].weights, traffic["DRAM -> global buffer"].inputs) == (589_824, 0)
    assert (traffic["global buffer -> PEs"].weights, traffic["global buffer -> PEs"].inputs) == (589_824, 458_752)
    assert traffic["PEs -> global buffer"].outputs == 14 * 14 * 256
    # every PE that has work fills its buffers: 14 x 294,912 weight B, 14 x 65,536 input B
    fills = traffic["PE buffer fills (all PEs)"]
    assert (fills.weights, fills.inputs) == (14 * 294_912, 14 * 65_536)
    # the printout says the same, in Timeloop's map.txt shape
    text = nest.text()
    for line in ("| for K in [0:4)", "|   for C in [0:8)", "|     for K in [0:2) (Spatial)",
                 "|       for P in [0:8) (Spatial)", "|         for PQ in [0:2)",
                 "|           for R in [0:3)", "|             for S in [0:3)",
                 "|                     << Compute >>",
                 "PE [ weights:9216 (9 KiB of 128 KiB) inputs:2048 (2 KiB of 32 KiB) "
                 "partial_sums:896 (2.625 KiB of 32 KiB) ]",
                 "(14 of 16 PEs get work)", "K_t = 32 of 128", "C_t = 32 of 256",
                 "blocks of AD positions of 16 (last 12)"):
        assert line in text, line
    bound_line = next(ln for ln in text.splitlines() if "<- bound" in ln)
    assert bound_line.split()[:2] == ["dram", "10,794.73"]
    assert "(589,824 + 0) B / 54.64 B/cycle" in bound_line


def test_the_resnet50_layer_is_the_hand_worked_one():
    # docs/mapping.md runs `accelsim map -w resnet50 --layer layer3.1.conv2`
    wl = accelsim.load_workload("resnet50")
    assert wl.layer("layer3.1.conv2").shape_key() == LAYER.shape_key()
    assert layer_dram_flags(wl, "layer3.1.conv2") == {"input_from_dram": False, "output_to_dram": False}


def test_cli_map_text_json_and_user_mapping(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(dict(MAPPING, layer="layer3.1.conv2")))
    args = ["map", "-w", "resnet50", "--layer", "layer3.1.conv2", "--mapping", str(path), "--scope", "system"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "<- bound" in text and "vs the searched optimum (objective latency" in text
    assert main(args + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    nest = data["loop_nest"]
    assert nest["mapping"] == MAPPING and nest["bound"] == "dram"
    assert nest["cycles"] == pytest.approx(_hand_cycles()["dram"] + 316, rel=1e-12)
    # the searched optimum is within the 1 % tolerance of the fastest mapping, so no given
    # mapping is faster than it by more than that (docs/cost_model.md, Objectives)
    assert data["ratio_to_searched"]["cycles"] >= 1 / 1.01
    assert data["searched"]["cycles"] <= nest["cycles"] * 1.01


def test_user_mapping_equal_to_the_optimum_costs_the_same(tmp_path, capsys):
    # exact: the given mapping goes through the same candidate_cost as the search
    wl = accelsim.load_workload("segformer-b0")
    name = "decode_head.linear_fuse"
    flags = layer_dram_flags(wl, name)
    for objective in ("latency", "energy"):
        best = map_layer(wl.layer(name), "E", objective=objective, **flags)
        again = evaluate_mapping(wl.layer(name), "E", best.mapping, **flags)
        assert (again.cycles, again.energy, again.terms, again.counts) == \
            (best.cycles, best.energy, best.terms, best.counts)
    out = tmp_path / "best.yaml"
    assert main(["map", "-w", "segformer-b0", "--layer", name, "--save-mapping", str(out)]) == 0
    capsys.readouterr()
    assert main(["map", "-w", "segformer-b0", "--layer", name, "--mapping", str(out),
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ratio_to_searched"] == {"cycles": 1.0, "energy": 1.0, "edp": 1.0}
    assert data["loop_nest"]["cycles"] == data["searched"]["cycles"]


def test_simulate_show_mapping_matches_the_simulated_row(capsys):
    assert main(["simulate", "-w", "resnet50", "--show-mapping", "layer3.1.conv2",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    row = next(r for r in data["layers"] if r["name"] == "layer3.1.conv2")
    (nest,) = data["loop_nests"]
    # the same cost (a memo hit); the table's JSON keeps 10 significant digits
    assert nest["cycles"] == pytest.approx(row["cycles"], rel=1e-9) and nest["bound"] == row["bound"]
    assert nest["mapping"]["loop_order"] == row["loop_order"]
    assert {k: nest["mapping"][k] for k in ("spatial_k", "tile_k", "tile_q")} == \
        {k: row[k] for k in ("spatial_k", "tile_k", "tile_q")}
    assert main(["simulate", "-w", "resnet50", "--show-mapping", "layer3.1.conv2"]) == 0
    assert "layer3.1.conv2 (conv2d) on arch E" in capsys.readouterr().out


def _bad(change: dict, drop: str = "") -> dict:
    m = dict(MAPPING, **change)
    m.pop(drop, None)
    return m


@pytest.mark.parametrize("content, fragment", [
    # 128 x 256 x 3 x 3 weights = 288 KiB > the 128 KiB weight buffer
    (_bad({"tile_k": 128, "tile_c": 256, "spatial_k": 1}),
     "fields tile_k, tile_c: weight tile tile_k x tile_c x R x S = 128x256x3x3 x 1 B = 288 KiB "
     "exceed weight_buffer_kb=128 of arch E"),
    # 256 channels x 16 x 16 halo window = 64 KiB > the 32 KiB input buffer
    (_bad({"tile_c": 256, "spatial_p": 1, "tile_p": 14}),
     "fields tile_c, tile_p, tile_q: input tile with halo tile_c x ((tile_p-1)*stride+R) x "
     "((tile_q-1)*stride+S) = 256x16x16 x 1 B = 64 KiB exceed input_buffer_kb=32 of arch E"),
    (_bad({"spatial_k": 4, "spatial_p": 8}), "4x8x1x1 = 32 PEs exceed num_pe=16 of arch E"),
    (_bad({"spatial_p": 16}), "field 'spatial_p'=16 exceeds the layer's output rows, P=14"),
    (_bad({"spatial_k": 9}), "field 'spatial_k'=9 exceeds the layer's K0 blocks, ceil(K=256 / K0=32) = 8"),
    (_bad({"tile_k": 48}), "field 'tile_k'=48 must be a multiple of K0=32 or equal the PE's K share 128"),
    (_bad({"tile_p": 3}), "field 'tile_p'=3 exceeds the PE's P share 2 (P=14 over spatial_p=8)"),
    (_bad({"loop_order": "K,Q,P"}), "field 'loop_order' is 'K,Q,P'; allowed (outermost first): K,C,PQ |"),
    (_bad({}, drop="tile_q"), "field 'tile_q' is missing"),
    (_bad({"tile_p": 2.5}), "field 'tile_p' must be an integer >= 1, got 2.5"),
    (_bad({"tile_p": "two"}), "field 'tile_p' must be an integer >= 1, got 'two'"),
    (_bad({"spatial_g": 0}), "field 'spatial_g' must be an integer >= 1, got 0"),
    (_bad({"tile_x": 4}), "unknown field(s) tile_x; allowed: spatial_k"),
    (_bad({"layer": "fc"}), "field 'layer' is 'fc' but --layer is 'layer3.1.conv2'"),
    ("spatial_k: [1, 2\n", "malformed YAML at line"),
    ("- 1\n- 2\n", "expected a mapping of spatial_k"),
])
def test_invalid_mapping_is_one_line_exit_2(tmp_path, capsys, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    assert main(["map", "-w", "resnet50", "--layer", "layer3.1.conv2", "--mapping", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: ") and fragment in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("args, fragment", [
    (["map", "-w", "resnet50", "--layer", "layer3.1.conv2", "--mapping", "{tmp}/none.yaml"],
     "none.yaml: mapping file not found"),
    (["map", "-w", "resnet50", "--layer", "layer3.1.conv"], "did you mean layer3.1.conv3, layer3.1.conv2, layer3.1.conv1?"),
    (["map", "-w", "resnet50", "--layer", "layer3.1.relu"], "is a eltwise layer: only MAC layers"),
    (["simulate", "-w", "resnet50", "--show-mapping", "fc", "--format", "csv"], "not csv"),
])
def test_map_cli_errors(tmp_path, capsys, args, fragment):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and fragment in err and len(err.splitlines()) == 1, err


@st.composite
def _layer_and_arch(draw):
    arch = load_arch("E").replace(
        name="rand", num_pe=draw(st.sampled_from([1, 2, 4, 6])), k0=draw(st.sampled_from([4, 8])),
        c0=draw(st.sampled_from([4, 8])), accum_depth=draw(st.sampled_from([2, 4])),
        weight_buffer_kb=draw(st.sampled_from([1.0, 2.0])), input_buffer_kb=1.0,
        accum_buffer_kb=draw(st.sampled_from([0.5, 1.0])))
    dw = draw(st.booleans())
    k = draw(st.integers(1, 24))
    r = draw(st.sampled_from([1, 3]))
    if dw:
        layer = Layer("l", Op.DWCONV2D, k=k, c=k, groups=k, p=draw(st.integers(1, 6)),
                      q=draw(st.integers(1, 6)), r=r, s=r, padding=r // 2)
    else:
        layer = Layer("l", Op.CONV2D, k=k, c=draw(st.integers(1, 24)), p=draw(st.integers(1, 6)),
                      q=draw(st.integers(1, 6)), r=r, s=r, stride=draw(st.sampled_from([1, 2])),
                      padding=r // 2)
    return layer, arch


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_layer_and_arch(), st.sampled_from(["latency", "energy", "edp"]))
def test_searched_mappings_pass_the_check_and_cost_the_same(case, objective):
    # invariant: the checker accepts exactly the mapper's space, so every searched optimum
    # passes it, and costing that mapping again reproduces the searched cost bit for bit
    layer, arch = case
    try:
        best = map_layer(layer, arch, objective=objective)
    except accelsim.AccelsimError:
        return  # the smallest tile does not fit this random arch: nothing to check
    packed = Packed.of(arch)
    assert check_mapping(problem_vector(layer), packed.arch_vec, arch.name, best.mapping) == best.mapping
    again = evaluate_mapping(layer, arch, best.mapping)
    assert (again.cycles, again.energy) == (best.cycles, best.energy)
    nest = loop_nest(layer, arch, best)
    assert nest.cycles == best.cycles and np.isfinite(nest.cycles)
    assert yaml.safe_load(mapping_yaml(best.mapping, "l")) == dict(best.mapping, layer="l")


def test_check_mapping_api_raises_mapping_error():
    packed = Packed.of(load_arch("E"))
    with pytest.raises(MappingError, match=r"^m\.yaml: field 'tile_k'=48"):
        check_mapping(problem_vector(LAYER), packed.arch_vec, "E", _bad({"tile_k": 48}), "m.yaml")
