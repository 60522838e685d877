"""Segmenter (ViT encoder + linear or mask-transformer decoder) extractor (SPEC.md section 7).

Layer names follow the official Segmenter code (``segm/model``): ``encoder.patch_embed.proj``,
``encoder.cls_token``, ``encoder.pos_embed``, ``encoder.blocks.0.attn.qkv``,
``encoder.blocks.0.attn.proj``, ``encoder.blocks.0.mlp.fc1``/``fc2``, ``encoder.norm``;
linear decoder ``decoder.head``; mask transformer ``decoder.proj_dec``, ``decoder.cls_emb``,
``decoder.blocks.0...``, ``decoder.decoder_norm``, ``decoder.proj_patch``,
``decoder.proj_classes``, ``decoder.mask_norm``. Functional steps are named under the
module that runs them: ``attn.qk``, ``attn.softmax``, ``attn.av``, ``add1``/``add2``,
``mlp.act`` (GELU), ``decoder.patches_l2norm``/``classes_l2norm``, ``decoder.masks``
(patches @ classes^T) and ``decoder.resize`` (the final bilinear upsampling).

The image is padded to a multiple of the patch size as the reference does; the class
token is dropped before the decoder; the position embedding is sized for the given
input grid (its parameters are ``extra_params`` of ``encoder.pos_embed``).
Tags: ``part`` = ``encoder`` / ``decoder``, ``block`` = layer index.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import WorkloadError
from .builder import Builder, T, attention, ffn, pick
from .ir import Workload, pad_to
from .catalog import model

PATCH = 16


@dataclass(frozen=True)
class ViTConfig:
    """ViT encoder hyper-parameters (SPEC.md section 7)."""

    dim: int
    depth: int
    heads: int
    mlp_ratio: int = 4


# SPEC.md section 7: ViT-Ti 192/12/3, ViT-S 384/12/6, ViT-B 768/12/12, ViT-L 1024/24/16.
VARIANTS: dict[str, ViTConfig] = {
    "ti": ViTConfig(192, 12, 3),
    "s": ViTConfig(384, 12, 6),
    "b": ViTConfig(768, 12, 12),
    "l": ViTConfig(1024, 24, 16),
}
DECODERS = ("linear", "mask")
#: mask-transformer decoder depth (SPEC.md section 7); heads = d / 64, FFN 4d
MASK_LAYERS = 2


def transformer_block(b: Builder, pre: str, x: T, heads: int, mlp_ratio: int) -> T:
    """Pre-norm ViT block over ``x.h`` tokens (``x.w == 1``): MHSA then MLP, both residual."""
    d = x.c
    y = b.norm(f"{pre}.norm1", x)
    qkv = b.linear(f"{pre}.attn.qkv", y, 3 * d)
    q = k = v = T(qkv.src, d, qkv.h, qkv.w)  # thirds of the packed qkv output (views)
    y = attention(b, f"{pre}.attn", q, k, v, heads, out_name="proj")
    x = b.add(f"{pre}.add1", x, y)
    y = b.norm(f"{pre}.norm2", x)
    y = ffn(b, f"{pre}.mlp", y, mlp_ratio * d, names=("fc1", "act", "fc2"), act="gelu")
    return b.add(f"{pre}.add2", x, y)


def vit_encoder(b: Builder, cfg: ViTConfig, img: T) -> T:
    """ViT encoder on a padded image; returns the normed patch tokens (class token dropped)."""
    b.set_tags(part="encoder")
    x = b.conv("encoder.patch_embed.proj", img, cfg.dim, r=PATCH, stride=PATCH)
    gh, gw = x.h, x.w
    n = gh * gw + 1
    x = b.other("encoder.cls_token", [x], c=cfg.dim, h=n, w=1, fn="concat_cls",
                extra_params=cfg.dim)
    x = b.other("encoder.pos_embed", [x], c=cfg.dim, h=n, w=1, fn="add_pos_embed",
                extra_params=n * cfg.dim)
    for i in range(cfg.depth):
        b.set_tags(part="encoder", block=i)
        x = transformer_block(b, f"encoder.blocks.{i}", x, cfg.heads, cfg.mlp_ratio)
    b.set_tags(part="encoder")
    x = b.norm("encoder.norm", x)
    return T(x.src, cfg.dim, gh, gw)  # x[:, 1:] as a grid: a view


def linear_decoder(b: Builder, x: T, num_classes: int) -> T:
    """DecoderLinear: Linear(d, classes) on every patch token."""
    b.set_tags(part="decoder")
    return b.linear("decoder.head", x, num_classes)


def mask_decoder(b: Builder, x: T, num_classes: int, mlp_ratio: int = 4) -> T:
    """MaskTransformer: proj_dec, class embeddings, 2 blocks, class-patch similarity masks."""
    b.set_tags(part="decoder")
    d = x.c
    gh, gw = x.h, x.w
    p = gh * gw
    y = b.linear("decoder.proj_dec", T(x.src, d, p, 1), d)
    y = b.other("decoder.cls_emb", [y], c=d, h=p + num_classes, w=1, fn="concat_cls",
                extra_params=num_classes * d)
    for i in range(MASK_LAYERS):
        b.set_tags(part="decoder", block=i)
        y = transformer_block(b, f"decoder.blocks.{i}", y, d // 64, mlp_ratio)
    b.set_tags(part="decoder")
    y = b.norm("decoder.decoder_norm", y)
    # the d x d projections are learned matrices: linears without bias over each token set
    patches = b.linear("decoder.proj_patch", T(y.src, d, p, 1), d, bias=False)
    classes = b.linear("decoder.proj_classes", T(y.src, d, num_classes, 1), d, bias=False)
    patches = b.norm("decoder.patches_l2norm", patches, fn="l2norm")
    classes = b.norm("decoder.classes_l2norm", classes, fn="l2norm")
    masks = b.matmul("decoder.masks", patches, classes, m=p, k=num_classes, c=d)
    masks = b.norm("decoder.mask_norm", masks)
    return T(masks.src, num_classes, gh, gw)


def build_segmenter(variant: str, decoder: str, input_size: tuple[int, int],
                    num_classes: int, dataset: str = "ade20k") -> Workload:
    """Segmenter ViT-``variant``/16 with a ``linear`` or ``mask`` decoder at ``input_size``."""
    key = pick(VARIANTS, variant, "Segmenter ViT variant")
    dec = pick(DECODERS, decoder, "Segmenter decoder")
    cfg = VARIANTS[key]
    h, w = (int(v) for v in input_size)
    if h < PATCH or w < PATCH:
        raise WorkloadError(f"segmenter: input size {h}x{w} must be at least {PATCH}x{PATCH}")
    b = Builder()
    img = b.input(3, pad_to(h, PATCH), pad_to(w, PATCH))  # padded like segm's padding()
    feats = vit_encoder(b, cfg, img)
    masks = (linear_decoder(b, feats, num_classes) if dec == "linear"
             else mask_decoder(b, feats, num_classes, cfg.mlp_ratio))
    b.set_tags(part="decoder")
    b.resize("decoder.resize", masks, h, w)
    name = f"segmenter-vit-{key}16-{dec}"
    return b.workload(name=name, family="segmenter", variant=f"vit_{key}16_{dec}",
                      input_size=(h, w), num_classes=num_classes, dataset=dataset)


def _register(variant: str, decoder: str) -> None:
    size = (640, 640) if variant == "l" else (512, 512)

    @model(f"segmenter-vit-{variant}16-{decoder}", family="segmenter",
           variant=f"vit_{variant}16_{decoder}", default_input=size, default_classes=150,
           dataset="ade20k",
           description=f"Segmenter ViT-{variant.upper()}/16 with a {decoder} decoder")
    def _build(input_size: tuple[int, int] = size, num_classes: int = 150) -> Workload:
        return build_segmenter(variant, decoder, input_size, num_classes)


for _v in VARIANTS:
    for _d in DECODERS:
        _register(_v, _d)
