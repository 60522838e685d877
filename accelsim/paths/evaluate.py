"""Evaluate execution paths on an architecture: one tidy row per path with MACs, latency,
energy, the cost of the layers the method adds (policy network, clustering, gate
predictors, auxiliary decoders) and the published accuracy when one is known."""

from __future__ import annotations

from typing import Any, Iterable, MutableMapping

import pandas as pd

from ..workload.ir import Workload
from .accuracy import annotate
from .apply import apply_path


def added_layers(base: Workload, wl: Workload) -> list[str]:
    """Names of the layers of ``wl`` that ``base`` does not have (the method's own work)."""
    have = {layer.name for layer in base.layers}
    return [layer.name for layer in wl.layers if layer.name not in have]


def evaluate_workload(wl: Workload, arch, base: Workload | None = None, objective: str = "latency",
                      memo: MutableMapping | None = None, table: pd.DataFrame | None = None,
                      max_candidates: int | None = None, scope: str = "accelerator") -> dict[str, Any]:
    """One result row: the simulated totals of ``wl`` on ``arch`` in ``scope`` (seconds,
    joules), the overhead of layers not in ``base``, and the accuracy annotation."""
    from .. import simulate

    res = simulate(wl, arch, objective=objective, max_candidates=max_candidates, memo=memo, scope=scope)
    extra = added_layers(base, wl) if base is not None else []
    layers = res.layers
    over = layers[layers["name"].isin(extra)]
    row = {
        "workload": wl.name, "family": wl.family, "variant": wl.variant,
        "dataset": wl.dataset, "input": f"{wl.input_size[0]}x{wl.input_size[1]}",
        "arch": res.arch, "exec_path": wl.exec_path, "scope": scope, "macs": wl.macs,
        "latency_s": float(res.latency_s), "energy_j": float(res.energy_j),
        "utilization": float(res.utilization),
        "overhead_macs": int(sum(wl.layer(n).macs for n in extra)),
        "overhead_latency_s": float(over["latency_s"].sum()),
        "overhead_energy_j": float(over["energy_j"].sum()),
    }
    row.update(annotate(wl, table=table))
    return row


def evaluate_paths(base: Workload, arch, paths: Iterable[str], objective: str = "latency",
                   memo: MutableMapping | None = None, table: pd.DataFrame | None = None,
                   max_candidates: int | None = None, scope: str = "accelerator",
                   progress: bool = False) -> pd.DataFrame:
    """Rows of :func:`evaluate_workload` for each path applied to ``base`` (a shared memo
    maps identical layer shapes once). ``progress`` shows a bar on a terminal once the
    evaluation takes more than two seconds."""
    from ..progress import progress as bar

    memo = {} if memo is None else memo
    todo = list(dict.fromkeys(paths))
    rows = [evaluate_workload(apply_path(base, p), arch, base=base, objective=objective,
                              memo=memo, table=table, max_candidates=max_candidates, scope=scope)
            for p in bar(todo, total=len(todo), desc="evaluating paths", unit="path", enabled=progress)]
    return pd.DataFrame(rows)
