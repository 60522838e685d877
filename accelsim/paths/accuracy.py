"""Published accuracy annotations for models and execution paths (SPEC.md section 8).

``accelsim/data/accuracy.csv`` ships the published accuracies with a source per row;
a user CSV with the same columns adds (and overrides) rows. A result carries accuracy
only when a row matches its (family, variant, dataset, input, path); otherwise it says
``"unknown"``, never an interpolated number.

OFA-ResNet50D subnets are published by MAC budget: a row with variant ``macs<B>g`` and an
empty path names the published subnet of ``B`` GMACs. It is read as the path
``ofa_macs=B@R`` (:mod:`accelsim.paths.ofa`), the MAC-matched stand-in that the path key
builds, at ``R`` = the row's resolution when the budget is reachable there, else the largest
of OFA's training resolutions that reaches it (the shipped 0.9 and 0.6 GMAC rows list
224x224, where the smallest subnet has 1.03 GMACs: they match at 192 and 160). Any other
OFA budget, or a published budget at another resolution, stays ``"unknown"``.

PAUMER publishes accuracy against throughput (images/s on a V100), not per pause
configuration: :func:`load_paumer_curve` returns that curve on its own, labelled so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import WorkloadError
from ..resources import DATA_DIR
from ..safeio import exists, read_csv, short
from .syntax import CLUSTER_OPTS, format_path, parse_path

COLUMNS = ("family", "variant", "dataset", "input", "path", "metric", "value", "source")
METRICS = ("miou", "ap", "top1")
UNKNOWN = "unknown"
PAUMER_LABEL = ("PAUMER (Courdier et al., BMVC 2022, App. F Table 3): mIoU vs throughput "
                "(images/s, V100, Cityscapes 512x512); not per pause configuration")


def _norm_input(text: Any) -> str:
    from ..workload.registry import parse_size

    h, w = parse_size(str(text))
    return f"{h}x{w}"


def _read_csv(path: Path) -> pd.DataFrame:
    df = read_csv(path, "accuracy CSV", comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise WorkloadError(f"{path}: missing column(s) {', '.join(missing)}; "
                            f"required: {', '.join(COLUMNS)}")
    df = df[list(COLUMNS)].copy()
    for i, row in df.iterrows():
        where = f"{path}: row {i + 1}"
        if row.metric not in METRICS:
            raise WorkloadError(f"{where}: metric {short(row.metric)}; allowed: {', '.join(METRICS)}")
        try:
            value = float(row.value)
        except ValueError:
            raise WorkloadError(f"{where}: value {short(row.value)} is not a number") from None
        if not 0.0 <= value <= 1.0:  # (NaN fails too)
            raise WorkloadError(f"{where}: value {value} must be a fraction in [0, 1] "
                                "(write 46.5 % as 0.465)")
        try:
            df.at[i, "path"] = format_path(parse_path(row.path))
            df.at[i, "input"] = _norm_input(row.input)
        except WorkloadError as exc:
            raise WorkloadError(f"{where}: {exc}") from None
    df["value"] = df["value"].astype(float)
    df["family"] = df["family"].str.lower()
    df["variant"] = df["variant"].str.lower()
    df["dataset"] = df["dataset"].str.lower()
    return _ofa_budget_rows(df)


def _ofa_budget_rows(df: pd.DataFrame) -> pd.DataFrame:
    """OFA rows naming a subnet by budget (variant ``macs<B>g``, empty path) -> variant,
    path ``ofa_macs=B@R`` and input ``RxR`` of the subnet's stand-in (see module docstring).
    Rows whose budget no subnet reaches are left as they are (they match nothing)."""
    from . import ofa

    for i, row in df.iterrows():
        gmacs = ofa.variant_budget(row.variant)
        h, w = row.input.split("x")
        if row.family != ofa.FAMILY or row.path or gmacs is None or h != w:
            continue
        try:
            r = ofa.stand_in_resolution(gmacs, preferred=int(h))
        except WorkloadError:
            continue
        df.at[i, "variant"] = ofa.budget_variant(gmacs)
        df.at[i, "path"] = format_path({"ofa_macs": (gmacs, r)})
        df.at[i, "input"] = f"{r}x{r}"
    return df


@lru_cache(maxsize=1)
def _shipped() -> pd.DataFrame:
    """The shipped published accuracies, read and validated once (callers get copies)."""
    return _read_csv(DATA_DIR / "accuracy.csv")


def load_accuracy(extra_csv: "str | Path | None" = None) -> pd.DataFrame:
    """Shipped published accuracies plus a user CSV (same columns); user rows come last
    and win on a match. Paths are canonical, inputs ``HxW``, values fractions."""
    frames = [_shipped().assign(origin="published")]
    if extra_csv is not None:
        path = Path(extra_csv)
        if not exists(path):
            raise WorkloadError(f"{path}: accuracy CSV not found")
        frames.append(_read_csv(path).assign(origin="user"))
    return pd.concat(frames, ignore_index=True)


@lru_cache(maxsize=64)
def _identity_values(family: str, variant: str, input_size: str) -> tuple[tuple[str, str], ...]:
    """Path values that leave the registered (family, variant) model unchanged."""
    from ..workload.registry import list_models
    from .structure import PRUNE_TARGETS, encoder_blocks

    specs = [s for s in list_models() if s.family == family and s.variant == variant]
    out: dict[str, Any] = {"variant": variant, "decoder_sum": False, "gate_prune": 0.0,
                           "cts_reduction": 0.0, "cts_share": 0}
    if not specs:
        return tuple((k, str(v)) for k, v in out.items())
    h, w = (int(v) for v in input_size.split("x"))
    try:
        wl = specs[0].build(input_size=(h, w), num_classes=specs[0].default_classes)
    except WorkloadError:
        return tuple((k, str(v)) for k, v in out.items())
    out["blocks"] = tuple(len(b) for b in encoder_blocks(wl).values())
    for key, target in PRUNE_TARGETS.items():
        if target in wl:
            out[key] = wl.layer(target).c
    grid = dict(wl.meta).get("patch_grid")
    if grid:
        out["cluster"] = tuple(int(v) for v in grid.split("x"))
    budget = dict(wl.meta).get("mac_budget_gmacs")
    if budget:  # a model that is itself an OFA budget's subnet (the study's 4.1 GMAC one)
        out["ofa_macs"] = (float(budget), h)
    return tuple((k, str(v)) for k, v in out.items())


def effective_path(family: str, variant: str, input_size: str, path: "str | Mapping") -> str:
    """The canonical path with keys that change nothing for this model removed
    (``blocks=3-4-6-3`` on SegFormer-B2, ``fuse_in=3072``, ``variant=<own>``, ...)."""
    keys = parse_path(path)
    if "ofa_macs" in keys and keys["ofa_macs"][1] is None:  # no @R: the workload's resolution
        keys["ofa_macs"] = (keys["ofa_macs"][0], int(_norm_input(input_size).split("x")[0]))
    ident = dict(_identity_values(family.lower(), variant.lower(), _norm_input(input_size)))
    kept = {k: v for k, v in keys.items() if str(v) != ident.get(k, object())}
    if "cluster" not in kept:
        for k in CLUSTER_OPTS:
            kept.pop(k, None)
    return format_path(kept)


def lookup(family: str, variant: str, dataset: str, input: "str | tuple[int, int]", path: str = "",
           table: pd.DataFrame | None = None) -> tuple[float, str, str] | None:
    """``(value, metric, source)`` of the row for this model and path, or ``None`` when
    none is known. Paths match after removing keys that change nothing."""
    df = load_accuracy() if table is None else table
    size = _norm_input("x".join(map(str, input)) if isinstance(input, tuple) else input)
    fam, var = family.lower(), variant.lower()
    rows = df[(df.family == fam) & (df.variant == var) & (df.dataset == str(dataset).lower())
              & (df.input == size)]
    if rows.empty:
        return None
    want = effective_path(fam, var, size, path)
    for _, row in rows[::-1].iterrows():  # user rows (last) win
        if effective_path(fam, var, size, row.path) == want:
            return float(row.value), str(row.metric), str(row.source)
    return None


def annotate(workload, table: pd.DataFrame | None = None) -> dict[str, Any]:
    """``{"accuracy", "accuracy_metric", "accuracy_source"}`` for a workload; ``"unknown"``
    (and empty metric/source) when no published or user value matches."""
    found = lookup(workload.family, workload.variant, workload.dataset or "",
                   tuple(workload.input_size), workload.exec_path, table=table)
    if found is None:
        return {"accuracy": UNKNOWN, "accuracy_metric": "", "accuracy_source": ""}
    value, metric, source = found
    return {"accuracy": value, "accuracy_metric": metric, "accuracy_source": source}


def load_paumer_curve() -> pd.DataFrame:
    """PAUMER's published throughput-vs-mIoU curve (mIoU as fractions), a ``label`` column
    saying what it is. Not a per-configuration accuracy: never joined to path rows."""
    df = pd.read_csv(DATA_DIR / "paumer_tradeoff.csv", comment="#")
    for col in ("miou_paumer", "miou_random_pausing"):
        df[col] = df[col] / 100.0  # published in percent
    df["label"] = PAUMER_LABEL
    return df
