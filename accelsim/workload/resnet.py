"""ResNet-50 (torchvision V1.5) extractor and the reusable ResNet-50 body (SPEC.md section 7).

V1.5: the stride of a downsampling bottleneck sits on its 3x3 conv (``conv2``), not on
the first 1x1. Layer names follow ``torchvision.models.resnet50`` module names
(``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer1.0.downsample.0``, ``fc``); the ReLU
module that torchvision reuses three times per block gets torch.fx's de-duplicated
names (``relu``, ``relu_1``, ``relu_2``) and the residual sum is ``<block>.add``.
BatchNorm after each conv and the ReLUs are fused element-wise layers (drained by
the producing conv's post-processing unit), so they cost no extra pass but their
affine parameters count.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builder import Builder, T, check_input, conv_module
from .ir import Workload
from .catalog import model

#: Bottleneck blocks per stage (SPEC.md section 7, torchvision resnet50).
RESNET50_DEPTHS = (3, 4, 6, 3)
#: Bottleneck widths per stage; each stage outputs ``4 x`` this many channels.
RESNET50_WIDTHS = (64, 128, 256, 512)
EXPANSION = 4


def bottleneck(b: Builder, x: T, prefix: str, width: int, stride: int,
               frozen_bn: bool = False) -> T:
    """One torchvision V1.5 ``Bottleneck`` (1x1 -> 3x3 stride -> 1x1, x4 expansion)."""
    out_c = width * EXPANSION
    y = conv_module(b, f"{prefix}.conv1", x, width, 1, bn=f"{prefix}.bn1", act=f"{prefix}.relu",
                    frozen_bn=frozen_bn)
    y = conv_module(b, f"{prefix}.conv2", y, width, 3, stride=stride, pad=1, bn=f"{prefix}.bn2",
                    act=f"{prefix}.relu_1", frozen_bn=frozen_bn)
    y = conv_module(b, f"{prefix}.conv3", y, out_c, 1, bn=f"{prefix}.bn3", act=None,
                    frozen_bn=frozen_bn)
    shortcut = x
    if stride != 1 or x.c != out_c:
        shortcut = conv_module(b, f"{prefix}.downsample.0", x, out_c, 1, stride=stride,
                               bn=f"{prefix}.downsample.1", act=None, frozen_bn=frozen_bn)
    y = b.add(f"{prefix}.add", y, shortcut)
    return b.act(f"{prefix}.relu_2", y, fn="relu")


@dataclass(frozen=True)
class ResNetFeatures:
    """Stage outputs of the ResNet-50 body: C2 (1/4) .. C5 (1/32), and the stem (1/4)."""

    stem: T
    c2: T
    c3: T
    c4: T
    c5: T


def resnet50_body(b: Builder, x: T, prefix: str = "", frozen_bn: bool = False) -> ResNetFeatures:
    """Emit the ResNet-50 stem and ``layer1..layer4`` into ``b``; return the stage outputs.

    ``prefix`` is prepended to every module name (DETR uses ``backbone.0.body.``).
    C5 has 2048 channels at 1/32 of the input (floor arithmetic of each stride-2 layer).
    """
    b.set_tags(part="backbone", stage="stem")
    y = conv_module(b, f"{prefix}conv1", x, 64, 7, stride=2, pad=3, bn=f"{prefix}bn1",
                    act=f"{prefix}relu", frozen_bn=frozen_bn)
    stem = b.pool(f"{prefix}maxpool", y, 3, 2, pad=1, fn="max")
    outs: list[T] = []
    y = stem
    for si, (depth, width) in enumerate(zip(RESNET50_DEPTHS, RESNET50_WIDTHS)):
        stage = f"layer{si + 1}"
        for bi in range(depth):
            b.set_tags(part="backbone", stage=stage, block=f"{stage}.{bi}")
            stride = 2 if (bi == 0 and si > 0) else 1
            y = bottleneck(b, y, f"{prefix}{stage}.{bi}", width, stride, frozen_bn=frozen_bn)
        outs.append(y)
    return ResNetFeatures(stem, *outs)


def classifier_head(b: Builder, x: T, num_classes: int, pool: str = "avgpool",
                    fc: str = "fc") -> T:
    """Global average pool over ``x`` then a Linear(x.c, num_classes) with bias."""
    y = b.pool(pool, x, 1, 1, fn="avg", out_hw=(1, 1))
    return b.linear(fc, y, num_classes)


@model("resnet50", family="resnet", variant="r50", default_input=(224, 224),
       default_classes=1000, dataset="imagenet",
       description="ResNet-50 V1.5 (torchvision): 4.09 GMACs, 25.6 M params at 224x224")
def resnet50(input_size: tuple[int, int] = (224, 224), num_classes: int = 1000) -> Workload:
    """torchvision ``resnet50`` at any input size >= 32x32 pixels."""
    h, w = check_input("resnet50", input_size, multiple=1, lo=32)
    b = Builder()
    feats = resnet50_body(b, b.input(3, h, w))
    b.set_tags(part="head")
    classifier_head(b, feats.c5, num_classes)
    return b.workload(name="resnet50", family="resnet", variant="r50", input_size=(h, w),
                      num_classes=num_classes, dataset="imagenet")
