"""SegFormer (MiT-B0..B5 encoder + all-MLP decoder) extractor (SPEC.md section 7).

Layer names follow the official module names of the mmseg / NVlabs SegFormer code
(``backbone.patch_embed1.proj``, ``backbone.block1.0.attn.q``, ``backbone.norm1``,
``decode_head.linear_c4``, ``decode_head.linear_fuse``, ``decode_head.linear_pred``).
Operations that are functional calls rather than modules get a name under the module
that performs them: ``attn.qk`` (Q @ K^T), ``attn.softmax``, ``attn.av`` (A @ V),
``blockN.i.add1`` / ``add2`` (residuals), ``mlp.act`` (GELU), ``linear_cX.resize``,
``decode_head.concat``, ``decode_head.linear_fuse.bn`` / ``.activate`` (mmcv ConvModule) and
``decode_head.resize`` (the final bilinear upsampling to the input size).
The decoder linears are named after their MLP modules (``decode_head.linear_c4``
rather than ``decode_head.linear_c4.proj``) and the fuse conv after its ConvModule
(``decode_head.linear_fuse``, not ``.conv``), as the study does.

Tags: ``part`` = ``backbone`` (encoder stages) or ``decoder`` (``decode_head``);
``stage`` = 1..4 and ``block`` = 0..depth-1, the indices of the official names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builder import Builder, T, attention, check_input, conv_module, pick
from .ir import Workload
from .catalog import model


@dataclass(frozen=True)
class MiTConfig:
    """Hyper-parameters of one SegFormer variant (SPEC.md section 7 table)."""

    embed_dims: tuple[int, int, int, int]
    depths: tuple[int, int, int, int]
    decoder_dim: int
    heads: tuple[int, int, int, int] = (1, 2, 5, 8)
    sr_ratios: tuple[int, int, int, int] = (8, 4, 2, 1)
    mlp_ratio: int = 4


# SPEC.md section 7, SegFormer table (from the official NVlabs/SegFormer configs).
VARIANTS: dict[str, MiTConfig] = {
    "b0": MiTConfig((32, 64, 160, 256), (2, 2, 2, 2), 256),
    "b1": MiTConfig((64, 128, 320, 512), (2, 2, 2, 2), 256),
    "b2": MiTConfig((64, 128, 320, 512), (3, 4, 6, 3), 768),
    "b3": MiTConfig((64, 128, 320, 512), (3, 4, 18, 3), 768),
    "b4": MiTConfig((64, 128, 320, 512), (3, 8, 27, 3), 768),
    "b5": MiTConfig((64, 128, 320, 512), (3, 6, 40, 3), 768),
}

#: Overlapping patch embeddings (kernel, stride, padding) per stage (SPEC.md section 7).
PATCH_EMBED = ((7, 4, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1))


def efficient_attention(b: Builder, pre: str, x: T, heads: int, sr: int) -> T:
    """SegFormer efficient self-attention on token tensor ``x`` (returns the proj output)."""
    c = x.c
    q = b.linear(f"{pre}.q", x, c)
    kv_in = x
    if sr > 1:
        kv_in = b.conv(f"{pre}.sr", x, c, r=sr, stride=sr)
        kv_in = b.norm(f"{pre}.norm", kv_in)
    kv = b.linear(f"{pre}.kv", kv_in, 2 * c)
    k = v = T(kv.src, c, kv.h, kv.w)  # the K and V halves of the packed kv output (views)
    return attention(b, pre, q, k, v, heads, out_name="proj")


def mix_ffn(b: Builder, pre: str, x: T, ratio: int) -> T:
    """Mix-FFN: fc1 -> 3x3 depthwise conv (bias) -> GELU (fused) -> fc2."""
    hidden = ratio * x.c
    h = b.linear(f"{pre}.fc1", x, hidden)
    h = b.conv(f"{pre}.dwconv.dwconv", h, hidden, r=3, stride=1, pad=1, groups=hidden)
    h = b.act(f"{pre}.act", h, fn="gelu")
    return b.linear(f"{pre}.fc2", h, x.c)


def mit_encoder(b: Builder, cfg: MiTConfig, img: T) -> list[T]:
    """The Mix Transformer encoder; returns the four stage outputs (1/4 .. 1/32)."""
    outs: list[T] = []
    x = img
    for i in range(4):
        s = i + 1
        c = cfg.embed_dims[i]
        k, st, pd = PATCH_EMBED[i]
        b.set_tags(part="backbone", stage=s)
        x = b.conv(f"backbone.patch_embed{s}.proj", x, c, r=k, stride=st, pad=pd)
        x = b.norm(f"backbone.patch_embed{s}.norm", x)
        for j in range(cfg.depths[i]):
            pre = f"backbone.block{s}.{j}"
            b.set_tags(part="backbone", stage=s, block=j)
            y = b.norm(f"{pre}.norm1", x)
            y = efficient_attention(b, f"{pre}.attn", y, cfg.heads[i], cfg.sr_ratios[i])
            x = b.add(f"{pre}.add1", x, y)
            y = b.norm(f"{pre}.norm2", x)
            y = mix_ffn(b, f"{pre}.mlp", y, cfg.mlp_ratio)
            x = b.add(f"{pre}.add2", x, y)
        b.set_tags(part="backbone", stage=s)
        x = b.norm(f"backbone.norm{s}", x)
        outs.append(x)
    return outs


def mlp_decoder(b: Builder, feats: list[T], dim: int, num_classes: int,
                out_hw: tuple[int, int]) -> T:
    """The all-MLP head: per-stage linear to E, resize to 1/4, concat, fuse, predict."""
    b.set_tags(part="decoder")
    h4, w4 = feats[0].h, feats[0].w
    ups: list[T] = []
    for i in (3, 2, 1, 0):  # official order: c4, c3, c2, c1
        y = b.linear(f"decode_head.linear_c{i + 1}", feats[i], dim)
        if (y.h, y.w) != (h4, w4):
            y = b.resize(f"decode_head.linear_c{i + 1}.resize", y, h4, w4)
        ups.append(y)
    x = b.concat("decode_head.concat", ups)
    x = conv_module(b, "decode_head.linear_fuse", x, dim, r=1)
    x = b.conv("decode_head.linear_pred", x, num_classes, r=1, bias=True)
    return b.resize("decode_head.resize", x, *out_hw)


def build_segformer(variant: str, input_size: tuple[int, int], num_classes: int,
                    dataset: str = "ade20k") -> Workload:
    """SegFormer-``variant`` at ``input_size`` (H, W pixels) with ``num_classes`` outputs."""
    key = pick(VARIANTS, variant, "SegFormer variant")
    cfg = VARIANTS[key]
    h, w = check_input(f"segformer-{key}", input_size)
    b = Builder()
    feats = mit_encoder(b, cfg, b.input(3, h, w))
    mlp_decoder(b, feats, cfg.decoder_dim, num_classes, (h, w))
    return b.workload(name=f"segformer-{key}", family="segformer", variant=key,
                      input_size=(h, w), num_classes=num_classes, dataset=dataset)


def _register(variant: str, default_input: tuple[int, int]) -> None:
    @model(f"segformer-{variant}", family="segformer", variant=variant,
           default_input=default_input, default_classes=150, dataset="ade20k",
           description=f"SegFormer-{variant.upper()} (MiT-{variant.upper()} + all-MLP head)")
    def _build(input_size: tuple[int, int] = default_input, num_classes: int = 150) -> Workload:
        return build_segformer(variant, input_size, num_classes)


for _v in VARIANTS:
    _register(_v, (640, 640) if _v == "b5" else (512, 512))
