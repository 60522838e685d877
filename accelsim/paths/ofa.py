"""OFA-ResNet50D subnets as execution paths: the ``ofa_macs`` path key (SPEC.md sections 7-8).

``ofa_macs=B@R`` switches an ``ofa-resnet50`` workload to the subnet with the most MACs not
above ``B`` GMACs at resolution ``R x R`` (``accelsim.workload.ofa.closest_subnet``);
``ofa_macs=B`` keeps the workload's own resolution. It is model switching: the whole
network is rebuilt, and the result's ``variant`` is ``macs<B>g``, the naming of the
published OFA rows of ``accuracy.csv``.

Published subnets. once-for-all publishes ResNet50D subnets by MAC budget
(``resnet50D_MAC@4.1B_top1@79.8`` ... ``@0.6B_top1@75.0``); their exact configurations are
not shipped with accelsim, so the path builds a *MAC-matched stand-in*: the subnet
``closest_subnet`` picks for the same budget. Costs are the stand-in's; the published
top-1 is attached only to ``ofa_macs=B@R`` where ``B`` is a published budget and ``R`` its
stand-in resolution (:func:`stand_in_resolution`), see ``accelsim.paths.accuracy``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import WorkloadError
from ..workload.ir import Workload

FAMILY = "ofa_resnet50"
#: once-for-all train_ofa_resnet.py: ``args.image_size = "128,160,192,224"``
RESOLUTIONS = (224, 192, 160, 128)
_VARIANT = re.compile(r"^macs(\d+(?:\.\d+)?)g$")


def budget_variant(gmacs: float) -> str:
    """The ``variant`` of a budget's subnet, as in accuracy.csv: ``4.1`` -> ``"macs4.1g"``."""
    return f"macs{float(gmacs):g}g"


def variant_budget(variant: str) -> float | None:
    """``"macs4.1g"`` -> ``4.1`` (GMACs); ``None`` for any other variant name."""
    m = _VARIANT.match(str(variant).strip().lower())
    return float(m.group(1)) if m else None


@lru_cache(maxsize=256)
def subnet_options(gmacs: float, resolution: int, num_classes: int = 1000) -> tuple[tuple[str, object], ...]:
    """``closest_subnet`` options (as sorted items, hashable) for ``gmacs`` GMACs at ``resolution``."""
    from ..workload.ofa import closest_subnet

    opts = closest_subnet(gmacs * 1e9, resolution=resolution, num_classes=num_classes)
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(opts.items()))


def reachable(gmacs: float, resolution: int, num_classes: int = 1000) -> bool:
    """True when some subnet at ``resolution`` has at most ``gmacs`` GMACs."""
    try:
        subnet_options(gmacs, resolution, num_classes)
    except WorkloadError:
        return False
    return True


def stand_in_resolution(gmacs: float, preferred: int = 224, num_classes: int = 1000) -> int:
    """``preferred`` when the budget is reachable there, else the largest of OFA's training
    resolutions (:data:`RESOLUTIONS`) below it that reaches it (0.9 G -> 192, 0.6 G -> 160:
    the smallest subnet at 224 has 1.03 GMACs)."""
    lo, hi = min(RESOLUTIONS), max(RESOLUTIONS)
    if not lo <= preferred <= hi:
        raise WorkloadError(f"ofa_macs={gmacs:g}: resolution {preferred} outside OFA's {lo}..{hi}")
    for r in (preferred, *(r for r in RESOLUTIONS if r < preferred)):
        if reachable(gmacs, r, num_classes):
            return r
    raise WorkloadError(f"ofa_macs={gmacs:g}: below the smallest OFA-ResNet50D subnet at every "
                        f"resolution {min(RESOLUTIONS)}..{preferred}")


def format_value(gmacs: float, resolution: int | None) -> str:
    """The ``ofa_macs`` value: ``4.1@224`` (or ``4.1`` without a resolution)."""
    return f"{float(gmacs):g}" + (f"@{resolution}" if resolution else "")


def switch_subnet(wl: Workload, gmacs: float, resolution: int | None = None) -> Workload:
    """``wl`` (an ``ofa-resnet50`` workload) rebuilt as the subnet closest to, and not above,
    ``gmacs`` GMACs at ``resolution`` (default: ``wl``'s own; must be square) pixels.

    Keeps name, classes and dataset; ``variant`` becomes ``macs<B>g``; ``meta`` records the
    subnet options, its structural name and the budget.
    """
    from ..workload.ofa import build_subnet, subnet_config

    if wl.family != FAMILY:
        raise WorkloadError(f"ofa_macs applies to family {FAMILY!r}, not {wl.family!r}")
    if resolution is None:
        h, w = wl.input_size
        if h != w:
            raise WorkloadError(f"ofa_macs={gmacs:g}: {wl.name} input {h}x{w} is not square; "
                                f"give the resolution (ofa_macs={gmacs:g}@R, R in 128..224)")
        resolution = h
    try:
        opts = dict(subnet_options(float(gmacs), int(resolution), wl.num_classes))
    except WorkloadError as exc:
        raise WorkloadError(f"ofa_macs={format_value(gmacs, resolution)}: {exc}") from None
    cfg = subnet_config(**opts)
    new = build_subnet(cfg, resolution, resolution, wl.num_classes)
    meta = {**cfg.options(), "subnet": new.variant, "mac_budget_gmacs": f"{float(gmacs):g}"}
    return new.replace(name=wl.name, variant=budget_variant(gmacs), dataset=wl.dataset or new.dataset,
                       meta=meta)
