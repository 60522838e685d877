"""PyTorch importer on small modules whose MACs are known by hand."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch", reason="the PyTorch importer needs the torch extra")
nn = torch.nn
F = torch.nn.functional

from accelsim.errors import WorkloadError  # noqa: E402
from accelsim.workload import from_torch, load_workload  # noqa: E402
from accelsim.workload.importers import UnmappedOpWarning, import_model_file  # noqa: E402
from accelsim.workload.yamlio import save_workload_yaml  # noqa: E402


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.grouped = nn.Conv2d(16, 32, 1, groups=4, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))          # 3x16x16 -> 16x8x8
        y = y + self.dw(y)                         # depthwise, residual add
        y = self.pool(self.grouped(y))             # 16 -> 32 (4 groups), 8x8 -> 4x4
        up = F.interpolate(y, scale_factor=2, mode="bilinear")
        return self.fc(self.gap(y).flatten(1)), up


def test_conv_net_macs_kinds_and_edges():
    wl = from_torch(ConvNet(), torch.randn(1, 3, 16, 16))
    by = {layer.name: layer for layer in wl.layers}
    # hand counts: conv 16*3*9*8*8 = 27648; dw 16*9*8*8 = 9216;
    # grouped 1x1: 32 * (16/4) * 8*8 = 8192; fc 10*32 = 320
    assert by["conv"].macs == 27648 and by["conv"].op.value == "conv2d"
    assert by["dw"].macs == 9216 and by["dw"].op.value == "dwconv2d"
    assert by["grouped"].macs == 8192 and by["grouped"].op.value == "conv2d"
    assert by["grouped"].groups == 4
    assert by["fc"].macs == 320 and by["fc"].bias
    assert wl.macs == 27648 + 9216 + 8192 + 320
    # BN after a conv and ReLU after it are fused into the conv's drain (tag convention)
    assert by["bn"].fused and by["relu"].fused and by["bn"].fn == "batchnorm"
    assert (by["pool"].op.value, by["pool"].p, by["pool"].ops_per_element) == ("pool", 4, 4)
    assert (by["gap"].ops_per_element, by["interpolate"].fn, by["interpolate"].p) == (16, "bilinear", 8)
    assert by["add"].inputs == ("relu", "dw")  # residual edge from tensor provenance
    g = wl.graph()
    assert ("input", "conv") in g.edges and ("conv", "bn") in g.edges and ("gap", "fc") in g.edges
    # parameters: every weight, bias and BN affine pair is attributed to a layer
    assert wl.params == sum(p.numel() for p in ConvNet().parameters())
    assert wl.input_size == (16, 16)


class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(32)
        self.qkv = nn.Linear(32, 96)
        self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
        self.w = nn.Parameter(torch.randn(32, 8))
        self.queries = nn.Parameter(torch.randn(5, 32))
        self.q_proj = nn.Linear(32, 32)

    def forward(self, x):                          # x: [1, 20, 32] tokens
        t = self.ln(x)
        q, k, v = self.qkv(t).reshape(1, 20, 3, 4, 8).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v)             # [1, 4, 20, 8]
        s = torch.matmul(q, k.transpose(-1, -2)).softmax(-1)    # same QK^T by hand
        e = torch.einsum("bhqk,bhkd->bhqd", s, v)
        b = torch.bmm(t[0:1], t[0:1].transpose(1, 2))           # [1, 20, 20]
        a, _ = self.mha(t, t, t, need_weights=False)
        w = t @ self.w                                          # parameter operand -> linear
        lq = self.q_proj(self.queries)                          # MAC op on a constant: kept
        return o, e, b, a, w, lq


def test_attention_ops():
    wl = from_torch(Attn(), torch.randn(1, 20, 32))
    by = {layer.name: layer for layer in wl.layers}
    # qkv linear: 20 tokens * 32 * 96 = 61440
    assert by["qkv"].macs == 61440 and by["qkv"].p * by["qkv"].q == 20
    # SDPA -> QK^T, softmax, AV: each 4 heads * 20 * 20 * 8 = 12800 MACs
    assert by["attn_qk"].macs == 12800 and by["attn_av"].macs == 12800
    assert by["attn_softmax"].op.value == "softmax" and by["attn_softmax"].batch == 4
    assert by["attn_qk"].inputs == ("qkv",) and by["attn_av"].inputs == ("attn_softmax", "qkv")
    assert by["matmul"].macs == 12800 and by["matmul"].op.value == "matmul"
    assert by["einsum"].macs == 12800 and by["einsum"].op.value == "matmul"
    assert by["matmul_1"].macs == 20 * 20 * 32  # bmm of tokens with themselves
    # nn.MultiheadAttention: 3 in-projections + out-proj 20*32*32 = 20480 each, 2 matmuls 12800
    for part in ("in_proj_q", "in_proj_k", "in_proj_v", "out_proj"):
        assert by[f"mha.{part}"].macs == 20480
    assert by["mha.attn_qk"].macs == 4 * 20 * 20 * 8
    # x @ parameter is a linear with static weights: 20*32*8 = 5120
    assert by["matmul_2"].op.value == "linear" and by["matmul_2"].macs == 5120
    # the projection of learned queries does not depend on the input but is still counted
    assert by["q_proj"].macs == 5 * 32 * 32 and by["q_proj"].inputs == ()
    assert by["ln"].fn == "layernorm" and not by["ln"].fused
    # qkv + (sdpa 2, matmul, einsum) + bmm + mha projections + mha matmuls + x@w + q_proj
    total = 61440 + 4 * 12800 + 20 * 20 * 32 + 4 * 20480 + 2 * 12800 + 5120 + 5 * 32 * 32
    assert wl.macs == total


class Odd(nn.Module):
    def forward(self, x):
        y = torch.cumsum(x, dim=1)
        v, _ = torch.topk(y, 3, dim=1)
        return torch.sort(v, dim=1)[0] + 1


def test_unsupported_ops_are_other_layers_and_warned():
    with pytest.warns(UnmappedOpWarning, match=r"cumsum x1.*sort x1.*topk x1"):
        wl = from_torch(Odd(), torch.randn(2, 7))
    by = {layer.name: layer for layer in wl.layers}
    assert by["cumsum"].op.value == "other" and by["cumsum"].output_elements == 14
    # topk returns values and indices: 2*3 + 2*3 elements
    assert by["topk"].output_elements == 12 and by["topk"].inputs == ("cumsum",)
    assert dict(wl.meta)["unmapped"] == "cumsum:1,sort:1,topk:1"


def test_no_warning_when_everything_maps():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnmappedOpWarning)
        from_torch(ConvNet(), torch.randn(1, 3, 16, 16))


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x.reshape(-1, 5))


def test_module_that_fails_raises_one_clear_error():
    with pytest.raises(WorkloadError, match=r"from_torch\(Broken\): the module failed to run") as err:
        from_torch(Broken(), torch.randn(1, 8))
    assert "\n" not in str(err.value)


def test_bad_arguments():
    with pytest.raises(WorkloadError, match="expects a torch.nn.Module"):
        from_torch(lambda x: x, torch.randn(1))
    with pytest.raises(WorkloadError, match="holds no tensor"):
        from_torch(ConvNet(), {"x": 3})


def test_export_archive_and_yaml(tmp_path):
    model = ConvNet().eval()
    ep = torch.export.export(model, (torch.randn(1, 3, 16, 16),))
    torch.export.save(ep, tmp_path / "convnet.pt2")
    wl = import_model_file(tmp_path / "convnet.pt2")
    # same MACs as the eager import (hand count in test_conv_net_macs_kinds_and_edges)
    assert wl.macs == 27648 + 9216 + 8192 + 320
    back = load_workload(save_workload_yaml(wl, tmp_path / "convnet.yaml"))
    assert back.layers == wl.layers


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"x")
    with pytest.raises(WorkloadError, match=r"unsupported model file suffix '.h5'; supported: .onnx"):
        import_model_file(path)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.ln = nn.LayerNorm(8)

    def forward(self, x):
        return self.ln(self.fc(self.ln(self.fc(x))))


def test_module_called_twice_counts_macs_twice_and_weights_once():
    wl = from_torch(Shared(), torch.randn(1, 4, 8))
    assert [layer.name for layer in wl.layers if layer.is_mac] == ["fc", "fc_1"]
    assert wl.macs == 2 * 4 * 8 * 8  # two calls over 4 tokens
    assert wl.params == 8 * 8 + 8 + 2 * 8  # the module's own count: weights once
    # the second call reuses the first call's tensors: Layer.shares, no parameter offsets
    assert wl.layer("fc_1").shares == "fc" and wl.layer("fc_1").extra_params == 0
    assert wl.layer("ln_1").shares == "ln"
    assert all(layer.extra_params >= 0 for layer in wl.layers)


class SharedMHA(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 2)

    def forward(self, x):
        y = self.mha(x, x, x, need_weights=False)[0]
        return self.mha(y, y, y, need_weights=False)[0]


def test_multihead_attention_called_twice_shares_its_projections():
    model = SharedMHA()
    wl = from_torch(model, torch.randn(5, 1, 16))
    again = [layer for layer in wl.layers if layer.shares]
    assert [layer.shares for layer in again] == [
        "mha.in_proj_q", "mha.in_proj_k", "mha.in_proj_v", "mha.out_proj"]
    # hand count: in_proj 3 * (16*16 + 16) + out_proj 16*16 + 16 = 1088, counted once
    assert wl.params == sum(p.numel() for p in model.parameters()) == 1088
    assert wl.macs == 2 * (4 * 5 * 16 * 16 + 2 * 2 * 5 * 5 * 8)  # two calls' projections + attention


class Tied(nn.Module):
    """A weight tied into an op of another kind (embedding read, then an output linear)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Parameter(torch.randn(6, 8))
        self.head = nn.Linear(8, 6)

    def forward(self, x):
        y = x + self.emb
        return self.head(y) + F.linear(y, self.emb)


def test_weight_tied_across_op_kinds_is_counted_once():
    model = Tied()
    wl = from_torch(model, torch.randn(1, 6, 8))
    # no earlier layer has these tensors as its own weights: the count is offset instead
    assert not any(layer.shares for layer in wl.layers)
    assert wl.layer("linear").extra_params == -6 * 8  # counted at the add that read it first
    assert wl.params == sum(p.numel() for p in model.parameters()) == 6 * 8 + 8 * 6 + 6


class SharedNorms(nn.Module):
    """RMSNorm, affine InstanceNorm and a bias-free LayerNorm, each called twice."""

    def __init__(self):
        super().__init__()
        self.inorm = nn.InstanceNorm2d(4, affine=True)
        self.conv = nn.Conv2d(4, 8, 1)
        self.rms = nn.RMSNorm(8)
        self.ln = nn.LayerNorm(8, bias=False)

    def forward(self, x):
        y = self.conv(self.inorm(self.inorm(x))).flatten(2).transpose(1, 2)
        return self.ln(self.ln(self.rms(self.rms(y))))


def test_rmsnorm_and_instancenorm_affine_counted_once():
    model = SharedNorms()
    wl = from_torch(model, torch.randn(1, 4, 3, 3))
    # hand count: InstanceNorm weight + bias 2*4 = 8, conv 8*4 + 8 = 40, RMSNorm weight 8,
    # LayerNorm weight only 8 -> 64, each counted by the first call only
    assert wl.params == sum(p.numel() for p in model.parameters()) == 64
    assert [(wl.layer(n).params, wl.layer(n).shares) for n in ("inorm", "inorm_1")] == [(8, ""), (0, "inorm")]
    assert [(wl.layer(n).params, wl.layer(n).shares) for n in ("rms", "rms_1")] == [(8, ""), (0, "rms")]
    assert [(wl.layer(n).params, wl.layer(n).shares) for n in ("ln", "ln_1")] == [(8, ""), (0, "ln")]


def test_exported_norms_read_aten_argument_order(tmp_path):
    # aten.batch_norm / aten.instance_norm take weight and bias before the running stats
    model = SharedNorms().eval()
    ep = torch.export.export(model, (torch.randn(1, 4, 3, 3),))
    torch.export.save(ep, tmp_path / "norms.pt2")
    wl = import_model_file(tmp_path / "norms.pt2")
    assert wl.params == 64  # hand count in test_rmsnorm_and_instancenorm_affine_counted_once
    norms = [layer for layer in wl.layers if layer.fn == "instancenorm"]
    assert len(norms) == 2 and [n.params for n in norms] == [8, 0]


def test_hf_style_rmsnorm_weight_counted_once():
    llama = pytest.importorskip("transformers.models.llama.modeling_llama",
                                reason="an HF-style RMSNorm module (weight * normalised x)")

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = llama.LlamaRMSNorm(8)
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.norm(self.fc(self.norm(x)))

    model = Twice()
    wl = from_torch(model, torch.randn(1, 4, 8))
    # hand count: RMSNorm weight 8 (read by its weight * x product) + fc 8*8 + 8 = 80
    assert wl.params == sum(p.numel() for p in model.parameters()) == 80
