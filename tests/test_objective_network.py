"""The latency objective minimises the network's latency (docs/cost_model.md, Objectives).

In the accelerator scope the non-MAC layers queue on the PPU behind the MAC layers, so a
mapping changes the PPU work exposed after it; the latency search re-maps such layers behind
their backlog (:func:`accelsim.cost.model.ppu_backlogs`). Over the study's 13 configurations and
three workloads, in both scopes: with tolerance 0 (each layer's primary objective exact) no
objective gives a lower network latency than ``latency``; with the default 1 % tolerance each
layer may trade up to 1 % of its latency for energy, so ``latency`` is within 1 % of the lowest.
One memo is shared by all cases (each shape is mapped once per arch, scope and objective).
"""

from __future__ import annotations

import pytest

import accelsim
from accelsim.cost import map_layer
from accelsim.cost.model import ppu_backlogs
from accelsim.cost.settings import DEFAULT_TOLERANCE

ARCHS = "ABCDEFGHIJKLM"
WORKLOADS = ("segformer-b2", "swin-t-upernet", "ofa-resnet50")
MEMO: dict = {}


@pytest.fixture(scope="module")
def workloads():
    return {w: accelsim.load_workload(w) for w in WORKLOADS}


@pytest.mark.parametrize("tolerance", [0.0, DEFAULT_TOLERANCE])
@pytest.mark.parametrize("scope", ["accelerator", "system"])
@pytest.mark.parametrize("name", WORKLOADS)
def test_no_objective_is_faster_than_latency(workloads, name, scope, tolerance):
    wl = workloads[name]
    worse = []
    for arch in ARCHS:
        lat = {o: accelsim.simulate(wl, arch, objective=o, scope=scope, tolerance=tolerance, memo=MEMO).latency_s
               for o in ("latency", "energy", "edp")}
        allowed = min(lat.values()) * (1 + tolerance) * (1 + 1e-12)
        if lat["latency"] > allowed:
            worse.append((arch, lat))
    assert not worse


def test_the_tail_resize_is_seen_by_linear_pred(workloads):
    """SegFormer-B2 on E: the final 4x resize of the logits queues behind linear_pred, the last
    MAC layer; its backlog is that resize's PPU pass (150 x 512 x 512 x 4 ops / (16 PEs x 32))."""
    wl = workloads["segformer-b2"]
    res = accelsim.simulate(wl, "E", tolerance=0.0, memo=MEMO)
    layers = list(wl.layers)
    names = [layer.name for layer in layers]
    # each layer's own cost before the PPU queue hides the non-MAC layers (standalone passes)
    raw = [c if c.macs else map_layer(layer, "E", scope="accelerator") for c, layer in zip(res.layer_costs, layers)]
    backlog = ppu_backlogs(wl.layers, raw)
    pred = names.index("decode_head.linear_pred")
    resize_cycles = 150 * 512 * 512 * 4 / (16 * 32)
    assert backlog  # the queue is exposed after the last MAC layer
    assert max(backlog) == pred
    assert backlog[pred] == pytest.approx(resize_cycles, rel=1e-9)
    edp = accelsim.simulate(wl, "E", objective="edp", tolerance=0.0, memo=MEMO)
    assert res.latency_s <= edp.latency_s


@pytest.mark.parametrize("layer_name", ["decode_head.linear_pred", "decode_head.linear_fuse",
                                        "backbone.block1.0.mlp.dwconv.dwconv"])
@pytest.mark.parametrize("backlog", [1e4, 3e5])
def test_backlog_search_is_exact(workloads, layer_name, backlog):
    """Branch and bound behind a PPU backlog finds the same optimum as the unpruned search:
    its bounds take max(cycles, PPU cycles + backlog) exactly as the candidates do."""
    import numpy as np

    from accelsim.cost import equations as eq
    from accelsim.cost.mapper import search
    from accelsim.cost.model import Packed, problem_vector

    layer = workloads["segformer-b2"].layer(layer_name)
    packed = Packed.of(accelsim.load_arch("E")).with_backlog(backlog)
    prob = problem_vector(layer)
    outs = []
    for prune in (True, False):
        out = np.zeros(eq.N_OUT)
        best, _ = search(prob, packed.arch_vec, packed.energy_vec, eq.OBJ_LATENCY, 0, out, prune, 0.01)
        outs.append((list(best), out))
    assert outs[0][0] == outs[1][0]
    value = max(outs[0][1][eq.O_CYCLES], outs[0][1][eq.O_PPU_CYC] + backlog)
    assert value >= backlog  # the layer cannot end before its PPU has served the backlog
