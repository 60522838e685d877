"""The study report (SPEC.md section 10): ``reports/report.md`` plus figures and sweep data.

:func:`collect` runs everything the report cites (the 13-config sweep on the study's
workloads, per-layer simulations on arch E); :func:`report_tables` turns that into
markdown tables (deterministic text, so a test can compare the committed report with
what the code produces now); :func:`build_report` writes the report, its figures
(``reports/figures/``), the sweep rows (``reports/sweeps/``) and, when the execution-path
package is available, its own report ``reports/paths.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..cost.settings import SCOPE_TEXT, SCOPES
from ..errors import AccelsimError, ConfigError
from ..safeio import FOLDER_LOCK, check_folder, exclusive_folder, exists, read_bytes, write_text
from ..sweep import pareto, run_sweep
from .locations import docs_link, gpu_folder, shown

#: the study's sweep workloads (registry names, default input sizes and classes)
STUDY_WORKLOADS = ("segformer-b2", "swin-t-upernet", "ofa-resnet50")
#: per-layer breakdowns on the breakdown arch
BREAKDOWN_WORKLOADS = ("segformer-b2", "swin-t-upernet")
BREAKDOWN_ARCH = "E"
STUDY_ARCHS = "A..M"
SWEEP_FILE = "sweeps/study13.csv"
#: the same sweep in the other scope, for the comparison section
OTHER_SWEEP_FILE = "sweeps/study13_{scope}.csv"
OBJECTIVE = "latency"
TOP_LAYERS = 10
GPU_DIR = "gpu"
#: the report's CSV floats: 10 significant digits, so the file is byte-identical across
#: machines (their last binary digits differ with the CPU's floating-point code paths)
CSV_FLOAT_FORMAT = "%.10g"


@dataclass
class ReportData:
    """Everything the report's tables are computed from."""

    sweep: pd.DataFrame
    workloads: dict[str, Any]
    breakdowns: dict[str, Any]
    gpu: pd.DataFrame | None = None
    scope: str = "accelerator"
    other_sweep: pd.DataFrame | None = None  # the same sweep in the other scope
    other_breakdowns: dict[str, Any] | None = None


def other_scope(scope: str) -> str:
    return SCOPES[1 - SCOPES.index(scope)]


def collect(workers: int | None = None, cache: "str | Path | None" = None, sweep_output: "str | Path | None" = None,
            progress: bool = False, gpu_dir: "str | Path | None" = None, scope: str = "accelerator",
            other_output: "str | Path | None" = None) -> ReportData:
    """Run the report's sweeps (in ``scope`` and in the other scope) and simulations (and read
    GPU data from ``gpu_dir`` if any).

    ``sweep_output`` and ``other_output`` receive the sweep rows as CSV with floats rounded to
    :data:`CSV_FLOAT_FORMAT` (the tables are computed from the unrounded rows).
    """
    import accelsim
    from ..tableio import write_table

    def sweep(sc: str, output: "str | Path | None") -> pd.DataFrame:
        rows = run_sweep({"name": "study13", "arch": STUDY_ARCHS, "workloads": list(STUDY_WORKLOADS),
                          "objective": OBJECTIVE, "scope": sc}, workers=workers, cache=cache,
                         progress=progress)
        if output is not None:
            write_table(rows, output, float_format=CSV_FLOAT_FORMAT)
        return rows

    workloads = {w: accelsim.load_workload(w) for w in STUDY_WORKLOADS}
    arch = accelsim.load_arch(BREAKDOWN_ARCH)
    memo: dict = {}

    def breakdowns(sc: str) -> dict[str, Any]:
        return {w: accelsim.simulate(workloads[w], arch, objective=OBJECTIVE, memo=memo, scope=sc)
                for w in BREAKDOWN_WORKLOADS}

    other = other_scope(scope)
    return ReportData(sweep(scope, sweep_output), workloads, breakdowns(scope), _gpu_frame(gpu_dir), scope,
                      sweep(other, other_output), breakdowns(other))


def _gpu_frame(gpu_dir: "str | Path | None") -> pd.DataFrame | None:
    if gpu_dir is None or not Path(gpu_dir).is_dir() or not any(Path(gpu_dir).glob("*.csv")):
        return None
    from .. import gpu

    return gpu.load(gpu_dir)


# ------------------------------------------------------------------ tables
def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table of already formatted cells (numbers right-aligned)."""
    cols = [str(c) for c in df.columns]
    align = ["---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns]
    rows = ["| " + " | ".join(cols) + " |", "|" + "|".join(align) + "|"]
    for r in df.itertuples(index=False):
        rows.append("| " + " | ".join(_cell(v) for v in r) + " |")
    return "\n".join(rows)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return ""
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def workloads_table(data: ReportData) -> pd.DataFrame:
    """GMACs, parameters and MAC share by op kind of each study workload."""
    from ..plots import mac_shares

    rows = []
    for name, wl in data.workloads.items():
        shares = dict(zip(*mac_shares(wl)[["op", "share"]].T.to_numpy()))
        rows.append({"workload": name, "input": f"{wl.input_size[0]}x{wl.input_size[1]}",
                     "classes": wl.num_classes, "GMACs": round(wl.macs / 1e9, 2),
                     "params (M)": round(wl.params / 1e6, 2),
                     **{f"{op} MACs (%)": round(100 * float(shares.get(op, 0.0)), 1)
                        for op in ("conv2d", "dwconv2d", "linear", "matmul")}})
    return pd.DataFrame(rows)


def sweep_table(df: pd.DataFrame, on_front: pd.Series) -> pd.DataFrame:
    """One row per architecture of one workload, in the study's units."""
    return pd.DataFrame({
        "arch": df["arch"], "PEs": df["num_pe"], "K0xC0": [f"{k}x{c}" for k, c in zip(df["k0"], df["c0"])],
        "WB/PE (KiB)": df["weight_buffer_kb"].round(0).astype(int),
        "IB/PE (KiB)": df["input_buffer_kb"].round(0).astype(int),
        "area (mm2)": df["area_mm2"].round(3),
        "latency (ms)": (df["latency_s"] * 1e3).round(3),
        "energy (mJ)": (df["energy_j"] * 1e3).round(3),
        "energy/op (fJ)": (df["energy_per_op_j"] * 1e15).round(1),
        "TOPS/mm2": (df["throughput_ops_per_s_per_mm2"] / 1e12).round(3),
        "utilization (%)": (df["utilization"] * 100).round(1),
        "Pareto": ["yes" if f else "" for f in on_front],
    })


def pareto_table(df: pd.DataFrame, on_front: pd.Series) -> pd.DataFrame:
    """The Pareto set (min energy/op, max throughput/mm2) of each workload; ``on_front`` is
    its row mask (``pareto(df, by="workload", mask=True)``)."""
    front = df[on_front]
    rows = [{"workload": w, "Pareto set (min energy/op, max TOPS/mm2)": ", ".join(front.loc[front["workload"] == w, "arch"])}
            for w in df["workload"].drop_duplicates()]
    return pd.DataFrame(rows)


def layers_table(res: Any, top: int = TOP_LAYERS) -> pd.DataFrame:
    """The ``top`` layers by execution time with their shares, energy per op and bound."""
    df = res.layers
    t, e = df["latency_s"], df["energy_j"]
    sel = df.sort_values("latency_s", ascending=False, kind="stable").head(top)
    epo = [ej / (2 * m) * 1e15 if m else float("nan") for ej, m in zip(sel["energy_j"], sel["macs"])]
    return pd.DataFrame({
        "layer": sel["name"], "op": sel["op"], "GMACs": (sel["macs"] / 1e9).round(3),
        "time (us)": (sel["latency_s"] * 1e6).round(1), "time (%)": (sel["latency_s"] / t.sum() * 100).round(1),
        "energy (uJ)": (sel["energy_j"] * 1e6).round(1), "energy (%)": (sel["energy_j"] / e.sum() * 100).round(1),
        "energy/op (fJ)": [round(v, 1) for v in epo], "utilization (%)": (sel["utilization"] * 100).round(1),
        "bound": sel["bound"],
    })


def op_table(res: Any) -> pd.DataFrame:
    """Time and energy by op kind (shares of the workload's totals)."""
    df = res.layers
    g = df.groupby("op", sort=False)[["macs", "latency_s", "energy_j"]].sum()
    g = g.sort_values("latency_s", ascending=False, kind="stable")
    return pd.DataFrame({
        "op": g.index, "MACs (%)": (g["macs"] / max(df["macs"].sum(), 1) * 100).round(1).to_numpy(),
        "time (%)": (g["latency_s"] / df["latency_s"].sum() * 100).round(1).to_numpy(),
        "energy (%)": (g["energy_j"] / df["energy_j"].sum() * 100).round(1).to_numpy(),
    })


def energy_components_table(res: Any) -> pd.DataFrame:
    total = sum(res.energy_breakdown.values())
    return pd.DataFrame({"component": list(res.energy_breakdown),
                         "energy (mJ)": [round(v * 1e3, 4) for v in res.energy_breakdown.values()],
                         "share (%)": [round(v / total * 100, 1) for v in res.energy_breakdown.values()]})


def gpu_table(gpu: pd.DataFrame) -> pd.DataFrame:
    from ..plots import gpu_share_table

    s = gpu_share_table(gpu)
    return pd.DataFrame({"device": s["device_name"], "dtype": s["dtype"], "workload": s["workload"],
                         "input": s["input"], "GMACs": s["gmacs"].round(2),
                         "conv MACs (%)": (s["conv_mac_share"] * 100).round(1),
                         "conv measured time (%)": (s["conv_time_share"] * 100).round(1),
                         "sum of layer times (ms)": (s["latency_s"] * 1e3).round(3)})


def scope_table(main: pd.DataFrame, other: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Per workload and arch: latency, energy and area in both scopes, their ratio and the
    DRAM share of the system scope's energy."""
    key = ["workload", "arch"]
    order = {w: i for i, w in enumerate(main["workload"].drop_duplicates())}
    m = main.sort_values("workload", key=lambda c: c.map(order), kind="stable").set_index(key)
    o = other.set_index(key).reindex(m.index)
    acc, sys_ = (m, o) if scope == "accelerator" else (o, m)
    return pd.DataFrame({
        "workload": [k[0] for k in m.index], "arch": [k[1] for k in m.index],
        "accelerator (ms)": (acc["latency_s"] * 1e3).round(3).to_numpy(),
        "system (ms)": (sys_["latency_s"] * 1e3).round(3).to_numpy(),
        "accelerator (mJ)": (acc["energy_j"] * 1e3).round(3).to_numpy(),
        "system (mJ)": (sys_["energy_j"] * 1e3).round(3).to_numpy(),
        "system / accelerator energy": (sys_["energy_j"] / acc["energy_j"]).round(2).to_numpy(),
        "area accel. / system (mm2)": [f"{a:.2f} / {b:.2f}" for a, b in zip(acc["area_mm2"], sys_["area_mm2"])],
    })


def dram_share_table(breakdowns: dict[str, Any]) -> pd.DataFrame:
    """The system scope's energy split into accelerator, global buffer + NoC, and DRAM."""
    rows = []
    for w, res in breakdowns.items():
        e = res.energy_breakdown
        total = sum(e.values()) or 1.0
        rows.append({"workload": w, "latency (ms)": round(res.latency_s * 1e3, 3),
                     "energy (mJ)": round(res.energy_j * 1e3, 3),
                     "DRAM (%)": round(e["dram"] / total * 100, 1),
                     "global buffer + NoC (%)": round((e["global_buffer"] + e["noc"]) / total * 100, 1),
                     "PE array (%)": round((total - e["dram"] - e["global_buffer"] - e["noc"]) / total * 100, 1)})
    return pd.DataFrame(rows)


def report_tables(data: ReportData) -> dict[str, str]:
    """Every table of the report, by name, as markdown text."""
    out = {"workloads": markdown_table(workloads_table(data))}
    front = pareto(data.sweep, by="workload", mask=True)
    for w, g in data.sweep.groupby("workload", sort=False):
        out[f"sweep_{w}"] = markdown_table(sweep_table(g, front[g.index]))
    out["pareto"] = markdown_table(pareto_table(data.sweep, front))
    if data.other_sweep is not None:
        other = other_scope(data.scope)
        out["pareto_other"] = markdown_table(pareto_table(
            data.other_sweep, pareto(data.other_sweep, by="workload", mask=True)))
        out["scopes"] = markdown_table(scope_table(data.sweep, data.other_sweep, data.scope))
        sys_bd = data.other_breakdowns if other == "system" else data.breakdowns
        out["dram"] = markdown_table(dram_share_table(sys_bd or {}))
    for w, res in data.breakdowns.items():
        out[f"layers_{w}"] = markdown_table(layers_table(res))
        out[f"ops_{w}"] = markdown_table(op_table(res))
        out[f"energy_{w}"] = markdown_table(energy_components_table(res))
    if data.gpu is not None:
        out["gpu"] = markdown_table(gpu_table(data.gpu))
    return out


# ------------------------------------------------------------------ figures
def report_figures(data: ReportData, figdir: Path) -> dict[str, str]:
    """Render the report's figures (PNG + SVG) into ``figdir``; returns name -> relative stem."""
    from .. import plots

    figs: dict[str, str] = {}

    def save(name: str, fig_fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        fig_fn(*args, path=figdir / name, **kw)
        figs[name] = f"figures/{name}"

    save("energy_throughput", plots.plot_energy_throughput, data.sweep, named=[BREAKDOWN_ARCH],
         title=f"Configurations A..M, {data.scope} scope")
    page = explorer_page(data, figdir)
    if page:
        figs["explorer"] = page
    for w, wl in data.workloads.items():
        save(f"macs_{w}", plots.plot_mac_distribution, wl, title=f"{w}: MAC distribution")
    for w, res in data.breakdowns.items():
        save(f"layers_{w}_{BREAKDOWN_ARCH}", plots.plot_layer_breakdown, res,
             title=f"{w} on arch {BREAKDOWN_ARCH} ({data.scope} scope)")
        save(f"energy_per_op_{w}_{BREAKDOWN_ARCH}", plots.plot_layer_energy_per_op, res,
             title=f"{w} on arch {BREAKDOWN_ARCH} ({data.scope} scope): energy per op by layer")
    if data.gpu is not None:
        save("gpu_share", plots.plot_gpu_share, data.gpu)
    return figs


def explorer_page(data: ReportData, figdir: Path) -> str | None:
    """The sweep's interactive explorer (``figures/study13.html``; the front points' per-layer
    breakdowns recomputed), or ``None`` without plotly (the ``html`` extra)."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return None
    from ..plots.explorer import write_explorer

    name = Path(SWEEP_FILE).stem + ".html"
    write_explorer(data.sweep, figdir / name, recompute=True, source=SWEEP_FILE,
                   title=f"The 13 study configurations, {data.scope} scope")
    return f"figures/{name}"


# ------------------------------------------------------------------ text
def render(tables: dict[str, str], figs: dict[str, str], data: ReportData, paths_md: str | None,
           docs: "str | None" = "../docs", gpu_where: str = "reports/gpu/") -> str:
    """The markdown report. ``docs``: the link prefix of the docs from the report's folder
    (``None``: not shipped); ``gpu_where``: the folder GPU measurements are read from."""
    cost_doc = (f"[docs/cost_model.md]({docs}/cost_model.md)" if docs else
                "docs/cost_model.md (in the accelsim sources)")
    e = BREAKDOWN_ARCH
    fig = lambda name, alt: f"![{alt}]({figs[name]}.png)" if name in figs else ""  # noqa: E731
    sc, other = data.scope, other_scope(data.scope)
    other_file = OTHER_SWEEP_FILE.format(scope=other)
    sections = ["[Model assumptions](#model-assumptions)",
                "[Workloads and MAC distributions](#workloads-and-mac-distributions)",
                "[The 13 study configurations](#the-13-study-configurations)",
                f"[What the {other} scope changes](#what-the-{other}-scope-changes)",
                f"[Per-layer breakdowns on arch {e}](#per-layer-breakdowns-on-arch-{e.lower()})",
                "[Execution-path trade-offs](#execution-path-trade-offs)",
                "[GPU baseline: MAC share vs time share](#gpu-baseline-mac-share-vs-time-share)"]
    toc = [f"{i}. {t}" for i, t in enumerate(sections, 1)]
    lines = [
        "# accelsim study report",
        "",
        f"Regenerated from scratch by `accelsim report --scope {sc}` (mapping objective: latency, 1 % "
        "tolerance; batch 1; 8-bit data, 24-bit accumulation; 5 nm, 1.25 GHz). "
        f"**Every number is in the {sc} scope** ({SCOPE_TEXT[sc]}) unless a section says otherwise; "
        f"the [{other} scope](#what-the-{other}-scope-changes) ({SCOPE_TEXT[other]}) has its own section. "
        f"Sweep rows: [`{SWEEP_FILE}`]({SWEEP_FILE}) ({sc}) and [`{other_file}`]({other_file}) ({other}), "
        "SI units, floats rounded to 10 significant digits. "
        "Figures are in `figures/` as PNG and SVG. One op = one FLOP = half a MAC.",
        "",
        "## Contents", "", *toc, "",
        "## Model assumptions",
        "",
        f"The full model is described in {cost_doc}; in short:",
        "",
        "- MAGNet-style template (SPEC.md section 2): NumPE PEs of K0 vector-MAC lanes, C0 multipliers each, "
        "per-PE weight/input/accumulation buffers; study configs A..M take PEs, K0 = C0 and buffer sizes "
        "from Table II. The system scope adds a 2 MiB global buffer, a NoC and LPDDR4-class DRAM "
        "(68.3 GB/s), documented defaults the study did not fix.",
        "- Output-stationary, local-weight-stationary dataflow; every layer is mapped by an exhaustive search "
        "over spatial splits, tiles and loop orders; the fastest mapping is kept, and among mappings within "
        "1 % of it the one with the least energy.",
        "- Accelerator scope (the reference study's): the supply into the PE ports never stalls and costs "
        "nothing; a layer is bound by its compute, its PE buffer-fill ports or its PPU; non-MAC layers "
        "(norms, softmax, resizes, residual adds) run on the PPU overlapped with the MAC layers. "
        "System scope: the global-buffer, NoC and DRAM bandwidths bound layers too, their energy counts, "
        "and non-MAC layers are passes of their own (Timeloop-style bandwidth model).",
        "- Energy: events x per-event energy at 5 nm from the technology file (Keller et al. JSSC 2023, "
        "CACTI-scaled SRAM): every MAC slot of a busy PE per cycle, accumulator and buffer accesses, "
        "drained outputs, plus leakage x time. Area: the synthesised PE array of Table II (a fit to it for "
        "other configurations), plus the global buffer in the system scope.",
        "- Accuracy is never computed: published values (with sources) are attached where they exist.",
        "",
        "## Workloads and MAC distributions",
        "",
        "Analytic layer lists from the official hyper-parameters (default input size and classes of each "
        "model). MACs count convs (incl. depthwise), linears and attention matmuls.",
        "",
        tables["workloads"], "",
        *(fig(f"macs_{w}", f"MAC distribution of {w}") for w in data.workloads), "",
        "## The 13 study configurations",
        "",
        f"All 13 configurations of the study (A, B: 32768 MACs/cycle; C..M: 16384) on each workload, in the "
        f"{sc} scope. *Pareto*: not dominated in (min energy per op, max throughput per mm2) within the "
        "workload.",
        "",
        fig("energy_throughput", "energy per op vs throughput per mm2"), "",
        *([f"Interactive: [the same sweep in the explorer]({figs['explorer']}) (hover a point for its "
           "parameters and costs, click it for its per-layer breakdown, filter, pick the axes; "
           "`accelsim plot html`).", ""] if "explorer" in figs else []),
    ]
    for w in data.sweep["workload"].drop_duplicates():
        lines += [f"### {w}", "", tables[f"sweep_{w}"], ""]
    lines += ["### Pareto sets", "", tables["pareto"], ""]
    if "scopes" in tables:
        lines += [f"## What the {other} scope changes", "",
                  f"The same sweep in the {other} scope ({SCOPE_TEXT[other]}).", "",
                  tables["scopes"], "", f"Pareto sets in the {other} scope:", "", tables["pareto_other"], "",
                  f"Where the system scope's energy goes on arch {e}:", "", tables["dram"], ""]
    lines += [f"## Per-layer breakdowns on arch {e}", "", f"In the {sc} scope.", ""]
    for w in data.breakdowns:
        lines += [f"### {w}", "",
                  f"The {TOP_LAYERS} longest layers (time and energy shares of the whole network):", "",
                  tables[f"layers_{w}"], "", "By op kind:", "", tables[f"ops_{w}"], "",
                  "Energy by component:", "", tables[f"energy_{w}"], "",
                  fig(f"layers_{w}_{e}", f"per-layer time and energy of {w}"), "",
                  fig(f"energy_per_op_{w}_{e}", f"per-layer energy per op of {w}"), ""]
    lines += ["## Execution-path trade-offs", ""]
    if paths_md:
        lines += [f"Execution paths (block bypass, channel pruning, model switching, token methods) are "
                  f"evaluated on arch {e} in [{paths_md}]({paths_md}), with accuracy annotations, the cost of each "
                  "method's own work and the RDD lookup tables.", "",
                  "![SegFormer-B2 paths: latency vs accuracy](figures/paths_segformer_b2_latency.png)", "",
                  "![SegFormer-B2 paths: energy vs accuracy](figures/paths_segformer_b2_energy.png)", ""]
    else:
        lines += ["The execution-path report was not generated (run `accelsim report` with paths enabled).", ""]
    lines += ["## GPU baseline: MAC share vs time share", ""]
    if data.gpu is not None:
        lines += [f"Measured per-layer GPU times (`{gpu_where}`); a layer is a convolution when its op is "
                  "conv2d or dwconv2d.", "", tables["gpu"], "", fig("gpu_share", "conv MAC share vs GPU time share"), ""]
    else:
        lines += [f"No GPU measurements were found in `{gpu_where}` (nor in the project's `reports/gpu/`). "
                  f"They come from `accelsim gpu measure -w WORKLOAD -o {gpu_where}` on a machine with a CUDA GPU "
                  "(docs/gpu.md); re-run `accelsim report` and this section tabulates each convolution's MAC "
                  "share against its measured time share.", ""]
    return "\n".join(lines).rstrip() + "\n"


#: the list of files a report run wrote, kept in the report folder
MANIFEST = ".accelsim-report.json"


def read_manifest(out: Path) -> list[str] | None:
    """Files (relative to ``out``) the last report run wrote there, or ``None`` when ``out``
    holds no valid manifest."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        doc = json.loads(read_bytes(path, 1 << 20, "report manifest"))
    except (AccelsimError, ValueError, RecursionError):
        return None
    files = doc.get("files") if isinstance(doc, dict) and doc.get("format") == "accelsim-report" else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return files


def check_report_dir(out: Path, force: bool = False) -> list[str]:
    """Before any work: ``out`` must be an empty or new folder, a folder a report run wrote
    (it holds :data:`MANIFEST`), or ``force`` is given. Returns the files of the last run."""
    check_folder(out, "report folder")
    previous = read_manifest(out)
    if previous is None and any(p.name != FOLDER_LOCK for p in out.iterdir()) and not force:
        raise ConfigError(f"{out}: the report folder is not empty and no report was written there "
                          f"(no {MANIFEST}); choose a new or empty folder, or give --force to write "
                          "into it (files the report does not write are left alone)")
    return previous or []


def _finish(out: Path, since: float, previous: list[str]) -> None:
    """Write the manifest of the files this run wrote (changed since ``since``) and remove
    files of the previous run that this one did not write again (stale figures)."""
    root = out.resolve()
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                     if p.is_file() and p.name not in (MANIFEST, FOLDER_LOCK) and p.stat().st_mtime >= since)
    for rel in set(previous) - set(written):
        p = (root / rel).resolve()
        if root in p.parents and p.is_file():  # never outside the report folder
            p.unlink()
    write_text(out / MANIFEST, json.dumps({"format": "accelsim-report", "version": 1, "files": written},
                                          indent=1) + "\n", "report manifest")


def build_report(out_dir: "str | Path" = "reports", workers: int | None = None, cache: "str | Path | None" = None,
                 paths: bool = True, progress: bool = False, log: Callable[[str], None] = lambda s: None,
                 scope: str = "accelerator", force: bool = False,
                 on_start: Callable[[], None] | None = None) -> Path:
    """Regenerate ``out_dir/report.md`` with figures and sweep rows in ``scope`` (plus the other
    scope's sweep for the comparison section); returns the report path.

    ``out_dir`` must be new, empty or a folder written by an earlier run (``force``
    writes into any folder); files a run does not write are never removed. ``on_start`` is
    called once the folder is checked, before any work.

    The folder is locked for the run (:func:`accelsim.safeio.exclusive_folder`): a second
    report, or a sweep writing into it, fails at once. A run that fails (a full disk, an
    interrupt) removes the files and folders it created, so the folder is as before."""
    out = Path(out_dir)
    if cache is not None:
        check_folder(cache, "cache folder")  # before the report folder is touched
    created = not exists(out)
    check_folder(out, "report folder")
    with exclusive_folder(out, "report folder"):
        before = _tree(out)
        try:
            return _build(out, before, workers, cache, paths, progress, log, scope, force, on_start)
        except BaseException:
            _remove_new(out, before, created)
            raise


def _tree(out: Path) -> set[Path]:
    """Every file and folder under ``out`` now."""
    return set(out.rglob("*"))


def _remove_new(out: Path, before: set[Path], created: bool) -> None:
    """Remove what a failed run created under ``out`` (and ``out`` itself when it did)."""
    for p in sorted(_tree(out) - before, key=lambda q: len(q.parts), reverse=True):
        try:
            if p.is_dir() and not p.is_symlink():
                p.rmdir()
            elif p.name != FOLDER_LOCK:
                p.unlink()
        except OSError:
            pass
    if created:
        try:
            (out / FOLDER_LOCK).unlink()
            out.rmdir()
        except OSError:
            pass


def _build(out: Path, before: set[Path], workers: int | None, cache: "str | Path | None", paths: bool,
           progress: bool, log: Callable[[str], None], scope: str, force: bool,
           on_start: Callable[[], None] | None) -> Path:
    previous = check_report_dir(out, force)
    if on_start is not None:  # the folder is ours: work starts now
        on_start()
    since = time.time() - 1.0  # mtime granularity of some file systems
    (out / "figures").mkdir(parents=True, exist_ok=True)
    gpu_dir = gpu_folder(out, GPU_DIR)  # this folder's measurements, else the project's
    log("sweeping the 13 study configurations in both scopes")
    data = collect(workers=workers, cache=cache, sweep_output=out / SWEEP_FILE, progress=progress,
                   gpu_dir=gpu_dir, scope=scope,
                   other_output=out / OTHER_SWEEP_FILE.format(scope=other_scope(scope)))
    log("rendering figures")
    figs = report_figures(data, out / "figures")  # byte-stable files (plots.common.write_figure)
    paths_md = None
    if paths:
        from .paths import build_report as build_paths_report

        log("evaluating execution paths")
        paths_md = build_paths_report(BREAKDOWN_ARCH, out=out / "paths.md", scope=scope).name
    text = render(report_tables(data), figs, data, paths_md, docs=docs_link(out), gpu_where=shown(gpu_dir))
    log("varying the technology constants")
    from .sensitivity import sensitivity_section

    text += "\n" + sensitivity_section(out, scope, data.workloads)
    path = write_text(out / "report.md", text, "report")
    _finish(out, since, previous)
    return path
