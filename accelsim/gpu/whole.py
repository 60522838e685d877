"""Whole-model timing of `transformers` model definitions (random weights, eval, batch 1).

Models are built from configs only (no download: ``HF_HUB_OFFLINE=1``,
``use_pretrained_backbone=False``) with the hyper-parameters of SPEC.md section 7,
so their work matches the analytic workloads of the same name. The ratio
whole-model time / per-layer sum shows launch gaps (ratio > 1: reshapes, permutes,
position embeddings and Python overhead the IR does not list) and fusions or
overlap (ratio < 1).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from ..errors import AccelsimError
from ..workload import segformer, segmenter, swin
from .data import Measurement
from .device import Target, require_torch, torch_dtype
from .energy import EnergyPolicy, energy_for, nvml_power_reader
from .harness import cudnn_benchmark
from .meta import base_meta
from .ops import ArgSpec
from .timing import TimingPolicy, buffer_count, time_op

@dataclass(frozen=True)
class HFModel:
    """A buildable whole model: ``build(transformers, (H, W), classes) -> nn.Module``.

    ``default_input`` is (H, W) in pixels, used when neither the user nor an analytic
    workload of the same name gives one.
    """

    name: str
    hf_class: str
    default_classes: int
    build: Callable[[Any, tuple[int, int], int], Any]
    default_input: tuple[int, int] = (512, 512)


def _resized(model: Any) -> Any:
    """``model`` whose 1/4-resolution logits are resized bilinearly to the input, as the
    analytic SegFormer head does (transformers leaves that resize to post-processing)."""
    torch = require_torch()

    class Resized(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            logits = self.model(pixel_values=pixel_values).logits
            return torch.nn.functional.interpolate(logits, size=pixel_values.shape[-2:], mode="bilinear",
                                                   align_corners=False)

    return Resized()


def _segformer(variant: str) -> HFModel:
    cfg = segformer.VARIANTS[variant]
    return HFModel(f"segformer-{variant}", "SegformerForSemanticSegmentation+resize", 150,
                   lambda t, size, n: _resized(t.SegformerForSemanticSegmentation(t.SegformerConfig(
                       hidden_sizes=list(cfg.embed_dims), depths=list(cfg.depths),
                       decoder_hidden_size=cfg.decoder_dim, num_attention_heads=list(cfg.heads),
                       sr_ratios=list(cfg.sr_ratios), mlp_ratios=[cfg.mlp_ratio] * 4, num_labels=n))))


def _swin_upernet(variant: str) -> HFModel:
    cfg = swin.VARIANTS[variant]

    def build(t, size, n):
        backbone = t.SwinConfig(embed_dim=cfg.embed_dim, depths=list(cfg.depths), num_heads=list(cfg.heads),
                                window_size=cfg.window, out_features=["stage1", "stage2", "stage3", "stage4"])
        return t.UperNetForSemanticSegmentation(t.UperNetConfig(
            backbone_config=backbone, hidden_size=swin.UPER_CHANNELS, pool_scales=list(swin.PPM_SCALES),
            use_auxiliary_head=False, use_pretrained_backbone=False, num_labels=n))

    return HFModel(f"swin-{variant}-upernet", "UperNetForSemanticSegmentation", 150, build)


def _detr(name: str, cls: str, cfg: str, queries: int) -> HFModel:
    def build(t, size, n):
        backbone = t.ResNetConfig(out_features=["stage4"])
        config = getattr(t, cfg)(use_timm_backbone=False, backbone_config=backbone,
                                 use_pretrained_backbone=False, num_queries=queries, num_labels=n)
        return getattr(t, cls)(config)

    return HFModel(name, cls, 91, build, (800, 1216))  # SPEC.md section 7: ~800x1200, 32-aligned


def _vit_encoder(t: Any, variant: str, size: tuple[int, int]) -> Any:
    """transformers' ViTModel with the SPEC.md section 7 hyper-parameters of ``variant``."""
    cfg = segmenter.VARIANTS[variant]
    return t.ViTModel(t.ViTConfig(hidden_size=cfg.dim, num_hidden_layers=cfg.depth, num_attention_heads=cfg.heads,
                                  intermediate_size=cfg.mlp_ratio * cfg.dim, patch_size=segmenter.PATCH,
                                  image_size=list(size)), add_pooling_layer=False)


def _vit(variant: str) -> HFModel:
    return HFModel(f"vit-{variant}", "ViTModel", 0, lambda t, size, n: _vit_encoder(t, variant, size), (224, 224))


def _segmenter_linear(variant: str) -> HFModel:
    """Segmenter with the linear decoder: ViT encoder, Linear(d, classes) on patch tokens,
    bilinear resize to the input (SPEC.md section 7); the encoder is transformers' ViTModel."""
    d, patch = segmenter.VARIANTS[variant].dim, segmenter.PATCH

    def build(t, size, n):
        torch = require_torch()

        class SegmenterLinear(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = _vit_encoder(t, variant, size)
                self.head = torch.nn.Linear(d, n)

            def forward(self, pixel_values):
                x = self.head(self.encoder(pixel_values=pixel_values).last_hidden_state[:, 1:])
                x = x.transpose(1, 2).reshape(x.shape[0], n, size[0] // patch, size[1] // patch)
                return torch.nn.functional.interpolate(x, size=tuple(size), mode="bilinear",
                                                       align_corners=False)

        return SegmenterLinear()

    return HFModel(f"segmenter-vit-{variant}16-linear", "ViTModel+Linear", 150, build,
                   (640, 640) if variant == "l" else (512, 512))


def _hf_models() -> dict[str, HFModel]:
    models = [_segformer(v) for v in segformer.VARIANTS] + [_swin_upernet(v) for v in swin.VARIANTS]
    models += [_vit(v) for v in segmenter.VARIANTS] + [_segmenter_linear(v) for v in segmenter.VARIANTS]
    models += [
        _detr("detr-r50", "DetrForObjectDetection", "DetrConfig", 100),
        _detr("conditional-detr-r50", "ConditionalDetrForObjectDetection", "ConditionalDetrConfig", 300),
        _detr("dab-detr-r50", "DabDetrForObjectDetection", "DabDetrConfig", 300),
        HFModel("resnet50", "ResNetForImageClassification", 1000,
                lambda t, size, n: t.ResNetForImageClassification(t.ResNetConfig(num_labels=n)), (224, 224)),
    ]
    return {m.name: m for m in models}


#: whole models buildable from `transformers` configs, by workload name
HF_MODELS: dict[str, HFModel] = _hf_models()
#: registry-name spellings accepted for the same models
ALIASES = {"upernet-swin-t": "swin-t-upernet", "upernet-swin-s": "swin-s-upernet",
           "upernet-swin-b": "swin-b-upernet", "upernet-swin-l": "swin-l-upernet",
           "resnet-50": "resnet50", "detr": "detr-r50", "conditional-detr": "conditional-detr-r50",
           "dab-detr": "dab-detr-r50"}


def hf_model(name: "str | HFModel") -> HFModel:
    """The whole-model definition for ``name`` (an :data:`HF_MODELS` key or alias; a
    definition already looked up is returned as it is)."""
    if isinstance(name, HFModel):
        return name
    key = ALIASES.get(name.lower(), name.lower())
    if key not in HF_MODELS:
        raise AccelsimError(f"--workload {name!r}: no transformers model definition; choose one of "
                            f"{', '.join(sorted(HF_MODELS))}")
    return HF_MODELS[key]


def build_hf(name: "str | HFModel", input_size: tuple[int, int], num_classes: int | None, target: Target) -> Any:
    """The model in eval mode on the target device and dtype, random weights, no download."""
    if target.dtype == "int8":
        raise AccelsimError("--dtype int8: transformers models have no eager int8 path; "
                            "measure whole models in fp16, bf16 or fp32")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        raise AccelsimError("whole-model timing needs transformers: pip install 'accelsim[torch]'") from None
    spec = hf_model(name)
    torch = require_torch()
    torch.manual_seed(0)
    model = spec.build(transformers, input_size, spec.default_classes if num_classes is None else num_classes)
    return model.eval().to(device=target.device, dtype=torch_dtype(target.dtype))


def measure_whole(name: "str | HFModel", input_size: tuple[int, int], target: Target, num_classes: int | None = None,
                  policy: TimingPolicy = TimingPolicy(budget_s=10.0, min_repeats=10, max_repeats=200),
                  energy: EnergyPolicy = EnergyPolicy(), benchmark: bool = True,
                  per_layer: Measurement | None = None, macs: int | None = None) -> Measurement:
    """Time the whole model on batch-1 random images; a one-row :class:`Measurement`.

    ``per_layer`` (a per-layer measurement of the same workload) adds ``per_layer_sum_s``
    and ``ratio`` = whole / per-layer sum; ``macs`` (from the analytic workload) adds
    ``tflops``. Times in seconds, energy in joules.
    """
    torch = require_torch()
    spec = hf_model(name)
    with cudnn_benchmark(benchmark), torch.inference_mode():
        model = build_hf(spec, input_size, num_classes, target)
        params = sum(p.numel() for p in model.parameters())
        image = (1, 3, *input_size)
        dt = torch_dtype(target.dtype)
        nb = buffer_count(ArgSpec(image, target.dtype).nbytes, policy, target)
        gen = torch.Generator().manual_seed(0)
        argsets = [[torch.randn(image, generator=gen).to(device=target.device, dtype=dt)] for _ in range(nb)]

        def run(x):
            return model(pixel_values=x)

        try:
            stats = time_op(run, argsets, target, policy)
        except (RuntimeError, NotImplementedError) as exc:
            raise AccelsimError(f"{spec.name} ({spec.hf_class}) failed in {target.dtype} on {target.device}: "
                                f"{str(exc).splitlines()[0][:200]}") from None
        power, reason = nvml_power_reader(target) if energy.enabled else (None, "not requested")
        e = energy_for(run, argsets, target, energy, power, reason)
        meta = base_meta(target, "whole-model", spec.name, input_size, "", energy=e.status,
                         hf_class=spec.hf_class, params=params, timing=policy.__dict__)
    row = {"name": spec.name, "op": "model", "hf_class": spec.hf_class, "params": params,
           "macs": macs if macs is not None else 0, **stats.row(),
           "energy_j": e.energy_j, "power_w": e.power_w, "energy_status": e.status}
    row["tflops"] = 2 * row["macs"] / stats.median_s / 1e12 if row["macs"] else math.nan
    if per_layer is not None:
        total = float(per_layer.frame["median_s"].sum())
        row.update(per_layer_sum_s=total, ratio=stats.median_s / total if total > 0 else math.nan,
                   per_layer_device=str(per_layer.meta.get("device_name", "")))
    return Measurement(pd.DataFrame([row]), meta)
