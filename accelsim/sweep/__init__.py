"""Design-space sweeps, Pareto fronts and the per-layer cost cache (SPEC.md section 10).

``run_sweep(spec)`` evaluates every architecture x workload x execution path of a
sweep spec (see :mod:`accelsim.sweep.spec`) on a local process pool or Dask and
returns one tidy row per point; ``pareto(df, objectives)`` keeps the non-dominated rows.
"""

from .cache import DiskMemo
from .pareto import ALIASES, error_rows, mapped_rows, pareto, pareto_mask
from .runner import RESULT_COLUMNS, plan_sweep, result_row, run_sweep
from .spec import ArchSpace, SweepSpec, expand_arch_names, expand_arch_space, load_spec

__all__ = ["ALIASES", "ArchSpace", "DiskMemo", "RESULT_COLUMNS", "SweepSpec", "error_rows", "expand_arch_names",
           "expand_arch_space", "load_spec", "mapped_rows", "pareto", "pareto_mask", "plan_sweep", "result_row",
           "run_sweep"]
