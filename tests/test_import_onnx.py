"""ONNX importer on hand-built graphs (onnx.helper) with MACs known by hand."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the onnx extra")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from accelsim.errors import WorkloadError  # noqa: E402
from accelsim.workload import from_onnx, load_workload  # noqa: E402
from accelsim.workload.importers import UnmappedOpWarning, import_model_file  # noqa: E402
from accelsim.workload.yamlio import save_workload_yaml  # noqa: E402


def _init(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def _const(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _save(tmp_path, nodes, inputs, outputs, inits, name="g.onnx"):
    graph = helper.make_graph(nodes, "handmade", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


@pytest.fixture
def cnn(tmp_path):
    """Conv-BN-ReLU, depthwise conv, max pool, concat, resize, GAP, Gemm; batch symbolic."""
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "W1", "B1"], ["c1"], name="stem.conv", strides=[2, 2], pads=[1, 1, 1, 1]),
        n("BatchNormalization", ["c1", "g", "b", "m", "v"], ["bn"], name="stem.bn"),
        n("Relu", ["bn"], ["r"], name="stem.relu"),
        n("Conv", ["r", "Wd"], ["d"], name="dw", group=16, pads=[1, 1, 1, 1]),
        n("MaxPool", ["d"], ["mp"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        n("Resize", ["mp", "", "scales"], ["up"], name="up", mode="linear"),
        n("Concat", ["up", "r"], ["cat"], name="cat", axis=1),
        n("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        n("Flatten", ["gap"], ["f"], name="flat"),
        n("Gemm", ["f", "Wfc", "Bfc"], ["logits"], name="fc", transB=1),
    ]
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    inits = [_init("W1", 16, 3, 3, 3), _init("B1", 16), _init("g", 16), _init("b", 16),
             _init("m", 16), _init("v", 16), _init("Wd", 16, 1, 3, 3), scales,
             _init("Wfc", 10, 32), _init("Bfc", 10)]
    return _save(tmp_path, nodes, [_vi("x", ["N", 3, 32, 32])], [_vi("logits", [1, 10])], inits)


def test_cnn_macs_and_kinds(cnn):
    wl = from_onnx(cnn)
    by = {layer.name: layer for layer in wl.layers}
    # hand counts: stem 16*3*9*16*16 = 110592; depthwise 16*9*16*16 = 36864; fc 10*32 = 320
    assert by["stem.conv"].macs == 110592 and by["stem.conv"].bias
    assert by["dw"].op.value == "dwconv2d" and by["dw"].macs == 36864
    assert by["fc"].op.value == "linear" and by["fc"].macs == 320
    assert wl.macs == 110592 + 36864 + 320
    assert by["stem.bn"].fused and by["stem.relu"].fused  # tag convention: BN/ReLU after conv
    assert (by["pool"].p, by["up"].p, by["up"].fn, by["cat"].k) == (8, 16, "bilinear", 32)
    assert by["cat"].inputs == ("up", "stem.relu")
    assert by["fc"].inputs == ("gap",)  # Flatten is free: the edge skips it
    assert wl.input_size == (32, 32)  # the symbolic batch dim became 1
    # params: conv 16*27+16, BN 2*16 (mean/var are statistics), dw 144, fc 320+10
    assert wl.params == 448 + 32 + 144 + 330
    assert ("input", "stem.conv") in wl.graph().edges


def test_attention_block(tmp_path):
    """LayerNorm, Q/K/V MatMuls with initializers, QK^T, Softmax, AV, Einsum, Add."""
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "ln_g", "ln_b"], ["t"], name="ln", axis=-1),
        n("MatMul", ["t", "Wq"], ["q"], name="q"),
        n("MatMul", ["t", "Wk"], ["k"], name="k"),
        n("MatMul", ["t", "Wv"], ["v"], name="v"),
        n("Reshape", ["q", "hs"], ["qh"], name="rq"),
        n("Transpose", ["qh"], ["qt"], name="tq", perm=[0, 2, 1, 3]),
        n("Reshape", ["k", "hs"], ["kh"], name="rk"),
        n("Transpose", ["kh"], ["kt"], name="tk", perm=[0, 2, 3, 1]),
        n("Reshape", ["v", "hs"], ["vh"], name="rv"),
        n("Transpose", ["vh"], ["vt"], name="tv", perm=[0, 2, 1, 3]),
        n("MatMul", ["qt", "kt"], ["s"], name="qk"),
        n("Softmax", ["s"], ["a"], name="softmax", axis=-1),
        n("Einsum", ["a", "vt"], ["o"], name="av", equation="bhqk,bhkd->bhqd"),
        n("Transpose", ["o"], ["ot"], name="to", perm=[0, 2, 1, 3]),
        n("Reshape", ["ot", "flat"], ["of"], name="ro"),
        n("Add", ["of", "x"], ["y"], name="residual"),
    ]
    inits = [_init("ln_g", 32), _init("ln_b", 32), _init("Wq", 32, 32), _init("Wk", 32, 32),
             _init("Wv", 32, 32), _const("hs", [1, 20, 4, 8]), _const("flat", [1, 20, 32])]
    path = _save(tmp_path, nodes, [_vi("x", [1, 20, 32])], [_vi("y", [1, 20, 32])], inits)
    wl = from_onnx(path)
    by = {layer.name: layer for layer in wl.layers}
    # projections 20 tokens * 32 * 32 = 20480; QK^T and AV: 4 heads * 20*20*8 = 12800
    for name in ("q", "k", "v"):
        assert by[name].op.value == "linear" and by[name].macs == 20480
    assert by["qk"].op.value == "matmul" and by["qk"].macs == 12800 and by["qk"].batch == 4
    assert by["av"].op.value == "matmul" and by["av"].macs == 12800
    assert by["qk"].inputs == ("q", "k") and by["softmax"].batch * by["softmax"].p == 80
    assert by["ln"].fn == "layernorm" and by["ln"].p * by["ln"].q == 20
    assert by["residual"].inputs == ("av", "input")
    assert wl.macs == 3 * 20480 + 2 * 12800


def test_unmapped_op_warns_and_is_kept(tmp_path):
    n = helper.make_node
    nodes = [n("Relu", ["x"], ["r"], name="relu"),
             n("CumSum", ["r", "axis"], ["c"], name="cumsum"),
             n("TopK", ["c", "kk"], ["vals", "idx"], name="topk", axis=1)]
    inits = [_const("axis", 1), _const("kk", [3])]
    path = _save(tmp_path, nodes, [_vi("x", [2, 7])], [_vi("vals", [2, 3])], inits)
    with pytest.warns(UnmappedOpWarning, match=r"CumSum x1, TopK x1"):
        wl = from_onnx(path)
    by = {layer.name: layer for layer in wl.layers}
    assert by["cumsum"].op.value == "other" and by["cumsum"].output_elements == 14
    assert by["topk"].output_elements == 12  # values + indices, 2*3 each


def test_corrupt_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is not protobuf\xff\xff")
    with pytest.raises(WorkloadError, match=r"bad.onnx: not a valid ONNX model") as err:
        import_model_file(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(WorkloadError, match="ONNX file not found"):
        from_onnx(tmp_path / "absent.onnx")
    with pytest.raises(WorkloadError, match="model file not found"):
        import_model_file(tmp_path / "absent.onnx")


def test_symbolic_spatial_dims_need_input_shapes(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"], name="conv")]
    path = _save(tmp_path, nodes, [_vi("x", [1, 3, "H", "W"])], [_vi("y", [1, 4, "H", "W"])],
                 [_init("W", 4, 3, 1, 1)])
    with pytest.raises(WorkloadError, match=r"input 'x' has symbolic sizes \[1, 3, 'H', 'W'\] \(dim 2: H\); "
                                            r"give the input size with --input HxW"):
        from_onnx(path)
    wl = from_onnx(path, input_shapes={"x": [1, 3, 8, 8]})
    assert wl.macs == 4 * 3 * 8 * 8  # 1x1 conv: K*C*P*Q
    assert from_onnx(path, input_hw=(8, 6)).macs == 4 * 3 * 8 * 6


def test_import_then_yaml_round_trip(cnn, tmp_path):
    wl = import_model_file(cnn)
    back = load_workload(save_workload_yaml(wl, tmp_path / "cnn.yaml"))
    assert back.layers == wl.layers and back.macs == wl.macs


def test_initializer_used_by_two_mac_nodes_is_counted_once(tmp_path):
    """One weight W read by two MatMuls (same shape: shared) and a Gemm with a bias (another
    tensor set: counted once through the negative-offset fallback); a LayerNorm twice."""
    n = helper.make_node
    nodes = [n("MatMul", ["x", "W"], ["a"], name="mm1"),
             # torch.onnx.export reads a weight the second time through an Identity alias
             n("Identity", ["W"], ["W_again"], name="alias"),
             n("MatMul", ["a", "W_again"], ["b"], name="mm2"),
             n("Gemm", ["b", "W", "Bg"], ["c"], name="gemm", transB=1),
             n("LayerNormalization", ["c", "g", "be"], ["l1"], name="ln1", axis=-1),
             n("LayerNormalization", ["l1", "g", "be"], ["y"], name="ln2", axis=-1)]
    inits = [_init("W", 8, 8), _init("Bg", 8), _init("g", 8), _init("be", 8)]
    path = _save(tmp_path, nodes, [_vi("x", [4, 8])], [_vi("y", [4, 8])], inits)
    wl = from_onnx(path)
    by = {layer.name: layer for layer in wl.layers}
    assert (by["mm2"].shares, by["mm2"].params) == ("mm1", 0)
    assert (by["ln2"].shares, by["ln2"].params) == ("ln1", 0)
    # Gemm's static tensors are W + Bg = 72, of which W's 64 were counted by mm1: offset
    assert (by["gemm"].shares, by["gemm"].extra_params, by["gemm"].params) == ("", -64, 8)
    # hand count: W 64 + Bg 8 + LayerNorm 2*8 = 88, every initializer once
    assert wl.params == 88 and dict(wl.meta)["model_params"] == "88"
    assert wl.macs == 3 * 4 * 8 * 8  # three 4x8 @ 8x8 products, each called separately


def test_shared_conv_and_instance_norm_initializers(tmp_path):
    n = helper.make_node
    nodes = [n("InstanceNormalization", ["x", "s", "sb"], ["i1"], name="inorm1"),
             n("Conv", ["i1", "K", "kb"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             n("Conv", ["c1", "K", "kb"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             n("InstanceNormalization", ["c2", "s", "sb"], ["y"], name="inorm2")]
    inits = [_init("s", 4), _init("sb", 4), _init("K", 4, 4, 3, 3), _init("kb", 4)]
    path = _save(tmp_path, nodes, [_vi("x", [1, 4, 5, 5])], [_vi("y", [1, 4, 5, 5])], inits)
    wl = from_onnx(path)
    by = {layer.name: layer for layer in wl.layers}
    assert (by["conv2"].shares, by["inorm2"].shares) == ("conv1", "inorm1")
    # hand count: instance-norm scale + bias 2*4 = 8; conv 4*4*3*3 + 4 = 148; second calls 0
    assert [by[k].params for k in ("inorm1", "conv1", "conv2", "inorm2")] == [8, 148, 0, 0]
    assert wl.params == 156 and dict(wl.meta)["model_params"] == "156"
    assert by["conv2"].macs == by["conv1"].macs == 4 * 4 * 9 * 5 * 5  # MACs every call
