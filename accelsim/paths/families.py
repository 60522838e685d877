"""A workload's path families: the one list of execution paths that ``paths enumerate``,
``rdd``, ``sweep --family`` and the paths report all draw from (SPEC.md section 8).

Each family is a named generator of canonical path strings for one model family:

=============  ===============================================================================
``grid``       SegFormer: blocks per stage x ``fuse_in`` channels; Swin-UperNet: blocks of
               stages 3-4 x ``fpn_in`` channels (``max_drop``, ``step``)
``published``  the configurations with a published accuracy for this model, dataset and
               input (``accuracy.csv``: SegFormer-B2 B2_a..B2_f and ``pred_in``,
               DynaSegFormer, Expedite, CTS ...)
``dynaseg``    DynaSegFormer: 30 % and 50 % of the neurons gated, decoder sum
``switch``     model switching to every registered variant of the family with fewer MACs
               (the retrained smaller models)
``pause``      PAUMER's pause configurations (Table 1)
``cluster``    Expedite's cluster sizes (Table 3)
``cts``        CTS token-sharing reductions (supplementary Table 1)
``ofa``        OFA-ResNet50D subnets at the published MAC budgets (and ``budgets``)
=============  ===============================================================================

A path list starts with the full model (the empty path) and holds each path once, in the
order of the families asked for; :class:`PathEntry` keeps the family that gave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import pandas as pd

from ..errors import WorkloadError
from ..workload.ir import Workload
from . import enumerate as en
from .syntax import OFA, SEGFORMER, SEGMENTER, SWIN, format_path

#: DynaSegFormer's published gating levels (DynaSegFormer Table 1)
DYNASEG_FRACTIONS = (0.3, 0.5)
#: CTS token reductions of its supplementary Table 1
CTS_REDUCTIONS = (0.12, 0.23, 0.3, 0.38, 0.46)
#: The family name of the full model in a path list
FULL = "full"


@dataclass(frozen=True)
class PathOptions:
    """Knobs of the generated families: blocks dropped per stage at most, the channel step
    of pruned inputs, extra OFA budgets (GMACs) and whether OFA's published budgets count."""

    max_drop: int = 1
    step: int = 128
    budgets: tuple[float, ...] = ()
    published_budgets: bool = True
    table: pd.DataFrame | None = None


@dataclass(frozen=True)
class PathEntry:
    """One execution path of a list and the family it came from (``full`` for '')."""

    exec_path: str
    family: str


def _grid(wl: Workload, o: PathOptions) -> Iterable[str]:
    if wl.family == SWIN:
        return en.swin_paths(wl, max_drop=o.max_drop, fpn_step=o.step)
    return en.segformer_paths(wl, max_drop=o.max_drop, fuse_step=o.step)


def _published(wl: Workload, o: PathOptions) -> Iterable[str]:
    size = f"{wl.input_size[0]}x{wl.input_size[1]}"
    return en.study_configs(wl.family, wl.variant, wl.dataset or "", size, table=o.table).path


def _dynaseg(wl: Workload, o: PathOptions) -> Iterable[str]:
    return [format_path({"gate_prune": f, "decoder_sum": True}) for f in DYNASEG_FRACTIONS]


def _switch(wl: Workload, o: PathOptions) -> Iterable[str]:
    """Variants of the family with fewer MACs at this workload's input and classes."""
    from ..workload.registry import list_models

    out = []
    for spec in list_models():
        if spec.family != wl.family or spec.variant == wl.variant:
            continue
        try:
            other = spec.build(input_size=tuple(wl.input_size), num_classes=wl.num_classes)
        except (WorkloadError, ValueError, TypeError):
            continue  # a variant that cannot take this input
        if other.macs < wl.macs:
            out.append((other.macs, format_path({"variant": spec.variant})))
    return [p for _, p in sorted(out, reverse=True)]


def _ofa(wl: Workload, o: PathOptions) -> Iterable[str]:
    if not (o.budgets or o.published_budgets):
        raise WorkloadError("no OFA budget to enumerate: give a budget or keep the published ones")
    return en.ofa_paths(o.budgets, published=o.published_budgets, resolution=wl.input_size[0], table=o.table)


Generator = Callable[[Workload, PathOptions], Iterable[str]]

#: path family -> (its generator, the model families it applies to)
GENERATORS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "grid": (_grid, (SEGFORMER, SWIN)),
    "published": (_published, ("*",)),
    "dynaseg": (_dynaseg, (SEGFORMER,)),
    "switch": (_switch, ("*",)),
    "pause": (lambda wl, o: en.paumer_paths(), (SEGMENTER,)),
    "cluster": (lambda wl, o: en.cluster_paths(), (SEGMENTER,)),
    "cts": (lambda wl, o: [format_path({"cts_reduction": r}) for r in CTS_REDUCTIONS], (SEGMENTER,)),
    "ofa": (_ofa, (OFA,)),
}


def family_names(model_family: str) -> list[str]:
    """The path families that apply to a model family, in :data:`GENERATORS` order."""
    return [name for name, (_, fams) in GENERATORS.items() if "*" in fams or model_family in fams]


def check_families(families: "Sequence[str] | None", wl: Workload) -> list[str]:
    """``families`` (default: all that apply to ``wl``) validated, repeats dropped; an
    unknown or inapplicable name is one error naming the allowed ones."""
    allowed = family_names(wl.family)
    if not families:
        return allowed
    out = []
    for name in families:
        for part in str(name).split(","):
            part = part.strip().lower()
            if part and part not in allowed:
                raise WorkloadError(f"path family {part!r} does not apply to {wl.name} ({wl.family}); "
                                    f"allowed: {', '.join(allowed)}")
            if part and part not in out:
                out.append(part)
    return out or allowed


def path_list(wl: Workload, families: "Sequence[str] | None" = None,
              options: PathOptions = PathOptions()) -> list[PathEntry]:
    """The full model, then every path of ``families`` (default: all that apply), each once
    (the first family that gives a path keeps it), written without the keys that change
    nothing for this model (:func:`accelsim.paths.accuracy.effective_path`)."""
    from .accuracy import effective_path

    size = f"{wl.input_size[0]}x{wl.input_size[1]}"
    out = {"": PathEntry("", FULL)}
    for name in check_families(families, wl):
        for p in GENERATORS[name][0](wl, options):
            p = effective_path(wl.family, wl.variant, size, p)  # blocks=3-4-6-3 on B2 changes nothing
            if p not in out:
                out[p] = PathEntry(p, name)
    return list(out.values())


def paths_of(wl: Workload, *families: str, options: PathOptions = PathOptions()) -> list[str]:
    """The path strings of :func:`path_list` (the full model first)."""
    return [e.exec_path for e in path_list(wl, list(families) or None, options)]


def with_known_accuracy(wl: Workload, paths: Iterable[str], table: pd.DataFrame | None = None) -> list[str]:
    """The ``paths`` whose result on ``wl`` has a published (or user) accuracy: the only
    ones a resource-dependent selection may choose. Paths that switch model are applied
    to find the model they reach; the others are looked up on ``wl`` directly."""
    from .accuracy import annotate, lookup
    from .apply import apply_path
    from .syntax import parse_path

    size = tuple(wl.input_size)
    out = []
    for p in paths:
        if {"variant", "ofa_macs"} & set(parse_path(p)):
            known = annotate(apply_path(wl, p), table)["accuracy"] != "unknown"
        else:
            known = lookup(wl.family, wl.variant, wl.dataset or "", size, p, table=table) is not None
        if known:
            out.append(p)
    return out
