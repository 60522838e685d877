"""Swin Transformer T/S/B/L + UPerNet head extractor (SPEC.md section 7).

Layer names follow mmseg's ``SwinTransformer`` and ``UPerHead`` modules:
``backbone.patch_embed.projection``, ``backbone.stages.0.blocks.1.attn.w_msa.qkv``,
``...attn.w_msa.proj``, ``...ffn.layers.0.0`` (fc1), ``...ffn.layers.1`` (fc2),
``backbone.stages.0.downsample.reduction``, ``backbone.norm0`` .. ``norm3``,
``decode_head.psp_modules.0.1``, ``decode_head.bottleneck``,
``decode_head.lateral_convs.0``, ``decode_head.fpn_convs.0``,
``decode_head.fpn_bottleneck``, ``decode_head.conv_seg``. ConvModules are named by the
module (conv) with ``.bn`` and ``.activate`` children. Functional steps get names under
the module that performs them: ``attn.w_msa.qk`` (Q @ K^T), ``.relative_position_bias``,
``.mask`` (shifted-window mask add), ``.softmax``, ``.av`` (A @ V), ``add1``/``add2``
residuals, ``top_down.i.resize``/``.add``, ``fpn_outs.i.resize``, ``decode_head.resize``.

Window attention runs over the tokens padded to a multiple of the window size (the
padding is counted, as in the reference code: qkv, attention and proj see the padded
map); padding, the cyclic shift and window partition are address changes, not layers.
Tags: ``part`` = ``backbone`` / ``decoder``, ``stage`` = 0..3, ``block`` = 0..depth-1.
No auxiliary FCN head (training only).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import WorkloadError
from .builder import Builder, T, check_input, conv_module, ffn, pick
from .ir import Workload, pad_to
from .catalog import model


@dataclass(frozen=True)
class SwinConfig:
    """Hyper-parameters of one Swin variant (SPEC.md section 7 table)."""

    embed_dim: int
    depths: tuple[int, int, int, int]
    heads: tuple[int, int, int, int]
    window: int = 7
    patch: int = 4
    mlp_ratio: int = 4


# SPEC.md section 7, Swin table (mmseg configs upernet_swin_*_patch4_window7_512x512).
VARIANTS: dict[str, SwinConfig] = {
    "t": SwinConfig(96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "s": SwinConfig(96, (2, 2, 18, 2), (3, 6, 12, 24)),
    "b": SwinConfig(128, (2, 2, 18, 2), (4, 8, 16, 32)),
    "l": SwinConfig(192, (2, 2, 18, 2), (6, 12, 24, 48)),
}

#: UPerNet head width and pyramid-pooling scales (SPEC.md section 7).
UPER_CHANNELS = 512
PPM_SCALES = (1, 2, 3, 6)


def window_attention(b: Builder, pre: str, x: T, heads: int, window: int, shifted: bool) -> T:
    """(Shifted) window MSA on ``x`` padded to a multiple of ``window``; returns proj output."""
    c = x.c
    hp, wp = pad_to(x.h, window), pad_to(x.w, window)
    xp = T(x.src, c, hp, wp)  # zero padding (an address change; the padded tokens count)
    nw = (hp // window) * (wp // window)
    n = window * window
    dh = c // heads
    batch = heads * nw
    qkv = b.linear(f"{pre}.qkv", xp, 3 * c)
    s = b.matmul(f"{pre}.qk", qkv, qkv, m=n, k=n, c=dh, batch=batch)
    flat = T(s.src, n, n * batch, 1)  # scores of all heads x windows as rows
    # learned (2w-1)^2 x heads table gathered and added to every window's scores
    s = b.other(f"{pre}.relative_position_bias", [flat], c=n, h=n * batch, w=1,
                fn="add_rel_pos_bias", extra_params=(2 * window - 1) ** 2 * heads)
    if shifted:
        s = b.act(f"{pre}.mask", s, fn="add_mask", fused=False)
    s = b.softmax(f"{pre}.softmax", T(s.src, n, n, 1), batch=batch)
    ctx = b.matmul(f"{pre}.av", s, qkv, m=n, k=dh, c=n, batch=batch)
    ctx = T(ctx.src, c, hp, wp)  # window reverse + head concat (a view)
    return b.linear(f"{pre}.proj", ctx, c)


def swin_block(b: Builder, pre: str, x: T, heads: int, cfg: SwinConfig, shifted: bool) -> T:
    """mmseg SwinBlock: x + W-MSA(LN(x)), then x + FFN(LN(x)); the un-pad is a view."""
    y = b.norm(f"{pre}.norm1", x)
    y = window_attention(b, f"{pre}.attn.w_msa", y, heads, cfg.window, shifted)
    y = T(y.src, x.c, x.h, x.w) if (y.h, y.w) != (x.h, x.w) else y  # crop the padding
    x = b.add(f"{pre}.add1", x, y)
    y = b.norm(f"{pre}.norm2", x)
    y = ffn(b, f"{pre}.ffn", y, cfg.mlp_ratio * x.c, names=("layers.0.0", "layers.0.1", "layers.1"),
            act="gelu")
    return b.add(f"{pre}.add2", x, y)


def swin_backbone(b: Builder, cfg: SwinConfig, img: T) -> list[T]:
    """Swin encoder; returns the four normed stage outputs (1/4 .. 1/32)."""
    b.set_tags(part="backbone", stage=0)
    x = b.conv("backbone.patch_embed.projection", img, cfg.embed_dim, r=cfg.patch,
               stride=cfg.patch)
    x = b.norm("backbone.patch_embed.norm", x)
    outs: list[T] = []
    for i, depth in enumerate(cfg.depths):
        for j in range(depth):
            b.set_tags(part="backbone", stage=i, block=j)
            x = swin_block(b, f"backbone.stages.{i}.blocks.{j}", x, cfg.heads[i], cfg,
                           shifted=j % 2 == 1)
        b.set_tags(part="backbone", stage=i)
        out = x
        if i < 3:  # PatchMerging: 2x2 unfold (a view), LN(4C), Linear(4C, 2C) without bias
            if x.h % 2 or x.w % 2:
                raise WorkloadError(f"Swin stage {i} map {x.h}x{x.w} is odd; use an input "
                                    "divisible by 32")
            m = b.reshape(x, 4 * x.c, x.h // 2, x.w // 2)
            m = b.norm(f"backbone.stages.{i}.downsample.norm", m)
            x = b.linear(f"backbone.stages.{i}.downsample.reduction", m, 2 * out.c, bias=False)
        outs.append(b.norm(f"backbone.norm{i}", out))
    return outs


def uper_head(b: Builder, feats: list[T], num_classes: int, out_hw: tuple[int, int],
              ch: int = UPER_CHANNELS) -> T:
    """mmseg UPerHead: PPM on the last level, FPN laterals/top-down/convs, fuse, classify."""
    b.set_tags(part="decoder")
    top = feats[3]
    psp = [top]
    for i, scale in enumerate(PPM_SCALES):
        pre = f"decode_head.psp_modules.{i}"
        pooled = b.pool(f"{pre}.0", top, r=-(-top.h // scale), stride=max(1, top.h // scale),
                        out_hw=(scale, scale))
        y = conv_module(b, f"{pre}.1", pooled, ch, r=1)
        psp.append(b.resize(f"{pre}.resize", y, top.h, top.w))
    cat = b.concat("decode_head.psp_concat", psp)
    laterals = [conv_module(b, f"decode_head.lateral_convs.{i}", feats[i], ch, r=1)
                for i in range(3)]
    laterals.append(conv_module(b, "decode_head.bottleneck", cat, ch, r=3, pad=1))
    for i in (3, 2, 1):
        low = laterals[i - 1]
        up = b.resize(f"decode_head.top_down.{i}.resize", laterals[i], low.h, low.w)
        laterals[i - 1] = b.add(f"decode_head.top_down.{i}.add", low, up)
    outs = [conv_module(b, f"decode_head.fpn_convs.{i}", laterals[i], ch, r=3, pad=1)
            for i in range(3)]
    outs.append(laterals[3])
    h4, w4 = outs[0].h, outs[0].w
    outs = [outs[0]] + [b.resize(f"decode_head.fpn_outs.{i}.resize", o, h4, w4)
                        for i, o in enumerate(outs[1:], start=1)]
    x = b.concat("decode_head.fpn_concat", outs)
    x = conv_module(b, "decode_head.fpn_bottleneck", x, ch, r=3, pad=1)
    x = b.conv("decode_head.conv_seg", x, num_classes, r=1, bias=True)
    return b.resize("decode_head.resize", x, *out_hw)


def build_swin_upernet(variant: str, input_size: tuple[int, int], num_classes: int,
                       window: int = 7, dataset: str = "ade20k") -> Workload:
    """Swin-``variant`` + UPerNet at ``input_size`` (H, W pixels), ``num_classes`` outputs."""
    key = pick(VARIANTS, variant, "Swin variant")
    if int(window) < 1:
        raise WorkloadError(f"swin-{key}-upernet: window={window} must be a positive integer")
    cfg = VARIANTS[key]
    cfg = SwinConfig(cfg.embed_dim, cfg.depths, cfg.heads, window=int(window))
    h, w = check_input(f"swin-{key}-upernet", input_size)
    b = Builder()
    feats = swin_backbone(b, cfg, b.input(3, h, w))
    uper_head(b, feats, num_classes, (h, w))
    return b.workload(name=f"swin-{key}-upernet", family="swin_upernet", variant=key,
                      input_size=(h, w), num_classes=num_classes, dataset=dataset,
                      meta={"window": cfg.window})


def _register(variant: str) -> None:
    @model(f"swin-{variant}-upernet", family="swin_upernet", variant=variant,
           default_input=(512, 512), default_classes=150, dataset="ade20k",
           description=f"Swin-{variant.upper()} backbone + UPerNet head (mmseg)")
    def _build(input_size: tuple[int, int] = (512, 512), num_classes: int = 150,
               window: int = 7) -> Workload:
        return build_swin_upernet(variant, input_size, num_classes, window=window)


for _v in VARIANTS:
    _register(_v)
