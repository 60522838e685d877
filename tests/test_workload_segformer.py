"""SegFormer extractor: published totals, structure, graph and input validation."""

from __future__ import annotations

import networkx as nx
import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import Op, load_workload


@pytest.fixture(scope="module")
def b0():
    return load_workload("segformer-b0")


@pytest.fixture(scope="module")
def b2():
    return load_workload("segformer-b2", input_size=(512, 512), num_classes=150)


def test_published_gmacs(b0, b2):
    # SegFormer paper Table 1/2 (SPEC.md section 7): 8.4 / 62.4 "GFLOPs" = GMACs at
    # 512x512, counted over convs, linears and the attention matmuls; 0.5 % tolerance
    # covers the paper's rounding to 0.1 G (we get 8.388 and 62.338).
    assert b0.macs / 1e9 == pytest.approx(8.4, rel=5e-3)
    assert b2.macs / 1e9 == pytest.approx(62.4, rel=5e-3)


def test_published_params(b0, b2):
    # SegFormer paper Table 1: 3.8 M (B0) and 27.5 M (B2), encoder + decoder with the
    # 150-class linear_pred; learned parameters only (BN running stats are buffers), and
    # the unused training-time conv_seg of mmseg's BaseDecodeHead is not part of the
    # network. The paper rounds to 0.1 M, so the check is the rounding interval
    # (B0 = 3.7527 M sits 1.2 % below 3.8, inside +-0.05 M).
    assert abs(b0.params / 1e6 - 3.8) <= 0.05
    assert abs(b2.params / 1e6 - 27.5) <= 0.05
    assert b2.params / 1e6 == pytest.approx(27.5, rel=1e-2)
    # exact counts of the transformers SegformerForSemanticSegmentation implementation
    # (independent code, same hyper-parameters, 150 labels), see test_matches_transformers
    assert b0.params == 3_752_694
    assert b2.params == 27_461_974


def test_linear_fuse_shape(b2):
    # SPEC.md section 7: linear_fuse is a 1x1 conv 4E -> E at 1/4 resolution, E = 768.
    fuse = b2.layer("decode_head.linear_fuse")
    assert fuse.op is Op.CONV2D
    assert (fuse.c, fuse.k, fuse.r, fuse.s, fuse.p, fuse.q) == (3072, 768, 1, 1, 128, 128)
    assert not fuse.bias
    pred = b2.layer("decode_head.linear_pred")
    assert (pred.c, pred.k, pred.p, pred.q) == (768, 150, 128, 128)
    assert b2.layers[-1].op is Op.RESIZE and (b2.layers[-1].p, b2.layers[-1].q) == (512, 512)


def test_attention_shapes(b2):
    # stage 1 of B2: 128x128 tokens, C=64, 1 head, sr=8 -> 16x16 = 256 keys (hand calc)
    qk = b2.layer("backbone.block1.0.attn.qk")
    assert (qk.op, qk.p * qk.q, qk.c, qk.k, qk.batch) == (Op.MATMUL, 16384, 64, 256, 1)
    av = b2.layer("backbone.block1.0.attn.av")
    assert (av.p * av.q, av.c, av.k, av.batch) == (16384, 256, 64, 1)
    sr = b2.layer("backbone.block1.0.attn.sr")
    assert (sr.r, sr.stride, sr.p, sr.q) == (8, 8, 16, 16)
    # stage 4: sr = 1 -> no sr conv, 16x16 tokens attend to all 256, 8 heads of 64
    assert "backbone.block4.0.attn.sr" not in b2
    qk4 = b2.layer("backbone.block4.0.attn.qk")
    assert (qk4.p, qk4.c, qk4.k, qk4.batch) == (256, 64, 256, 8)
    dw = b2.layer("backbone.block3.5.mlp.dwconv.dwconv")
    assert dw.op is Op.DWCONV2D and dw.groups == dw.c == dw.k == 1280 and dw.bias
    gelu = b2.layer("backbone.block3.5.mlp.act")
    assert gelu.fused and gelu.fn == "gelu"
    assert not b2.layer("backbone.block3.5.norm1").fused


def test_layer_counts_and_tags(b2):
    blocks = {(l.tag.get("stage"), l.tag.get("block")) for l in b2.layers if "block" in l.tag}
    assert len(blocks) == 3 + 4 + 6 + 3  # depths of B2 (SPEC.md section 7)
    parts = {l.tag["part"] for l in b2.layers}
    assert parts == {"backbone", "decoder"}
    assert all(l.tag["part"] == "decoder" for l in b2.layers if l.name.startswith("decode_head"))


def test_graph_is_dag_in_list_order(b2):
    g = b2.graph()
    assert nx.is_directed_acyclic_graph(g)
    pos = {l.name: i for i, l in enumerate(b2.layers)}
    for u, v in g.edges:
        if u != "input":
            assert pos[u] < pos[v]
    # concat order [c4, c3, c2, c1] (SPEC.md section 7)
    assert b2.layer("decode_head.concat").inputs == (
        "decode_head.linear_c4.resize", "decode_head.linear_c3.resize",
        "decode_head.linear_c2.resize", "decode_head.linear_c1")
    # every layer except the last feeds something
    assert [n for n in g.nodes if g.out_degree(n) == 0] == ["decode_head.resize"]


def test_other_sizes_and_classes():
    wl = load_workload("segformer-b0", input_size=(1024, 2048), num_classes=19)
    assert wl.layer("decode_head.linear_pred").k == 19
    assert (wl.layer("decode_head.linear_fuse").p, wl.layer("decode_head.linear_fuse").q) == (256, 512)
    assert load_workload("segformer-b5").input_size == (640, 640)


@pytest.mark.parametrize("size", [(500, 512), (512, 100)])
def test_input_not_divisible(size):
    with pytest.raises(WorkloadError, match="divisible by 32"):
        load_workload("segformer-b1", input_size=size)


def test_matches_transformers():
    transformers = pytest.importorskip(
        "transformers", reason="transformers extra not installed: skip the cross-check")
    cfg = transformers.SegformerConfig(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2],
                                       decoder_hidden_size=256, num_labels=150,
                                       num_attention_heads=[1, 2, 5, 8])
    net = transformers.SegformerForSemanticSegmentation(cfg)
    # exact: same parameter tensors (HF splits kv into key/value, same total)
    assert sum(p.numel() for p in net.parameters()) == load_workload("segformer-b0").params
