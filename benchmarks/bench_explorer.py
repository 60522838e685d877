"""Explorer page benchmark: file size and headless-Chromium load time of `accelsim plot html`
pages at 2,000 and 20,000 points; appends a section to ``reports/benchmarks.md``.

The tables are synthetic sweep rows (arch parameters on a grid, costs drawn at random,
SegFormer-B2's 275 layer names for the per-layer rows), so the sizes do not depend on a
sweep that takes an hour here; ``--results FILE [--layers FILE]`` adds a real sweep.
Per-layer breakdowns are kept as the command keeps them by default: every point up to
2,000 points, the Pareto front's points above. Load time = navigation start until every
plot is drawn (``window.explorerReady``), median of ``--repeat`` loads in a fresh page;
redraw = one call of the page's update (filters applied, traces rebuilt, plots drawn).

    python benchmarks/bench_explorer.py [--points 13 2000 20000] [--results grid.csv --layers layers.csv]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import append_report, machine_line, median, parser, stamp  # noqa: E402


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` sweep rows around arch E on SegFormer-B2 (costs at random, plausible ranges)."""
    import accelsim

    rng = np.random.default_rng(seed)
    e = accelsim.load_arch("E").params()
    df = pd.DataFrame({"arch": [f"E[p{i}]" for i in range(n)], **{k: [v] * n for k, v in e.items()}})
    for col, values in (("num_pe", [4, 8, 16, 32, 64]), ("k0", [8, 16, 32, 64]), ("c0", [8, 16, 32, 64]),
                        ("weight_buffer_kb", [32, 64, 128, 256, 512]), ("input_buffer_kb", [16, 32, 64, 128, 256]),
                        ("accum_depth", [8, 16, 32, 64])):
        df[col] = rng.choice(values, n)
    df["pe_array_area_mm2"] = np.nan
    macs = accelsim.load_workload("segformer-b2").macs
    df = df.assign(workload="segformer-b2", exec_path="", scope="accelerator", macs=macs,
                   latency_s=rng.lognormal(np.log(4e-3), 0.6, n), energy_j=rng.lognormal(np.log(1e-2), 0.3, n),
                   area_mm2=rng.lognormal(np.log(3.0), 0.7, n), utilization=rng.uniform(0.2, 0.98, n),
                   accuracy=0.4651, accuracy_metric="miou", objective="latency", tolerance=0.01,
                   max_candidates=np.nan, error="")
    df["energy_per_op_j"] = df["energy_j"] / (2 * macs)
    df["throughput_ops_per_s_per_mm2"] = 2 * macs / df["latency_s"] / df["area_mm2"]
    return df


def layers_for(df: pd.DataFrame, rows: list[int], seed: int = 1) -> pd.DataFrame:
    """Synthetic per-layer rows (SegFormer-B2's layer names and ops) of result rows ``rows``."""
    import accelsim

    wl = accelsim.load_workload("segformer-b2").to_frame()
    rng = np.random.default_rng(seed)
    n = len(wl)
    frames = []
    comps = ["mac", "accumulation", "weight_buffer", "input_buffer", "control", "ppu", "leakage"]
    for pos in rows:
        r = df.iloc[pos]
        t, e = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        part = {"arch": r["arch"], "workload": r["workload"], "exec_path": r["exec_path"], "name": wl["name"],
                "op": wl["op"], "macs": wl["macs"], "latency_s": t * r["latency_s"], "energy_j": e * r["energy_j"],
                "tag_part": wl.get("tag_part", "")}
        share = rng.dirichlet(np.ones(len(comps)))
        part.update({f"energy_{c}_j": e * r["energy_j"] * s for c, s in zip(comps, share)})
        frames.append(pd.DataFrame(part))
    return pd.concat(frames, ignore_index=True)


def measure(page_path: Path, repeat: int) -> tuple[float, float, int]:
    """(median load seconds, median redraw ms, points drawn) in headless Chromium."""
    from accelsim.plots.browser import load, open_page

    loads, redraws, drawn = [], [], 0
    for _ in range(repeat):
        with open_page() as page:
            loads.append(load(page, page_path, timeout_s=600))
            if page.errors:
                raise SystemExit(f"{page_path}: console errors: {page.errors[:3]}")
            redraws.append(page.evaluate("async () => { const t = performance.now(); await window.explorer.update();"
                                         " return performance.now() - t; }"))
            drawn = page.evaluate("document.getElementById('scatter').data.filter(d => d.meta === 'points')"
                                  ".reduce((n, d) => n + d.x.length, 0)")
    return median(loads), median(redraws), int(drawn)


def row(label: str, df: pd.DataFrame, layers: pd.DataFrame | None, out: Path, repeat: int) -> str:
    from accelsim.plots.explorer import payload, write_explorer

    t0 = time.perf_counter()
    write_explorer(df, out, layers, source=label)
    build = time.perf_counter() - t0
    data = payload(df, layers, source=label)
    load_s, redraw_ms, drawn = measure(out, repeat)
    mb = out.stat().st_size / 1e6
    return (f"| {label} | {data['n']:,} | {drawn:,} | {len(data['layers']['points']):,} ({data['layer_scope']}) | "
            f"{mb:.1f} | {build:.1f} | {load_s:.2f} | {redraw_ms:.0f} |")


def main() -> None:
    ap = parser(__doc__, repeat=3)
    ap.add_argument("--points", type=int, nargs="+", default=[13, 2000, 20000],
                    help="synthetic table sizes (13: the page with almost no data, i.e. Plotly's own load time)")
    ap.add_argument("--results", default=None, help="a real sweep's result file to measure too")
    ap.add_argument("--layers", default=None, help="its --layers file")
    args = ap.parse_args()
    import plotly

    from accelsim import read_results
    from accelsim.plots.browser import browser_missing
    from accelsim.plots.explorer import MAX_LAYER_POINTS, front_mask

    why = browser_missing()
    if why:
        raise SystemExit(f"bench_explorer {why}")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.points:
            df = synthetic(n)
            keep = list(range(n)) if n <= MAX_LAYER_POINTS else np.flatnonzero(front_mask(df)).tolist()
            lines.append(row(f"synthetic, {n:,} rows", df, layers_for(df, keep), Path(tmp) / f"s{n}.html",
                             args.repeat))
        if args.results:
            df = read_results(args.results)
            layers = read_results(args.layers) if args.layers else None
            lines.append(row(f"`{Path(args.results).name}`", df, layers, Path(tmp) / "real.html", args.repeat))
    text = (f"\n## Explorer page (`benchmarks/bench_explorer.py`, {stamp()})\n\n{machine_line()} "
            f"Plotly {plotly.__version__}; headless Chromium (software WebGL, `--disable-gpu`). "
            f"Load = navigation start until every plot is drawn, redraw = re-applying the filters and "
            f"drawing again; median of {args.repeat} loads, each in a fresh browser. Target: at most 30 MB "
            "at 20,000 points with per-layer data for the front.\n\n"
            "| table | points | drawn | per-layer breakdowns | size (MB) | build (s) | load (s) | redraw (ms) |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n")
    append_report(text, args.out)


if __name__ == "__main__":
    main()
