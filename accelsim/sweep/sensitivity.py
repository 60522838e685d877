"""How robust a conclusion is to the technology file's uncertain constants (``accelsim sensitivity``).

Every constant of a tech file that carries ``range: [low, high]`` and ``range_source``
(:meth:`accelsim.arch.TechConfig.uncertain`) is varied; nothing here names a constant, so
constants added to the file later are studied too.

- :func:`tornado`: one design, one constant at a time from its low to its high end (the
  others nominal); latency, energy and energy per op at each end.
- :func:`pareto_membership`: several configurations and workloads, all constants sampled
  together by a seeded Latin hypercube (:func:`lhs_samples`); for each configuration, how
  often it is on the Pareto front (min energy per op, max throughput per mm2, per workload,
  :func:`accelsim.sweep.pareto.pareto`) and how often its membership differs from the
  nominal front's.

Mappings (docs/sweeps.md, Sensitivity): by default every layer keeps the mapping the search
chose with the nominal constants and is re-costed with the sampled ones
(:func:`recost`: the search runs once per configuration and workload). ``remap=True``
searches afresh under every variant; its memo keys hold a digest of the variant's values
(:func:`accelsim.cost.model.arch_fingerprint`), so a disk cache reused with the same seed
hits. Energies in J, latency in s, throughput in ops/s/mm2 (op = one FLOP = half a MAC).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..arch.config import ArchConfig, TechConfig, Uncertain, load_tech
from ..cost.settings import DEFAULT_SCOPE, DEFAULT_TOLERANCE, check_objective, check_scope, check_tolerance
from ..errors import AccelsimError, ConfigError
from ..workload.ir import Workload

#: the metrics a tornado reports, each a :meth:`SimResult.summary` column
METRICS = ("latency_s", "energy_j", "energy_per_op_j")
#: largest sample count (each sample costs every configuration and workload)
MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class Settings:
    """How every point is costed: scope, mapping objective, tolerance, candidate cap, and
    whether each variant is searched afresh (``remap``) or re-costs the nominal mappings."""

    scope: str = DEFAULT_SCOPE
    objective: str = "latency"
    tolerance: float = DEFAULT_TOLERANCE
    max_candidates: int | None = None
    remap: bool = False

    def __post_init__(self) -> None:
        check_scope(self.scope)
        check_objective(self.objective)
        check_tolerance(self.tolerance)

    def sim_kwargs(self) -> dict[str, Any]:
        return {"scope": self.scope, "objective": self.objective, "tolerance": self.tolerance,
                "max_candidates": self.max_candidates}


def constants_of(tech: TechConfig) -> list[Uncertain]:
    """The uncertain constants of ``tech``; a :class:`ConfigError` when it declares none."""
    found = tech.uncertain()
    if not found:
        raise ConfigError(f"tech {tech.name}: no constant has a range; give uncertain constants "
                          "range: [low, high] and range_source beside their value")
    return found


def shared_constants(archs: Sequence[ArchConfig]) -> list[Uncertain]:
    """The uncertain constants of the tech file(s) ``archs`` name: all must declare the same
    names and ranges (one technology is sampled), else a :class:`ConfigError`."""
    first = None
    for a in archs:
        cons = constants_of(load_tech(a))
        sig = [(c.name, c.low, c.high) for c in cons]
        if first is None:
            first, base, ref = sig, cons, a
        elif sig != first:
            raise ConfigError(f"arch {a.name}: its tech file {a.tech!r} declares other uncertain constants or "
                              f"ranges than {ref.name}'s {ref.tech!r}; sample configurations of one technology")
    if first is None:
        raise ConfigError("no configuration to study")
    return base


def lhs_samples(constants: Sequence[Uncertain], n: int, seed: int) -> pd.DataFrame:
    """``n`` Latin-hypercube samples (``scipy.stats.qmc.LatinHypercube``, seeded) of the
    constants, each uniform over its [low, high]; one column per constant, one row per sample.
    The same ``seed`` gives the same samples."""
    from scipy.stats import qmc

    if not 1 <= n <= MAX_SAMPLES:
        raise ConfigError(f"samples={n}: give 1 to {MAX_SAMPLES:,}")
    d = len(constants)
    kw = {"rng": seed} if "rng" in inspect.signature(qmc.LatinHypercube).parameters else {"seed": seed}
    u = qmc.LatinHypercube(d=d, **kw).random(n)
    low = np.array([c.low for c in constants])
    high = np.array([c.high for c in constants])
    vals = np.clip(low + u * (high - low), low, high)  # qmc.scale refuses low == high
    return pd.DataFrame(vals, columns=[c.name for c in constants])


# ------------------------------------------------------------------ costing one point
def recost(workload: Workload, arch: ArchConfig, nominal: Any, tech: TechConfig,
           settings: Settings = Settings()) -> Any:
    """``workload`` on ``arch`` costed with ``tech``, every MAC layer under the mapping the
    ``nominal`` :class:`~accelsim.cost.SimResult` chose (no search). The layer costs go into a
    memo keyed as :func:`~accelsim.simulate` keys them, so simulate assembles the network
    (PPU fusion, totals) exactly as it does for a search."""
    from ..cost.model import Packed, dram_flags, evaluate_mapping, memo_key, simulate

    kw = settings.sim_kwargs()
    packed = Packed.of(arch, settings.scope, tech)
    sources, sinks = dram_flags(workload)
    memo: dict = {}
    tol = check_tolerance(settings.tolerance)
    for layer, cost in zip(workload.layers, nominal.layer_costs):
        if not layer.is_mac:
            continue
        flags = {"input_from_dram": layer.name in sources, "output_to_dram": layer.name in sinks}
        key = memo_key(layer, packed, settings.objective, tol, settings.max_candidates, **flags)
        if key not in memo:
            memo[key] = evaluate_mapping(layer, arch, cost.mapping, check=False, packed=packed, **flags)
    return simulate(workload, arch, memo=memo, tech=tech, **kw)


class Point:
    """One (workload, configuration): its nominal result (searched once, with ``memo``) and
    its cost under a tech variant (re-costed, or searched afresh with ``remap``)."""

    def __init__(self, workload: Workload, arch: ArchConfig, settings: Settings,
                 memo: MutableMapping | None = None) -> None:
        from ..cost.model import simulate

        self.workload, self.arch, self.settings = workload, arch, settings
        self.tech = load_tech(arch)
        self.nominal = simulate(workload, arch, memo=memo, **settings.sim_kwargs())

    def cost(self, values: Mapping[str, float], memo: MutableMapping | None = None) -> Any:
        """The :class:`~accelsim.cost.SimResult` with the constants ``values`` (by name)."""
        from ..cost.model import simulate

        tech = self.tech.with_values(values)
        if self.settings.remap:
            return simulate(self.workload, self.arch, memo=memo, tech=tech, **self.settings.sim_kwargs())
        return recost(self.workload, self.arch, self.nominal, tech, self.settings)


def _summary(res: Any) -> dict[str, float]:
    s = res.summary()
    return {k: s[k] for k in ("latency_s", "energy_j", "energy_per_op_j", "area_mm2",
                              "throughput_ops_per_s_per_mm2")}


# ------------------------------------------------------------------ one design: tornado
def tornado(workload: Workload, arch: ArchConfig, settings: Settings = Settings(), *,
            memo: MutableMapping | None = None, progress: bool = False) -> pd.DataFrame:
    """One row per uncertain constant: its range and source, each metric of :data:`METRICS`
    nominal and with the constant at its low and at its high end (others nominal), and the
    swing ``(max - min) / nominal`` over the three. Rows sorted by energy-per-op swing,
    largest first (the tornado's order)."""
    from ..progress import progress as bar

    point = Point(workload, arch, settings, memo)
    nominal = _summary(point.nominal)
    rows = []
    for c in bar(constants_of(point.tech), desc="tornado", unit="constant", enabled=progress):
        ends = {end: _summary(point.cost({c.name: v}, memo)) for end, v in (("low", c.low), ("high", c.high))}
        row: dict[str, Any] = {"workload": workload.name, "arch": arch.name, "scope": settings.scope,
                               "remap": settings.remap,
                               "constant": c.name, "unit": c.unit, "value": c.value, "low": c.low, "high": c.high}
        for m in METRICS:
            vals = (nominal[m], ends["low"][m], ends["high"][m])
            row.update({f"{m}_nominal": vals[0], f"{m}_at_low": vals[1], f"{m}_at_high": vals[2],
                        f"{m}_swing": (max(vals) - min(vals)) / vals[0] if vals[0] else math.nan})
        row["range_source"] = c.range_source
        rows.append(row)
    df = pd.DataFrame(rows)
    order = np.argsort(-df["energy_per_op_j_swing"].to_numpy(), kind="stable")
    return df.iloc[order].reset_index(drop=True)


# ------------------------------------------------------------------ many designs: Pareto membership
def sample_costs(workloads: Mapping[str, Workload], archs: Sequence[ArchConfig], samples: int, seed: int,
                 settings: Settings = Settings(), *, memo: MutableMapping | None = None,
                 cache: Any = None, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per sample x workload x configuration, the sampled constants).

    Sample ``-1`` is the nominal technology. A point the model cannot map keeps its
    ``error`` and NaN costs (never on a front). ``cache``: a folder for the remap search's
    per-layer costs (:class:`~accelsim.sweep.cache.DiskMemo`), reused by a rerun with the same seed.
    """
    from ..progress import progress as bar
    from .cache import DiskMemo, model_tag

    constants = shared_constants(archs)
    values = lhs_samples(constants, samples, seed)
    memo = {} if memo is None else memo
    points: dict[tuple[str, str], Point | str] = {}
    for w, wl in workloads.items():
        for a in archs:
            try:
                points[(w, a.name)] = Point(wl, a, settings, memo)
            except AccelsimError as exc:
                points[(w, a.name)] = str(exc)
    rows = []

    def add(sample: int, w: str, a: ArchConfig, res: Any, err: str = "") -> None:
        summ = _summary(res) if res is not None else dict.fromkeys(
            ("latency_s", "energy_j", "energy_per_op_j", "area_mm2", "throughput_ops_per_s_per_mm2"), math.nan)
        rows.append({"sample": sample, "workload": w, "arch": a.name, "scope": settings.scope,
                     "remap": settings.remap, **summ,
                     "error": err})

    for (w, name), p in points.items():
        a = next(x for x in archs if x.name == name)
        add(-1, w, a, p.nominal if isinstance(p, Point) else None, "" if isinstance(p, Point) else p)
    root = (Path(cache) / model_tag()) if cache is not None else None
    for i, vals in bar(list(enumerate(values.to_dict(orient="records"))), desc="samples", unit="sample",
                       enabled=progress):
        sample_memo = DiskMemo(str(root) if root else None) if settings.remap else None
        for (w, name), p in points.items():
            a = next(x for x in archs if x.name == name)
            if isinstance(p, Point):
                add(i, w, a, p.cost(vals, sample_memo))
            else:
                add(i, w, a, None, p)
        if sample_memo is not None:
            sample_memo.flush()
    values.insert(0, "sample", range(len(values)))
    return pd.DataFrame(rows), values


def membership(costs: pd.DataFrame) -> pd.DataFrame:
    """From :func:`sample_costs` rows: one row per workload x configuration with

    - ``on_front_nominal``: on the nominal (sample -1) front;
    - ``front_frequency``: fraction of samples in which it is on the front;
    - ``flip_frequency``: fraction of samples in which its membership differs from nominal;
    - ``front_change_frequency``: fraction of samples whose whole front (the set of
      configurations) differs from the nominal front (the same for every row of a workload);
    - energy per op nominal and its 5th, 50th and 95th percentiles over the samples.
    """
    from .pareto import pareto

    df = costs.copy()
    df["on_front"] = pareto(df, by=["workload", "scope", "sample"], mask=True).to_numpy()
    nom = df[df["sample"] == -1].set_index(["workload", "arch"])["on_front"]
    smp = df[df["sample"] >= 0]
    fronts = smp[smp["on_front"]].groupby(["workload", "sample"])["arch"].agg(frozenset)
    nominal_fronts = {w: frozenset(g.index.get_level_values("arch")[g.to_numpy()])
                      for w, g in nom.groupby(level="workload")}
    n = smp["sample"].nunique()
    changed = {}
    for w in nominal_fronts:
        per = fronts[w] if w in fronts.index.get_level_values(0) else pd.Series(dtype=object)
        same = sum(per.get(s, frozenset()) == nominal_fronts[w] for s in range(n))
        changed[w] = 1.0 - same / n if n else math.nan
    out = []
    for (w, a), g in smp.groupby(["workload", "arch"], sort=False):
        base = bool(nom.loc[(w, a)])
        e = g["energy_per_op_j"].to_numpy(float)
        ok = e[~np.isnan(e)]
        nom_row = df[(df["sample"] == -1) & (df["workload"] == w) & (df["arch"] == a)].iloc[0]
        out.append({"workload": w, "arch": a, "scope": nom_row["scope"], "remap": bool(nom_row["remap"]),
                    "samples": len(g),
                    "on_front_nominal": base, "front_frequency": float(g["on_front"].mean()),
                    "flip_frequency": float((g["on_front"] != base).mean()),
                    "front_change_frequency": changed[w],
                    "energy_per_op_j_nominal": nom_row["energy_per_op_j"],
                    **{f"energy_per_op_j_p{q:02d}": (float(np.percentile(ok, q)) if len(ok) else math.nan)
                       for q in (5, 50, 95)},
                    "throughput_ops_per_s_per_mm2_nominal": nom_row["throughput_ops_per_s_per_mm2"],
                    "error": nom_row["error"]})
    return pd.DataFrame(out)


@dataclass
class Membership:
    """A Pareto-membership study: the :func:`membership` table, the per-sample rows of
    :func:`sample_costs` and the sampled constants (one row per sample)."""

    table: pd.DataFrame
    costs: pd.DataFrame
    samples: pd.DataFrame


def pareto_membership(workloads: Mapping[str, Workload], archs: Sequence[ArchConfig], samples: int = 256,
                      seed: int = 0, settings: Settings = Settings(), **kw: Any) -> Membership:
    """:func:`membership` of :func:`sample_costs` (keywords go to it), with its inputs."""
    costs, values = sample_costs(workloads, archs, samples, seed, settings, **kw)
    return Membership(membership(costs), costs, values)
