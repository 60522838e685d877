"""Cost model and mapper (SPEC.md sections 3-5): ``simulate`` a workload, ``map_layer`` a layer.

The settings (:mod:`.settings`: objectives, scopes, defaults) load with the package; the
model and the compiled search load on first use of a name that needs them, so a command
that only needs the settings does not import numba.
"""

from importlib import import_module

from .settings import OBJECTIVES, SCOPES

_LAZY = {"COMPONENTS": ".model", "LayerCost": ".model", "SimResult": ".model", "map_layer": ".model",
         "simulate": ".model", "jit_cache_is_warm": ".mapper"}

__all__ = ["COMPONENTS", "OBJECTIVES", "SCOPES", "LayerCost", "SimResult", "jit_cache_is_warm", "map_layer",
           "simulate"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
