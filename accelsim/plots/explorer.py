"""An interactive explorer for a sweep: one self-contained HTML page (Plotly, offline).

:func:`explorer_html` turns sweep result rows (and optionally the sweep's per-layer rows)
into one HTML file with Plotly's JavaScript inlined, so it opens in any browser with no
server and no network. The page shows:

- a WebGL scatter (``scattergl``) of any two result columns (default: energy per op
  against throughput per mm2), with axis pickers, log axes and colour by any column;
- the Pareto front of the two plotted columns per (workload, execution path, scope),
  drawn as a line, when both columns have a direction (:data:`DIRECTIONS`);
- a hover text per point: the arch parameters that vary in the sweep, latency (ms),
  energy (mJ), energy per op (fJ/op), TOPS/mm2, utilisation, area and scope;
- a per-layer breakdown on click: the top-N layers by time and by energy (coloured by op
  kind, as ``accelsim plot layers``) and the energy by component, from the sweep's
  ``--layers`` rows or recomputed (:func:`recompute_layers`);
- filters for workload, scope, execution path and every varying arch parameter's range;
- an accuracy view (accuracy against latency or energy, unknown accuracy in a marked
  strip under the panel, as ``accelsim plot accuracy``) when the sweep has paths.

The data travel as one JSON block (columns, not rows; numbers rounded to
:data:`DIGITS` significant digits, which the page shows at most); a small inline script
builds the traces and wires the controls. Per-layer summaries (not the full per-layer
rows) are kept for every point up to :data:`MAX_LAYER_POINTS` points, else for the
Pareto-front points only, so a 20,000-point page stays within a few MB
(benchmarks/bench_explorer.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ..errors import AccelsimError, ConfigError
from .common import OP_COLORS

#: columns a results table needs for the page (the sweep's result rows)
REQUIRED = ("arch", "workload", "latency_s", "energy_j", "area_mm2", "energy_per_op_j",
            "throughput_ops_per_s_per_mm2", "utilization")
#: the default axes
DEFAULT_X, DEFAULT_Y = "throughput_ops_per_s_per_mm2", "energy_per_op_j"
#: significant digits of the numbers on the page (hover texts show at most 4)
DIGITS = 6
#: per-layer summaries for every point up to this many points with layer rows, else the front only
MAX_LAYER_POINTS = 2000
#: at most this many categories get a legend entry each (more: one colour scale)
MAX_LEGEND = 20
#: layers listed per panel of the click breakdown
TOP_N = 10
#: column -> (label on the page, factor from the SI column to the shown unit)
UNITS: dict[str, tuple[str, float]] = {
    "latency_s": ("latency (ms)", 1e3),
    "energy_j": ("energy (mJ)", 1e3),
    "energy_per_op_j": ("energy per op (fJ/op)", 1e15),
    "throughput_ops_per_s_per_mm2": ("throughput per area (TOPS/mm2)", 1e-12),
    "utilization": ("utilisation (%)", 100.0),
    "area_mm2": ("area (mm2)", 1.0),
    "macs": ("MACs (G)", 1e-9),
    "pe_array_area_mm2": ("synthesised PE-array area (mm2)", 1.0),
    "accuracy": ("accuracy (%)", 100.0),
}
#: better direction of a column, for the Pareto front of the plotted pair
DIRECTIONS: dict[str, str] = {
    "latency_s": "min", "energy_j": "min", "energy_per_op_j": "min", "area_mm2": "min",
    "throughput_ops_per_s_per_mm2": "max", "utilization": "max", "accuracy": "max",
}
#: columns that split the rows into separate fronts (those present), as accelsim.pareto does
FRONT_KEYS = ("workload", "exec_path", "scope")
#: columns kept per point even when every row has the same value (the views read them)
ALWAYS_SHOWN = frozenset(REQUIRED + FRONT_KEYS + ("accuracy", "accuracy_metric"))
#: columns of the sweep's bookkeeping, not offered on the axes
SETTING_COLUMNS = ("objective", "tolerance", "max_candidates", "error")


def arch_param_names() -> list[str]:
    """The ArchConfig parameters (sweep columns), in file order."""
    from ..arch.config import ArchConfig

    return [f for f in ArchConfig.model_fields if f not in ("name", "description")]


def check_columns(df: pd.DataFrame, source: "str | Path") -> None:
    """One error line naming ``source`` and every :data:`REQUIRED` column it lacks."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        from ..safeio import clip

        raise ConfigError(f"{source}: not a sweep result table: missing column(s) {', '.join(missing)} "
                          f"(needs {', '.join(REQUIRED)}; found {clip(', '.join(map(str, df.columns)), 200)})")
    bad = [c for c in REQUIRED[2:] if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise ConfigError(f"{source}: column(s) {', '.join(bad)} must be numbers")


#: columns the per-layer rows need for the click breakdown
LAYER_REQUIRED = ("arch", "workload", "name", "op", "latency_s", "energy_j")


def check_layer_columns(layers: pd.DataFrame, source: "str | Path" = "per-layer rows") -> None:
    """One error line naming ``source`` and the :data:`LAYER_REQUIRED` columns it lacks."""
    missing = [c for c in LAYER_REQUIRED if c not in layers.columns]
    if missing:
        raise ConfigError(f"{source}: not a sweep's per-layer file (accelsim sweep --layers): missing "
                          f"column(s) {', '.join(missing)}")


def _round(values: Any, digits: int = DIGITS) -> list:
    """Finite floats rounded to ``digits`` significant digits (integers stay integers),
    NaN and infinities as ``None`` (JSON null)."""
    out: list = []
    for x in np.asarray(values, dtype=float).tolist():
        if not math.isfinite(x):
            out.append(None)
            continue
        r = float(f"{x:.{digits}g}")
        out.append(int(r) if r.is_integer() and abs(r) < 2 ** 53 else r)
    return out


def _column(series: pd.Series) -> dict[str, Any]:
    """One column of the page: numbers (shown unit, rounded) or categories (codes + labels)."""
    name = str(series.name)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        label, factor = UNITS.get(name, (name, 1.0))
        return {"kind": "num", "label": label, "values": _round(series.to_numpy(float) * factor)}
    text = series.fillna("").astype(str)
    labels = list(dict.fromkeys(text))
    if len(labels) > max(50, len(text) // 4):  # names (arch): plain strings
        return {"kind": "text", "label": name, "values": text.tolist()}
    codes = {v: i for i, v in enumerate(labels)}
    return {"kind": "cat", "label": name, "labels": labels, "codes": [codes[v] for v in text]}


def front_mask(df: pd.DataFrame) -> np.ndarray:
    """Rows on the default Pareto front (min energy per op, max TOPS/mm2) per workload,
    execution path and scope, as :func:`accelsim.pareto` forms it (error rows never)."""
    from ..sweep.pareto import error_rows, pareto_mask

    x = df[DEFAULT_Y].to_numpy(float, copy=True)
    y = -df[DEFAULT_X].to_numpy(float)
    x[error_rows(df).to_numpy()] = np.nan
    keys = [k for k in FRONT_KEYS if k in df.columns]
    out = np.zeros(len(df), dtype=bool)
    groups = df.groupby(keys, sort=False, dropna=False).indices.values() if keys else [np.arange(len(df))]
    for idx in groups:
        out[idx] = pareto_mask(np.column_stack([x[idx], y[idx]]), [False, False])  # sort-based, O(n log n)
    return out


def _layer_key_cols(res: pd.DataFrame, layers: pd.DataFrame) -> list[str]:
    return [c for c in ("arch", "workload", "exec_path", "scope") if c in res.columns and c in layers.columns]


def layer_summaries(res: pd.DataFrame, layers: pd.DataFrame, rows: Iterable[int],
                    top: int = TOP_N) -> dict[str, Any]:
    """Per-layer summaries of result rows ``rows`` (positions in ``res``) from per-layer rows
    (a sweep's ``--layers`` file or :func:`recompute_layers`): the ``top`` layers by time
    (us) and by energy (uJ), energy by component (uJ), and per-part shares.

    Returns ``{"names": [...], "ops": [...], "points": {row: summary}}``; layer names and
    op kinds are stored once and referred to by index.
    """
    check_layer_columns(layers)
    keys = _layer_key_cols(res, layers)
    rows = list(rows)
    wanted = res.iloc[rows]
    if "exec_path" in layers.columns:
        layers = layers.assign(exec_path=layers["exec_path"].fillna("").astype(str))
    want = wanted[keys].astype(str).drop_duplicates()
    sel = layers.merge(want, on=keys, how="inner") if len(want) < len(res) else layers
    sel = sel.assign(**{k: sel[k].astype(str) for k in keys}).reset_index(drop=True)
    name_id, names = pd.factorize(sel["name"].fillna("").astype(str))
    op_id, ops = pd.factorize(sel["op"].fillna("").astype(str))
    from .common import part_column, unique_names

    parts = part_column(sel)
    part_id, part_names = pd.factorize(parts) if parts is not None else (None, [])
    comps = [c for c in sel.columns if c.startswith("energy_") and c.endswith("_j") and c != "energy_j"]
    arrays = {"time": sel["latency_s"].to_numpy(float) * 1e6, "energy": sel["energy_j"].to_numpy(float) * 1e6,
              "comps": sel[comps].to_numpy(float) * 1e6, "name": name_id, "op": op_id, "part": part_id}
    groups = {k if isinstance(k, tuple) else (k,): idx for k, idx in sel.groupby(keys, sort=False).indices.items()}
    points: dict[str, Any] = {}
    for pos, key in zip(rows, wanted[keys].astype(str).itertuples(index=False, name=None)):
        idx = groups.get(tuple(key))
        if idx is not None and len(idx):
            points[str(pos)] = _summary(np.sort(idx), arrays, comps, list(part_names), top)
    return {"names": list(names), "short": unique_names(list(names)), "ops": list(ops), "points": points}


def _summary(idx: np.ndarray, a: dict[str, Any], comps: list[str], part_names: list[str],
             top: int) -> dict[str, Any]:
    """One point's summary from its layer rows ``idx`` (execution order) of the arrays ``a``."""
    out: dict[str, Any] = {"n": len(idx)}
    for key in ("time", "energy"):
        vals = a[key][idx]
        order = np.argsort(-vals, kind="stable")[:top]  # ties in execution order
        out[key] = {"total": _round([np.nansum(vals)])[0],
                    "top": [[int(a["name"][idx[i]]), int(a["op"][idx[i]]), v]
                            for i, v in zip(order.tolist(), _round(vals[order]))]}
    out["components"] = {c[len("energy_"):-len("_j")]: v
                         for c, v in zip(comps, _round(np.nansum(a["comps"][idx], axis=0)))}
    if a["part"] is not None:
        codes = a["part"][idx]
        seen = list(dict.fromkeys(codes.tolist()))  # parts in order of appearance
        t = np.bincount(codes, weights=a["time"][idx], minlength=len(part_names))
        e = np.bincount(codes, weights=a["energy"][idx], minlength=len(part_names))
        tt, et = float(t.sum()) or 1.0, float(e.sum()) or 1.0
        out["parts"] = [[part_names[p], _round([t[p] / tt])[0], _round([e[p] / et])[0]] for p in seen]
    return out


def parse_workload_label(label: str) -> tuple[str, tuple[int, int] | None, int | None]:
    """A sweep's workload label ``name[@HxW][/Ncls]`` -> (name, input size, classes)."""
    from ..workload.registry import parse_size

    name, size, classes = label, None, None
    if "/" in name and name.rsplit("/", 1)[1].endswith("cls") and name.rsplit("/", 1)[1][:-3].isdigit():
        name, cls = name.rsplit("/", 1)
        classes = int(cls[:-3])
    if "@" in name:
        name, text = name.rsplit("@", 1)
        size = parse_size(text)
    return name, size, classes


def recompute_layers(res: pd.DataFrame, rows: Iterable[int],
                     progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Per-layer rows of result rows ``rows`` (positions in ``res``), simulated again from
    the row's arch parameters, workload label, execution path and mapping settings.

    A row whose workload cannot be loaded from its label (a workload YAML that moved) or
    whose arch parameters are not a valid config raises one :class:`ConfigError` line:
    give the sweep's ``--layers`` file instead.
    """
    import accelsim

    from ..arch.config import ArchConfig

    params = [p for p in arch_param_names() if p in res.columns]
    memo: dict = {}
    loaded: dict = {}
    frames = []
    rows = list(rows)
    for i, pos in enumerate(rows):
        row = res.iloc[pos]
        values = {p: (None if isinstance(row[p], float) and math.isnan(row[p]) else _plain(row[p]))
                  for p in params}
        label, path = str(row["workload"]), str(row.get("exec_path", "") or "")
        try:
            arch = ArchConfig(name=str(row["arch"]), **values)
            if (label, path) not in loaded:
                name, size, classes = parse_workload_label(label)
                loaded[(label, path)] = accelsim.load_workload(name, input_size=size, num_classes=classes,
                                                               exec_path=path)
            settings = {k: _plain(row[k]) for k in ("scope", "objective", "tolerance") if k in res.columns}
            cap = row.get("max_candidates")
            if cap is not None and not (isinstance(cap, float) and math.isnan(cap)):
                settings["max_candidates"] = int(cap)
            sim = accelsim.simulate(loaded[(label, path)], arch, memo=memo, **settings)
        except (AccelsimError, ValueError) as exc:
            from ..safeio import one_line

            raise ConfigError(f"cannot recompute the per-layer rows of {row['arch']} on {label}: "
                              f"{one_line(str(exc), 200)}; give the sweep's --layers file") from None
        keys = {k: row[k] for k in ("arch", "workload", "exec_path", "scope") if k in res.columns}
        frames.append(sim.layers.assign(**keys))
        if progress is not None:
            progress(i + 1, len(rows))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _constant(s: pd.Series) -> Any:
    """The one value of a constant column, in the page's unit (NaN -> None)."""
    v = s.iloc[0]
    if pd.isna(v):
        return None
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return _round([float(v) * UNITS.get(str(s.name), ("", 1.0))[1]])[0]
    return _plain(v)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def payload(df: pd.DataFrame, layers: "pd.DataFrame | None" = None, *, layer_points: str = "auto",
            recompute: bool = False, title: str | None = None, source: str = "",
            log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """The page's data: columns, defaults, filters and per-layer summaries (see module doc).

    ``layer_points``: ``"auto"`` (every point up to :data:`MAX_LAYER_POINTS`, else the
    front), ``"front"`` or ``"all"``. ``recompute``: without ``layers``, simulate the
    front points again for their breakdowns.
    """
    from ..sweep.pareto import error_rows

    check_columns(df, source or "results")
    if layer_points not in ("auto", "front", "all"):
        raise ConfigError(f"layer points {layer_points!r}: choose auto, front or all")
    bad = error_rows(df).to_numpy()
    res = df[~bad].reset_index(drop=True)
    drawable = np.isfinite(res[[DEFAULT_X, DEFAULT_Y]].to_numpy(float)).all(axis=1)
    if not drawable.any():
        raise ConfigError(f"{source or 'results'}: no point to show: no row has values for {DEFAULT_X} and "
                          f"{DEFAULT_Y} ({int(bad.sum())} unmappable, {len(res)} with missing costs)")
    if "exec_path" in res.columns:
        res["exec_path"] = res["exec_path"].fillna("").astype(str)
    on_front = front_mask(res)
    every = layer_points == "all" or (layer_points == "auto" and len(res) <= MAX_LAYER_POINTS)
    chosen = list(range(len(res))) if every and layers is not None else np.flatnonzero(on_front).tolist()
    layer_data: dict[str, Any] = {"names": [], "short": [], "ops": [], "points": {}}
    layer_scope = "all" if every and layers is not None else "front"
    if layers is None and recompute:
        log(f"recomputing the per-layer rows of {len(chosen)} front point(s)")
        layers = recompute_layers(res, chosen)
    if layers is not None and len(layers):
        layer_data = layer_summaries(res, layers, chosen)
    params = [p for p in arch_param_names() if p in res.columns]
    skip = set(SETTING_COLUMNS)
    columns, const = {}, {}
    for col in res.columns:
        if col in skip:
            continue
        s = res[col]
        if s.nunique(dropna=False) <= 1 and col not in ALWAYS_SHOWN:
            const[col] = _constant(s)
            continue
        columns[col] = _column(s)
    varying = [p for p in params if p in columns]
    numeric = [c for c, v in columns.items() if v["kind"] == "num"]
    settings = {c: _plain(res[c].iloc[0]) for c in ("objective", "tolerance") if c in res.columns}
    n_paths = res["exec_path"].nunique() if "exec_path" in res.columns else 1
    return {
        "title": title or f"{Path(source).name if source else 'sweep'}: {len(res):,} points",
        "n": len(res),
        "unmappable": int(bad.sum()),
        "columns": columns,
        "const": const,
        "labels": {c: UNITS[c][0] for c in const if c in UNITS},
        "params": varying,
        "numeric": numeric,
        "filters": [c for c in FRONT_KEYS if c in columns],
        "front_keys": [c for c in FRONT_KEYS if c in columns],
        "defaults": {"x": DEFAULT_X, "y": DEFAULT_Y, "logx": False, "logy": False,
                     "color": default_color(columns, varying)},
        "directions": {c: d for c, d in DIRECTIONS.items() if c in columns},
        "front": np.flatnonzero(on_front).tolist(),
        "accuracy": bool("accuracy" in columns and n_paths > 1),
        "layers": layer_data,
        "layer_scope": layer_scope,
        "top": TOP_N,
        "max_legend": MAX_LEGEND,
        "op_colors": OP_COLORS,
        "settings": settings,
    }


def default_color(columns: dict[str, Any], varying: list[str]) -> str:
    """Colour by workload when there are several, else by arch name when there are at most
    :data:`MAX_LEGEND` (a legend entry each), else by the first varying parameter."""
    for col in ("workload", "exec_path", "arch"):
        c = columns.get(col, {})
        if c.get("kind") == "cat" and 1 < len(c["labels"]) <= MAX_LEGEND:
            return col
    return varying[0] if varying else "workload"


def explorer_html(df: pd.DataFrame, layers: "pd.DataFrame | None" = None, **kw: Any) -> str:
    """The explorer page of sweep rows ``df`` as one self-contained HTML document (see
    :func:`payload` for the options)."""
    try:
        import plotly.offline as po
    except ImportError:
        raise ConfigError("the HTML explorer needs plotly (pip install 'accelsim[html]')") from None
    data = payload(df, layers, **kw)
    blob = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    plotly_js = po.get_plotlyjs()
    page = (Path(__file__).parent / "explorer_page.html").read_text(encoding="utf-8")
    from html import escape

    return (page.replace("{{TITLE}}", escape(data["title"]))
            .replace("{{PLOTLY_JS}}", plotly_js.replace("</script", "<\\/script"))
            .replace("{{DATA}}", blob)
            .replace("{{SCRIPT}}", (Path(__file__).parent / "explorer.js").read_text(encoding="utf-8")))


def write_explorer(df: pd.DataFrame, path: "str | Path", layers: "pd.DataFrame | None" = None,
                   **kw: Any) -> Path:
    """Write :func:`explorer_html` to ``path``; returns the path."""
    from ..safeio import writing

    text = explorer_html(df, layers, **kw)
    p = Path(path)
    with writing(p):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return p


def show(df: pd.DataFrame, layers: "pd.DataFrame | None" = None, height: int = 1500, **kw: Any) -> Any:
    """The explorer page inline in a Jupyter notebook (an ``IPython.display.HTML`` holding the
    self-contained page in an iframe, so its controls and click panel work as in a browser)."""
    import warnings
    from html import escape

    from IPython.display import HTML

    page = explorer_html(df, layers, **kw)
    with warnings.catch_warnings():  # IPython suggests IFrame, which needs a URL; the page has none
        warnings.simplefilter("ignore", UserWarning)
        return HTML(f'<iframe srcdoc="{escape(page, quote=True)}" style="width:100%;height:{int(height)}px;'
                    'border:1px solid #ddd"></iframe>')
