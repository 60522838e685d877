"""Per-layer and whole-model harness on the CPU (the same code that times CUDA)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="the GPU harness times PyTorch ops")

import accelsim.gpu as gpu  # noqa: E402
from accelsim.gpu.device import Target, resolve_target  # noqa: E402
from accelsim.gpu.harness import measure_workload  # noqa: E402
from accelsim.gpu.meta import REQUIRED_META, missing_meta  # noqa: E402
from accelsim.gpu.ops import build_op, int_mm_supported, make_tensors  # noqa: E402
from accelsim.gpu.timing import TimingPolicy  # noqa: E402
from accelsim.workload.builder import Builder  # noqa: E402
from accelsim.workload.registry import load_workload  # noqa: E402

FAST = TimingPolicy(warmup=1, warmup_s=0.0, min_repeats=3, max_repeats=3, min_sample_s=0.0,
                    budget_s=0.01, max_buffers=2)
CPU = Target("cpu", "fp32", "fp32")


def _every_op_workload():
    b = Builder()
    x = b.input(3, 20, 24)
    b.set_tags(part="backbone", stage="0")
    y = b.conv("stem", x, 16, 3, stride=2, pad=1)
    y = b.norm("stem.bn", y, "batchnorm", fused=True)
    y = b.act("stem.relu", y)
    d = b.conv("dw", y, 16, 3, pad=1, groups=16)
    g = b.conv("grouped", d, 32, 3, stride=2, pad=1, groups=4, bias=False)
    t = b.reshape(d, 16, 10, 12)
    h = b.linear("fc1", t, 64)
    h = b.act("gelu", h, "gelu", fused=False)
    h = b.linear("fc2", h, 16)
    a = b.add("res", h, t)
    n = b.norm("ln", a)
    q = b.linear("q", n, 16)
    s = b.matmul("qk", q, q, m=120, k=120, c=8, batch=2)
    s = b.softmax("softmax", s, batch=2)
    p = b.pool("pool", a, 2, 2)
    b.pool("ppm", g, 1, 1, fn="avg", out_hw=(3, 3))
    r = b.resize("up", p, 10, 12)
    c = b.concat("cat", [r, a])
    o = b.conv("pred", c, 8, 1)
    b.other("misc", [o], 8, 10, 12, "topk")
    return b.workload(name="tiny", family="test", variant="t", input_size=(20, 24), num_classes=8)


def test_every_op_builds_with_the_layer_shape():
    wl = _every_op_workload()
    producers = {}
    for layer in wl.layers:
        spec = build_op(layer, CPU, producers)
        producers[layer.name] = layer
        out = spec.fn(*make_tensors(spec, CPU))
        assert spec.shape_ok and tuple(out.shape) == spec.out_shape, layer.name
        # the op produces exactly the IR's output elements, and for MAC ops the IR's MACs
        # (output elements x reduction length): an independent count from the torch result
        assert out.numel() == layer.output_elements, layer.name
        if layer.is_mac:
            assert out.numel() * layer.c_per_group * layer.r * layer.s == layer.macs, layer.name


def test_per_layer_rows_positive_times_and_complete_metadata():
    wl = load_workload("segformer-b0", input_size=(64, 64))
    m = measure_workload(wl, resolve_target("cpu", "fp32"), FAST)
    df = m.frame
    mac_layers = [layer.name for layer in wl.layers if layer.is_mac]
    assert list(df["name"]) == [layer.name for layer in wl.layers]
    rows = df[df["macs"] > 0]
    assert list(rows["name"]) == mac_layers
    assert (rows["median_s"] > 0).all() and (rows["status"] == "ok").all()
    assert (df["p10_s"] <= df["median_s"]).all() and (df["median_s"] <= df["p90_s"]).all()
    assert df["shape_ok"].all() and (df["repeats"] == 3).all()
    assert missing_meta(m.meta) == [] and set(REQUIRED_META) <= set(m.meta)
    assert m.meta["device"] == "cpu" and m.meta["label"].startswith("CPU")
    assert m.meta["workload"] == "segformer-b0" and m.meta["input"] == "64x64"
    # identical blocks are timed once and say so
    reused = df[df["reused_from"] != ""]
    assert len(reused) > 0 and set(reused["reused_from"]) <= set(df["name"])


def test_int8_uses_int_mm_for_gemms_and_marks_the_rest():
    m = measure_workload(_every_op_workload(), resolve_target("cpu", "int8"), FAST)
    by = m.frame.set_index("name")
    for name in ("fc1", "fc2", "q", "pred"):  # linears and the pointwise conv
        assert by.loc[name, "kernel"] == "_int_mm" and bool(by.loc[name, "int8_kernel"])
    for name in ("stem", "dw", "grouped", "qk"):  # no eager int8 kernel: fp32 on the CPU
        assert by.loc[name, "timed_dtype"] == "fp32" and not bool(by.loc[name, "int8_kernel"])
    assert (by["median_s"] > 0).all()


def test_int_mm_cuda_shape_rules():
    cuda = Target("cuda:0", "int8", "fp16")
    assert int_mm_supported(17, 64, 64, cuda) and not int_mm_supported(16, 64, 64, cuda)
    assert not int_mm_supported(256, 60, 64, cuda) and not int_mm_supported(256, 64, 150, cuda)
    assert int_mm_supported(1, 3, 5, CPU)


def test_whole_model_ratio_and_param_counts():
    pytest.importorskip("transformers", reason="whole-model timing builds transformers models")
    from accelsim.gpu.whole import build_hf, measure_whole

    wl = load_workload("segformer-b0", input_size=(64, 64))
    layers = measure_workload(wl, CPU, FAST)
    m = measure_whole("segformer-b0", (64, 64), CPU, policy=FAST, per_layer=layers, macs=wl.macs)
    row = m.frame.iloc[0]
    assert row["median_s"] > 0 and missing_meta(m.meta) == [] and m.meta["kind"] == "whole-model"
    assert row["ratio"] == pytest.approx(row["median_s"] / layers.frame["median_s"].sum(), rel=1e-12)
    # the transformers definition and the analytic extractor are independent implementations
    # of SegFormer-B0: their parameter counts agree exactly (3,752,694; SPEC.md: 3.8 M)
    assert row["params"] == wl.params == 3_752_694
    # ResNet-50 from ResNetConfig defaults: the published 25,557,032 parameters (SPEC.md section 7)
    r50 = build_hf("resnet50", (224, 224), None, CPU)
    assert sum(p.numel() for p in r50.parameters()) == 25_557_032
    with torch.inference_mode():
        out = build_hf("segformer-b0", (64, 64), 7, CPU)(torch.zeros(1, 3, 64, 64))
    assert tuple(out.shape) == (1, 7, 64, 64)  # logits resized to the input like the analytic head
    assert not math.isnan(float(out.sum()))


def test_failing_op_keeps_its_row_with_an_error_and_no_numbers(monkeypatch):
    import accelsim.gpu.harness as harness

    real = harness.build_op

    def broken(layer, target, producers=None):
        spec = real(layer, target, producers)
        if layer.name != "fc1":
            return spec

        def fail(*_):
            raise RuntimeError("no kernel for this dtype\nsecond line")

        return spec.__class__(**{**spec.__dict__, "fn": fail})

    monkeypatch.setattr(harness, "build_op", broken)
    df = measure_workload(_every_op_workload(), CPU, FAST).frame.set_index("name")
    assert df.loc["fc1", "status"] == "error: no kernel for this dtype"
    assert math.isnan(df.loc["fc1", "median_s"]) and df.loc["fc1", "repeats"] == 0
    assert (df.drop(index="fc1")["status"] == "ok").all()
