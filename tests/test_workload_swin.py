"""Swin + UPerNet extractor: published totals, UPerNet structure, window padding."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import Op, load_workload


@pytest.fixture(scope="module")
def swin_t():
    return load_workload("swin-t-upernet")


def test_swin_t_published_gmacs(swin_t):
    # mmseg model zoo: UPerNet Swin-T 512x512 ADE20K = 237 "GFLOPs" (GMACs, SPEC.md
    # section 1), printed rounded to 1 G; we get 236.86. Tolerance 0.5 % = rounding plus
    # the small element-wise terms the mmcv counter adds (norm/ReLU element counts).
    assert swin_t.macs / 1e9 == pytest.approx(237, rel=5e-3)


@pytest.mark.parametrize("variant,gmacs", [("t", 945), ("s", 1038), ("b", 1188)])
def test_swin_paper_upernet_gmacs(variant, gmacs):
    # Swin paper (Liu et al. 2021) Table 3: UperNet FLOPs at 512x2048, 945/1038/1188 G;
    # rounded to 1 G, so 0.2 % (we get 944.4 / 1037.4 / 1187.4).
    wl = load_workload(f"swin-{variant}-upernet", input_size=(512, 2048))
    assert wl.macs / 1e9 == pytest.approx(gmacs, rel=2e-3)


def test_swin_t_params(swin_t):
    # Swin paper Table 3: UperNet Swin-T 60 M params, counted with mmseg's training-only
    # auxiliary FCN head (3x3 conv 384->256 + BN + 1x1 256->150 = 923,798 params, hand
    # calc). Without it: 60 M - 0.92 M; the paper rounds to 1 M, so +-0.5 M.
    aux = 384 * 256 * 9 + 2 * 256 + 256 * 150 + 150
    assert abs((swin_t.params + aux) / 1e6 - 60) <= 0.5


def test_fpn_bottleneck_and_head(swin_t):
    # SPEC.md section 7: fpn_bottleneck is a 3x3 conv 2048 -> 512 at 1/4 resolution.
    fb = swin_t.layer("decode_head.fpn_bottleneck")
    assert (fb.op, fb.c, fb.k, fb.r, fb.s, fb.p, fb.q) == (Op.CONV2D, 2048, 512, 3, 3, 128, 128)
    bott = swin_t.layer("decode_head.bottleneck")
    assert (bott.c, bott.k, bott.r, bott.p) == (768 + 4 * 512, 512, 3, 16)
    assert [swin_t.layer(f"decode_head.lateral_convs.{i}").c for i in range(3)] == [96, 192, 384]
    assert [swin_t.layer(f"decode_head.psp_modules.{i}.1").p for i in range(4)] == [1, 2, 3, 6]
    assert swin_t.layer("decode_head.conv_seg").k == 150
    assert not any("auxiliary" in layer.name for layer in swin_t.layers)
    assert swin_t.layer("decode_head.fpn_bottleneck.activate").fused


def test_window_padding_counted():
    # 224x224: stage-3 map 14x14 fits 2x2 windows; 256x256: 16x16 pads to 21x21 = 9 windows
    # of 49 tokens, so qkv runs on 441 tokens (hand calc: ceil(16/7)*7 = 21).
    wl = load_workload("swin-t-upernet", input_size=(256, 256))
    qkv = wl.layer("backbone.stages.2.blocks.0.attn.w_msa.qkv")
    assert (qkv.p, qkv.q, qkv.c, qkv.k) == (21, 21, 384, 1152)
    qk = wl.layer("backbone.stages.2.blocks.0.attn.w_msa.qk")
    assert (qk.p, qk.c, qk.k, qk.batch) == (49, 32, 49, 12 * 9)
    assert qk.macs == 12 * 9 * 49 * 49 * 32
    # the residual add stays on the unpadded 16x16 map
    add = wl.layer("backbone.stages.2.blocks.0.add1")
    assert (add.p, add.q) == (16, 16)


def test_shift_mask_and_rel_bias(swin_t):
    # shifted windows alternate: block 1 has the mask add, block 0 does not
    assert "backbone.stages.0.blocks.0.attn.w_msa.mask" not in swin_t
    mask = swin_t.layer("backbone.stages.0.blocks.1.attn.w_msa.mask")
    # 128x128 map pads to 133x133: 19*19 windows x 3 heads x 49x49 scores (hand calc)
    assert mask.op is Op.ELTWISE and mask.output_elements == 19 * 19 * 3 * 49 * 49
    rpb = swin_t.layer("backbone.stages.0.blocks.0.attn.w_msa.relative_position_bias")
    assert rpb.params == 13 * 13 * 3  # (2*7-1)^2 x heads table
    merge = swin_t.layer("backbone.stages.0.downsample.reduction")
    assert (merge.op, merge.c, merge.k, merge.p, merge.bias) == (Op.LINEAR, 384, 192, 64, False)


def test_graph_dag(swin_t):
    g = swin_t.graph()
    assert nx.is_directed_acyclic_graph(g)
    pos = {l.name: i for i, l in enumerate(swin_t.layers)}
    assert all(pos[u] < pos[v] for u, v in g.edges if u != "input")
    assert [n for n in g.nodes if g.out_degree(n) == 0] == ["decode_head.resize"]
    blocks = {(l.tag["stage"], l.tag["block"]) for l in swin_t.layers if "block" in l.tag}
    assert len(blocks) == 2 + 2 + 6 + 2


def test_window_option_and_errors():
    wl = load_workload("swin-l-upernet", input_size=(640, 640), window=12)
    qk = wl.layer("backbone.stages.0.blocks.0.attn.w_msa.qk")
    assert qk.p == 144 and qk.batch == 6 * math.ceil(160 / 12) ** 2
    with pytest.raises(WorkloadError, match="divisible by 32"):
        load_workload("swin-t-upernet", input_size=(500, 500))
    with pytest.raises(WorkloadError, match="no option"):
        load_workload("swin-t-upernet", depth=3)


def test_params_match_transformers(swin_t):
    transformers = pytest.importorskip(
        "transformers", reason="transformers extra not installed: skip the cross-check")
    backbone = transformers.SwinConfig(embed_dim=96, depths=[2, 2, 6, 2],
                                       num_heads=[3, 6, 12, 24], window_size=7,
                                       out_features=["stage1", "stage2", "stage3", "stage4"])
    net = transformers.UperNetForSemanticSegmentation(transformers.UperNetConfig(
        backbone_config=backbone, num_labels=150, use_auxiliary_head=False))
    # transformers keeps SwinModel's final LayerNorm (768 weights + 768 biases), which the
    # backbone never applies (it norms each stage output); everything else is identical.
    unused = sum(p.numel() for n, p in net.named_parameters() if n.startswith("backbone.swin.layernorm"))
    assert unused == 2 * 768
    assert sum(p.numel() for p in net.parameters()) - unused == swin_t.params
