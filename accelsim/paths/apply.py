"""``apply_path(workload, path)``: parse an execution path and run its transforms.

Transforms run in the canonical key order (SPEC.md section 8): model switching, block
bypass, channel pruning, neuron gating, decoder sum, token pausing, token sharing,
token clustering. A path applied to a workload that already carries one composes with
it: the keys are merged (each key at most once) and pairs of methods that do not
commute are refused whatever the order (:data:`CONFLICTS`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import WorkloadError
from ..workload.ir import Workload
from . import ofa, structure, tokens
from .syntax import CLUSTER_OPTS, check_family, format_path, merge_paths, parse_path


#: (keys A, keys B, why): a path may not hold a key of A together with a key of B
CONFLICTS: tuple[tuple[frozenset, frozenset, str], ...] = (
    (frozenset({"fuse_in", "pred_in"}), frozenset({"decoder_sum"}),
     "decoder_sum drops linear_fuse and feeds linear_pred with the sum of the four maps"),
    (frozenset({"pause"}), frozenset({"cts_reduction", "cts_share", "cluster"}),
     "token pausing, sharing and clustering each set the encoder's token count; use one"),
    (frozenset({"cts_reduction", "cts_share"}), frozenset({"cluster"}),
     "token sharing and clustering each set the encoder's token count; use one"),
    (frozenset({"cts_reduction"}), frozenset({"cts_share"}),
     "cts_reduction and cts_share both give the number of shared superpatches; use one"),
    (frozenset({"blocks"}), frozenset({"pause", "cluster"}),
     "pause/cluster layer indices count the full encoder; bypassing blocks renumbers them"),
)


def check_conflicts(keys: Mapping[str, Any]) -> None:
    """Refuse combinations of methods that do not compose (see :data:`CONFLICTS`)."""
    present = set(keys)
    for a, b, why in CONFLICTS:
        if present & a and present & b:
            pair = sorted(present & a)[0], sorted(present & b)[0]
            raise WorkloadError(f"execution path conflict: {pair[0]} and {pair[1]} cannot be "
                                f"combined: {why}")
    stray = [k for k in CLUSTER_OPTS if k in present]
    if stray and "cluster" not in present:
        raise WorkloadError(f"execution path: {', '.join(stray)} only apply with cluster=HxW")


def _run_keys(wl: Workload, keys: Mapping[str, Any]) -> Workload:
    """Apply parsed keys (no ``variant``) in canonical order."""
    steps: list[tuple[tuple[str, ...], Callable[[Workload, dict], Workload]]] = [
        (("ofa_macs",), lambda w, k: ofa.switch_subnet(w, *k["ofa_macs"])),
        (("blocks",), lambda w, k: structure.bypass_blocks(w, k["blocks"])),
        (tuple(structure.PRUNE_TARGETS), structure.prune_channels),
        (("gate_prune",), lambda w, k: structure.gate_neurons(w, k["gate_prune"])),
        (("decoder_sum",), lambda w, k: structure.decoder_sum(w) if k["decoder_sum"] else w),
        (("pause",), lambda w, k: tokens.pause_tokens(w, k["pause"])),
        (("cts_reduction", "cts_share"), lambda w, k: tokens.share_tokens(
            w, reduction=k.get("cts_reduction"), shared=k.get("cts_share"))),
        (("cluster",) + CLUSTER_OPTS, lambda w, k: tokens.cluster_tokens(w, **k)),
    ]
    for names, fn in steps:
        group = {n: keys[n] for n in names if n in keys}
        if group:
            wl = fn(wl, group)
    return wl


def apply_path(workload: Workload, path: "str | Mapping[str, Any] | None") -> Workload:
    """The workload transformed by execution path ``path`` (SPEC.md section 8).

    The result keeps layer names and carries the canonical merged path in ``exec_path``.
    Raises :class:`~accelsim.errors.WorkloadError` for unknown keys, values out of range,
    keys that do not apply to the family, and conflicting methods.
    """
    new = parse_path(path)
    if not new:
        return workload
    check_family(new, workload.family)
    old = parse_path(workload.exec_path)
    merged = merge_paths(old, new)
    check_conflicts(merged)
    wl = workload
    if "variant" in new:
        # model switching rebuilds the other variant, then re-applies what was applied before
        wl = structure.switch_model(workload, new["variant"]).replace(name=_switched_name(
            workload, new["variant"]))
        rest = {k: v for k, v in merged.items() if k != "variant"}
    else:
        rest = new
    wl = _run_keys(wl, rest)
    return wl.replace(exec_path=format_path(merged))


def _switched_name(wl: Workload, variant: str) -> str:
    """``segformer-b2`` -> ``segformer-b1``; other names keep theirs with the variant appended."""
    if wl.variant and wl.name.endswith(wl.variant):
        return wl.name[: -len(wl.variant)] + variant
    return f"{wl.name}-{variant}"
