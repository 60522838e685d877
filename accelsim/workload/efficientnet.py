"""EfficientNet-Lite0 extractor (SPEC.md section 8: CTS policy network).

EfficientNet-Lite (tensorflow/tpu ``efficientnet/lite``) is EfficientNet-B0 without
squeeze-excitation, with ReLU6 instead of swish and with a fixed 32-channel stem and
1280-channel head. Layer names follow ``timm``'s ``efficientnet_lite0`` (the module the
CTS policy network instantiates with ``features_only=True``): ``conv_stem``, ``bn1``,
``blocks.<stage>.<i>.conv_pw / conv_dw / conv_pwl`` with ``bn1..bn3``, ``conv_head``,
``bn2``, ``classifier``. ``timm``'s ``BatchNormAct2d`` carries its activation as the
submodule ``<bn>.act``; residual sums are ``<block>.add``. BN and ReLU6 are fused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builder import Builder, T, check_input, conv_module
from .ir import Workload
from .catalog import model
from .resnet import classifier_head


@dataclass(frozen=True)
class MBStage:
    """One stage of the block table: repeats, kernel, first stride, expand ratio, out channels."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    out_c: int


#: EfficientNet-B0 / Lite0 block table (Tan & Le 2019, Table 1; timm ``_gen_efficientnet_lite``
#: arch_def ``ds_r1_k3_s1_e1_c16 ... ir_r1_k3_s1_e6_c320``); stage 0 is a depthwise-separable block.
LITE0_STAGES = (
    MBStage(1, 3, 1, 1, 16),
    MBStage(2, 3, 2, 6, 24),
    MBStage(2, 5, 2, 6, 40),
    MBStage(3, 3, 2, 6, 80),
    MBStage(3, 5, 1, 6, 112),
    MBStage(4, 5, 2, 6, 192),
    MBStage(1, 3, 1, 6, 320),
)
#: Fixed stem and head widths of the Lite family (tensorflow/tpu efficientnet lite README).
STEM_C = 32
HEAD_C = 1280
ACT = "relu6"


def _bn_act(b: Builder, x: T, conv: str, bn: str, k: int, r: int, stride: int = 1,
            groups: int = 1, act: bool = True) -> T:
    """Conv (no bias, 'same'-style padding k//2) + fused BN (+ fused ReLU6 named ``<bn>.act``)."""
    return conv_module(b, conv, x, k, r, stride=stride, pad=r // 2, bn=bn, groups=groups,
                       act=f"{bn}.act" if act else None, act_fn=ACT)


def mbconv(b: Builder, x: T, prefix: str, st: MBStage, stride: int) -> T:
    """timm ``InvertedResidual`` (expand 1x1, depthwise kxk, project 1x1) or, for expand 1,
    ``DepthwiseSeparableConv`` (depthwise kxk, project 1x1); residual when shapes match."""
    if st.expand == 1:
        y = _bn_act(b, x, f"{prefix}.conv_dw", f"{prefix}.bn1", x.c, st.kernel, stride, groups=x.c)
        y = _bn_act(b, y, f"{prefix}.conv_pw", f"{prefix}.bn2", st.out_c, 1, act=False)
    else:
        mid = x.c * st.expand
        y = _bn_act(b, x, f"{prefix}.conv_pw", f"{prefix}.bn1", mid, 1)
        y = _bn_act(b, y, f"{prefix}.conv_dw", f"{prefix}.bn2", mid, st.kernel, stride, groups=mid)
        y = _bn_act(b, y, f"{prefix}.conv_pwl", f"{prefix}.bn3", st.out_c, 1, act=False)
    if stride == 1 and x.c == st.out_c:
        y = b.add(f"{prefix}.add", y, x)
    return y


def efficientnet_lite0_body(b: Builder, x: T) -> dict[int, T]:
    """Stem and the 16 MBConv blocks; returns features by reduction ``{2, 4, 8, 16, 32}``.

    The entry for 32 is the 320-channel output of ``blocks.6`` at 1/32 of the input
    (what ``timm`` returns last with ``features_only=True``; ceil of each stride-2 step).
    """
    b.set_tags(part="backbone", stage="stem")
    y = _bn_act(b, x, "conv_stem", "bn1", STEM_C, 3, stride=2)
    feats: dict[int, T] = {}
    reduction = 2
    for si, st in enumerate(LITE0_STAGES):
        for bi in range(st.repeats):
            stride = st.stride if bi == 0 else 1
            b.set_tags(part="backbone", stage=f"blocks.{si}", block=f"blocks.{si}.{bi}")
            y = mbconv(b, y, f"blocks.{si}.{bi}", st, stride)
        reduction *= st.stride
        feats[reduction] = y
    return feats


@model("efficientnet-lite0", family="efficientnet", variant="lite0", default_input=(224, 224),
       default_classes=1000, dataset="imagenet",
       description="EfficientNet-Lite0 (no SE, ReLU6); features_only=True gives the 1/32 "
                   "backbone used as the CTS policy network")
def efficientnet_lite0(input_size: tuple[int, int] = (224, 224), num_classes: int = 1000,
                       features_only: bool = False) -> Workload:
    """EfficientNet-Lite0 at any input size >= 32x32 pixels.

    ``features_only=True`` stops at the 1/32 feature map (320 channels), as ``timm``'s
    ``features_only`` backbone does; otherwise ``conv_head`` (1x1 320->1280) + BN +
    ReLU6, global average pool and ``classifier`` Linear(1280, num_classes) follow.
    """
    h, w = check_input("efficientnet-lite0", input_size, multiple=1, lo=32)
    b = Builder()
    feats = efficientnet_lite0_body(b, b.input(3, h, w))
    if not features_only:
        b.set_tags(part="head")
        y = _bn_act(b, feats[32], "conv_head", "bn2", HEAD_C, 1)
        classifier_head(b, y, num_classes, pool="global_pool", fc="classifier")
    return b.workload(name="efficientnet-lite0", family="efficientnet", variant="lite0",
                      input_size=(h, w), num_classes=num_classes, dataset="imagenet",
                      meta={"features_only": features_only})
