"""Time-vs-accuracy and energy-vs-accuracy plots for execution paths (SPEC.md section 10).

Paths are dots, the full model is a star ("B2 (full model)"), retrained models (variants
reached by model switching) are diamonds, the Pareto-optimal points (min cost, max
accuracy) are ringed and joined by a step line. Labels go to the front, the full and
retrained models and the paths the caller names, never to every point, so hundreds of
enumerated paths stay readable. Points whose accuracy is unknown are never dropped: they
sit unlabelled in a marked "accuracy unknown" strip under the panel, at their cost, and a
line in the strip says how many there are. With measured GPU data
(:func:`accelsim.gpu.tradeoff.path_rows`) a second panel shows the same paths measured on
the GPU beside the accelerator's (the study's Fig. 10/11 layout).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..paths.rdd import pareto_front, with_known_accuracy
from ..paths.syntax import parse_path
from ..sweep.pareto import mapped_rows
from .common import save_figure, subject_text
from .labels import place_labels

#: x column -> (axis label, scale to the plotted unit)
AXES = {"latency_s": ("latency per inference (ms)", 1e3), "energy_j": ("energy per inference (mJ)", 1e3)}
#: accuracy_metric value -> axis name
METRIC_NAMES = {"miou": "mIoU", "ap": "AP", "top1": "top-1 accuracy"}
UNKNOWN_COLOR = "0.45"


def is_model(path: str) -> bool:
    """True for a full retrained model: an empty path or only ``variant=`` (model switching)."""
    return set(parse_path(path or "")) <= {"variant"}


def unknown_rows(df: pd.DataFrame, y: str = "accuracy") -> pd.DataFrame:
    """The rows of ``df`` whose ``y`` is not a number (``"unknown"`` or missing)."""
    known = with_known_accuracy(df, y)
    return df.loc[~df.index.isin(known.index)]


#: names listed in a panel note at most (the rest are counted)
MAX_LISTED = 5


def full_model_name(df: pd.DataFrame) -> str:
    """``"B2 (full model)"``: the variant of the model the paths start from."""
    variant = ""
    if "variant" in df.columns and "exec_path" in df.columns:
        own = df.loc[df["exec_path"].fillna("").astype(str) == "", "variant"].dropna().astype(str)
        variant = own.iloc[0] if len(own) else ""
    if not variant and "workload" in df.columns and len(df):
        from ..workload.catalog import MODELS

        spec = MODELS.get(str(base_workloads(df)[0] if base_workloads(df) else "").split("@")[0].split("/")[0])
        variant = spec.variant if spec is not None else ""
    return f"{variant.upper()} (full model)" if variant else "full model"


def point_labels(df: pd.DataFrame, label_col: str) -> list[str]:
    """The label of each row: ``label_col``'s value; the full model (empty path) as
    ``"B2 (full model)"`` and a switch to another variant as ``"B0 (retrained)"``."""
    col = df[label_col] if label_col in df.columns else pd.Series("", index=df.index)
    full = full_model_name(df)
    out = []
    for v in col:
        text = str(v) if str(v) not in ("nan", "None") else ""
        keys = parse_path(text) if label_col == "exec_path" else {}
        if not text:
            out.append(full)
        elif set(keys) == {"variant"}:
            out.append(f"{keys['variant'].upper()} (retrained)")
        else:
            out.append(text)
    return out


def listed(names: list[str], limit: int = MAX_LISTED) -> str:
    """``"a, b, c and 12 more"``: at most ``limit`` names, the rest counted."""
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def y_label(df: pd.DataFrame, y: str) -> str:
    """The accuracy axis label from the rows' ``accuracy_metric`` (mIoU, AP, top-1)."""
    if y != "accuracy":
        return f"{y} (%)"
    metrics = [m for m in dict.fromkeys(df.get("accuracy_metric", pd.Series(dtype=str)).fillna("").astype(str)) if m]
    names = [METRIC_NAMES.get(m.lower(), m) for m in metrics]
    return f"{' / '.join(names) if names else 'accuracy'} (%)"


def base_workloads(df: pd.DataFrame) -> list[str]:
    """The workloads the paths of ``df`` start from (rows that switch model are left out)."""
    if "workload" not in df.columns or df.empty:
        return []
    paths = df["exec_path"].fillna("").astype(str) if "exec_path" in df.columns else pd.Series("", index=df.index)
    own = df.loc[~paths.str.contains("variant=|ofa_macs=", regex=True), "workload"]
    return list(dict.fromkeys((own if len(own) else df["workload"]).astype(str)))


def default_title(df: pd.DataFrame, x: str, measured: bool = False) -> str:
    """``"segformer-b2 512x512 on E, accelerator scope: latency vs accuracy"`` from the rows'
    workload, input size, arch and scope; for GPU rows ``"segformer-b2 512x512 measured on
    <device> (<dtype>): ..."``."""
    wl = subject_text(df, base_workloads(df), scope=False)
    if measured:
        dev = df[["device_name", "dtype"]].drop_duplicates() if {"device_name", "dtype"} <= set(df.columns) else None
        where = "measured on " + (", ".join(f"{d} ({t})" for d, t in dev.itertuples(index=False))
                                  if dev is not None and len(dev) else "a GPU")
        return f"{wl + ' ' if wl else ''}{where}: {x.split('_')[0]} vs accuracy"
    arch = ", ".join(dict.fromkeys(df["arch"].astype(str))) if "arch" in df.columns and len(df) else "accelerator"
    scopes = subject_text(df, [], scope=True)
    return f"{wl + ' on ' if wl else ''}{arch}{', ' + scopes if scopes else ''}: {x.split('_')[0]} vs accuracy"


def _panel(ax: Axes, df: pd.DataFrame, x: str, y: str, label_col: str, title: str) -> pd.DataFrame:
    """Draw the known-accuracy points of ``df`` on ``ax``; returns the rows left to the strip."""
    label, scale = AXES.get(x, (x, 1.0))
    df = mapped_rows(df)
    has_x = pd.to_numeric(df[x], errors="coerce").notna() if x in df.columns else pd.Series(False, index=df.index)
    if not has_x.all():  # no cost to place them at (e.g. no energy measured): say which
        what = label.split(" (")[0]
        ax.text(0.01, 0.99, _wrapped(f"no {what} for {int((~has_x).sum())} point(s): "
                                     f"{listed(point_labels(df[~has_x], label_col))}"),
                transform=ax.transAxes, fontsize=7, va="top", color=UNKNOWN_COLOR)
    df = df[has_x]
    known = with_known_accuracy(df, y)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(label)
    ax.set_ylabel(y_label(known, y))
    ax.grid(alpha=0.3)
    if known.empty:
        ax.text(0.5, 0.5, "no path with a known accuracy", ha="center", va="center", transform=ax.transAxes,
                color=UNKNOWN_COLOR)
        return unknown_rows(df, y)
    path_text = known["exec_path"].fillna("").astype(str) if "exec_path" in known else \
        pd.Series("x", index=known.index)
    is_model_row = path_text.map(is_model)
    is_full = path_text == ""
    paths, models, full = known[~is_model_row], known[is_model_row & ~is_full], known[is_full]
    front = pareto_front(known, x, y)
    size, alpha = (28, 0.95) if len(paths) <= 60 else (14, 0.6)
    ax.scatter(paths[x] * scale, paths[y] * 100, s=size, alpha=alpha, color="tab:blue", linewidths=0,
               label="execution path", zorder=3)
    if len(models):
        ax.scatter(models[x] * scale, models[y] * 100, s=70, marker="D", color="tab:green",
                   edgecolor="black", linewidth=0.5, label="retrained model", zorder=4)
    if len(full):
        ax.scatter(full[x] * scale, full[y] * 100, s=140, marker="*", color="tab:orange",
                   edgecolor="black", linewidth=0.5, label=full_model_name(df), zorder=4)
    ax.step(front[x] * scale, front[y] * 100, where="post", color="tab:red", lw=1.2, zorder=2)
    ax.scatter(front[x] * scale, front[y] * 100, s=110, facecolor="none", edgecolor="tab:red",
               linewidth=1.5, label="Pareto-optimal", zorder=5)
    ax.margins(x=0.12, y=0.15)
    ax.legend(fontsize="small", loc="lower right")
    return unknown_rows(df, y)


def _wrapped(text: str, width: int = 95) -> str:
    """``text`` broken into lines that fit a panel at 7 pt."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _strip(ax: Axes, rows: pd.DataFrame, x: str) -> None:
    """The "accuracy unknown" strip: hollow grey points at their cost, under the panel,
    unlabelled, with one line saying how many there are."""
    _, scale = AXES.get(x, (x, 1.0))
    ax.set_yticks([])
    ax.set_ylim(0, 1)
    ax.set_facecolor("#f4f4f4")
    ax.set_ylabel("accuracy\nunknown", rotation=0, ha="right", va="center", fontsize="small", color=UNKNOWN_COLOR)
    if rows.empty:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes, fontsize="small",
                color=UNKNOWN_COLOR)
        return
    # many points spread over the strip's height (a fixed low-discrepancy sequence, so figures
    # stay byte-stable) so that where they crowd shows
    y = np.full(len(rows), 0.4) if len(rows) <= 60 else 0.08 + 0.55 * ((np.arange(len(rows)) * 0.6180339887) % 1.0)
    ax.scatter(rows[x] * scale, y, s=28 if len(rows) <= 60 else 12, facecolor="none",
               edgecolor=UNKNOWN_COLOR, linewidth=0.6 if len(rows) > 60 else 1.0, zorder=3)
    ax.text(0.005, 0.93, f"{len(rows)} point(s) without a published accuracy, unlabelled", transform=ax.transAxes,
            fontsize=7, va="top", ha="left", color=UNKNOWN_COLOR)


def plot_accuracy_tradeoff(df: pd.DataFrame, x: str = "latency_s", y: str = "accuracy",
                           label_col: str = "exec_path", gpu_df: pd.DataFrame | None = None,
                           ax: Axes | None = None, path: "str | Path | None" = None,
                           title: str | None = None, gpu_title: str | None = None,
                           named: "Sequence[str]" = ()) -> Figure:
    """Cost (``x``: ``latency_s`` seconds or ``energy_j`` joules, plotted in ms / mJ) vs
    accuracy (fractions, plotted in %, the metric from ``accuracy_metric``) with the Pareto
    front highlighted. Labels, placed without overlap, go to the front, the full and
    retrained models and the rows whose ``label_col`` value is in ``named``.

    ``df`` holds one row per evaluated path (``exec_path``, ``x``, ``y``). Rows whose
    accuracy is ``"unknown"`` are shown in an "accuracy unknown" strip under the panel
    (drawn only when some panel has such rows);
    drawn on a given ``ax`` (no room for a strip) they are listed in the panel and a
    warning names them. ``gpu_df`` (e.g. :func:`accelsim.gpu.tradeoff.path_rows`) adds a
    measured-GPU panel beside the accelerator one, its points labelled with its ``label``
    column when it has one. ``path`` saves the figure
    (.png/.svg/.pdf; no suffix = PNG and SVG).
    """
    if x not in df.columns:
        raise ValueError(f"column {x!r} missing; use one of {', '.join(AXES)}")
    frames = [(df, title or default_title(df, x), label_col)]
    if gpu_df is not None:
        if ax is not None:
            raise ValueError("give either ax or gpu_df (the GPU panel needs its own axes)")
        frames.append((gpu_df, gpu_title or default_title(gpu_df, x, measured=True),
                       "label" if "label" in gpu_df.columns else label_col))
    if ax is not None:
        fig = ax.figure
        rest = _panel(ax, df, x, y, label_col, frames[0][1])
        _label_known(ax, df, x, y, label_col, named)
        if len(rest):
            names = listed(point_labels(rest, label_col))
            ax.text(0.01, 0.01, _wrapped(f"accuracy unknown, not plotted: {names}"), transform=ax.transAxes,
                    fontsize=7, va="bottom", color=UNKNOWN_COLOR)
            warnings.warn(f"{len(rest)} point(s) with unknown accuracy not plotted: {names}", stacklevel=2)
        save_figure(fig, path)
        return fig
    # the "accuracy unknown" strip appears under every panel as soon as one panel needs it
    with_strip = any(len(_placeable_unknown(frame, x, y)) for frame, _, _ in frames)
    fig = Figure(figsize=(6.4 * len(frames), 5.4 if with_strip else 4.8), layout="constrained")
    grid = fig.add_gridspec(2 if with_strip else 1, len(frames), height_ratios=[6, 1] if with_strip else [1])
    panels = []
    for j, (frame, panel_title, col) in enumerate(frames):
        main = fig.add_subplot(grid[0, j])
        rest = _panel(main, frame, x, y, col, _wrapped(panel_title, 70))
        strip = None
        if with_strip:
            strip = fig.add_subplot(grid[1, j], sharex=main)
            main.tick_params(labelbottom=False)
            strip.set_xlabel(main.get_xlabel())  # the cost axis is labelled once, under the strip
            main.set_xlabel("")
            _strip(strip, rest, x)
        panels.append((main, strip, frame, rest, col))
    for main, strip, frame, rest, col in panels:  # labels once the layout is final
        _label_known(main, frame, x, y, col, named)
    save_figure(fig, path)
    return fig


def _placeable_unknown(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows of ``df`` with a cost ``x`` but no known ``y``: the strip's points."""
    df = mapped_rows(df)
    if x not in df.columns or y not in df.columns:
        return df.iloc[0:0]
    return unknown_rows(df[pd.to_numeric(df[x], errors="coerce").notna()], y)


def labelled_rows(df: pd.DataFrame, x: str, y: str, label_col: str, named: "Sequence[str]" = ()) -> pd.DataFrame:
    """The known-accuracy rows that get a label: the Pareto front, the full and retrained
    models, and the rows whose ``label_col`` value (or label) is in ``named``; cheapest first."""
    df = mapped_rows(df)
    known = with_known_accuracy(df[pd.to_numeric(df[x], errors="coerce").notna()], y) if x in df else df.iloc[0:0]
    if known.empty:
        return known
    front = pareto_front(known, x, y).index
    paths = known["exec_path"].fillna("").astype(str) if "exec_path" in known else pd.Series("x", index=known.index)
    value = known[label_col].astype(str) if label_col in known else pd.Series("", index=known.index)
    want = {str(n) for n in named}
    keep = (known.index.isin(front) | paths.map(is_model).to_numpy() | value.isin(want).to_numpy()
            | np.isin(point_labels(known, label_col), list(want)))
    return known[keep].sort_values(x, kind="stable")


def _label_known(ax: Axes, df: pd.DataFrame, x: str, y: str, label_col: str, named: "Sequence[str]" = ()) -> None:
    _, scale = AXES.get(x, (x, 1.0))
    rows = labelled_rows(df, x, y, label_col, named)
    if rows.empty:
        return
    obstacles = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    place_labels(ax, rows[x] * scale, rows[y] * 100, point_labels(rows, label_col), fontsize=7.5,
                 marker_pt=5.0, avoid=[ax.get_legend()], obstacles=obstacles)


def accuracy_table(df: pd.DataFrame, x: str = "latency_s", y: str = "accuracy", label_col: str = "exec_path",
                   named: "Sequence[str]" = ()) -> pd.DataFrame:
    """The rows :func:`plot_accuracy_tradeoff` draws (SI units, accuracy as a fraction or
    empty when unknown) with ``label`` (as drawn), ``accuracy_known``, ``pareto`` (on the
    front) and ``labelled`` (has a label in the figure)."""
    rows = mapped_rows(df).copy()
    known = with_known_accuracy(rows, y) if y in rows.columns else rows.iloc[0:0]
    has_x = pd.to_numeric(rows[x], errors="coerce").notna() if x in rows.columns else False
    rows["label"] = point_labels(rows, label_col)
    rows["accuracy_known"] = rows.index.isin(known.index)
    if y in rows.columns:
        rows[y] = pd.to_numeric(rows[y], errors="coerce")
    front = pareto_front(known[pd.to_numeric(known[x], errors="coerce").notna()], x, y).index if len(known) else []
    rows["pareto"] = rows.index.isin(front)
    rows["labelled"] = rows.index.isin(labelled_rows(df, x, y, label_col, named).index) & has_x
    return rows.reset_index(drop=True)
