"""ResNet-50 (torchvision V1.5) extractor: published totals, V1.5 structure, backbone reuse."""

import networkx as nx
import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import Builder, Op, load_workload
from accelsim.workload.resnet import resnet50, resnet50_body


def test_resnet50_published_macs_and_params():
    wl = load_workload("resnet50")
    # SPEC.md section 7 / torchvision model card: 4.09 GMACs at 224x224 (rounded to 10 M: 0.5 %)
    assert wl.macs == pytest.approx(4.09e9, rel=0.005)
    # torchvision resnet50: sum(p.numel()) = 25,557,032 exactly (convs, BN affine, fc + bias)
    assert wl.params == 25_557_032


def test_resnet50_macs_hand_count():
    # Hand count of the conv/fc shapes (independent of the extractor): stem conv 7x7 3->64 at
    # 112x112; per stage (width w, blocks n, output size s) bottleneck convs; fc 2048x1000.
    macs = 64 * 3 * 49 * 112 * 112
    in_c, size = 64, 56
    for w, n, s in ((64, 3, 56), (128, 4, 28), (256, 6, 14), (512, 3, 7)):
        for i in range(n):
            c = in_c if i == 0 else 4 * w
            hw1 = size * size if i == 0 else s * s  # V1.5: conv1 runs at the input resolution
            macs += w * c * hw1 + w * w * 9 * s * s + 4 * w * w * s * s
            if i == 0:
                macs += 4 * w * c * s * s
        in_c, size = 4 * w, s
    macs += 2048 * 1000
    assert load_workload("resnet50").macs == macs


def test_v15_stride_on_3x3_and_official_names():
    wl = resnet50()
    for name in ("conv1", "bn1", "maxpool", "layer1.0.conv1", "layer1.0.downsample.0",
                 "layer1.0.downsample.1", "layer4.2.conv3", "avgpool", "fc"):
        assert name in wl
    c1, c2 = wl.layer("layer2.0.conv1"), wl.layer("layer2.0.conv2")
    assert (c1.stride, c2.stride, c2.r) == (1, 2, 3)
    assert wl.layer("layer2.0.downsample.0").stride == 2
    bn = wl.layer("layer1.0.bn1")
    assert bn.op is Op.NORM and bn.fused and bn.params == 2 * 64
    assert wl.layer("layer1.0.relu").fused
    assert (wl.layer("fc").k, wl.layer("fc").c, wl.layer("fc").bias) == (1000, 2048, True)


def test_graph_is_exact_dataflow():
    wl = resnet50()
    g = wl.graph()
    assert nx.is_directed_acyclic_graph(g)
    order = {layer.name: i for i, layer in enumerate(wl.layers)}
    assert all(order.get(u, -1) < order[v] for u, v in g.edges)
    # the residual add reads the main branch and the shortcut (downsample BN)
    assert set(g.predecessors("layer1.0.add")) == {"layer1.0.bn3", "layer1.0.downsample.1"}
    assert set(g.predecessors("layer1.1.add")) == {"layer1.1.bn3", "layer1.0.relu_2"}
    assert g.edges["layer4.2.relu_2", "avgpool"]["channels"] == 2048


def test_backbone_c5_any_size_and_frozen_bn():
    b = Builder()
    feats = resnet50_body(b, b.input(3, 800, 1216), prefix="backbone.0.body.", frozen_bn=True)
    # 1/32 with floor arithmetic per stride-2 layer: 800 -> 25, 1216 -> 38
    assert (feats.c5.c, feats.c5.h, feats.c5.w) == (2048, 25, 38)
    assert (feats.c4.c, feats.c3.c, feats.c2.c) == (1024, 512, 256)
    # frozen BN scale/shift are buffers: the body's params are the conv weights only
    # (25,557,032 minus fc 2,049,000 minus 53,120 BN affine parameters)
    assert sum(layer.params for layer in b.layers) == 25_557_032 - 2_049_000 - 53_120


def test_bad_input_size():
    with pytest.raises(WorkloadError, match="at least 32"):
        load_workload("resnet50", input_size=(16, 224))
    assert load_workload("resnet50", input_size=(320, 256)).layer("fc").c == 2048


def test_builder_helpers_cover_conv_bn_and_size_ranges():
    # check_input's range rule (used by resnet50, DETR, EfficientNet, OFA): one line naming
    # the model, the size and the rule
    from accelsim.workload.builder import check_input, conv_module

    with pytest.raises(WorkloadError, match=r"^m: input size 20x64 .*at least 32 pixels$"):
        check_input("m", (20, 64), multiple=1, lo=32)
    with pytest.raises(WorkloadError, match=r"^m: input size 128x256 .*between 128 and 224"):
        check_input("m", (128, 256), 1, 128, 224)
    assert check_input("m", (33, 47), multiple=1, lo=32) == (33, 47)
    # conv_module with torchvision names, no activation, frozen BN. Hand count: conv 3x3
    # 4->8 = 8*4*9 = 288 weights, 8->8 = 576; BN affine 2*8 = 16 (0 when frozen); 288 * 5*5 MACs
    b = Builder()
    y = conv_module(b, "c", b.input(4, 5, 5), 8, 3, pad=1, bn="c_bn", act=None)
    conv_module(b, "d", y, 8, 3, pad=1, frozen_bn=True, act_fn="relu6")
    assert [(l.name, l.params) for l in b.layers] == [
        ("c", 288), ("c_bn", 16), ("d", 576), ("d.bn", 0), ("d.activate", 0)]
    assert b.layers[0].macs == 8 * 4 * 9 * 25 and b.layers[-1].fn == "relu6"
