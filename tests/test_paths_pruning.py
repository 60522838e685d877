"""Channel pruning with backward propagation and block bypass (SPEC.md section 8)."""

import pytest

from accelsim.errors import WorkloadError
from accelsim.paths import apply_path
from accelsim.paths.graphops import prune_input_channels
from accelsim.workload import Builder, load_workload

HW4 = 128 * 128  # SegFormer-B2 at 512: decoder maps at 1/4 resolution
HW8 = 64 * 64


@pytest.fixture(scope="module")
def b2():
    return load_workload("segformer-b2", input_size=(512, 512), num_classes=150)


def test_fuse_in_2304_removes_linear_c1(b2):
    wl = apply_path(b2, "fuse_in=2304")
    # concat order is [c4, c3, c2, c1] x 768: the first 2304 channels never read c1
    assert "decode_head.linear_c1" not in wl
    assert not [n.name for n in wl.layers if n.name.startswith("decode_head.linear_c1")]
    assert wl.layer("decode_head.linear_fuse").c == 2304
    assert wl.layer("decode_head.concat").k == 2304
    # hand count: linear_c1 64->768 over 128x128 tokens, fuse loses 768 of 3072 inputs (exact)
    removed = 64 * 768 * HW4 + 768 * 768 * HW4
    assert b2.macs - wl.macs == removed
    assert wl.exec_path == "fuse_in=2304"


def test_fuse_in_1920_shrinks_linear_c2(b2):
    wl = apply_path(b2, "fuse_in=1920")
    assert wl.layer("decode_head.linear_c2").k == 384
    assert wl.layer("decode_head.linear_c2.resize").k == 384  # resize follows the channels
    assert wl.layer("decode_head.linear_c3").k == 768
    # hand count (exact): c1 gone, c2 keeps 384 of 768 outputs at 1/8, fuse keeps 1920 inputs
    removed = 64 * 768 * HW4 + 128 * 384 * HW8 + (3072 - 1920) * 768 * HW4
    assert b2.macs - wl.macs == removed


def test_pred_in_736_shrinks_linear_fuse(b2):
    wl = apply_path(b2, "pred_in=736")
    assert wl.layer("decode_head.linear_fuse").k == 736
    assert wl.layer("decode_head.linear_fuse.bn").k == 736  # walks back through BN and ReLU
    assert wl.layer("decode_head.linear_pred").c == 736
    removed = 3072 * 32 * HW4 + 32 * 150 * HW4  # exact hand count
    assert b2.macs - wl.macs == removed


def test_c1_in_stops_at_shared_encoder_output(b2):
    wl = apply_path(b2, "c1_in=32")
    # backbone.norm1 also feeds patch_embed2: the walk stops there, only linear_c1 shrinks
    assert wl.layer("backbone.norm1").k == 64
    assert b2.macs - wl.macs == 32 * 768 * HW4  # exact


def test_liveness_stops_where_another_consumer_needs_the_channel():
    b = Builder()
    x = b.input(3, 8, 8)
    a = b.act("a.relu", b.conv("a", x, 8, r=1))
    c = b.conv("c", x, 8, r=1)
    cat = b.concat("cat", [a, b.resize("c.up", c, 8, 8)])
    b.conv("t", cat, 4, r=1)
    b.conv("u", a, 2, r=1)  # a second reader of a.relu needs all of its channels
    wl = b.workload(name="toy", family="toy", variant="x", input_size=(8, 8), num_classes=1)
    out = {layer.name: layer for layer in prune_input_channels(wl.layers, {"t": 10})}
    assert out["a"].k == 8 and out["a.relu"].k == 8       # still needed by u
    assert out["c"].k == 2 and out["c.up"].k == 2         # channels 8, 9 of the concat
    assert out["cat"].k == 10 and out["t"].c == 10
    only_t = {layer.name: layer for layer in prune_input_channels(wl.layers, {"t": 8})}
    assert "c" not in only_t and "c.up" not in only_t     # no reader left
    assert only_t["cat"].inputs == ("a.relu",)


def test_fpn_in_on_swin_upernet():
    swin = load_workload("swin-t-upernet")
    wl = apply_path(swin, "fpn_in=1536")
    # level order [fpn0, fpn1, fpn2, ppm]: the PPM path stays (top-down adds read it),
    # only its resize to 1/4 disappears; fpn_bottleneck is 3x3 512-out at 128x128
    assert "decode_head.fpn_outs.3.resize" not in wl
    assert "decode_head.bottleneck" in wl
    assert swin.macs - wl.macs == 512 * 512 * 9 * HW4


def test_block_bypass_segformer(b2):
    wl = apply_path(b2, "blocks=2-3-5-3")
    assert "backbone.block1.2.attn.q" not in wl and "backbone.block1.1.attn.q" in wl
    assert "backbone.block3.5.mlp.fc2" not in wl
    # the next layer reads the last kept block's residual output
    assert wl.layer("backbone.norm1").inputs == ("backbone.block1.1.add2",)
    removed = sum(layer.macs for layer in b2.layers
                  if layer.name.startswith(("backbone.block1.2.", "backbone.block2.3.",
                                            "backbone.block3.5.")))
    assert b2.macs - wl.macs == removed
    wl.graph()  # still a valid dataflow graph


@pytest.mark.parametrize("path, message", [
    ("fuse_in=4000", "3072 input channels"),
    ("blocks=3-4-7-3", "between 0 and the stage depth"),
    ("blocks=3-4-6", "one count per stage"),
    ("fpn_in=512", "does not apply to family 'segformer'"),
    ("pause=3:0.2", "does not apply to family 'segformer'"),
    ("variant=b9", "has variants"),
])
def test_bad_values_name_the_allowed_range(b2, path, message):
    with pytest.raises(WorkloadError, match=message):
        apply_path(b2, path)


def test_variant_switch_keeps_other_keys(b2):
    a = apply_path(apply_path(b2, "pred_in=128"), "variant=b0")
    b = apply_path(load_workload("segformer-b0"), "pred_in=128")
    assert a.layers == b.layers and a.variant == "b0"
    assert a.exec_path == "variant=b0;pred_in=128"
