"""Segmenter extractor: ViT parameter counts, hand-computed MACs, decoder structure."""

from __future__ import annotations

import networkx as nx
import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import Op, list_models, load_workload


@pytest.mark.parametrize("variant,params", [("ti", 5_717_416), ("b", 86_567_656)])
def test_vit_params_at_224(variant, params):
    # timm vit_tiny/base_patch16_224 (and transformers ViTForImageClassification, pooler
    # excluded): 5,717,416 / 86,567,656 params with a 1000-way head and 197-token pos
    # embedding. The linear decoder is the same Linear(d, classes), so equality is exact.
    wl = load_workload(f"segmenter-vit-{variant}16-linear", input_size=(224, 224),
                       num_classes=1000)
    assert wl.params == params


def _encoder_macs(d: int, depth: int, tokens: int, grid: int) -> int:
    # hand calc per block: qkv 3Nd^2 + proj Nd^2 + MLP 8Nd^2 + QK^T and AV 2N^2 d;
    # plus the 16x16x3 patch-embedding conv on every grid position
    return depth * (12 * tokens * d * d + 2 * tokens * tokens * d) + grid * d * 16 * 16 * 3


def test_linear_macs_hand_calc():
    # ViT-B/16 at 512: 32x32 = 1024 patches + class token; linear head 768 -> 150 per patch
    wl = load_workload("segmenter-vit-b16-linear")
    assert wl.macs == _encoder_macs(768, 12, 1025, 1024) + 1024 * 768 * 150


def test_mask_decoder_hand_calc():
    # ViT-S/16 at 512, 150 classes: decoder tokens 1024 + 150, 2 blocks of d=384, 6 heads
    wl = load_workload("segmenter-vit-s16-mask")
    d, p, k = 384, 1024, 150
    dec = (p * d * d                        # proj_dec
           + 2 * (12 * (p + k) * d * d + 2 * (p + k) ** 2 * d)   # two blocks
           + p * d * d + k * d * d          # proj_patch, proj_classes
           + p * d * k)                     # masks = patches @ classes^T
    assert wl.macs == _encoder_macs(d, 12, p + 1, p) + dec
    qk = wl.layer("decoder.blocks.1.attn.qk")
    assert (qk.p, qk.c, qk.k, qk.batch) == (p + k, 64, p + k, d // 64)
    masks = wl.layer("decoder.masks")
    assert masks.op is Op.MATMUL and (masks.p, masks.c, masks.k) == (p, d, k)
    assert wl.layer("decoder.mask_norm").params == 2 * k
    assert wl.layer("decoder.cls_emb").params == k * d
    assert wl.layers[-1].name == "decoder.resize" and (wl.layers[-1].p, wl.layers[-1].q) == (512, 512)


def test_registry_names_and_variants():
    names = {m.name: m for m in list_models() if m.family == "segmenter"}
    assert len(names) == 8
    # variant strings match accelsim/data/accuracy.csv (e.g. vit_s16_mask)
    assert names["segmenter-vit-s16-mask"].variant == "vit_s16_mask"
    assert names["segmenter-vit-l16-mask"].default_input == (640, 640)
    assert names["segmenter-vit-ti16-linear"].default_input == (512, 512)


def test_padding_and_graph():
    # 500x500 pads to 512x512 (32x32 patches), output resized back to 500x500
    wl = load_workload("segmenter-vit-ti16-mask", input_size=(500, 500))
    assert wl.layer("encoder.patch_embed.proj").p == 32
    assert (wl.layers[-1].p, wl.layers[-1].q) == (500, 500)
    g = wl.graph()
    assert nx.is_directed_acyclic_graph(g)
    pos = {l.name: i for i, l in enumerate(wl.layers)}
    assert all(pos[u] < pos[v] for u, v in g.edges if u != "input")
    assert {l.tag["part"] for l in wl.layers} == {"encoder", "decoder"}


def test_bad_input():
    with pytest.raises(WorkloadError, match="at least 16x16"):
        load_workload("segmenter-vit-ti16-linear", input_size=(8, 8))
    with pytest.raises(WorkloadError, match="unknown workload"):
        load_workload("segmenter-vit-h16-mask")
