"""The report's sensitivity section: how robust its conclusions are to the tech constants.

:func:`sensitivity_section` runs the tornado of SegFormer-B2 on arch E and the Latin-hypercube
Pareto membership of the 13 study configurations on the study's three workloads
(:mod:`accelsim.sweep.sensitivity`), writes the figures and the two tables' rows, and returns
the section's markdown. ``accelsim report`` appends it to ``report.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..cost.settings import SCOPE_TEXT

#: samples of the study's membership table (the issue's N)
REPORT_SAMPLES = 256
REPORT_SEED = 0
TORNADO_WORKLOAD, TORNADO_ARCH = "segformer-b2", "E"
TORNADO_FILE = "sweeps/sensitivity_tornado.csv"
MEMBERSHIP_FILE = "sweeps/sensitivity_membership.csv"


def tornado_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The report's tornado table: each constant's range and swings in percent of nominal."""
    return pd.DataFrame({
        "constant": df["constant"].str.replace("energy.", "", regex=False),
        "range": [f"{lo:.3g}-{hi:.3g} (nominal {v:.3g})" for lo, hi, v in zip(df["low"], df["high"], df["value"])],
        "latency swing %": (df["latency_s_swing"] * 100).round(2),
        "energy swing %": (df["energy_j_swing"] * 100).round(2),
        "energy/op at low, high (fJ)": [f"{a * 1e15:.2f}, {b * 1e15:.2f}"
                                        for a, b in zip(df["energy_per_op_j_at_low"], df["energy_per_op_j_at_high"])],
    })


def membership_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Configurations x workloads: percent of samples on the front, ``*`` on the nominal front,
    then the energy per op's 5-95 % band on each workload."""
    out = pd.DataFrame({"config": list(dict.fromkeys(table["arch"]))})
    for w, g in table.groupby("workload", sort=False):
        g = g.set_index("arch").loc[out["config"]]
        out[f"{w}: on front %"] = [f"{f * 100:.0f}{' *' if n else ''}"
                                   for f, n in zip(g["front_frequency"], g["on_front_nominal"])]
        out[f"{w}: fJ/op p05-p95"] = [f"{a * 1e15:.1f}-{b * 1e15:.1f}"
                                      for a, b in zip(g["energy_per_op_j_p05"], g["energy_per_op_j_p95"])]
    return out


def sensitivity_section(out: "str | Path", scope: str = "accelerator", workloads: "dict[str, Any] | None" = None,
                        samples: int = REPORT_SAMPLES, seed: int = REPORT_SEED) -> str:
    """Run the study's sensitivity analyses in ``scope``, write their figures
    (``out/figures/sensitivity_*.png`` and ``.svg``) and rows (:data:`TORNADO_FILE`,
    :data:`MEMBERSHIP_FILE`), and return the report section (markdown)."""
    import accelsim
    from ..plots.sensitivity import plot_membership, plot_tornado
    from ..sweep.sensitivity import Settings, pareto_membership, tornado
    from ..tableio import write_table
    from .build import CSV_FLOAT_FORMAT, STUDY_ARCHS, STUDY_WORKLOADS, markdown_table

    out = Path(out)
    wls = workloads or {w: accelsim.load_workload(w) for w in STUDY_WORKLOADS}
    from ..sweep.spec import expand_arch_names

    archs = [accelsim.load_arch(a) for a in expand_arch_names(STUDY_ARCHS)]
    settings = Settings(scope=scope)
    memo: dict = {}
    torn = tornado(wls[TORNADO_WORKLOAD], accelsim.load_arch(TORNADO_ARCH), settings, memo=memo)
    mem = pareto_membership(wls, archs, samples, seed, settings, memo=memo)
    write_table(torn, out / TORNADO_FILE, float_format=CSV_FLOAT_FORMAT)
    write_table(mem.table, out / MEMBERSHIP_FILE, float_format=CSV_FLOAT_FORMAT)
    fig_t = f"sensitivity_tornado_{TORNADO_WORKLOAD}_{TORNADO_ARCH}"
    plot_tornado(torn, path=out / "figures" / fig_t)
    plot_membership(mem.table, path=out / "figures" / "sensitivity_membership")
    changes = mem.table.groupby("workload", sort=False)["front_change_frequency"].first()
    fronts = {w: ", ".join(g.loc[g["on_front_nominal"], "arch"]) for w, g in mem.table.groupby("workload", sort=False)}
    top = torn.iloc[0]
    lines = [
        "## Sensitivity to the technology constants", "",
        f"In the {scope} scope ({SCOPE_TEXT[scope]}). Every constant of `arch_configs/tech/5nm.yaml` with a "
        "sourced `range` is varied (the ranges and their sources are in the file; "
        "[docs/sweeps.md](../docs/sweeps.md#sensitivity) explains the method). Mappings are the ones the "
        "search chose with the nominal constants, re-costed with each variant. Regenerate with "
        f"`accelsim sensitivity -w {TORNADO_WORKLOAD} -a {TORNADO_ARCH} --scope {scope}` and "
        f"`accelsim sensitivity -w {' -w '.join(wls)} -a {STUDY_ARCHS} --samples {samples} --seed {seed} "
        f"--scope {scope}`; rows in [`{TORNADO_FILE}`]({TORNADO_FILE}) and [`{MEMBERSHIP_FILE}`]({MEMBERSHIP_FILE}).",
        "",
        f"### Tornado: {TORNADO_WORKLOAD} on {TORNADO_ARCH}", "",
        f"One constant at a time from its low to its high end, the others nominal. The largest energy-per-op "
        f"swing comes from `{top['constant']}` ({top['energy_per_op_j_swing'] * 100:.1f} %).", "",
        markdown_table(tornado_rows(torn)), "",
        f"![tornado of {TORNADO_WORKLOAD} on {TORNADO_ARCH}](figures/{fig_t}.png)", "",
        f"### Pareto membership of {STUDY_ARCHS}", "",
        f"{samples} Latin-hypercube samples (seed {seed}) of all {mem.samples.shape[1] - 1} ranged constants "
        "together. Per workload, the percent of samples in which a configuration is on the front (min energy "
        "per op, max throughput per mm2); `*` marks the nominal front. The front differs from the nominal one in "
        + "; ".join(f"{changes[w] * 100:.0f} % of the samples for {w} (nominal front: {fronts[w]})"
                    for w in changes.index) + ".", "",
        markdown_table(membership_rows(mem.table)), "",
        "![Pareto membership over the sampled technologies](figures/sensitivity_membership.png)", "",
    ]
    return "\n".join(lines)
