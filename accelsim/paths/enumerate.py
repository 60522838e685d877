"""Generators of the path families the study swept (issue 4 item 3; OFA-ResNet50D subnets
across MAC budgets among them), and the named study configurations (SegFormer-B2 B2..B2_f,
Expedite cluster sizes, DynaSegFormer).

Every generator yields canonical path strings; the empty string is the full model.
"""

from __future__ import annotations

import itertools
import re
from typing import Iterable, Iterator, Sequence

import pandas as pd

from ..errors import WorkloadError
from ..workload.ir import Workload
from . import ofa
from .accuracy import load_accuracy
from .structure import PRUNE_TARGETS, encoder_blocks
from .syntax import format_path, parse_path

# PAUMER Table 1 (Courdier et al., BMVC 2022), as listed in data/paumer_tradeoff.csv
PAUMER_CONFIGS: tuple[tuple[tuple[int, float], ...], ...] = (
    ((3, 0.2),), ((3, 0.4),), ((3, 0.6),),
    ((5, 0.2),), ((5, 0.4),), ((5, 0.6),), ((5, 0.8),),
    ((3, 0.2), (5, 0.2)), ((3, 0.3), (5, 0.3)), ((3, 0.4), (5, 0.4)),
    ((3, 0.2), (5, 0.2), (7, 0.2)), ((3, 0.3), (5, 0.3), (7, 0.3)),
    ((3, 0.4), (5, 0.4), (7, 0.4)),
)

# Expedite (Liang et al., NeurIPS 2022) Table 3 cluster sizes for Segmenter ViT-L/16 at 640
EXPEDITE_SIZES = (28, 24, 20, 16, 12, 8)


def _channel_steps(c: int, step: int) -> list[int]:
    if step < 1:
        raise WorkloadError(f"channel step {step} must be >= 1")
    return list(range(c - step, 0, -step))


def _block_choices(depths: Sequence[int], drop: int) -> list[tuple[int, ...]]:
    return list(itertools.product(*[range(d, max(0, d - drop) - 1, -1) for d in depths]))


def segformer_paths(wl: Workload, max_drop: int = 1, fuse_step: int = 128,
                    pred_step: int | None = None,
                    blocks: Iterable[Sequence[int]] | None = None) -> Iterator[str]:
    """Blocks per stage (each stage its depth down to depth - ``max_drop``, or the given
    ``blocks`` tuples) x ``linear_fuse`` input channels in steps of ``fuse_step`` (and
    ``linear_pred`` inputs in steps of ``pred_step`` when given)."""
    depths = [len(b) for b in encoder_blocks(wl).values()]
    choices = [tuple(b) for b in blocks] if blocks is not None else _block_choices(depths, max_drop)
    fuse = [None] + _channel_steps(wl.layer(PRUNE_TARGETS["fuse_in"]).c, fuse_step)
    pred = [None] + (_channel_steps(wl.layer(PRUNE_TARGETS["pred_in"]).c, pred_step)
                     if pred_step else [])
    for b, f, p in itertools.product(choices, fuse, pred):
        keys = {}
        if list(b) != depths:
            keys["blocks"] = b
        if f is not None:
            keys["fuse_in"] = f
        if p is not None:
            keys["pred_in"] = p
        yield format_path(keys)


def swin_paths(wl: Workload, max_drop: int = 2, fpn_step: int = 128,
               stages: Sequence[int] = (2, 3)) -> Iterator[str]:
    """Swin blocks of ``stages`` (depth down to depth - ``max_drop``) x ``fpn_bottleneck``
    input channels in steps of ``fpn_step``."""
    depths = [len(b) for b in encoder_blocks(wl).values()]
    ranges = [range(d, max(0, d - max_drop) - 1, -1) if i in stages else (d,)
              for i, d in enumerate(depths)]
    fpn = [None] + _channel_steps(wl.layer(PRUNE_TARGETS["fpn_in"]).c, fpn_step)
    for b, f in itertools.product(itertools.product(*ranges), fpn):
        keys = {}
        if list(b) != depths:
            keys["blocks"] = b
        if f is not None:
            keys["fpn_in"] = f
        yield format_path(keys)


def paumer_paths(configs: Iterable[Sequence[tuple[int, float]]] = PAUMER_CONFIGS) -> Iterator[str]:
    """PAUMER pause configurations (default: the paper's Table 1 set)."""
    for cfg in configs:
        yield format_path({"pause": tuple(cfg)})


def cluster_paths(sizes: Iterable[int] = EXPEDITE_SIZES, alpha: int = 10,
                  beta: int = 14) -> Iterator[str]:
    """Expedite cluster sizes ``s x s`` after layer ``alpha`` for ``beta`` layers."""
    for s in sizes:
        yield format_path({"cluster": (s, s), "alpha": alpha, "beta": beta})


def published_ofa_budgets(table: pd.DataFrame | None = None) -> list[float]:
    """MAC budgets (GMACs) of the published OFA-ResNet50D subnets in the accuracy table
    (rows with variant ``macs<B>g``), largest first: 4.1 ... 0.6 for the shipped data."""
    df = load_accuracy() if table is None else table
    rows = df[df.family == ofa.FAMILY]
    found = {b for b in map(ofa.variant_budget, rows.variant) if b is not None}
    return sorted(found, reverse=True)


def ofa_paths(budgets: Iterable[float] = (), published: bool = True, resolution: int = 224,
              table: pd.DataFrame | None = None) -> Iterator[str]:
    """``ofa_macs=B@R`` for each MAC budget ``B`` (GMACs): the published subnets' budgets
    (when ``published``) plus ``budgets``, largest first. ``R`` is ``resolution`` when a
    subnet of at most ``B`` GMACs exists there, else the largest lower OFA training resolution
    that has one (:func:`accelsim.paths.ofa.stand_in_resolution`); load each with
    ``load_workload("ofa-resnet50", exec_path=path)``."""
    chosen = set(published_ofa_budgets(table) if published else ())
    for b in budgets:
        b = float(b)
        if not b > 0:
            raise WorkloadError(f"OFA MAC budget {b:g} GMACs must be > 0")
        chosen.add(b)
    for b in sorted(chosen, reverse=True):
        yield format_path({"ofa_macs": (b, ofa.stand_in_resolution(b, preferred=resolution))})


def variant_paths(family: str, exclude: str = "") -> Iterator[str]:
    """Model switching to every registered variant of ``family`` (except ``exclude``)."""
    from ..workload.registry import list_models

    for spec in list_models():
        if spec.family == family and spec.variant != exclude:
            yield format_path({"variant": spec.variant})


def study_configs(family: str, variant: str, dataset: str, input_size: str,
                  table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published configurations of one model (accuracy.csv rows) with a ``label``
    (``B2_a`` from the source's parenthesis, else the variant name, or the path)."""
    df = load_accuracy() if table is None else table
    rows = df[(df.family == family) & (df.variant == variant) & (df.dataset == dataset)
              & (df.input == input_size)].copy()

    def label(row) -> str:
        m = re.search(r"\((B\d_[a-z])\)", row.source)
        if m:
            return m.group(1)
        keys = parse_path(row.path)
        if "gate_prune" in keys:
            return f"DynaSeg {keys['gate_prune']:.0%}"
        return row.variant.upper() if not row.path else row.path

    rows["label"] = [label(r) for r in rows.itertuples()]
    rows["path"] = [format_path(parse_path(p)) for p in rows.path]
    return rows.reset_index(drop=True)
