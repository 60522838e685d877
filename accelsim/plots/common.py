"""Figure helpers shared by the plot functions: figures without pyplot, saving, op colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import AccelsimError

#: One colour per op kind (tab10), the same in every figure.
OP_COLORS: dict[str, str] = {
    "conv2d": "#1f77b4", "dwconv2d": "#17becf", "linear": "#ff7f0e", "matmul": "#d62728",
    "eltwise": "#7f7f7f", "norm": "#bcbd22", "softmax": "#9467bd", "resize": "#8c564b",
    "pool": "#e377c2", "concat": "#c7c7c7", "other": "#2ca02c",
}
FIG_FORMATS = (".png", ".svg", ".pdf")


def figure(ax: Axes | None = None, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Figure, Axes]:
    """``(fig, ax)``: the given axes' figure, or a new pyplot-free figure (works headless)."""
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def figure_grid(axes: Sequence[Axes] | None, n: int, figsize: tuple[float, float], stacked: bool = False,
                **kw: Any) -> tuple[Figure, list[Axes]]:
    """``n`` axes in one row, or one column sharing x when ``stacked`` (or the ``axes`` given)."""
    if axes is not None:
        if len(axes) != n:
            raise AccelsimError(f"this figure needs {n} axes, got {len(axes)}")
        return axes[0].figure, list(axes)
    fig = Figure(figsize=figsize, layout="constrained")
    if stacked:
        return fig, list(fig.subplots(n, 1, sharex=True, squeeze=False, **kw)[:, 0])
    return fig, list(fig.subplots(1, n, squeeze=False, **kw)[0])


#: Metadata without a date (SVG ``Date``, PDF ``CreationDate``; PNG carries none by default).
STABLE_METADATA: dict[str, dict[str, None]] = {".svg": {"Date": None}, ".pdf": {"CreationDate": None},
                                               ".png": {}}
#: A fixed SVG id salt (ids are random per save otherwise) and text kept as text.
STABLE_RC: dict[str, str] = {"svg.hashsalt": "accelsim", "svg.fonttype": "none"}


def write_figure(fig: Figure, target: "str | Path", dpi: int = 150) -> Path:
    """Write ``fig`` to one file (.png/.svg/.pdf), byte-identical every time the same figure
    is drawn: fixed SVG id salt, no creation date. Returns the path."""
    t = Path(target)
    suffix = t.suffix.lower()
    if suffix not in FIG_FORMATS:
        raise AccelsimError(f"{t}: figure format {t.suffix!r} not supported; use {', '.join(FIG_FORMATS)}")
    from ..safeio import atomic_output

    with atomic_output(t, "figure") as tmp, matplotlib.rc_context(STABLE_RC):
        fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=dict(STABLE_METADATA[suffix]))
    return t


def save_figure(fig: Figure, path: "str | Path | None", dpi: int = 150) -> list[Path]:
    """Write ``fig`` to ``path`` (.png/.svg/.pdf); a path without suffix gets both PNG and SVG.

    Every file goes through :func:`write_figure`, so re-generated figures are byte-stable.
    """
    if path is None:
        return []
    p = Path(path)
    if p.suffix:
        return [write_figure(fig, p, dpi)]
    return [write_figure(fig, p.with_suffix(ext), dpi) for ext in (".png", ".svg")]


def layer_frame(obj: Any) -> pd.DataFrame:
    """Per-layer rows from a SimResult (``.layers``), a Workload (``.to_frame()``) or a DataFrame."""
    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "layers") and isinstance(obj.layers, pd.DataFrame):
        df = obj.layers
    elif hasattr(obj, "to_frame"):
        df = obj.to_frame()
    else:
        raise AccelsimError(f"expected per-layer rows (DataFrame, SimResult or Workload), got {type(obj).__name__}")
    missing = [c for c in ("name", "op", "macs") if c not in df.columns]
    if missing:
        raise AccelsimError(f"per-layer rows need column(s) {', '.join(missing)}")
    return df.reset_index(drop=True)


def short_name(name: str, parts: int = 3) -> str:
    """The last ``parts`` dotted components of a layer name (for labels)."""
    return ".".join(str(name).split(".")[-parts:])


def unique_names(names: "Sequence[str]", min_parts: int = 2) -> list[str]:
    """For each name, its shortest dotted suffix (at least ``min_parts`` components, not
    starting with a bare index) that no other name in ``names`` ends with:
    ``backbone.block1.0.mlp.fc1`` -> ``block1.0.mlp.fc1`` when ``0.mlp.fc1`` is ambiguous.
    Names that occur twice stay whole."""
    split = [str(n).split(".") for n in names]
    out = []
    for parts in split:
        for k in range(min(min_parts, len(parts)), len(parts) + 1):
            tail = parts[-k:]
            if tail[0].isdigit() and k < len(parts):
                continue
            if sum(1 for q in split if q[-k:] == tail) == 1:
                out.append(".".join(tail))
                break
        else:
            out.append(".".join(parts))
    return out


def name_pattern(names: "Sequence[str]") -> str:
    """One label for many layers: the dotted components they share, ``*`` where they differ
    (``backbone.block1.0.mlp.dwconv`` and ``backbone.block2.1.mlp.dwconv`` ->
    ``backbone.*.*.mlp.dwconv``); the first name plus a count when their depths differ."""
    split = [str(n).split(".") for n in names]
    if not split:
        return ""
    if len(split) == 1:
        return ".".join(split[0])
    if len({len(p) for p in split}) != 1:
        return f"{'.'.join(split[0])} and {len(split) - 1} more"
    return ".".join(col[0] if len(set(col)) == 1 else "*" for col in zip(*split))


def percent(share: float) -> str:
    """A fraction as a percentage with the digits it needs: 0.69 -> "69%", 0.061 -> "6.1%",
    0.004 -> "0.4%", 0.0004 -> "0.04%", 0 -> "0%", and 0.9997 -> "99.97%" (not "100%")."""
    v = 100.0 * float(share)
    if v != v:
        return "n/a"
    if v == 0 or v == 100:
        return f"{v:.0f}%"
    rest = 100.0 - v
    if 0 < rest < 1:  # close to 100: keep the digits that tell it from 100
        return f"{v:.{max(1, -int(np.floor(np.log10(rest))))}f}%"
    if abs(v) >= 9.95:
        return f"{v:.0f}%"
    digits = max(1, 1 - int(np.floor(np.log10(abs(v)))))  # two significant digits
    text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return f"{text}%"


def layers_text(n: int) -> str:
    """``"1 layer"``, ``"13 layers"``."""
    return f"{n} layer" + ("" if n == 1 else "s")


#: light backgrounds for the network parts, in order of appearance
PART_SHADES = ("#f2f2f2", "#fdebd3", "#dcecf7", "#e3f1df", "#efe3f3", "#f7e1e1")


def part_column(df: pd.DataFrame) -> "pd.Series | None":
    """The part of the network each layer belongs to (``tag_part``/``part``: backbone,
    encoder, neck, decoder, head), or ``None`` when the rows carry no part tags."""
    for col in ("tag_part", "part"):
        if col in df.columns and df[col].fillna("").astype(str).ne("").any():
            return df[col].fillna("").astype(str).replace("", "other")
    return None


def part_runs(parts: "pd.Series") -> list[tuple[str, int, int]]:
    """Contiguous runs ``(part, first index, last index)`` of ``parts`` in row order."""
    runs: list[tuple[str, int, int]] = []
    for i, p in enumerate(parts):
        if runs and runs[-1][0] == p:
            runs[-1] = (p, runs[-1][1], i)
        else:
            runs.append((p, i, i))
    return runs


def shade_parts(ax: Axes, parts: "pd.Series") -> dict[str, str]:
    """Shade each contiguous run of ``parts`` (bar positions 0..n-1) and draw a dashed divider
    between runs; returns part -> shade colour (for :func:`part_handles`). Bands carry the
    gid ``part-band:<part>``, dividers ``part-divider``."""
    colors = {p: PART_SHADES[i % len(PART_SHADES)] for i, p in enumerate(dict.fromkeys(parts))}
    for k, (p, lo, hi) in enumerate(part_runs(parts)):
        ax.axvspan(lo - 0.5, hi + 0.5, color=colors[p], zorder=0, lw=0, gid=f"part-band:{p}")
        if k:
            ax.axvline(lo - 0.5, color="0.4", lw=0.8, ls="--", zorder=1, gid="part-divider")
    return colors


def band_widths_px(ax: Axes, parts: "pd.Series", width_px: float = 0.0) -> list[tuple[str, int, int, float]]:
    """``(part, first, last, width)`` of each run of ``parts`` on ``ax`` (bar positions
    0..n-1), the width in pixels when the figure is shown ``width_px`` wide (default: as
    saved). Call once the layout is final."""
    fig = ax.figure
    from .labels import renderer_of

    box = ax.get_window_extent(renderer_of(fig))
    lo_x, hi_x = ax.get_xlim()
    scale = (width_px / fig.bbox.width) if width_px else 1.0
    per_bar = box.width / (hi_x - lo_x) * scale
    return [(p, lo, hi, (hi - lo + 1) * per_bar) for p, lo, hi in part_runs(parts)]


def fit_figure_legend(fig: Figure, handles: list, max_cols: int, **kw: Any):
    """A figure legend with as many columns (at most ``max_cols``) as fit inside the figure's
    width; fewer columns, more rows otherwise. Returns the legend."""
    from .labels import renderer_of

    renderer = renderer_of(fig)
    legend = None
    for ncols in range(max(1, max_cols), 0, -1):
        if legend is not None:
            legend.remove()
        legend = fig.legend(handles=handles, ncols=ncols, **kw)
        fig.draw(renderer)
        box = legend.get_window_extent(renderer)
        if box.x0 >= fig.bbox.x0 - 0.5 and box.x1 <= fig.bbox.x1 + 0.5:
            break
    return legend


def part_handles(colors: dict[str, str], labels: "dict[str, str] | None" = None) -> list:
    """Legend patches for the part shades (``labels``: part -> legend text, default the part)."""
    from matplotlib.patches import Patch

    return [Patch(facecolor=c, edgecolor="0.6", lw=0.5, label=(labels or {}).get(p, p)) for p, c in colors.items()]


def op_colors(ops: "Sequence[str]") -> list[str]:
    return [OP_COLORS.get(str(o), "#333333") for o in ops]


def op_handles(ops: "Sequence[str]") -> list:
    """Legend patches, one per op kind in ``ops`` (first appearance order)."""
    from matplotlib.patches import Patch

    kinds = list(dict.fromkeys(str(o) for o in ops))
    return [Patch(color=c, label=o) for o, c in zip(kinds, op_colors(kinds))]


#: Width (pixels) a figure is shown at in the markdown report: GitHub's content column
#: (about 900 px); figure checks (part bands, legends) are made at this width.
REPORT_WIDTH_PX = 900


def workload_size(label: str) -> str:
    """The input size ``HxW`` of a workload label: its ``@HxW`` part (sweep labels), else the
    registered model's or named workload's default; '' when none is known."""
    import re

    m = re.search(r"@(\d+x\d+)", str(label))
    if m:
        return m.group(1)
    name = str(label).split("@")[0].split("/")[0]
    from ..errors import AccelsimError
    from ..workload.registry import list_models, open_workload

    for spec in list_models():
        if spec.name == name:
            return f"{spec.default_input[0]}x{spec.default_input[1]}"
    try:
        h, w = open_workload(name).workload.input_size
    except (AccelsimError, OSError, ValueError):
        return ""
    return f"{h}x{w}"


def subject_text(df: pd.DataFrame, workloads: "Sequence[str] | None" = None, scope: bool = True) -> str:
    """What a figure shows, for its title: ``"segformer-b2 512x512"`` for each workload (the
    rows' ``input`` column, else from the label), and with ``scope`` the scopes of the rows
    (``"accelerator scope"``, ``"accelerator and system scopes"``)."""
    parts = []
    names = list(workloads) if workloads is not None else (
        list(dict.fromkeys(df["workload"].astype(str))) if "workload" in df.columns else [])
    texts = []
    for name in names:
        size = ""
        if "input" in df.columns and "workload" in df.columns:
            given = df.loc[df["workload"].astype(str) == name, "input"].dropna().astype(str)
            size = given.iloc[0] if len(given) else ""
        size = size or workload_size(name)
        texts.append(f"{name.split('@')[0].split('/')[0]} {size}".strip())
    if texts:
        parts.append(", ".join(texts))
    if scope and "scope" in df.columns:
        scopes = [s for s in dict.fromkeys(df["scope"].dropna().astype(str)) if s]
        if scopes:
            parts.append(" and ".join(scopes) + (" scopes" if len(scopes) > 1 else " scope"))
    return ", ".join(parts)
