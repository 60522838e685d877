"""Once-for-All ResNet50D subnets (SPEC.md section 7; Cai et al., ICLR 2020).

A subnet of ``OFAResNets`` (mit-han-lab/once-for-all, ``ofa_resnets.py``) is given by

- ``depth_list``: 4 ints in {0, 1, 2} added to the base depths [2, 2, 4, 2];
- ``expand_ratios``: one value or one per active block, in {0.2, 0.25, 0.35}; a
  block's middle width is ``make_divisible(round(out * e), 8)``;
- ``width_mult``: one of {0.65, 0.8, 1.0} for the stem and all stages;
- the resolution: the input size, 128..224 pixels per side.

The network is a ResNet-D: a 3-conv stem (3x3 s2 -> 3x3 residual -> 3x3), max-pool,
bottlenecks whose downsample branch is avg-pool (kernel = stride, ceil mode) + 1x1
conv + BN, global average pool and ``classifier.linear``. The stem's residual conv is
always kept (OFA's stem depth choice, ``d[0]``, at its maximum), and the width
multiplier is one value for every stage (OFA allows one index per stage).

Layer names follow the extracted subnet (``get_active_subnet``): ``input_stem.0.conv``,
``input_stem.1.conv.conv``, ``max_pooling``, ``blocks.<i>.conv1.conv``,
``blocks.<i>.downsample.conv``, ``blocks.<i>.final_act``, ``classifier.linear``, with
blocks numbered consecutively over the active blocks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

from ..errors import WorkloadError
from .builder import Builder, T, check_input, conv_module
from .ir import Workload, ceil_div, conv_out
from .catalog import model

#: OFA ResNets constants (ofa/imagenet_classification/networks/resnets.py).
BASE_DEPTHS = (2, 2, 4, 2)
STAGE_WIDTHS = (256, 512, 1024, 2048)
STAGE_STRIDES = (1, 2, 2, 2)
DEPTH_CHOICES = (0, 1, 2)
EXPAND_CHOICES = (0.2, 0.25, 0.35)
WIDTH_CHOICES = (0.65, 0.8, 1.0)
RESOLUTION_RANGE = (128, 224)
#: MyNetwork.CHANNEL_DIVISIBLE in once-for-all.
DIVISOR = 8
MODEL = "ofa-resnet50"


def make_divisible(v: float, divisor: int = DIVISOR) -> int:
    """once-for-all ``make_divisible``: round to a multiple of ``divisor``, never below 90 %."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@dataclass(frozen=True)
class SubnetConfig:
    """A validated subnet: active depth per stage, expand ratio per active block, width mult."""

    depths: tuple[int, int, int, int]
    expand: tuple[float, ...]
    width_mult: float

    @property
    def blocks_per_stage(self) -> tuple[int, ...]:
        return tuple(base + d for base, d in zip(BASE_DEPTHS, self.depths))

    def stage_expands(self) -> list[tuple[float, ...]]:
        """The expand ratios grouped by stage."""
        out, i = [], 0
        for n in self.blocks_per_stage:
            out.append(self.expand[i:i + n])
            i += n
        return out

    def options(self) -> dict:
        """Registry options that rebuild this subnet."""
        return {"depth_list": list(self.depths), "expand_ratios": list(self.expand),
                "width_mult": self.width_mult}


def _parse_list(value, option: str) -> list:
    if isinstance(value, str):
        value = [v for v in value.replace("-", ",").replace(" ", ",").split(",") if v]
    if isinstance(value, (int, float)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise WorkloadError(f"{MODEL}: option {option}={value!r} must be a number or a list") from None


def _choice(value, option: str, allowed: Sequence[float]) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = None
    for a in allowed:
        if v is not None and abs(v - a) < 1e-9:
            return a
    raise WorkloadError(f"{MODEL}: option {option} has value {value!r}; allowed values: "
                        f"{', '.join(str(a) for a in allowed)}")


def subnet_config(depth_list=(2, 2, 2, 2), expand_ratios=0.35, width_mult=1.0) -> SubnetConfig:
    """Validate the subnet options (see module docstring) into a :class:`SubnetConfig`.

    ``expand_ratios`` may be one value, one per active block, or one per supernet block
    (18, of which each stage's first ``base + depth`` are used, as OFA does).
    """
    depths = _parse_list(depth_list, "depth_list")
    if len(depths) != len(BASE_DEPTHS):
        raise WorkloadError(f"{MODEL}: option depth_list={depth_list!r} needs 4 values "
                            f"(one per stage), each in {{0, 1, 2}}")
    depths = tuple(int(_choice(d, "depth_list", DEPTH_CHOICES)) for d in depths)
    w = _choice(width_mult, "width_mult", WIDTH_CHOICES)
    per_stage = [base + d for base, d in zip(BASE_DEPTHS, depths)]
    n_active, n_super = sum(per_stage), sum(BASE_DEPTHS) + len(BASE_DEPTHS) * max(DEPTH_CHOICES)
    es = [_choice(e, "expand_ratios", EXPAND_CHOICES) for e in _parse_list(expand_ratios, "expand_ratios")]
    if len(es) == 1:
        es = es * n_active
    elif len(es) == n_super and n_super != n_active:
        picked, start = [], 0
        for base, n in zip(BASE_DEPTHS, per_stage):
            picked += es[start:start + n]
            start += base + max(DEPTH_CHOICES)
        es = picked
    elif len(es) != n_active:
        raise WorkloadError(f"{MODEL}: option expand_ratios has {len(es)} values; give 1, one per "
                            f"active block ({n_active}) or one per supernet block ({n_super})")
    return SubnetConfig(depths, tuple(es), w)


# ------------------------------------------------------------------ channel and size rules
def stem_channels(width_mult: float) -> tuple[int, int]:
    """(middle stem width, stem output width) for a width multiplier (ofa_resnets.py)."""
    out = make_divisible(64 * width_mult)
    return make_divisible(out // 2), out


def stage_width(stage: int, width_mult: float) -> int:
    return make_divisible(STAGE_WIDTHS[stage] * width_mult)


def middle_channels(out_c: int, expand: float) -> int:
    """``DynamicResNetBottleneckBlock.active_middle_channels``."""
    return make_divisible(round(out_c * expand))


def stage_input_sizes(h: int, w: int) -> list[tuple[int, int]]:
    """Spatial size entering each stage: stem conv s2 (3x3 pad 1), max-pool 3x3 s2 pad 1, then
    each stride-2 stage halves it (3x3 conv pad 1, matching the ceil-mode avg-pool)."""
    sizes = []
    h, w = conv_out(conv_out(h, 3, 2, 1), 3, 2, 1), conv_out(conv_out(w, 3, 2, 1), 3, 2, 1)
    for s in STAGE_STRIDES:
        sizes.append((h, w))
        h, w = conv_out(h, 3, s, 1), conv_out(w, 3, s, 1)
    sizes.append((h, w))
    return sizes


# ------------------------------------------------------------------ graph
def _bottleneck(b: Builder, x: T, prefix: str, out_c: int, mid: int, stride: int) -> T:
    """OFA ``ResNetBottleneckBlock`` with ``downsample_mode='avgpool_conv'``."""
    y = conv_module(b, f"{prefix}.conv1.conv", x, mid, 1, bn=f"{prefix}.conv1.bn",
                    act=f"{prefix}.conv1.act")
    y = conv_module(b, f"{prefix}.conv2.conv", y, mid, 3, stride=stride, pad=1,
                    bn=f"{prefix}.conv2.bn", act=f"{prefix}.conv2.act")
    y = conv_module(b, f"{prefix}.conv3.conv", y, out_c, 1, bn=f"{prefix}.conv3.bn", act=None)
    short = x
    if stride != 1 or x.c != out_c:
        if stride > 1:  # a kernel-1 avg-pool (stride 1) is an identity copy: not emitted
            short = b.pool(f"{prefix}.downsample.avg_pool", x, stride, stride, fn="avg",
                           out_hw=(ceil_div(x.h, stride), ceil_div(x.w, stride)))
        short = conv_module(b, f"{prefix}.downsample.conv", short, out_c, 1,
                            bn=f"{prefix}.downsample.bn", act=None)
    y = b.add(f"{prefix}.add", y, short)
    return b.act(f"{prefix}.final_act", y, fn="relu")


def build_subnet(cfg: SubnetConfig, h: int, w: int, num_classes: int) -> Workload:
    """The subnet's layers and graph at input size ``h x w``."""
    b = Builder()
    mid_c, stem_c = stem_channels(cfg.width_mult)
    b.set_tags(part="backbone", stage="input_stem")
    x = b.input(3, h, w)
    y = conv_module(b, "input_stem.0.conv", x, mid_c, 3, stride=2, pad=1, bn="input_stem.0.bn",
                    act="input_stem.0.act")
    r = conv_module(b, "input_stem.1.conv.conv", y, mid_c, 3, pad=1, bn="input_stem.1.conv.bn",
                    act="input_stem.1.conv.act")
    y = b.add("input_stem.1.add", r, y)
    y = conv_module(b, "input_stem.2.conv", y, stem_c, 3, pad=1, bn="input_stem.2.bn",
                    act="input_stem.2.act")
    y = b.pool("max_pooling", y, 3, 2, pad=1, fn="max")
    idx = 0
    for si, (n, es) in enumerate(zip(cfg.blocks_per_stage, cfg.stage_expands())):
        out_c = stage_width(si, cfg.width_mult)
        for bi in range(n):
            b.set_tags(part="backbone", stage=f"stage{si + 1}", block=f"blocks.{idx}")
            stride = STAGE_STRIDES[si] if bi == 0 else 1
            y = _bottleneck(b, y, f"blocks.{idx}", out_c, middle_channels(out_c, es[bi]), stride)
            idx += 1
    b.set_tags(part="head")
    y = b.pool("global_avg_pool", y, 1, 1, fn="avg", out_hw=(1, 1))
    b.linear("classifier.linear", y, num_classes)
    return b.workload(name=MODEL, family="ofa_resnet50", variant=_variant(cfg), input_size=(h, w),
                      num_classes=num_classes, dataset="imagenet", meta=cfg.options())


def _variant(cfg: SubnetConfig) -> str:
    return (f"d{''.join(map(str, cfg.depths))}_w{cfg.width_mult:g}"
            f"_e{'-'.join(f'{e:g}' for e in sorted(set(cfg.expand)))}")


#: the reference study's OFA-ResNet-50: once-for-all's published ResNet50D subnet of 4.1 GMACs
#: (``resnet50D_MAC@4.1B_top1@79.8``); its exact configuration is not published, so the
#: workload is the MAC-matched stand-in :func:`closest_subnet` picks for that budget
STUDY_SUBNET_GMACS = 4.1
SUPERNET = "ofa-resnet50-supernet"


@model(MODEL, family="ofa_resnet50", variant="macs4.1g", default_input=(224, 224),
       default_classes=1000, dataset="imagenet",
       description="Once-for-All ResNet50D: the study's 4.1 GMAC subnet (MAC-matched stand-in, "
                   "79.8 % top-1 published) by default; options depth_list, expand_ratios, "
                   "width_mult give any subnet")
def ofa_resnet50(input_size: tuple[int, int] = (224, 224), num_classes: int = 1000,
                 depth_list=None, expand_ratios=None, width_mult=None) -> Workload:
    """An OFA-ResNet50D subnet at resolution 128..224: the study's 4.1 GMAC subnet when no
    option is given (variant ``macs4.1g``), else the subnet the options describe (unset
    options take the largest subnet's values)."""
    h, w = check_input(MODEL, input_size, 1, *RESOLUTION_RANGE)
    if depth_list is None and expand_ratios is None and width_mult is None:
        if h != w:
            raise WorkloadError(f"{MODEL}: the study subnet needs a square input, got {h}x{w}; give "
                                "depth_list/expand_ratios/width_mult for another subnet")
        cfg = subnet_config(**closest_subnet(STUDY_SUBNET_GMACS * 1e9, h, num_classes))
        wl = build_subnet(cfg, h, w, num_classes)
        return wl.replace(variant=f"macs{STUDY_SUBNET_GMACS:g}g",
                          meta={**cfg.options(), "subnet": wl.variant,
                                "mac_budget_gmacs": f"{STUDY_SUBNET_GMACS:g}"})
    cfg = subnet_config(*(d if v is None else v for v, d in
                          ((depth_list, (2, 2, 2, 2)), (expand_ratios, 0.35), (width_mult, 1.0))))
    return build_subnet(cfg, h, w, num_classes)


@model(SUPERNET, family="ofa_resnet50", variant="supernet", default_input=(224, 224),
       default_classes=1000, dataset="imagenet",
       description="Once-for-All ResNet50D largest subnet (every stage at depth +2, expand 0.35, "
                   "width 1.0; 7.49 GMACs at 224)")
def ofa_resnet50_supernet(input_size: tuple[int, int] = (224, 224), num_classes: int = 1000) -> Workload:
    """The largest OFA-ResNet50D subnet (the supernet's full depth, width and expansion)."""
    h, w = check_input(SUPERNET, input_size, 1, *RESOLUTION_RANGE)
    return build_subnet(subnet_config(), h, w, num_classes).replace(name=SUPERNET)


# ------------------------------------------------------------------ fast MAC model + search
def _conv_macs(k: int, c: int, r: int, hw: tuple[int, int]) -> int:
    return k * c * r * r * hw[0] * hw[1]


def _stage_macs(stage: int, depth: int, expand: float, width_mult: float,
                sizes: list[tuple[int, int]]) -> int:
    """MACs of one stage with a uniform expand ratio (same rules as :func:`build_subnet`)."""
    in_c = stem_channels(width_mult)[1] if stage == 0 else stage_width(stage - 1, width_mult)
    out_c, mid = stage_width(stage, width_mult), middle_channels(stage_width(stage, width_mult), expand)
    hw_in, hw_out = sizes[stage], sizes[stage + 1]
    total = 0
    for bi in range(BASE_DEPTHS[stage] + depth):
        c, hw1 = (in_c, hw_in) if bi == 0 else (out_c, hw_out)
        total += _conv_macs(mid, c, 1, hw1) + _conv_macs(mid, mid, 3, hw_out) + _conv_macs(out_c, mid, 1, hw_out)
        if bi == 0:
            total += _conv_macs(out_c, c, 1, hw_out)
    return total


def _fixed_macs(width_mult: float, h: int, w: int, num_classes: int) -> int:
    mid_c, stem_c = stem_channels(width_mult)
    hw = (conv_out(h, 3, 2, 1), conv_out(w, 3, 2, 1))
    stem = _conv_macs(mid_c, 3, 3, hw) + _conv_macs(mid_c, mid_c, 3, hw) + _conv_macs(stem_c, mid_c, 3, hw)
    return stem + stage_width(3, width_mult) * num_classes


def closest_subnet(mac_budget: float, resolution: int = 224, num_classes: int = 1000) -> dict:
    """Options of the subnet whose MACs are closest to, and not above, ``mac_budget`` (MACs).

    Exhaustive and deterministic over depth per stage (3^4), one expand ratio per stage
    (3^4) and the width multiplier (3): 19,683 subnets evaluated with a closed-form MAC
    count. Ties go to the wider, then deeper, then more expanded subnet. Returns
    ``{"depth_list", "expand_ratios" (one per active block), "width_mult"}``, ready for
    ``load_workload("ofa-resnet50", input_size=(resolution, resolution), **options)``.
    """
    h, w = check_input(MODEL, (resolution, resolution), 1, *RESOLUTION_RANGE)
    sizes = stage_input_sizes(h, w)
    best_key, best = None, None
    for wm in WIDTH_CHOICES:
        table = {(s, d, e): _stage_macs(s, d, e, wm, sizes)
                 for s in range(4) for d in DEPTH_CHOICES for e in EXPAND_CHOICES}
        fixed = _fixed_macs(wm, h, w, num_classes)
        for depths in itertools.product(DEPTH_CHOICES, repeat=4):
            for exps in itertools.product(EXPAND_CHOICES, repeat=4):
                macs = fixed + sum(table[(s, depths[s], exps[s])] for s in range(4))
                if macs > mac_budget:
                    continue
                key = (macs, wm, depths, exps)
                if best_key is None or key > best_key:
                    best_key, best = key, (depths, exps, wm)
    if best is None:
        smallest = _fixed_macs(WIDTH_CHOICES[0], h, w, num_classes) + sum(
            _stage_macs(s, 0, EXPAND_CHOICES[0], WIDTH_CHOICES[0], sizes) for s in range(4))
        raise WorkloadError(f"{MODEL}: MAC budget {mac_budget:.4g} is below the smallest subnet "
                            f"at {resolution}x{resolution} ({smallest:.4g} MACs)")
    depths, exps, wm = best
    per_block = [e for s, e in enumerate(exps) for _ in range(BASE_DEPTHS[s] + depths[s])]
    return {"depth_list": list(depths), "expand_ratios": per_block, "width_mult": wm}
