"""Time-vs-accuracy and energy-vs-accuracy plots for execution paths (SPEC.md section 10).

Paths are dots, retrained models (full variants reached by model switching) are drawn as
separate star markers, the Pareto-optimal points (min cost, max accuracy) are ringed and
joined by a step line. Points whose accuracy is unknown are never dropped: they sit in a
marked "accuracy unknown" strip under the panel, at their cost. With measured GPU data
(:func:`accelsim.gpu.tradeoff.path_rows`) a second panel shows the same paths measured on
the GPU beside the accelerator's (the study's Fig. 10/11 layout).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..paths.rdd import pareto_front, with_known_accuracy
from ..paths.syntax import parse_path
from ..sweep.pareto import mapped_rows
from .common import save_figure
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


def point_labels(df: pd.DataFrame, label_col: str) -> list[str]:
    """The label of each row: ``label_col``'s value, ``"full model"`` where it is empty."""
    col = df[label_col] if label_col in df.columns else pd.Series("", index=df.index)
    return [str(v) if str(v) not in ("", "nan") else "full model" for v in col]


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
    """``"segformer-b2 on E: latency vs accuracy"`` from the rows' workload and arch; for GPU
    rows ``"segformer-b2 measured on <device> (<dtype>): ..."``."""
    wl = ", ".join(base_workloads(df))
    if measured:
        dev = df[["device_name", "dtype"]].drop_duplicates() if {"device_name", "dtype"} <= set(df.columns) else None
        where = "measured on " + (", ".join(f"{d} ({t})" for d, t in dev.itertuples(index=False))
                                  if dev is not None and len(dev) else "a GPU")
        return f"{wl + ' ' if wl else ''}{where}: {x.split('_')[0]} vs accuracy"
    arch = ", ".join(dict.fromkeys(df["arch"].astype(str))) if "arch" in df.columns and len(df) else "accelerator"
    return f"{wl + ' on ' if wl else ''}{arch}: {x.split('_')[0]} vs accuracy"


def _panel(ax: Axes, df: pd.DataFrame, x: str, y: str, label_col: str, title: str) -> pd.DataFrame:
    """Draw the known-accuracy points of ``df`` on ``ax``; returns the rows left to the strip."""
    label, scale = AXES.get(x, (x, 1.0))
    df = mapped_rows(df)
    has_x = pd.to_numeric(df[x], errors="coerce").notna() if x in df.columns else pd.Series(False, index=df.index)
    if not has_x.all():  # no cost to place them at (e.g. no energy measured): say which
        what = label.split(" (")[0]
        ax.text(0.01, 0.99, _wrapped(f"no {what} for {int((~has_x).sum())} point(s): "
                                     f"{', '.join(point_labels(df[~has_x], label_col))}"),
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
    is_retrained = known["exec_path"].fillna("").map(is_model) if "exec_path" in known else \
        pd.Series(False, index=known.index)
    paths, models = known[~is_retrained], known[is_retrained]
    front = pareto_front(known, x, y)
    ax.scatter(paths[x] * scale, paths[y] * 100, s=28, color="tab:blue", label="execution path", zorder=3)
    ax.scatter(models[x] * scale, models[y] * 100, s=140, marker="*", color="tab:orange",
               edgecolor="black", linewidth=0.5, label="retrained model", zorder=4)
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
    """The "accuracy unknown" strip: hollow grey points at their cost, under the panel."""
    _, scale = AXES.get(x, (x, 1.0))
    ax.set_yticks([])
    ax.set_ylim(0, 1)
    ax.set_facecolor("#f4f4f4")
    ax.set_ylabel("accuracy\nunknown", rotation=0, ha="right", va="center", fontsize="small", color=UNKNOWN_COLOR)
    if rows.empty:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes, fontsize="small",
                color=UNKNOWN_COLOR)
        return
    ax.scatter(rows[x] * scale, np.full(len(rows), 0.5), s=28, facecolor="none", edgecolor=UNKNOWN_COLOR, zorder=3)


def plot_accuracy_tradeoff(df: pd.DataFrame, x: str = "latency_s", y: str = "accuracy",
                           label_col: str = "exec_path", gpu_df: pd.DataFrame | None = None,
                           ax: Axes | None = None, path: "str | Path | None" = None,
                           title: str | None = None, gpu_title: str | None = None) -> Figure:
    """Cost (``x``: ``latency_s`` seconds or ``energy_j`` joules, plotted in ms / mJ) vs
    accuracy (fractions, plotted in %, the metric from ``accuracy_metric``) with the Pareto
    front highlighted and every point labelled without overlap.

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
        _label_known(ax, df, x, y, label_col)
        if len(rest):
            names = ", ".join(point_labels(rest, label_col))
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
        _label_known(main, frame, x, y, col)
        if strip is not None and len(rest):
            _, scale = AXES.get(x, (x, 1.0))
            place_labels(strip, rest[x] * scale, np.full(len(rest), 0.5), point_labels(rest, col),
                         fontsize=7, color=UNKNOWN_COLOR)
    save_figure(fig, path)
    return fig


def _placeable_unknown(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Rows of ``df`` with a cost ``x`` but no known ``y``: the strip's points."""
    df = mapped_rows(df)
    if x not in df.columns or y not in df.columns:
        return df.iloc[0:0]
    return unknown_rows(df[pd.to_numeric(df[x], errors="coerce").notna()], y)


def _label_known(ax: Axes, df: pd.DataFrame, x: str, y: str, label_col: str) -> None:
    _, scale = AXES.get(x, (x, 1.0))
    df = mapped_rows(df)
    known = with_known_accuracy(df[pd.to_numeric(df[x], errors="coerce").notna()], y) if x in df else df.iloc[0:0]
    if known.empty:
        return
    known = known.sort_values(x, kind="stable")
    place_labels(ax, known[x] * scale, known[y] * 100, point_labels(known, label_col), fontsize=7.5,
                 marker_pt=5.0, avoid=[ax.get_legend()])
