"""``accelsim paths report``: the execution-path tables and figures of ``reports/paths.md``.

Every path list comes from :func:`accelsim.paths.families.paths_of`, the same families
``accelsim paths enumerate``, ``rdd`` and ``sweep --family`` use. Evaluates on one
architecture (arch E by default): the study's seven SegFormer-B2
configurations and the retrained B0/B1 models, Expedite's cluster sizes on Segmenter
ViT-L/16 at 640x640, DynaSegFormer on B0/B2, CTS and PAUMER on Segmenter ViT-S/16, the
published OFA-ResNet50D subnets' MAC budgets,
the extra costs of each method against its savings, and the RDD lookup tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from ..cost.settings import SCOPE_TEXT
from ..workload.registry import load_workload
from ..paths.accuracy import PAUMER_LABEL, effective_path, load_paumer_curve
from ..paths.enumerate import study_configs
from ..paths.evaluate import evaluate_paths
from ..paths.families import paths_of
from ..paths.rdd import lookup_table, pareto_front
from ..paths.syntax import parse_path


def _md(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (no extra dependency)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v) if v is not None and v == v else ""


def _acc(v) -> str:
    return f"{100 * v:.2f}" if isinstance(v, float) else str(v)


def _cost_table(df: pd.DataFrame, label: pd.Series | None = None, overhead: bool = False) -> pd.DataFrame:
    """Columns people read: GMACs, ms, mJ (and the method's own share), accuracy in %."""
    out = pd.DataFrame({"path": df["exec_path"].replace("", "(full model)")})
    if label is not None:
        out.insert(0, "config", list(label))
    out["GMACs"] = (df["macs"] / 1e9).round(2)
    out["latency (ms)"] = (df["latency_s"] * 1e3).round(3)
    out["energy (mJ)"] = (df["energy_j"] * 1e3).round(3)
    if overhead:
        out["method GMACs"] = (df["overhead_macs"] / 1e9).round(3)
        out["method latency (ms)"] = (df["overhead_latency_s"] * 1e3).round(3)
        out["method energy (mJ)"] = (df["overhead_energy_j"] * 1e3).round(3)
    out["published accuracy (%)"] = [_acc(v) for v in df["accuracy"]]
    return out


def _ofa_table(df: pd.DataFrame) -> pd.DataFrame:
    """The OFA rows: budget and resolution from the path, then the usual cost columns."""
    keys = [parse_path(p)["ofa_macs"] for p in df["exec_path"]]
    out = _cost_table(df, pd.Series([f"{b:g}" for b, _ in keys]))
    out = out.rename(columns={"config": "budget (GMACs)",
                              "published accuracy (%)": "published top-1 (%)"})
    out.insert(1, "input", list(df["input"]))
    return out


def _overhead_rows(name: str, df: pd.DataFrame) -> list[dict]:
    """Saving vs the first row (the baseline) and the method's own cost, per path."""
    base = df.iloc[0]
    rows = []
    for _, r in df.iloc[1:].iterrows():
        saved_s = base.latency_s - r.latency_s + r.overhead_latency_s
        saved_j = base.energy_j - r.energy_j + r.overhead_energy_j
        rows.append({
            "method": name, "path": r.exec_path,
            "gross latency saving (ms)": round(saved_s * 1e3, 3),
            "method latency (ms)": round(r.overhead_latency_s * 1e3, 3),
            "method / saving, latency": f"{r.overhead_latency_s / saved_s:.1%}" if saved_s > 0 else "n/a",
            "gross energy saving (mJ)": round(saved_j * 1e3, 3),
            "method energy (mJ)": round(r.overhead_energy_j * 1e3, 3),
            "method / saving, energy": f"{r.overhead_energy_j / saved_j:.1%}" if saved_j > 0 else "n/a",
        })
    return rows


def build_report(arch_name: str = "E", out: "str | Path" = "reports/paths.md",
                 objective: str = "latency", max_candidates: int | None = None,
                 progress: Callable[[str], None] = lambda s: None, scope: str = "accelerator") -> Path:
    """Evaluate the study's paths on ``arch_name``, write ``out`` and its figures
    (``figures/paths_*.png`` and ``.svg`` beside it); returns the markdown path."""
    import accelsim
    from ..plots.accuracy import plot_accuracy_tradeoff

    arch = accelsim.load_arch(arch_name)
    out = Path(out)
    figdir = out.parent / "figures"
    memo: dict = {}

    def run(base, paths):
        progress(f"{base.name}: {len(paths)} path(s)")
        return evaluate_paths(base, arch, paths, objective=objective, memo=memo,
                              max_candidates=max_candidates, scope=scope)

    # --- SegFormer-B2 study configurations + retrained models
    b2 = load_workload("segformer-b2", input_size=(512, 512), num_classes=150)
    cfg = study_configs("segformer", "b2", "ade20k", "512x512")
    labels = {effective_path("segformer", "b2", "512x512", p): lab for p, lab in zip(cfg.path, cfg.label)}
    seg = run(b2, paths_of(b2, "published"))
    seg["label"] = [labels.get(p, p) for p in seg["exec_path"]]
    models = run(b2, [p for p in paths_of(b2, "switch") if p])
    models["label"] = [f"{parse_path(p)['variant'].upper()} (retrained)" for p in models["exec_path"]]
    seg_all = pd.concat([seg, models], ignore_index=True)
    figs = []
    for x, stem in (("latency_s", "paths_segformer_b2_latency"), ("energy_j", "paths_segformer_b2_energy")):
        plot_accuracy_tradeoff(seg_all, x=x, label_col="label", path=figdir / stem,  # PNG + SVG
                               title=f"SegFormer-B2 ADE20K 512x512 on arch {arch_name} ({scope} scope)")
        figs.append(stem)

    # --- Expedite on Segmenter ViT-L/16 at 640
    vit_l = load_workload("segmenter-vit-l16-mask", input_size=(640, 640), num_classes=150)
    exp = run(vit_l, paths_of(vit_l, "cluster"))

    # --- DynaSegFormer on B0 / B2
    dyn = []
    for v in ("b0", "b2"):
        base = load_workload(f"segformer-{v}", input_size=(512, 512), num_classes=150)
        dyn.append(run(base, paths_of(base, "dynaseg")))

    # --- CTS and PAUMER on Segmenter ViT-S/16 at 512
    vit_s = load_workload("segmenter-vit-s16-mask", input_size=(512, 512), num_classes=150)
    cts = run(vit_s, paths_of(vit_s, "cts"))
    pau = run(vit_s, paths_of(vit_s, "pause"))

    # --- OFA-ResNet50D subnets at the published MAC budgets
    ofa_wl = load_workload("ofa-resnet50")
    ofa = run(ofa_wl, [p for p in paths_of(ofa_wl, "ofa") if p])

    overhead = pd.DataFrame(
        _overhead_rows("Expedite clustering + reconstruction", exp)
        + _overhead_rows("DynaSegFormer gate predictors (B0)", dyn[0])
        + _overhead_rows("DynaSegFormer gate predictors (B2)", dyn[1])
        + _overhead_rows("CTS policy network (EfficientNet-Lite0)", cts)
        + _overhead_rows("PAUMER aux decoders, entropy, top-k, assembler", pau))

    rdd_lat = lookup_table(seg_all, by="latency_s")
    rdd_en = lookup_table(seg_all, by="energy_j")
    front = pareto_front(seg_all, "latency_s")

    lines = [
        "# Dynamic execution paths on arch " + arch_name,
        "",
        f"Generated by `accelsim paths report --arch {arch_name} --scope {scope}` (mapping objective: "
        f"{objective}). Costs are simulated per inference (batch 1, 8-bit) in the **{scope} scope** "
        f"({SCOPE_TEXT[scope]}); accuracies are the "
        "published values shipped in `accelsim/data/accuracy.csv` (with their sources), "
        "`unknown` where none is published. Each path is applied to the workload graph by "
        "`accelsim.paths.apply_path`; *method* columns are the layers the method adds "
        "(policy network, clustering, gate predictors, auxiliary decoders).",
        "",
        "## SegFormer-B2, ADE20K 512x512: the study's configurations",
        "",
        "B2 and B2_a..B2_f (block bypass + `linear_fuse` input pruning; Sreedhar et al. Table III), "
        "`pred_in=736` (Sec. V-A), DynaSegFormer on B2, and the retrained B0/B1 reached by model "
        "switching.",
        "",
        _md(_cost_table(seg_all, seg_all["label"])),
        "",
        f"Pareto-optimal in latency: {', '.join(front['label'])}.",
        "",
        *(f"![{s}](figures/{s}.png)" for s in figs),
        "",
        "## Expedite token clustering, Segmenter ViT-L/16 (mask), ADE20K 640x640",
        "",
        "alpha=10 layers on all 40x40 tokens, beta=14 on h x w clusters (kappa=5, lambda=5), "
        "reconstruction with k=20 before the final norm. The clustering and reconstruction are "
        "modelled as batched matmuls per initial cell (tokens of a cell against the centres around "
        "it, the centres being a dynamic operand): few MACs, but no weight reuse, so they are "
        "memory-bound on the accelerator.",
        "",
        _md(_cost_table(exp, overhead=True)),
        "",
        "## DynaSegFormer (30 % / 50 % of q/k/v and Mix-FFN neurons gated, decoder sum)",
        "",
        "### B0", "", _md(_cost_table(dyn[0], overhead=True)), "",
        "### B2", "", _md(_cost_table(dyn[1], overhead=True)), "",
        "## CTS token sharing, Segmenter ViT-S/16 (mask), ADE20K 512x512",
        "",
        _md(_cost_table(cts, overhead=True)),
        "",
        "## PAUMER token pausing, Segmenter ViT-S/16 (mask), 512x512",
        "",
        "Costs of the paper's pause configurations. " + PAUMER_LABEL + "; it is shown below as "
        "its own curve and never attached to a configuration, hence `unknown` here.",
        "",
        _md(_cost_table(pau, overhead=True)),
        "",
        _md(load_paumer_curve().drop(columns=["label"])),
        "",
        "## OFA-ResNet50D subnets across MAC budgets, ImageNet",
        "",
        "Model switching between Once-for-All ResNet50D subnets (`ofa_macs=B@R`, generated by "
        "`accelsim paths enumerate -w ofa-resnet50`): for each published budget B, the subnet "
        "with the most MACs not above B at resolution R (exhaustive over depth, per-stage expand "
        "ratio and width). The published subnets' exact configurations are not shipped with "
        "accelsim, so costs are those of these MAC-matched stand-ins and the top-1 is "
        "the published subnet's of the same budget (once-for-all README). R is 224 where the "
        "budget is reachable; the smallest subnet at 224 has 1.03 GMACs, so the 0.9 and 0.6 GMAC "
        "budgets use the largest OFA training resolution that reaches them (192, 160).",
        "",
        _md(_ofa_table(ofa)),
        "",
        "## What each method's own work costs relative to what it saves",
        "",
        "Gross saving = baseline minus (path minus method layers); the ratio says how much of it "
        "the method gives back.",
        "",
        _md(overhead),
        "",
        "## RDD lookup tables (SegFormer-B2 paths and retrained models on arch " + arch_name + ")",
        "",
        "From each budget on (up to the next row) the row's path is the most accurate that fits.",
        "",
        "### Latency budget", "", _md(_rdd_md(rdd_lat, seg_all, "latency_s")), "",
        "### Energy budget", "", _md(_rdd_md(rdd_en, seg_all, "energy_j")), "",
    ]
    from ..safeio import write_text

    write_text(out, "\n".join(lines))
    return out


def _rdd_md(table: pd.DataFrame, df: pd.DataFrame, by: str) -> pd.DataFrame:
    labels = dict(zip(df["exec_path"], df["label"]))
    unit = "ms" if by == "latency_s" else "mJ"
    return pd.DataFrame({
        f"budget ({unit}) >=": (table[f"budget_{by}"] * 1e3).round(3),
        "config": [labels.get(p, "") for p in table["exec_path"]],
        "path": table["exec_path"].replace("", "(full model)"),
        "latency (ms)": (table["latency_s"] * 1e3).round(3),
        "energy (mJ)": (table["energy_j"] * 1e3).round(3),
        "accuracy (%)": [_acc(v) for v in table["accuracy"]],
    })
