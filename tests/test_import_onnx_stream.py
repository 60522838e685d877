"""ONNX models as Stream ships them: initializers declared with dims and no data field, and
extra attributes (``act_size`` on ``Gemm``) that the strict checker rejects. Shapes are all the
importer needs: these import with one warning line naming what was ignored.

MACs by hand: a Gemm of [1, 256] x [256, 128] is 256 * 128; a 3x3 conv of 16 -> 32 channels
over a 16x16 output is 32 * 16 * 9 * 256."""

from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx", reason="the ONNX importer needs the onnx extra")
from onnx import TensorProto, helper  # noqa: E402

from accelsim.cli.main import main  # noqa: E402
from accelsim.workload import Op, from_onnx  # noqa: E402
from accelsim.workload.importers import IgnoredFieldsWarning, MissingWeightsWarning  # noqa: E402


def _declared(name, dims):
    """An initializer with dims and no value field at all (not even an external reference)."""
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    return t


def _save(tmp_path, name, nodes, inits, x_shape, y_shape):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())  # onnx.save would not check either; the checker rejects it
    return path


def test_checker_rejects_what_the_importer_reads(tmp_path):
    path = _save(tmp_path, "gemm.onnx", [helper.make_node("Gemm", ["x", "weights_1"], ["y"], transB=1)],
                 [_declared("weights_1", [128, 256])], [1, 256], [1, 128])
    with pytest.raises(onnx.checker.ValidationError, match="should contain one and only one value field"):
        onnx.checker.check_model(onnx.load(str(path)))
    with pytest.warns(MissingWeightsWarning, match=r"1 declared with dims and no data field \(weights_1\)"):
        wl = from_onnx(path)
    (fc,) = wl.layers
    assert (fc.op, fc.k, fc.c, fc.macs) == (Op.LINEAR, 128, 256, 256 * 128)


def test_unknown_attribute_and_no_data(tmp_path, capsys):
    nodes = [helper.make_node("Conv", ["x", "weights_0"], ["h"], pads=[1, 1, 1, 1], act_size=[1, 16, 16, 16]),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "weights_1"], ["y"], transB=1, act_size=[1, 8192])]
    path = _save(tmp_path, "stream.onnx", nodes, [_declared("weights_0", [32, 16, 3, 3]),
                                                   _declared("weights_1", [10, 8192])], [1, 16, 16, 16], [1, 10])
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(onnx.load(str(path)))
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == ("warning: from_onnx(stream.onnx): 2 of 2 initializers (86,528 elements) have no data: "
                      "2 declared with dims and no data field (weights_0, weights_1); imported from shapes alone; "
                      "unknown attributes ignored: act_size (Conv) x1, act_size (Gemm) x1")
    assert len(err) == 2 and err[1].endswith("3 layers, 0.0013 GMACs")
    # attributes alone (weights present): one IgnoredFieldsWarning line
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 8], [0.0] * 32)
    only = _save(tmp_path, "attr.onnx", [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, act_size=[1, 8])],
                 [w], [1, 8], [1, 4])
    with pytest.warns(IgnoredFieldsWarning, match=r"unknown attributes ignored: act_size \(Gemm\) x1; imported"):
        assert from_onnx(only).macs == 32


def test_other_checker_failures_still_refused(tmp_path, capsys):
    # an op no ONNX opset defines is wrong for another reason: one error line
    path = _save(tmp_path, "bad.onnx", [helper.make_node("NoSuchOp", ["x", "w"], ["y"], act_size=[1])],
                 [_declared("w", [4, 8])], [1, 8], [1, 4])
    assert main(["workload", "import", str(path), "-o", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: not a valid ONNX model: ValidationError: No Op registered for NoSuchOp")
    assert len(err.splitlines()) == 1
