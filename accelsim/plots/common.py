"""Figure helpers shared by the plot functions: figures without pyplot, saving, op colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib
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


def figure_grid(axes: Sequence[Axes] | None, n: int, figsize: tuple[float, float],
                **kw: Any) -> tuple[Figure, list[Axes]]:
    """``n`` axes in one row (or the ``axes`` given)."""
    if axes is not None:
        if len(axes) != n:
            raise AccelsimError(f"this figure needs {n} axes, got {len(axes)}")
        return axes[0].figure, list(axes)
    fig = Figure(figsize=figsize, layout="constrained")
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
    from ..safeio import writing

    with writing(t):
        t.parent.mkdir(parents=True, exist_ok=True)
        with matplotlib.rc_context(STABLE_RC):
            fig.savefig(t, dpi=dpi, metadata=dict(STABLE_METADATA[suffix]))
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


def op_colors(ops: "Sequence[str]") -> list[str]:
    return [OP_COLORS.get(str(o), "#333333") for o in ops]


def op_legend(ax: Axes, ops: "Sequence[str]", **kw: Any) -> None:
    from matplotlib.patches import Patch

    kinds = list(dict.fromkeys(ops))
    handles = [Patch(color=c, label=o) for o, c in zip(kinds, op_colors(kinds))]
    ax.legend(handles=handles, fontsize="small", **kw)
