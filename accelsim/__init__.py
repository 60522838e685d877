"""accelsim: design-space exploration of MAGNet-style accelerators on vision workloads.

Public API::

    import accelsim
    wl = accelsim.load_workload("segformer-b2", input_size=(512, 512), num_classes=150)
    arch = accelsim.load_arch("E")
    res = accelsim.simulate(wl, arch, objective="latency")
    res.layers          # per-layer pandas DataFrame
    df = accelsim.read_results("results.csv")   # any result table (.csv/.parquet/.json)

Heavy parts (cost model JIT, sweeps, plots) are imported on first use.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "load_workload": "accelsim.compose",
    "list_workloads": "accelsim.workload",
    "Layer": "accelsim.workload",
    "Workload": "accelsim.workload",
    "Op": "accelsim.workload",
    "load_arch": "accelsim.arch",
    "ArchConfig": "accelsim.arch",
    "simulate": "accelsim.cost",
    "SimResult": "accelsim.cost",
    "pareto": "accelsim.sweep",
    "run_sweep": "accelsim.sweep",
    "read_results": "accelsim.tableio",
    "write_table": "accelsim.tableio",
    "AccelsimError": "accelsim.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
